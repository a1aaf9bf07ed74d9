"""Upload formats: writing canonical examples in each one, reporting what cannot be expressed.

A writer never drops trainable content silently: what the target cannot carry is an
issue with code ``not_expressible`` (severity ``error`` when it changes what is trained,
``warning`` for metadata). Source keys outside every format were already reported by
the readers as ``unknown_key`` warnings.

The core knows no vendor's format but the two every trainer reads; a provider adds its
own through ``Provider.data_formats`` (Together's and Vertex's writers live in their
provider packages), and :func:`data_format` finds them by name for preflight, conversion
before upload and ``anytune convert --to``. The core's formats and their sources:
- ``openai``: [OAI-CHAT] / [OAI-PREF] (see ``_openai_format``); the default upload format.
- ``alpaca``: [ALPACA]; preference as LLaMA-Factory's ``instruction``/``input``/``chosen``/``rejected``.
"""


from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anytune._errors import ConfigurationError
from anytune.data._openai_format import Issues
from anytune.data._records import Example, Message

__all__ = [
    "CORE_FORMATS",
    "DataFormat",
    "Issues",
    "data_format",
    "data_formats",
    "not_expressible",
    "openai_messages",
    "write_example",
]


@dataclass(frozen=True)
class DataFormat:
    """An upload format: how one canonical :class:`~anytune.data.Example` is written as
    one JSONL record. A provider offers its own through ``Provider.data_formats``.

    ``write(example, issues)`` returns the record and appends to ``issues`` what the
    format cannot carry (see :func:`not_expressible`) and any rule of the format the
    example breaks, as ``(code, where, message, "error" | "warning")``. It gets chat and
    preference examples, and plain-text ones (``example.kind == "text"``) only when
    ``text`` is true; otherwise those are reported as not expressible."""

    name: str
    write: Callable[[Example, Issues], dict[str, Any]]
    text: bool = False
    #: Where the format is documented (a URL and the date it was read).
    source: str = ""


def not_expressible(
    issues: Issues, where: str | None, target: str, what: str, severity: str = "error"
) -> None:
    """Report that format ``target`` cannot carry ``what`` (at ``where``): an ``error``
    when it changes what is trained, a ``warning`` for metadata. Never drop it silently."""
    issues.append(("not_expressible", where, f"{target} cannot express {what}", severity))



# --- openai ------------------------------------------------------------------------
def openai_messages(msgs: list[Message], counter: list[int]) -> list[dict[str, Any]]:
    """``msgs`` in OpenAI's chat shape (several vendors share it): tool calls without an
    id are numbered through ``counter`` (``[0]`` per record), tool results get their call's id."""
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
        inp: dict[str, Any] = {"messages": openai_messages(ex.messages, counter)}
        if ex.tools:
            inp["tools"] = ex.tools
        return {
            "input": inp,
            "preferred_output": openai_messages(ex.chosen or [], counter),
            "non_preferred_output": openai_messages(ex.rejected or [], counter),
        }
    rec: dict[str, Any] = {"messages": openai_messages(ex.messages, counter)}
    if ex.tools:
        rec["tools"] = ex.tools
    if ex.parallel_tool_calls is not None:
        rec["parallel_tool_calls"] = ex.parallel_tool_calls
    return rec


# --- alpaca ------------------------------------------------------------------------
def _alpaca(ex: Example, issues: Issues) -> dict[str, Any]:
    msgs = ex.messages
    for m in msgs:
        if m.role == "system":
            not_expressible(issues, m.path, "alpaca", "a system message")
        if m.role == "tool" or m.tool_calls:
            not_expressible(issues, m.path, "alpaca", "tool calls or tool results")
    if ex.tools:
        not_expressible(issues, "tools", "alpaca", "tool definitions")
    users = [m for m in msgs if m.role == "user"]
    instruction = users[0].content or "" if users else ""
    if ex.kind == "preference":
        if len(users) > 1:
            not_expressible(issues, users[1].path, "alpaca", "a multi-turn prompt")
        return {
            "instruction": instruction,
            "input": "",
            "chosen": "".join(m.content or "" for m in ex.chosen or []),
            "rejected": "".join(m.content or "" for m in ex.rejected or []),
        }
    replies = [m for m in msgs if m.role == "assistant"]
    if len(users) > 1 or len(replies) > 1:
        extra = (users[1:] + replies[1:])[0]
        not_expressible(issues, extra.path, "alpaca", "more than one instruction and response")
    return {"instruction": instruction, "input": "", "output": replies[0].content or "" if replies else ""}


CORE_FORMATS = (
    DataFormat("openai", _openai, source="[OAI-CHAT] / [OAI-PREF]"),
    DataFormat("alpaca", _alpaca, source="[ALPACA]"),
)
#: Formats resolved by :func:`data_format`, for :func:`write_example`'s per-record
#: lookup (forked preflight workers inherit it).
_resolved: dict[str, DataFormat] = {f.name: f for f in CORE_FORMATS}


def data_formats() -> dict[str, DataFormat]:
    """Every upload format by name: the core's (``openai``, ``alpaca``), then each
    provider's ``Provider.data_formats`` (importing the registered providers' modules).
    A core name cannot be taken; between providers, the first in name order wins (and
    :func:`data_format` refuses the ambiguous name)."""
    from anytune._registry import provider_classes

    found = {f.name: f for f in CORE_FORMATS}
    for cls in provider_classes():
        for fmt in cls.data_formats:
            found.setdefault(fmt.name, fmt)
    return found


def data_format(name: str) -> DataFormat:
    """The upload format called ``name``; :class:`ConfigurationError` listing the known
    ones when no core format or provider offers it, or when two providers offer
    different formats under that name."""
    core = {f.name: f for f in CORE_FORMATS}
    if name in core:  # no provider module needs importing for these
        return core[name]
    from anytune._registry import provider_classes

    offers = {cls: fmt for cls in provider_classes() for fmt in cls.data_formats if fmt.name == name}
    distinct = set(offers.values())
    if len(distinct) > 1:
        who = ", ".join(sorted({c.name or c.__name__ for c in offers}))
        raise ConfigurationError(f"data format {name!r} is offered differently by providers {who}")
    if not distinct:
        known = ", ".join(data_formats())
        raise ConfigurationError(f"unknown target format {name!r}; the installed formats are {known}")
    _resolved[name] = fmt = distinct.pop()
    return fmt


def write_example(ex: Example, target: str, issues: Issues) -> dict[str, Any]:
    """``ex`` as a record of format ``target``; losses go to ``issues``."""
    fmt = _resolved.get(target) or data_format(target)
    if ex.kind == "text" and not fmt.text:
        not_expressible(issues, "text", target, "plain-text records")
        return {}
    return fmt.write(ex, issues)
