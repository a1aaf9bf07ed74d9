"""Reading OpenAI's chat and preference formats into canonical examples.

Rule sources (each check below names the one it applies):
- [OAI-CHAT] OpenAI API reference, "Training format for chat models"
  (https://platform.openai.com/docs/api-reference/fine-tuning/chat-input) and the spec
  ``../shared/specs/openai/openapi.yaml`` (``FineTuneChatCompletionRequestAssistantMessage``:
  ``weight`` is 0 or 1 on assistant messages).
- [OAI-PREF] OpenAI API reference, "Training format for preference (DPO)"
  (https://platform.openai.com/docs/api-reference/fine-tuning/preference-input).
- [COOKBOOK] OpenAI cookbook, "Data preparation and analysis for chat model fine-tuning"
  (examples/Chat_finetuning_data_prep.ipynb): ``data_type``, ``missing_messages_list``,
  ``message_missing_key``, ``message_unrecognized_key``, ``unrecognized_role``,
  ``missing_content``, ``example_missing_assistant_message``.
"""

from __future__ import annotations

import json
from typing import Any

from anytune.data._records import Example, Message, ToolCall

__all__ = ["Issues", "parse_messages", "parse_openai_chat", "parse_openai_preference", "parse_tools"]

#: (code, field, message, severity) collected while reading one record.
Issues = list[tuple[str, str | None, str, str]]

# [OAI-CHAT] roles; "developer" is the newer name of "system", "function" the legacy
# name of "tool". "model" is Gemini's name for the assistant (legacy Vertex files).
_ROLE_MAP = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
    "model": "assistant",
}
# Roles that are already canonical (no alias warning, no mapping).
_PLAIN_ROLES = frozenset({"system", "user", "assistant"})
# [COOKBOOK] recognised message keys, plus the tool-calling keys of [OAI-CHAT].
_MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call", "refusal"}
)
_CHAT_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
_PREF_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})


def _content(value: Any, where: str, issues: Issues) -> tuple[str | None, list[str] | None, bool]:
    """(text, image urls, ok) of a message's ``content``: a string or a list of parts."""
    if isinstance(value, str):
        return value, None, True
    if isinstance(value, list):
        texts: list[str] = []
        images: list[str] = []
        for j, part in enumerate(value):
            at = f"{where}.content[{j}]"
            ptype = part.get("type") if isinstance(part, dict) else None
            if ptype == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif (
                ptype == "image_url"
                and isinstance(part.get("image_url"), dict)
                and isinstance(part["image_url"].get("url"), str)
            ):
                images.append(part["image_url"]["url"])
            else:
                issues.append(
                    (
                        "invalid_content",
                        at,
                        "a content part must be {type: text, text} or {type: image_url, image_url: {url}}",
                        "error",
                    )
                )
                return None, None, False
        return "".join(texts), images or None, True
    issues.append(
        ("invalid_content", f"{where}.content", f"content must be a string, got {_kind(value)}", "error")
    )
    return None, None, False


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _tool_calls(value: Any, where: str, issues: Issues) -> list[ToolCall] | None:
    # [OAI-CHAT] tool_calls: [{id, type: "function", function: {name, arguments}}],
    # arguments being JSON text.
    if not isinstance(value, list) or not value:
        issues.append(
            ("invalid_tool_call", f"{where}.tool_calls", "tool_calls must be a non-empty list", "error")
        )
        return None
    calls: list[ToolCall] = []
    for j, call in enumerate(value):
        at = f"{where}.tool_calls[{j}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict):
            issues.append(("invalid_tool_call", at, "a tool call needs a 'function' object", "error"))
            continue
        tc = _function_call(fn, f"{at}.function", issues)
        if tc is not None:
            cid = call.get("id")
            tc.id = cid if isinstance(cid, str) else None
            calls.append(tc)
    return calls


def _function_call(fn: dict[str, Any], at: str, issues: Issues) -> ToolCall | None:
    name, args = fn.get("name"), fn.get("arguments")
    if not isinstance(name, str) or not name:
        issues.append(
            ("invalid_tool_call", f"{at}.name", "the function name must be a non-empty string", "error")
        )
        return None
    if not isinstance(args, str):
        issues.append(
            (
                "invalid_tool_call",
                f"{at}.arguments",
                f"arguments must be JSON text (a string), got {_kind(args)}",
                "error",
            )
        )
        return None
    try:
        json.loads(args)
    except ValueError as exc:
        issues.append(
            ("invalid_tool_call", f"{at}.arguments", f"arguments is not valid JSON: {exc}", "error")
        )
        return None
    return ToolCall(name=name, arguments=args)


