"""Readers of the conversation formats: ShareGPT and Gemini ``contents``.

Rule sources:
- [SHAREGPT] LLaMA-Factory ``data/README.md``, ShareGPT format: ``conversations`` of
  ``{from, value}`` with from in human/gpt/system/function_call/observation; DPO adds
  ``chosen``/``rejected`` turns.
- [GEMINI] Vertex AI, "Prepare supervised fine-tuning data for Gemini"
  (https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare):
  ``systemInstruction``, ``contents`` of ``{role: user|model, parts: [{text}|{functionCall}|
  {functionResponse}]}``, ``tools: [{functionDeclarations}]``; preference tuning adds
  ``completions: [{score, completion}]`` with score 1 (preferred) or 0
  (https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-preference-tuning-prepare).
"""

from __future__ import annotations

import json
from typing import Any

from anytune.data._openai_format import Issues, _extra, _kind, parse_messages
from anytune.data._records import Example, Message, ToolCall

__all__ = ["parse_gemini", "parse_sharegpt", "side", "text_field"]


def text_field(obj: dict[str, Any], key: str, issues: Issues, *, required: bool = True) -> str | None:
    """``obj[key]`` when it is a string; otherwise an issue (missing or wrong type)."""
    value = obj.get(key)
    if value is None:
        if required:
            issues.append(("missing_content", key, f"the record has no '{key}'", "error"))
        return None
    if not isinstance(value, str):
        issues.append(("invalid_content", key, f"'{key}' must be a string, got {_kind(value)}", "error"))
        return None
    return value


def side(obj: dict[str, Any], key: str, issues: Issues) -> list[Message]:
    """One reply of a preference record: a message list, a ShareGPT turn or a string."""
    value = obj.get(key)
    if isinstance(value, list):  # [TRL] conversational preference: message lists
        return parse_messages(value, key, issues)
    if isinstance(value, dict) and "value" in value:  # [SHAREGPT] DPO: one {from, value} turn
        text = value.get("value")
        if not isinstance(text, str):
            issues.append(("invalid_content", f"{key}.value", "value must be a string", "error"))
            return []
        return [Message("assistant", text, key)]
    text = text_field(obj, key, issues)
    return [] if text is None else [Message("assistant", text, key)]


# [SHAREGPT] speaker names; function_call turns are assistant tool calls, observation
# turns are tool results.
_FROM = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "function_call": "assistant",
    "observation": "tool",
    "tool": "tool",
}


def parse_sharegpt(obj: dict[str, Any], issues: Issues) -> Example:
    conv = obj.get("conversations")
    msgs: list[Message] = []
    if not isinstance(conv, list) or not conv:
        issues.append(
            ("missing_messages", "conversations", "'conversations' must be a non-empty list", "error")
        )
    else:
        system = obj.get("system")
        if isinstance(system, str) and system:
            msgs.append(Message("system", system, "system"))
        for i, turn in enumerate(conv):
            where = f"conversations[{i}]"
            if not isinstance(turn, dict):
                issues.append(
                    ("invalid_message", where, f"a turn must be an object, got {_kind(turn)}", "error")
                )
                continue
            who, value = turn.get("from"), turn.get("value")
            role = _FROM.get(who) if isinstance(who, str) else None
            if role is None:
                issues.append(
                    (
                        "unknown_role",
                        f"{where}.from",
                        f"unknown speaker {who!r}; expected human, gpt, system, function_call or observation",
                        "error",
                    )
                )
                continue
            if not isinstance(value, str):
                issues.append(
                    (
                        "invalid_content",
                        f"{where}.value",
                        f"value must be a string, got {_kind(value)}",
                        "error",
                    )
                )
                continue
            msg = Message(role, value, where)
            if who == "function_call":
                msg.content, msg.tool_calls = None, _sharegpt_call(value, where, issues)
            msgs.append(msg)
    known = frozenset({"conversations", "system", "tools", "chosen", "rejected"})
    if "chosen" in obj or "rejected" in obj:
        return Example(
            "preference",
            msgs,
            "sharegpt",
            chosen=side(obj, "chosen", issues),
            rejected=side(obj, "rejected", issues),
            extra=_extra(obj, known, issues),
        )
    tools = obj.get("tools")
    parsed_tools = None
    if isinstance(tools, str) and tools:
        try:
            decoded = json.loads(tools)
            parsed_tools = [t if "function" in t else {"type": "function", "function": t} for t in decoded]
        except (ValueError, TypeError, AttributeError):
            issues.append(
                (
                    "invalid_tools",
                    "tools",
                    "tools must be JSON text of a list of function definitions",
                    "error",
                )
            )
    return Example("chat", msgs, "sharegpt", tools=parsed_tools, extra=_extra(obj, known, issues))


def _sharegpt_call(value: str, where: str, issues: Issues) -> list[ToolCall] | None:
    try:
        call = json.loads(value)
        calls = call if isinstance(call, list) else [call]
        return [ToolCall(c["name"], json.dumps(c.get("arguments", {}), ensure_ascii=False)) for c in calls]
    except (ValueError, TypeError, KeyError):
        issues.append(
            (
                "invalid_tool_call",
                f"{where}.value",
                "a function_call turn must be JSON {name, arguments}",
                "error",
            )
        )
        return None


