"""Format-independent rules on canonical examples, and the warning thresholds.

Rule sources:
- [COOKBOOK] OpenAI cookbook "Chat_finetuning_data_prep": ``example_missing_assistant_message``
  (error), ``n_missing_system`` / ``n_missing_user`` (warnings), examples over the token
  limit are truncated.
- [OAI-PREF] OpenAI preference input: ``preferred_output`` / ``non_preferred_output``
  hold the assistant reply; identical replies give DPO nothing to learn (its loss is
  constant), so anytune warns.
- [TOGETHER-DATA] https://docs.together.ai/docs/fine-tuning/data-preparation: a
  conversation starts with system or user and then alternates user and assistant.
- [ANYTUNE] anytune's own advice, not a provider's rule; always a warning.
"""

from __future__ import annotations

from anytune.data._openai_format import Issues
from anytune.data._records import Example, Message

__all__ = ["LONG_FRACTION", "SHORT_REPLY_CHARS", "check_example", "container"]

#: [ANYTUNE] a reply shorter than this many characters is flagged as very short.
SHORT_REPLY_CHARS = 2
#: [ANYTUNE] an example above this fraction of the token limit is flagged as very long.
LONG_FRACTION = 0.9


def container(msgs: list[Message], default: str = "messages") -> str:
    """The source field holding ``msgs`` (``"messages"``, ``"contents"``, ...)."""
    return msgs[0].path.split("[", 1)[0] if msgs and "[" in msgs[0].path else default


def _same(a: list[Message], b: list[Message]) -> bool:
    return [(m.content, [(c.name, c.arguments) for c in m.tool_calls or ()]) for m in a] == [
        (m.content, [(c.name, c.arguments) for c in m.tool_calls or ()]) for m in b
    ]


def _chat(ex: Example, issues: Issues) -> None:
    msgs = ex.messages
    if not msgs:
        return  # the reader already said why
    where = container(msgs)
    if not any(m.trained for m in msgs):
        issues.append(
            ("no_assistant_message", where, "no assistant message to learn from", "error")
        )  # [COOKBOOK]
    if not any(m.role == "user" for m in msgs):
        issues.append(
            ("missing_user_message", where, "the example has no user message", "warning")
        )  # [COOKBOOK]
    prev = None
    for i, m in enumerate(msgs):
        if m.role == "system" and i > 0:
            issues.append(
                ("role_order", m.path, "a system message after the first turn", "warning")
            )  # [ANYTUNE]
        elif (
            prev is not None
            and m.role == prev
            and m.role in ("user", "assistant")
            and not (m.role == "assistant" and msgs[i - 1].tool_calls)
        ):
            issues.append(("role_order", m.path, f"two {m.role} messages in a row", "warning"))  # [ANYTUNE]
        prev = m.role
        if m.role == "assistant" and m.trained and not m.tool_calls and not (m.content or "").strip():
            issues.append(
                ("empty_content", m.path, "an empty assistant reply is trained on", "warning")
            )  # [ANYTUNE]
        elif m.trained and not m.tool_calls and len((m.content or "").strip()) < SHORT_REPLY_CHARS:
            issues.append(("short_example", m.path, "a very short assistant reply", "warning"))  # [ANYTUNE]
    if msgs[-1].role != "assistant":
        issues.append(
            (
                "trailing_turns",
                msgs[-1].path,
                "turns after the last assistant reply are not trained on",
                "warning",
            )
        )  # [ANYTUNE]


def _preference(ex: Example, issues: Issues) -> None:
    chosen, rejected = ex.chosen or [], ex.rejected or []
    if not ex.messages:
        return
    if ex.messages[-1].role == "assistant":
        issues.append(
            ("role_order", ex.messages[-1].path, "the prompt should end with a user turn", "warning")
        )  # [ANYTUNE]
    if not chosen or not rejected:
        return  # missing sides were reported by the reader
    if _same(chosen, rejected):
        where = chosen[0].path.split(".", 1)[0].split("[", 1)[0]
        # A warning: DPO learns nothing from the pair (its loss is constant), but neither
        # OpenAI's format nor Together's check refuses it.
        issues.append(
            (
                "identical_preference",
                where,
                "the preferred and non-preferred replies are identical: DPO learns nothing from this pair",
                "warning",
            )
        )  # [OAI-PREF]
    for side in (chosen, rejected):
        for m in side:
            if not m.tool_calls and not (m.content or "").strip():
                issues.append(("empty_content", m.path, "an empty reply", "warning"))  # [ANYTUNE]


def check_example(ex: Example, method: str | None, issues: Issues) -> None:
    """Append the canonical-model problems of ``ex`` for ``method`` to ``issues``
    (``method=None``, as in ``convert``, skips the method check)."""
    if ex.kind == "text":
        if method == "dpo":
            issues.append(
                ("wrong_method", None, "method 'dpo' needs preference records, not plain text", "error")
            )
        elif not (ex.text or "").strip():
            issues.append(("empty_content", "text", "an empty text is trained on", "warning"))  # [ANYTUNE]
        return
    if method == "dpo" and ex.kind != "preference":
        issues.append(
            (
                "wrong_method",
                None,
                "method 'dpo' needs preference records (chosen and rejected replies)",
                "error",
            )
        )
        return
    if method == "sft" and ex.kind == "preference":
        issues.append(
            (
                "wrong_method",
                None,
                "a preference record cannot train with method 'sft'; use method='dpo'",
                "error",
            )
        )
        return
    if ex.kind == "preference":
        _preference(ex, issues)
    else:
        _chat(ex, issues)
