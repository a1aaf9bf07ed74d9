"""Writing canonical examples in each upload format, reporting what cannot be expressed.

A writer never drops trainable content silently: what the target cannot carry is an
issue with code ``not_expressible`` (severity ``error`` when it changes what is trained,
``warning`` for metadata). Source keys outside every format were already reported by
the readers as ``unknown_key`` warnings.

Targets and their sources:
- ``openai``: [OAI-CHAT] / [OAI-PREF] (see ``_openai_format``).
- ``together``: [TOGETHER-DATA] https://docs.together.ai/docs/fine-tuning/data-preparation
  (conversational ``messages`` with system/user/assistant roles, alternating after an
  optional system turn; preference as ``input``/``preferred_output``/``non_preferred_output``)
  and [TOGETHER-FC] https://docs.together.ai/docs/fine-tuning-function-calling (a
  ``tools`` list per line, assistant ``tool_calls`` and ``tool`` results in OpenAI's shape;
  the together SDK's constants list ``tools`` and the ``tool`` role too). Which models
  accept tools is the provider's ``Limits.tools``. Per-message weights, message names and
  images are not documented there, so they are reported.
- ``vertex``: [GEMINI] (see ``_formats``).
- ``alpaca``: [ALPACA]; preference as LLaMA-Factory's ``instruction``/``input``/``chosen``/``rejected``.
"""

from __future__ import annotations

import json
from typing import Any

from anytune.data._openai_format import Issues
from anytune.data._records import Example, Message

__all__ = ["TARGETS", "write_example"]

TARGETS = ("openai", "together", "vertex", "alpaca")


def _lost(issues: Issues, where: str | None, target: str, what: str, severity: str = "error") -> None:
    issues.append(("not_expressible", where, f"{target} cannot express {what}", severity))


