"""Format detection and the readers of the non-OpenAI formats.

Rule sources:
- [ALPACA] Stanford Alpaca ``alpaca_data.json`` (instruction, input, output); the optional
  ``system`` and ``history`` keys follow LLaMA-Factory's ``data/README.md``.
- [SHAREGPT] LLaMA-Factory ``data/README.md``, ShareGPT format: ``conversations`` of
  ``{from, value}`` with from in human/gpt/system/function_call/observation; DPO adds
  ``chosen``/``rejected`` turns.
- [TRL] TRL dataset formats (https://huggingface.co/docs/trl/dataset_formats):
  ``prompt``/``chosen``/``rejected`` (strings or message lists), ``prompt``/``completion``.
- [HH] anthropics/hh-rlhf: ``chosen``/``rejected`` transcripts of "\\n\\nHuman:" /
  "\\n\\nAssistant:" turns sharing the prompt.
- [GEMINI] Vertex AI, "Prepare supervised fine-tuning data for Gemini"
  (https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare):
  ``systemInstruction``, ``contents`` of ``{role: user|model, parts: [{text}|{functionCall}|
  {functionResponse}]}``, ``tools: [{functionDeclarations}]``; preference tuning adds
  ``completions: [{score, completion}]`` (Vertex "preference tuning" data format).
"""

from __future__ import annotations

import json
from typing import Any

from anytune.data._openai_format import (
    Issues,
    _extra,
    _kind,
    parse_messages,
    parse_openai_chat,
    parse_openai_preference,
)
from anytune.data._records import Example, Message, ToolCall

__all__ = ["FORMATS", "detect_format", "parse_record"]

#: Every input format anytune reads, by the name reports use.
FORMATS = (
    "openai_chat",
    "openai_preference",
    "prompt_chosen_rejected",
    "hh_transcript",
    "stack_exchange_paired",
    "alpaca",
    "prompt_completion",
    "sharegpt",
    "gemini",
)


def detect_format(obj: dict[str, Any]) -> str | None:
    """The format of one record, from its keys; ``None`` when no format matches."""
    if "messages" in obj:
        return "openai_chat"
    if "input" in obj and ("preferred_output" in obj or "non_preferred_output" in obj):
        return "openai_preference"
    if "contents" in obj:
        return "gemini"
    if "conversations" in obj:
        return "sharegpt"
    if "chosen" in obj and "rejected" in obj:
        if "prompt" in obj or "instruction" in obj:
            return "prompt_chosen_rejected"
        return "hh_transcript"
    if "response_j" in obj and "response_k" in obj:
        return "stack_exchange_paired"
    if "instruction" in obj and "output" in obj:
        return "alpaca"
    if "prompt" in obj and "completion" in obj:
        return "prompt_completion"
    return None


def _text(obj: dict[str, Any], key: str, issues: Issues, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            issues.append(("missing_content", key, f"the record has no '{key}'", "error"))
        return None
    if not isinstance(value, str):
        issues.append(("invalid_content", key, f"'{key}' must be a string, got {_kind(value)}", "error"))
        return None
    return value


def _alpaca(obj: dict[str, Any], issues: Issues) -> Example:
    # [ALPACA] user turn = instruction + "\n\n" + input (input may be empty).
    msgs: list[Message] = []
    system = _text(obj, "system", issues, required=False)
    if system:
        msgs.append(Message("system", system, "system"))
    history = obj.get("history")
    if history is not None:
        if isinstance(history, list) and all(
            isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h) for h in history
        ):
            for k, (q, a) in enumerate(history):
                msgs.append(Message("user", q, f"history[{k}][0]"))
                msgs.append(Message("assistant", a, f"history[{k}][1]"))
        else:
            issues.append(
                (
                    "invalid_content",
                    "history",
                    "history must be a list of [instruction, response] pairs",
                    "error",
                )
            )
    instruction = _text(obj, "instruction", issues)
    extra_input = _text(obj, "input", issues, required=False)
    prompt = instruction or ""
    if extra_input:
        prompt = f"{prompt}\n\n{extra_input}" if prompt else extra_input
    msgs.append(Message("user", prompt, "instruction"))
    known = frozenset({"instruction", "input", "output", "system", "history", "chosen", "rejected"})
    if "chosen" in obj:
        chosen = _text(obj, "chosen", issues)
        rejected = _text(obj, "rejected", issues)
        return Example(
            "preference",
            msgs,
            "prompt_chosen_rejected",
            chosen=[Message("assistant", chosen, "chosen")] if chosen is not None else [],
            rejected=[Message("assistant", rejected, "rejected")] if rejected is not None else [],
            extra=_extra(obj, known, issues),
        )
    output = _text(obj, "output", issues)
    if output is not None:
        msgs.append(Message("assistant", output, "output"))
    return Example("chat", msgs, "alpaca", extra=_extra(obj, known, issues))


def _prompt_completion(obj: dict[str, Any], issues: Issues) -> Example:
    prompt = _text(obj, "prompt", issues)
    completion = _text(obj, "completion", issues)
    msgs = [Message("user", prompt or "", "prompt")]
    if completion is not None:
        msgs.append(Message("assistant", completion, "completion"))
    return Example(
        "chat", msgs, "prompt_completion", extra=_extra(obj, frozenset({"prompt", "completion"}), issues)
    )


