"""The canonical record model: one shape for every input format.

Readers turn each input format into :class:`Example`; writers turn an :class:`Example`
into each provider's upload format. Validation rules that do not depend on the input
format (an assistant turn to learn from, token limits, identical preference outputs)
run on this model. ``path`` on a message keeps the field path in the *source* record
(``"messages[2]"``, ``"contents[1]"``, ``"conversations[3]"``) so problems point at
what the user wrote, not at our internal shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ROLES", "Example", "Message", "ToolCall"]

#: Canonical roles. Input aliases (``developer``, ``model``, ``human``, ``gpt``, ...) are
#: mapped onto these by the readers.
ROLES = ("system", "user", "assistant", "tool")


@dataclass(slots=True)
class ToolCall:
    """A function call made by the assistant; ``arguments`` is JSON text, as OpenAI sends it."""

    name: str
    arguments: str
    id: str | None = None


@dataclass(slots=True)
class Message:
    """One turn of a conversation.

    ``weight`` is OpenAI's per-message training weight (0 or 1, assistant turns only);
    ``None`` means "the provider's default" (assistant turns are trained).
    ``images`` holds image URLs of multimodal content, which only some targets can carry.
    """

    role: str
    content: str | None
    path: str = ""
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    weight: int | None = None
    images: list[str] | None = None

    @property
    def trained(self) -> bool:
        """Whether the model learns from this turn (assistant turns with weight != 0)."""
        return self.role == "assistant" and self.weight != 0


@dataclass(slots=True)
class Example:
    """One training example in canonical form.

    Chat examples have ``messages``; text examples only ``text``. Preference
    examples have the shared prompt in
    ``messages`` and the two candidate replies in ``chosen`` and ``rejected`` (each a
    list of assistant messages). ``tools`` are OpenAI-style function definitions.
    """

    kind: Literal["chat", "preference", "text"]
    messages: list[Message]
    source_format: str
    tools: list[dict[str, Any]] | None = None
    parallel_tool_calls: bool | None = None
    chosen: list[Message] | None = None
    rejected: list[Message] | None = None
    #: The text of a plain-text record (``kind == "text"``: Together's ``{"text"}``
    #: format, trained on whole).
    text: str | None = None
    #: Source keys that carry nothing trainable and that no target keeps (e.g. Alpaca's
    #: pre-rendered ``text``); writers report them rather than drop them silently.
    extra: dict[str, Any] = field(default_factory=dict)

    def texts(self) -> list[str]:
        """Every text the model reads or writes (contents and tool calls), in order,
        for duplicate detection."""
        out: list[str] = [] if self.text is None else [self.text]
        for msgs in (self.messages, self.chosen, self.rejected):
            for m in msgs or ():
                out.append(m.content or "")
                for c in m.tool_calls or ():
                    out.append(c.name)
                    out.append(c.arguments)
        return out