def _gemini_content(c: Any, where: str, issues: Issues) -> Message | None:
    if not isinstance(c, dict):
        issues.append(("invalid_message", where, f"a content must be an object, got {_kind(c)}", "error"))
        return None
    role = c.get("role")
    canon = (
        {"user": "user", "model": "assistant", "system": "system", "function": "tool", "tool": "tool"}.get(
            role
        )
        if isinstance(role, str)
        else None
    )
    if canon is None:
        issues.append(
            ("unknown_role", f"{where}.role", f"unknown role {role!r}; Gemini expects user or model", "error")
        )
        return None
    parts = c.get("parts")
    if not isinstance(parts, list) or not parts:
        issues.append(("missing_content", f"{where}.parts", "'parts' must be a non-empty list", "error"))
        return None
    texts: list[str] = []
    msg = Message(canon, None, where)
    for j, p in enumerate(parts):
        at = f"{where}.parts[{j}]"
        if isinstance(p, dict) and isinstance(p.get("text"), str):
            texts.append(p["text"])
        elif isinstance(p, dict) and isinstance(p.get("functionCall"), dict):
            fc = p["functionCall"]
            msg.tool_calls = (msg.tool_calls or []) + [
                ToolCall(str(fc.get("name", "")), json.dumps(fc.get("args", {}), ensure_ascii=False))
            ]
        elif isinstance(p, dict) and isinstance(p.get("functionResponse"), dict):
            fr = p["functionResponse"]
            msg.role, msg.name = "tool", str(fr.get("name", ""))
            texts.append(json.dumps(fr.get("response", {}), ensure_ascii=False))
        else:
            issues.append(
                ("invalid_content", at, "a part must hold text, functionCall or functionResponse", "error")
            )
    if texts or not msg.tool_calls:
        msg.content = "".join(texts)
    return msg


def _gemini_tools(raw: Any, issues: Issues) -> list[dict[str, Any]] | None:
    """[GEMINI] ``tools: [{functionDeclarations: [{name, description, parameters}]}]``."""
    tools: list[dict[str, Any]] = []
    for i, t in enumerate(raw if isinstance(raw, list) else [None]):
        decls = t.get("functionDeclarations", t.get("function_declarations")) if isinstance(t, dict) else None
        if not isinstance(decls, list) or not all(
            isinstance(d, dict) and isinstance(d.get("name"), str) for d in decls
        ):
            issues.append(
                (
                    "invalid_tools",
                    f"tools[{i}]",
                    "a tool must be {functionDeclarations: [{name, ...}]}",
                    "error",
                )
            )
            return None
        tools.extend({"type": "function", "function": d} for d in decls)
    return tools


def parse_gemini(obj: dict[str, Any], issues: Issues) -> Example:
    msgs: list[Message] = []
    key = "systemInstruction" if "systemInstruction" in obj else "system_instruction"
    si = obj.get(key)
    if si is not None:
        parts = si.get("parts") if isinstance(si, dict) else None
        if isinstance(parts, list) and all(
            isinstance(p, dict) and isinstance(p.get("text"), str) for p in parts
        ):
            msgs.append(Message("system", "".join(p["text"] for p in parts), key))
        else:
            issues.append(("invalid_content", key, f"'{key}' must be {{parts: [{{text}}]}}", "error"))
    contents = obj.get("contents")
    if not isinstance(contents, list) or not contents:
        issues.append(("missing_messages", "contents", "'contents' must be a non-empty list", "error"))
    else:
        for i, c in enumerate(contents):
            m = _gemini_content(c, f"contents[{i}]", issues)
            if m is not None:
                msgs.append(m)
    tools = None
    if obj.get("tools") is not None:
        tools = _gemini_tools(obj["tools"], issues)
    known = frozenset({"systemInstruction", "system_instruction", "contents", "tools", "completions"})
    completions = obj.get("completions")
    if completions is not None:
        ranked = []
        if isinstance(completions, list):
            for i, c in enumerate(completions):
                if isinstance(c, dict) and isinstance(c.get("score"), (int, float)):
                    m = _gemini_content(c.get("completion"), f"completions[{i}].completion", issues)
                    if m is not None:
                        ranked.append((c["score"], i, m))
        if len(ranked) != 2:
            issues.append(
                (
                    "invalid_preference",
                    "completions",
                    "completions must hold two {score, completion} entries",
                    "error",
                )
            )
            return Example("preference", msgs, "gemini", tools=tools, chosen=[], rejected=[])
        ranked.sort(key=lambda r: (-r[0], r[1]))
        return Example(
            "preference",
            msgs,
            "gemini",
            tools=tools,
            chosen=[ranked[0][2]],
            rejected=[ranked[1][2]],
            extra=_extra(obj, known, issues),
        )
    return Example("chat", msgs, "gemini", tools=tools, extra=_extra(obj, known, issues))