def parse_messages(
    value: Any, field: str, issues: Issues, *, call_ids: set[str] | None = None
) -> list[Message]:
    """Read an OpenAI ``messages`` list; problems go to ``issues`` with field paths."""
    if value is None:
        issues.append(("missing_messages", field, f"the record has no '{field}' list", "error"))  # [COOKBOOK]
        return []
    if not isinstance(value, list):
        issues.append(("missing_messages", field, f"'{field}' must be a list, got {_kind(value)}", "error"))
        return []
    if not value:
        issues.append(("empty_messages", field, f"'{field}' is empty", "error"))
        return []
    out: list[Message] = []
    ids = call_ids if call_ids is not None else set()
    plain = _PLAIN_ROLES
    for i, m in enumerate(value):
        where = f"{field}[{i}]"
        # Fast path for the common {"role", "content"} message: nothing else to check.
        if type(m) is dict and len(m) == 2:
            role, content = m.get("role"), m.get("content")
            if type(content) is str and role in plain:
                out.append(Message(role, content, where))
                continue
        if not isinstance(m, dict):
            issues.append(("invalid_message", where, f"a message must be an object, got {_kind(m)}", "error"))
            continue
        for key in m.keys() - _MESSAGE_KEYS:
            if m[key] is not None:  # Arrow-backed data fills absent keys with null
                # [COOKBOOK] flags it (message_unrecognized_key); a warning, not an error:
                # the writers drop the key, so the upload holds only known keys.
                issues.append(
                    (
                        "unknown_key",
                        f"{where}.{key}",
                        f"unknown message key '{key}' is not part of the format and is left "
                        "out of the upload",
                        "warning",
                    )
                )
        role = m.get("role")
        if role is None:
            issues.append(("missing_role", f"{where}.role", "the message has no role", "error"))  # [COOKBOOK]
            continue
        canon = _ROLE_MAP.get(role) if isinstance(role, str) else None
        if canon is None:
            issues.append(
                (
                    "unknown_role",
                    f"{where}.role",
                    f"unknown role {role!r}; expected system, user, assistant or tool",
                    "error",
                )
            )  # [COOKBOOK] unrecognized_role
            continue
        if role == "model":
            issues.append(
                ("role_alias", f"{where}.role", "role 'model' (Gemini's name) read as 'assistant'", "warning")
            )
        msg = Message(role=canon, content=None, path=where)
        raw = m.get("content")
        calls = m.get("tool_calls")
        if calls is not None:
            if canon != "assistant":
                issues.append(
                    (
                        "invalid_tool_call",
                        f"{where}.tool_calls",
                        "only assistant messages can have tool_calls",
                        "error",
                    )
                )
            else:
                msg.tool_calls = _tool_calls(calls, where, issues)
                ids.update(c.id for c in msg.tool_calls or () if c.id)
        fc = m.get("function_call")
        if fc is not None and canon == "assistant":
            if isinstance(fc, dict):
                tc = _function_call(fc, f"{where}.function_call", issues)
                if tc is not None:
                    msg.tool_calls = (msg.tool_calls or []) + [tc]
            else:
                issues.append(
                    (
                        "invalid_tool_call",
                        f"{where}.function_call",
                        "function_call must be an object",
                        "error",
                    )
                )
        if raw is None:
            if not (canon == "assistant" and (calls is not None or fc is not None)):
                issues.append(
                    ("missing_content", f"{where}.content", "the message has no content", "error")
                )  # [COOKBOOK]
        else:
            text, images, _ = _content(raw, where, issues)
            msg.content, msg.images = text, images
        name = m.get("name")
        if name is not None:
            if isinstance(name, str):
                msg.name = name
            else:
                # A warning: the name only labels the speaker; it is left out, not trained.
                issues.append(
                    (
                        "invalid_value",
                        f"{where}.name",
                        f"name must be a string, got {_kind(name)}; it is left out of the upload",
                        "warning",
                    )
                )
        weight = m.get("weight")
        if weight is not None:
            # [OAI-CHAT] spec: weight is an integer, 0 or 1, on assistant messages; Together
            # takes 0 or 1 on any role (together 1.5.17 utils/files.py:143-156). The value
            # is checked here; the role is each target's rule (see ``_writers``).
            if type(weight) is not int or weight not in (0, 1):  # bool is excluded on purpose
                issues.append(
                    ("invalid_weight", f"{where}.weight", f"weight must be 0 or 1, got {weight!r}", "error")
                )
            else:
                msg.weight = weight
        if canon == "tool":
            tcid = m.get("tool_call_id")
            if isinstance(tcid, str):
                msg.tool_call_id = tcid
                if ids and tcid not in ids:
                    issues.append(
                        (
                            "invalid_tool_call",
                            f"{where}.tool_call_id",
                            f"tool_call_id {tcid!r} answers no earlier tool call",
                            "error",
                        )
                    )
            elif tcid is not None:
                issues.append(
                    ("invalid_tool_call", f"{where}.tool_call_id", "tool_call_id must be a string", "error")
                )
            elif role == "tool" and ids:
                issues.append(
                    (
                        "invalid_tool_call",
                        f"{where}.tool_call_id",
                        "a tool message needs the tool_call_id it answers",
                        "error",
                    )
                )
        out.append(msg)
    return out