def _side(obj: dict[str, Any], key: str, issues: Issues) -> list[Message]:
    value = obj.get(key)
    if isinstance(value, list):  # [TRL] conversational preference: message lists
        return parse_messages(value, key, issues)
    if isinstance(value, dict) and "value" in value:  # [SHAREGPT] DPO: one {from, value} turn
        text = value.get("value")
        if not isinstance(text, str):
            issues.append(("invalid_content", f"{key}.value", "value must be a string", "error"))
            return []
        return [Message("assistant", text, key)]
    text = _text(obj, key, issues)
    return [] if text is None else [Message("assistant", text, key)]


def _prompt_chosen_rejected(obj: dict[str, Any], issues: Issues) -> Example:
    if "prompt" not in obj:
        return _alpaca(obj, issues)
    raw = obj.get("prompt")
    if isinstance(raw, list):
        prompt = parse_messages(raw, "prompt", issues)
    else:
        text = _text(obj, "prompt", issues)
        prompt = [Message("user", text or "", "prompt")]
    return Example(
        "preference",
        prompt,
        "prompt_chosen_rejected",
        chosen=_side(obj, "chosen", issues),
        rejected=_side(obj, "rejected", issues),
        extra=_extra(obj, frozenset({"prompt", "chosen", "rejected"}), issues),
    )


_HUMAN, _ASSISTANT = "\n\nHuman:", "\n\nAssistant:"


def _transcript(text: str, where: str) -> list[Message]:
    """[HH] Split a "\\n\\nHuman: ...\\n\\nAssistant: ..." transcript into turns."""
    out: list[Message] = []
    pos = 0
    while pos < len(text):
        h, a = text.find(_HUMAN, pos), text.find(_ASSISTANT, pos)
        starts = [(i, m) for i, m in ((h, _HUMAN), (a, _ASSISTANT)) if i >= 0]
        if not starts:
            break
        i, marker = min(starts)
        nxt = [
            j for j in (text.find(_HUMAN, i + len(marker)), text.find(_ASSISTANT, i + len(marker))) if j >= 0
        ]
        end = min(nxt) if nxt else len(text)
        role = "user" if marker == _HUMAN else "assistant"
        out.append(Message(role, text[i + len(marker) : end].strip(), where))
        pos = end
    return out


def _hh(obj: dict[str, Any], issues: Issues) -> Example:
    chosen = _text(obj, "chosen", issues)
    rejected = _text(obj, "rejected", issues)
    if chosen is None or rejected is None:
        return Example("preference", [], "hh_transcript", chosen=[], rejected=[])
    k = chosen.rfind(_ASSISTANT)
    prefix = chosen[: k + len(_ASSISTANT)] if k >= 0 else ""
    if k < 0 or not rejected.startswith(prefix):
        issues.append(
            (
                "invalid_preference",
                "chosen",
                "chosen and rejected do not share a prompt ending in 'Assistant:'",
                "error",
            )
        )
        return Example("preference", [], "hh_transcript", chosen=[], rejected=[])
    prompt = _transcript(prefix[: -len(_ASSISTANT)], "chosen")
    return Example(
        "preference",
        prompt,
        "hh_transcript",
        chosen=[Message("assistant", chosen[len(prefix) :].strip(), "chosen")],
        rejected=[Message("assistant", rejected[len(prefix) :].strip(), "rejected")],
        extra=_extra(obj, frozenset({"chosen", "rejected"}), issues),
    )


def _stack_exchange(obj: dict[str, Any], issues: Issues) -> Example:
    q = _text(obj, "question", issues)
    j, k = _text(obj, "response_j", issues), _text(obj, "response_k", issues)
    return Example(
        "preference",
        [Message("user", q or "", "question")],
        "stack_exchange_paired",
        chosen=[Message("assistant", j or "", "response_j")],
        rejected=[Message("assistant", k or "", "response_k")],
        extra=_extra(obj, frozenset({"question", "response_j", "response_k"}), issues),
    )


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


def _sharegpt(obj: dict[str, Any], issues: Issues) -> Example:
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
            chosen=_side(obj, "chosen", issues),
            rejected=_side(obj, "rejected", issues),
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


def _gemini(obj: dict[str, Any], issues: Issues) -> Example:
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


_PARSERS = {
    "openai_chat": parse_openai_chat,
    "openai_preference": parse_openai_preference,
    "gemini": _gemini,
    "sharegpt": _sharegpt,
    "prompt_chosen_rejected": _prompt_chosen_rejected,
    "hh_transcript": _hh,
    "stack_exchange_paired": _stack_exchange,
    "alpaca": _alpaca,
    "prompt_completion": _prompt_completion,
}


def parse_record(obj: Any, issues: Issues, default_format: str | None = None) -> Example | None:
    """Read one decoded record into an :class:`Example`; ``None`` when it has no usable
    shape (the reason is in ``issues``). ``default_format`` (the format of the file's
    first record) reads records whose keys match no format, so a record missing its
    ``messages`` is reported as exactly that."""
    if not isinstance(obj, dict):
        issues.append(
            ("not_an_object", None, f"each record must be a JSON object, got {_kind(obj)}", "error")
        )  # [COOKBOOK] data_type
        return None
    fmt = detect_format(obj) or default_format
    if fmt is None:
        keys = ", ".join(sorted(map(str, obj))[:8]) or "none"
        issues.append(
            (
                "unknown_format",
                None,
                f"no known format has these keys ({keys}); expected messages, input/preferred_output, "
                "prompt/chosen/rejected, instruction/input/output, conversations or contents",
                "error",
            )
        )
        return None
    return _PARSERS[fmt](obj, issues)
