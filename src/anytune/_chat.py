"""One chat call to a job's tuned model (or its base model): ``job.chat`` and ``anytune chat``.

The provider answers through its :meth:`~anytune.provider.Provider.chat` hook; this module
holds what is the same everywhere: the reply type, turning a prompt into messages, and
which model a job's chat goes to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anytune._errors import ConfigurationError, JobFailedError

if TYPE_CHECKING:
    from anytune._flow import Flow
    from anytune._jobbase import _JobBase

__all__ = ["ChatReply", "ChatTarget", "chat_flow", "chat_target", "to_messages"]

#: Sampling settings ``job.chat`` passes on (OpenAI's names; providers map them).
CHAT_PARAMS = frozenset({"max_tokens", "temperature", "top_p", "seed", "stop"})


@dataclass(frozen=True)
class ChatReply:
    """What a model answered: its text, the model that answered, and token usage
    (``{"prompt_tokens", "completion_tokens", "total_tokens"}``) where the provider says."""

    text: str
    model: str
    usage: dict[str, int] | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    @property
    def prompt_tokens(self) -> int:
        """Input tokens (0 when the provider did not say)."""
        return int((self.usage or {}).get("prompt_tokens") or 0)

    @property
    def completion_tokens(self) -> int:
        """Output tokens (0 when the provider did not say)."""
        return int((self.usage or {}).get("completion_tokens") or 0)

    def to_dict(self, job: str) -> dict[str, Any]:
        """The ``--json`` shape of ``anytune chat`` (docs/design.md §3)."""
        return {"job": job, "model": self.model, "text": self.text, "usage": self.usage}


@dataclass(frozen=True)
class ChatTarget:
    """The model a chat request goes to; ``base_model`` is set when ``model`` is tuned."""

    model: str
    base_model: str | None = None
    label: str = "tuned"


def to_messages(prompt: Any) -> list[dict[str, Any]]:
    """A prompt string becomes one user message; a list of messages is checked and kept."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if not isinstance(prompt, (list, tuple)) or not prompt:
        raise ConfigurationError("chat needs a prompt string or a non-empty list of messages")
    out = []
    for i, m in enumerate(prompt):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or "content" not in m:
            raise ConfigurationError(f"messages[{i}] must be a dict with 'role' and 'content', got {m!r:.80}")
        out.append(dict(m))
    return out


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """Refuse sampling settings no provider maps, before any request."""
    unknown = set(params) - CHAT_PARAMS
    if unknown:
        raise ConfigurationError(
            f"chat got unknown parameter(s) {sorted(unknown)}; it takes {sorted(CHAT_PARAMS)}"
        )
    return {k: v for k, v in params.items() if v is not None}


def chat_target(job: _JobBase, *, base: bool = False) -> ChatTarget:
    """Where ``job.chat`` goes: the base model, or the tuned one once the job has it."""
    if base:
        return ChatTarget(job.model, None, "base")
    if job.result is None:
        if job.status.value in ("failed", "cancelled"):
            raise JobFailedError(job)  # type: ignore[arg-type]
        raise ConfigurationError(
            f"job {job.id} has no tuned model yet (status {job.status.value}); "
            f"wait for it (`anytune wait {job.id}`) or chat with the base model (base=True, --base)"
        )
    return ChatTarget(job.result.model, job.model, "tuned")


def chat_flow(job: _JobBase, prompt: Any, base: bool, params: dict[str, Any]) -> Flow[ChatReply]:
    """``job.chat`` as a flow: checks first (nothing is sent on bad input), then one call."""
    from anytune._flow import call

    messages = to_messages(prompt)
    params = check_params(params)
    target = chat_target(job, base=base)
    p = job._provider
    return (yield from call(p.chat, p.achat, target.model, messages, base_model=target.base_model,
                            **params))