def parse_tools(obj: dict[str, Any], issues: Issues) -> list[dict[str, Any]] | None:
    """``tools`` (or the legacy ``functions``) as OpenAI function tool definitions."""
    tools, key = obj.get("tools"), "tools"
    if tools is None and obj.get("functions") is not None:
        key = "functions"
        issues.append(
            ("deprecated_key", "functions", "'functions' is deprecated; read as 'tools'", "warning")
        )
        fns = obj["functions"]
        tools = [{"type": "function", "function": f} for f in fns] if isinstance(fns, list) else fns
    if tools is None:
        return None
    if not isinstance(tools, list):
        issues.append(("invalid_tools", key, "tools must be a list of function definitions", "error"))
        return None
    for i, t in enumerate(tools):
        fn = t.get("function") if isinstance(t, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            issues.append(
                (
                    "invalid_tools",
                    f"{key}[{i}]",
                    "a tool must be {type: function, function: {name, parameters}}",
                    "error",
                )
            )
            return None
        params = fn.get("parameters")
        if params is not None and not isinstance(params, dict):
            issues.append(
                (
                    "invalid_tools",
                    f"{key}[{i}].function.parameters",
                    "parameters must be a JSON Schema object",
                    "error",
                )
            )
            return None
    return tools


def _extra(obj: dict[str, Any], known: frozenset[str], issues: Issues) -> dict[str, Any]:
    extra = {k: v for k, v in obj.items() if k not in known and v is not None}
    for key in extra:
        issues.append(
            ("unknown_key", key, f"key '{key}' is not part of the format and is not trained on", "warning")
        )
    return extra


def parse_openai_chat(obj: dict[str, Any], issues: Issues) -> Example:
    """[OAI-CHAT] ``{"messages": [...], "tools"?: [...], "parallel_tool_calls"?: bool}``."""
    messages = parse_messages(obj.get("messages"), "messages", issues)
    tools = parse_tools(obj, issues)
    ptc = obj.get("parallel_tool_calls")
    if ptc is not None and not isinstance(ptc, bool):
        issues.append(
            ("invalid_value", "parallel_tool_calls", "parallel_tool_calls must be true or false", "error")
        )
        ptc = None
    return Example(
        "chat",
        messages,
        "openai_chat",
        tools=tools,
        parallel_tool_calls=ptc,
        extra=_extra(obj, _CHAT_KEYS, issues),
    )


def parse_openai_preference(obj: dict[str, Any], issues: Issues) -> Example:
    """[OAI-PREF] ``{"input": {"messages", "tools"?}, "preferred_output": [assistant],
    "non_preferred_output": [assistant]}``."""
    inp = obj.get("input")
    if not isinstance(inp, dict):
        issues.append(
            ("missing_messages", "input", "'input' must be an object with a 'messages' list", "error")
        )
        inp = {}
    ids: set[str] = set()
    prompt = parse_messages(inp.get("messages"), "input.messages", issues, call_ids=ids)
    tools = parse_tools(inp, issues)
    sides = []
    for key in ("preferred_output", "non_preferred_output"):
        side = parse_messages(obj.get(key), key, issues, call_ids=ids)
        for m in side:
            if m.role != "assistant":
                issues.append(
                    (
                        "invalid_preference",
                        f"{m.path}.role",
                        f"{key} must hold assistant messages only",
                        "error",
                    )
                )
        sides.append(side)
    return Example(
        "preference",
        prompt,
        "openai_preference",
        tools=tools,
        chosen=sides[0],
        rejected=sides[1],
        extra=_extra(obj, _PREF_KEYS, issues),
    )
