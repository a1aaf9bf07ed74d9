"""Format detection and the readers of the non-OpenAI formats.

Rule sources:
- [ALPACA] Stanford Alpaca ``alpaca_data.json`` (instruction, input, output); the optional
  ``system`` and ``history`` keys follow LLaMA-Factory's ``data/README.md``.
- [TRL] TRL dataset formats (https://huggingface.co/docs/trl/dataset_formats):
  ``prompt``/``chosen``/``rejected`` (strings or message lists), ``prompt``/``completion``.
- [TOGETHER-TEXT] Together's generic ``{"text": ...}`` format (see ``_text``).
- [HH] anthropics/hh-rlhf: ``chosen``/``rejected`` transcripts of "\\n\\nHuman:" /
  "\\n\\nAssistant:" turns sharing the prompt.
ShareGPT and Gemini are read in ``_conversations``.
"""

from __future__ import annotations

from typing import Any

from anytune.data._conversations import parse_gemini, parse_sharegpt, side, text_field
from anytune.data._openai_format import (
    Issues,
    _extra,
    _kind,
    parse_messages,
    parse_openai_chat,
    parse_openai_preference,
)
from anytune.data._records import Example, Message

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
    "text",
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
    if "text" in obj:  # [TOGETHER-TEXT] last: Alpaca files often carry a rendered "text" too
        return "text"
    return None


def _alpaca(obj: dict[str, Any], issues: Issues) -> Example:
    # [ALPACA] user turn = instruction + "\n\n" + input (input may be empty).
    msgs: list[Message] = []
    system = text_field(obj, "system", issues, required=False)
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
    instruction = text_field(obj, "instruction", issues)
    extra_input = text_field(obj, "input", issues, required=False)
    prompt = instruction or ""
    if extra_input:
        prompt = f"{prompt}\n\n{extra_input}" if prompt else extra_input
    msgs.append(Message("user", prompt, "instruction"))
    known = frozenset({"instruction", "input", "output", "system", "history", "chosen", "rejected"})
    if "chosen" in obj:
        chosen = text_field(obj, "chosen", issues)
        rejected = text_field(obj, "rejected", issues)
        return Example(
            "preference",
            msgs,
            "prompt_chosen_rejected",
            chosen=[Message("assistant", chosen, "chosen")] if chosen is not None else [],
            rejected=[Message("assistant", rejected, "rejected")] if rejected is not None else [],
            extra=_extra(obj, known, issues),
        )
    output = text_field(obj, "output", issues)
    if output is not None:
        msgs.append(Message("assistant", output, "output"))
    return Example("chat", msgs, "alpaca", extra=_extra(obj, known, issues))


def _prompt_completion(obj: dict[str, Any], issues: Issues) -> Example:
    prompt = text_field(obj, "prompt", issues)
    completion = text_field(obj, "completion", issues)
    msgs = [Message("user", prompt or "", "prompt")]
    if completion is not None:
        msgs.append(Message("assistant", completion, "completion"))
    return Example(
        "chat", msgs, "prompt_completion", extra=_extra(obj, frozenset({"prompt", "completion"}), issues)
    )


def _prompt_chosen_rejected(obj: dict[str, Any], issues: Issues) -> Example:
    if "prompt" not in obj:
        return _alpaca(obj, issues)
    raw = obj.get("prompt")
    if isinstance(raw, list):
        prompt = parse_messages(raw, "prompt", issues)
    else:
        text = text_field(obj, "prompt", issues)
        prompt = [Message("user", text or "", "prompt")]
    return Example(
        "preference",
        prompt,
        "prompt_chosen_rejected",
        chosen=side(obj, "chosen", issues),
        rejected=side(obj, "rejected", issues),
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
    chosen = text_field(obj, "chosen", issues)
    rejected = text_field(obj, "rejected", issues)
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
    q = text_field(obj, "question", issues)
    j, k = text_field(obj, "response_j", issues), text_field(obj, "response_k", issues)
    return Example(
        "preference",
        [Message("user", q or "", "question")],
        "stack_exchange_paired",
        chosen=[Message("assistant", j or "", "response_j")],
        rejected=[Message("assistant", k or "", "response_k")],
        extra=_extra(obj, frozenset({"question", "response_j", "response_k"}), issues),
    )


def _text(obj: dict[str, Any], issues: Issues) -> Example:
    """[TOGETHER-TEXT] Together's generic format: ``{"text": "..."}``, trained on whole
    (https://docs.together.ai/docs/fine-tuning-data-preparation; together 1.5.17
    ``constants.py:46``, ``DatasetFormat.GENERAL: ["text"]``)."""
    text = text_field(obj, "text", issues)
    return Example("text", [], "text", text=text, extra=_extra(obj, frozenset({"text"}), issues))


_PARSERS = {
    "openai_chat": parse_openai_chat,
    "openai_preference": parse_openai_preference,
    "gemini": parse_gemini,
    "sharegpt": parse_sharegpt,
    "prompt_chosen_rejected": _prompt_chosen_rejected,
    "hh_transcript": _hh,
    "stack_exchange_paired": _stack_exchange,
    "alpaca": _alpaca,
    "prompt_completion": _prompt_completion,
    "text": _text,
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
                "prompt/chosen/rejected, instruction/input/output, conversations, contents or text",
                "error",
            )
        )
        return None
    return _PARSERS[fmt](obj, issues)
