"""Token counting with each provider's tokenizer.

A tokenizer spec comes from ``Provider.tokenizer(model)``:

- ``"tiktoken:<encoding>"``: OpenAI models. Counted the way OpenAI's cookbook
  ("How to count tokens with tiktoken", and "Chat_finetuning_data_prep") does: 3 tokens
  per message, plus the tokens of each field value (role, content, name), plus 1 when a
  ``name`` is present, plus 3 per example for the primed reply. Tool calls count their
  function name and JSON arguments, tool definitions their JSON text: OpenAI does not
  publish its rule for tools, so examples with tools carry a note.
- ``"hf:<path or cached id>"``: the model's own Hugging Face tokenizer, loaded from
  local files only, through its chat template when it has one.
- ``"approx"``: no tokenizer available: 1 token per 4 characters of each field plus the
  same per-message overhead; reported as ``exact_tokens: false``.

Preference examples are counted as the two sequences a DPO step processes, prompt +
chosen and prompt + rejected; the model's per-example limit applies to each sequence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from anytune.data._records import Example, Message

__all__ = ["TokenCounter", "make_counter"]

_PER_MESSAGE = 3  # cookbook: every message is wrapped in <|start|>{role/name}\n{content}<|end|>
_PER_NAME = 1  # cookbook: a name costs one more token
_PER_EXAMPLE = 3  # cookbook: every reply is primed with <|start|>assistant<|message|>
_SHARED_CHARS = 16 << 20  # at most this much system/tool text is kept to reuse counts


class TokenCounter:
    """Counts tokens of canonical examples; ``exact`` is False for the approximation."""

    def __init__(self, spec: str, encode_len: Callable[[str], int], exact: bool, note: str = "") -> None:
        self.spec = spec
        self.exact = exact
        self.note = note
        self._len = encode_len
        self._cache: dict[str, int] = {}
        self._repeated: dict[str | bytes, int] = {}
        self._repeated_chars = 0

    def text(self, s: str | None) -> int:
        """Tokens of one field value."""
        return self._len(s) if s else 0

    def _short(self, s: str) -> int:
        # Roles and names repeat on every message: encode each once.
        n = self._cache.get(s)
        if n is None:
            n = self._len(s)
            if len(self._cache) < 4096:
                self._cache[s] = n
        return n

    def _shared(self, s: str | bytes) -> int:
        # System prompts and tool definitions are usually the same in every record of
        # a file: count each distinct one once. Bounded to _SHARED_CHARS characters.
        n = self._repeated.get(s)
        if n is None:
            n = self._len(s if isinstance(s, str) else s.decode("utf-8"))
            if self._repeated_chars < _SHARED_CHARS:
                self._repeated[s] = n
                self._repeated_chars += len(s)
        return n

    def messages(self, msgs: list[Message]) -> int:
        """Cookbook count of a message list, without the per-example priming."""
        total = 0
        short, enc = self._short, self._len
        for m in msgs:
            total += _PER_MESSAGE + short(m.role)
            if m.content:
                total += self._shared(m.content) if m.role == "system" else enc(m.content)
            if m.name:
                total += short(m.name) + _PER_NAME
            if m.tool_calls:
                for c in m.tool_calls:
                    total += short(c.name) + enc(c.arguments)
        return total

    def sequences(self, ex: Example) -> tuple[int, ...]:
        """Tokens of each sequence the model trains on: one for a chat example, two
        (prompt + chosen, prompt + rejected) for a preference pair. Limits apply to each.
        A plain-text example is its text's tokens."""
        if ex.kind == "text":
            return (self.text(ex.text),)
        tools = self._shared(_tools_json(ex.tools)) if ex.tools else 0
        prompt = self.messages(ex.messages) + tools + _PER_EXAMPLE
        if ex.kind == "preference":
            return prompt + self.messages(ex.chosen or []), prompt + self.messages(ex.rejected or [])
        return (prompt,)

    def example(self, ex: Example) -> int:
        """Tokens of one example: the sum of its sequences (see the module docstring)."""
        return sum(self.sequences(ex))


try:
    import orjson

    def _tools_json(tools: Any) -> bytes:
        return orjson.dumps(tools)
except ImportError:  # pragma: no cover

    def _tools_json(tools: Any) -> bytes:
        return json.dumps(tools, ensure_ascii=False, separators=(",", ":")).encode()


class _ChatTemplateCounter(TokenCounter):
    """Counts with a Hugging Face tokenizer's chat template (what the model really reads)."""

    def __init__(self, spec: str, tok: Any) -> None:
        super().__init__(spec, lambda s: len(tok.encode(s, add_special_tokens=False)), True)
        self._tok = tok

    def _render(self, msgs: list[Message]) -> int:
        plain = [{"role": m.role, "content": m.content or ""} for m in msgs]
        ids = self._tok.apply_chat_template(plain, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):  # BatchEncoding on newer versions
            ids = ids["input_ids"]
        return len(ids)

    def sequences(self, ex: Example) -> tuple[int, ...]:
        if ex.kind == "text":
            return super().sequences(ex)
        try:
            if ex.kind == "preference":
                return (
                    self._render(ex.messages + (ex.chosen or [])),
                    self._render(ex.messages + (ex.rejected or [])),
                )
            return (self._render(ex.messages),)
        except Exception:  # a template that rejects this role order: count plainly
            return super().sequences(ex)


def _approx_len(s: str) -> int:
    return (len(s) + 3) // 4


def make_counter(spec: str) -> TokenCounter:
    """A counter for a tokenizer spec; falls back to the approximation (with a note)
    when the tokenizer cannot be loaded offline."""
    kind, _, arg = spec.partition(":")
    if kind == "tiktoken":
        try:
            import tiktoken  # lazy: only OpenAI counting needs it

            core = tiktoken.get_encoding(arg)._core_bpe
            # The core encoder, one string at a time, is the fastest path measured
            # (bench/preflight.py): encode_ordinary_batch pays a thread pool per call.
            encode = core.encode_ordinary
            return TokenCounter(spec, lambda s: len(encode(s)), True)
        except Exception as exc:  # no tiktoken, or its files cannot be fetched offline
            return TokenCounter(
                "approx",
                _approx_len,
                False,
                f"tiktoken {arg} unavailable ({type(exc).__name__}); approximated",
            )
    if kind == "hf":
        try:
            from transformers import AutoTokenizer  # lazy: heavy

            tok = AutoTokenizer.from_pretrained(arg, local_files_only=True)
            if getattr(tok, "chat_template", None):
                return _ChatTemplateCounter(spec, tok)
            return TokenCounter(spec, lambda s: len(tok.encode(s, add_special_tokens=False)), True)
        except Exception as exc:
            return TokenCounter(
                "approx",
                _approx_len,
                False,
                f"tokenizer {arg} not available locally ({type(exc).__name__}); approximated",
            )
    return TokenCounter("approx", _approx_len, False, "no tokenizer for this model: 1 token per 4 characters")
