"""Together's upload format (``Limits.data_format == "together"``, ``anytune convert --to
together``), offered to the core through ``TogetherProvider.data_formats``.

Sources: [TOGETHER-DATA] https://docs.together.ai/docs/fine-tuning/data-preparation
(conversational ``messages`` with system/user/assistant roles, alternating after an
optional system turn; preference as ``input``/``preferred_output``/``non_preferred_output``)
and [TOGETHER-FC] https://docs.together.ai/docs/fine-tuning-function-calling (a ``tools``
list per line, assistant ``tool_calls`` and ``tool`` results in OpenAI's shape; the
together SDK's constants list ``tools`` and the ``tool`` role too). Which models accept
tools is the provider's ``Limits.tools``. Per-message weights, message names and images
are not documented there, so they are reported. [TOGETHER-TEXT] the generic format, one
``{"text": ...}`` per line (``DatasetFormat.GENERAL``: together 1.5.17 ``constants.py:46``,
still in together 3.1.1 ``lib/constants.py:53,60``): the only format here that takes
plain-text records.

The record rules below cite together-python 1.5.17's ``utils/files.py``, the SDK's own file
check at the time. together 3.x (3.1.1 is installed) checks only UTF-8 and one JSON object
per line before upload (``lib/utils/files.py`` ``_check_jsonl``: "Semantic checks run on the
server after upload"), so these rules are what a file must pass not to fail after upload;
read 2026-11-30.
"""

from __future__ import annotations

from typing import Any

from anytune.data import DataFormat, Example, Issues, Message, not_expressible, openai_messages

__all__ = ["TOGETHER_FORMAT"]


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
    for m, d in zip(msgs, openai_messages(msgs, counter), strict=True):
        if m.images:
            not_expressible(issues, m.path, "together", "images in a conversation")
            d["content"] = m.content or ""
        # Per-message weights (0 or 1, any role) are written through: Together's SDK
        # checked them on every role (together 1.5.17 utils/files.py:143-156; see above).
        if m.name:
            not_expressible(issues, f"{m.path}.name", "together", "message names", "warning")
            d.pop("name", None)
        prev = out[-1] if out else None
        allowed = _together_next(prev)
        if check_order and m.role not in allowed:
            # System then assistant, with no user turn (a cookbook file has it), passes
            # Together's SDK check, which only refused a role repeated (together 1.5.17
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


def _write(ex: Example, issues: Issues) -> dict[str, Any]:
    if ex.kind == "text":
        return {"text": ex.text or ""}
    return _together(ex, issues)


TOGETHER_FORMAT = DataFormat(
    "together", _write, text=True, source="https://docs.together.ai/docs/fine-tuning/data-preparation"
)