# --- openai ------------------------------------------------------------------------
def _openai_messages(msgs: list[Message], counter: list[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pending: list[str] = []  # call ids not yet answered, for tool turns without an id
    for m in msgs:
        d: dict[str, Any] = {"role": m.role}
        if m.images:
            d["content"] = [{"type": "text", "text": m.content or ""}] + [
                {"type": "image_url", "image_url": {"url": u}} for u in m.images
            ]
        elif m.content is not None or not m.tool_calls:
            d["content"] = m.content or ""
        if m.name and m.role != "tool":
            d["name"] = m.name
        if m.tool_calls:
            calls = []
            for c in m.tool_calls:
                if c.id is None:  # ShareGPT and Gemini calls have no id: number them
                    counter[0] += 1
                    cid = f"call_{counter[0]}"
                else:
                    cid = c.id
                pending.append(cid)
                calls.append(
                    {"id": cid, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                )
            d["tool_calls"] = calls
        if m.role == "tool":
            d["tool_call_id"] = m.tool_call_id or (pending.pop(0) if pending else "call_0")
            if m.tool_call_id in pending:
                pending.remove(m.tool_call_id)
        if m.weight is not None:
            d["weight"] = m.weight
        out.append(d)
    return out


def _openai_rules(ex: Example, issues: Issues) -> None:
    """OpenAI's rules that other targets do not share."""
    for m in (*ex.messages, *(ex.chosen or ()), *(ex.rejected or ())):
        if m.weight is not None and m.role != "assistant":
            # [OAI-CHAT] spec (FineTuneChatCompletionRequestAssistantMessage): weight is a
            # field of assistant messages only; Together accepts it on any role.
            issues.append(
                (
                    "invalid_weight",
                    f"{m.path}.weight",
                    "openai takes weight on assistant messages only",
                    "error",
                )
            )
    if ex.kind == "preference" and (
        sum(m.role == "user" for m in ex.messages) > 1 or any(m.role == "assistant" for m in ex.messages)
    ):
        # [OAI-DPO] OpenAI's DPO guide (developers.openai.com/api/docs/guides/
        # direct-preference-optimization, read 2026-11-29): "Each example in your dataset
        # should contain: A prompt, like a user message", and every example it shows is
        # one user turn; multi-turn DPO is an open question on its forum
        # (community.openai.com/t/1148642). A warning: the API does not say it refuses more.
        where = next((m.path for m in ex.messages if m.role == "assistant"), ex.messages[-1].path)
        issues.append(
            (
                "multi_turn_preference",
                where,
                "openai trains DPO on one-turn conversations; earlier turns of this prompt may be "
                "ignored or refused",
                "warning",
            )
        )


def _openai(ex: Example, issues: Issues) -> dict[str, Any]:
    counter = [0]
    _openai_rules(ex, issues)
    if ex.kind == "preference":
        inp: dict[str, Any] = {"messages": _openai_messages(ex.messages, counter)}
        if ex.tools:
            inp["tools"] = ex.tools
        return {
            "input": inp,
            "preferred_output": _openai_messages(ex.chosen or [], counter),
            "non_preferred_output": _openai_messages(ex.rejected or [], counter),
        }
    rec: dict[str, Any] = {"messages": _openai_messages(ex.messages, counter)}
    if ex.tools:
        rec["tools"] = ex.tools
    if ex.parallel_tool_calls is not None:
        rec["parallel_tool_calls"] = ex.parallel_tool_calls
    return rec


# --- together ----------------------------------------------------------------------
# [TOGETHER-DATA] / [TOGETHER-FC]: the roles that may follow each role. Tool results
# come right after an assistant turn with tool calls, and lead back to the assistant.
def _together_next(prev: dict[str, Any] | None) -> tuple[str, ...]:
    if prev is None:
        return ("system", "user")
    role = prev["role"]
    if role == "assistant":
        return ("tool",) if prev.get("tool_calls") else ("user",)
    return {"system": ("user",), "user": ("assistant",), "tool": ("tool", "assistant")}.get(role, ("user",))


def _together_messages(
    msgs: list[Message], issues: Issues, check_order: bool, counter: list[int]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    # Tool calls and results in OpenAI's shape, as [TOGETHER-FC] documents them.
    for m, d in zip(msgs, _openai_messages(msgs, counter), strict=True):
        if m.images:
            _lost(issues, m.path, "together", "images in a conversation")
            d["content"] = m.content or ""
        # Per-message weights (0 or 1, any role) are written through: Together's SDK
        # checks them on every role (together 1.5.17 utils/files.py:143-156).
        if m.name:
            _lost(issues, f"{m.path}.name", "together", "message names", "warning")
            d.pop("name", None)
        prev = out[-1] if out else None
        allowed = _together_next(prev)
        if check_order and m.role not in allowed:
            # System then assistant, with no user turn (a cookbook file has it), passes
            # Together's SDK check, which only refuses a role repeated (together 1.5.17
            # utils/files.py:165-171): a warning. Other orders stay errors.
            lenient = prev is not None and prev["role"] == "system" and m.role == "assistant"
            issues.append(
                (
                    "role_order",
                    f"{m.path}.role",
                    "together needs an optional system turn, then user and assistant alternating "
                    f"(tool results right after the assistant's tool calls); got {m.role} where "
                    f"{' or '.join(allowed)} belongs",
                    "warning" if lenient else "error",
                )
            )
        out.append(d)
    return out


def _together_preference(ex: Example, issues: Issues) -> None:
    """[TOGETHER-PREF] Together's check of preference records (together-python
    ``src/together/utils/files.py`` ``validate_preference_openai``; the installed 1.5.17
    wheel's ``utils/files.py:209-226``): the prompt must not end with an assistant turn,
    and each output is exactly one assistant message."""
    if ex.messages and ex.messages[-1].role == "assistant":
        issues.append(
            (
                "role_order",
                ex.messages[-1].path,
                "together needs the prompt to end with a user turn, not an assistant turn",
                "error",
            )
        )
    for side in (ex.chosen or [], ex.rejected or []):
        if len(side) > 1:
            where = side[1].path.split("[", 1)[0] if "[" in side[1].path else side[1].path
            issues.append(
                (
                    "invalid_preference",
                    where,
                    f"together needs exactly one assistant message in {where}, got {len(side)}",
                    "error",
                )
            )


def _together(ex: Example, issues: Issues) -> dict[str, Any]:
    counter = [0]
    if ex.kind == "preference":
        _together_preference(ex, issues)
        inp: dict[str, Any] = {"messages": _together_messages(ex.messages, issues, False, counter)}
        if ex.tools:
            inp["tools"] = ex.tools
        return {
            "input": inp,
            "preferred_output": _together_messages(ex.chosen or [], issues, False, counter),
            "non_preferred_output": _together_messages(ex.rejected or [], issues, False, counter),
        }
    rec: dict[str, Any] = {"messages": _together_messages(ex.messages, issues, True, counter)}
    if ex.tools:
        rec["tools"] = ex.tools
    return rec


# --- vertex (Gemini) ---------------------------------------------------------------
def _gemini_parts(m: Message, issues: Issues) -> list[dict[str, Any]]:
    if m.images:
        _lost(issues, m.path, "vertex", "image URLs (Gemini tuning reads images from gs:// fileData only)")
    if m.weight == 0 and m.role == "assistant":
        _lost(issues, f"{m.path}.weight", "vertex", "a weight of 0 (every model turn is trained)")
    elif m.weight == 1 and m.role != "assistant":
        what = f"a weight of 1 on a {m.role} turn (only model turns are trained)"
        _lost(issues, f"{m.path}.weight", "vertex", what)
    if m.name:
        _lost(issues, f"{m.path}.name", "vertex", "message names", "warning")
    parts: list[dict[str, Any]] = []
    if m.content:
        parts.append({"text": m.content})
    for c in m.tool_calls or ():
        try:
            args = json.loads(c.arguments)
        except ValueError:
            args = {}
        parts.append(
            {"functionCall": {"name": c.name, "args": args if isinstance(args, dict) else {"value": args}}}
        )
    return parts or [{"text": ""}]


def _gemini_contents(msgs: list[Message], issues: Issues, call_names: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in msgs:
        if m.role == "system":
            _lost(issues, m.path, "vertex", "a system message after the first turn")
            continue
        if m.role == "tool":
            try:
                response = json.loads(m.content or "{}")
            except ValueError:
                response = None
            if not isinstance(response, dict):
                response = {"content": m.content or ""}
            name = m.name or (call_names.pop(0) if call_names else "function")
            out.append(
                {"role": "user", "parts": [{"functionResponse": {"name": name, "response": response}}]}
            )
            continue
        call_names.extend(c.name for c in m.tool_calls or ())
        out.append({"role": "model" if m.role == "assistant" else "user", "parts": _gemini_parts(m, issues)})
    return out


def _vertex(ex: Example, issues: Issues) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    msgs = ex.messages
    if msgs and msgs[0].role == "system":
        rec["systemInstruction"] = {"role": "system", "parts": [{"text": msgs[0].content or ""}]}
        msgs = msgs[1:]
    names: list[str] = []
    rec["contents"] = _gemini_contents(msgs, issues, names)
    if ex.tools:
        rec["tools"] = [{"functionDeclarations": [t.get("function", t) for t in ex.tools]}]
    if ex.kind == "preference":
        # [GEMINI] preference tuning: "multi-turn text data that needs to end with a user turn".
        if ex.messages and ex.messages[-1].role != "user":
            issues.append(
                (
                    "role_order",
                    ex.messages[-1].path,
                    "vertex needs the prompt to end with a user turn",
                    "error",
                )
            )
        rec["completions"] = [
            {
                "score": score,
                "completion": {"role": "model", "parts": [p for m in side for p in _gemini_parts(m, issues)]},
            }
            for score, side in ((1, ex.chosen or []), (0, ex.rejected or []))
        ]
    return rec


# --- alpaca ------------------------------------------------------------------------
def _alpaca(ex: Example, issues: Issues) -> dict[str, Any]:
    msgs = ex.messages
    for m in msgs:
        if m.role == "system":
            _lost(issues, m.path, "alpaca", "a system message")
        if m.role == "tool" or m.tool_calls:
            _lost(issues, m.path, "alpaca", "tool calls or tool results")
    if ex.tools:
        _lost(issues, "tools", "alpaca", "tool definitions")
    users = [m for m in msgs if m.role == "user"]
    instruction = users[0].content or "" if users else ""
    if ex.kind == "preference":
        if len(users) > 1:
            _lost(issues, users[1].path, "alpaca", "a multi-turn prompt")
        return {
            "instruction": instruction,
            "input": "",
            "chosen": "".join(m.content or "" for m in ex.chosen or []),
            "rejected": "".join(m.content or "" for m in ex.rejected or []),
        }
    replies = [m for m in msgs if m.role == "assistant"]
    if len(users) > 1 or len(replies) > 1:
        extra = (users[1:] + replies[1:])[0]
        _lost(issues, extra.path, "alpaca", "more than one instruction and response")
    return {"instruction": instruction, "input": "", "output": replies[0].content or "" if replies else ""}


_WRITERS = {"openai": _openai, "together": _together, "vertex": _vertex, "alpaca": _alpaca}


def write_example(ex: Example, target: str, issues: Issues) -> dict[str, Any]:
    """``ex`` as a record of ``target`` format; losses go to ``issues``."""
    try:
        writer = _WRITERS[target]
    except KeyError:
        raise ValueError(f"unknown target format {target!r}; expected one of {', '.join(TARGETS)}") from None
    if ex.kind == "text":
        # [TOGETHER-TEXT] Together's generic format, one {"text": ...} per line (together
        # 1.5.17 constants.py:46, DatasetFormat.GENERAL); no other target has plain text.
        if target == "together":
            return {"text": ex.text or ""}
        _lost(issues, "text", target, "plain-text records (Together's {\"text\"} format)")
        return {}
    return writer(ex, issues)
