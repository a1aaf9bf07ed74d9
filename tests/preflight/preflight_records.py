"""Small record builders shared by the broken-input and warning tables."""

from __future__ import annotations

import json
from pathlib import Path


def j(obj: object) -> str:
    return json.dumps(obj)


def chat(*turns: tuple[str, str], **extra: object) -> str:
    return j({"messages": [{"role": r, "content": c} for r, c in turns], **extra})


OK = chat(("user", "What is 2+2?"), ("assistant", "It is 4."))
OK2 = chat(("system", "Be brief."), ("user", "Capital of France?"), ("assistant", "Paris."))
CALL = {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}
TOOLS = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]


def tool_chat(call: object, tool_msg: dict | None = None, tools: object = TOOLS) -> str:
    msgs = [{"role": "user", "content": "add 1"}, {"role": "assistant", "tool_calls": [call]}]
    msgs.append(tool_msg or {"role": "tool", "tool_call_id": "call_1", "content": "1"})
    msgs.append({"role": "assistant", "content": "It is 1."})
    return j({"messages": msgs, "tools": tools})


def pref(chosen: str, rejected: str) -> str:
    return j(
        {
            "input": {"messages": [{"role": "user", "content": "Hi"}]},
            "preferred_output": [{"role": "assistant", "content": chosen}],
            "non_preferred_output": [{"role": "assistant", "content": rejected}],
        }
    )


# (id, lines or bytes, method, provider kwargs, [(line, code, field)])


def write_lines(tmp_path: Path, lines: list, suffix: str = ".jsonl") -> Path:
    """Write ``lines`` (text or bytes) as a JSONL file in ``tmp_path``."""
    path = tmp_path / f"data{suffix}"
    if lines and isinstance(lines[0], bytes):
        path.write_bytes(b"\n".join(lines) + b"\n")
    else:
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
