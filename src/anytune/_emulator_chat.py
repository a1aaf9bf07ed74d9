"""How the emulators answer chat requests, the same way on every vendor's route.

A tuned model answers with the reference answer of the training example whose prompt
is nearest to the question (word overlap), so it "learned" the training data's format;
a checkpoint at a fraction of the training answers like that for that fraction of
prompts (chosen by a stable hash) and like the base model otherwise, so later
checkpoints score higher; a base model gives one generic reply. Everything is
deterministic, so tests can tell the models apart and expect exact scores.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["BASE_REPLY", "TunedAnswers", "count_tokens", "text_of", "user_text"]

#: What every base model says in the emulators, whatever it is asked.
BASE_REPLY = "Thanks for your question. In general, it depends on the details of your situation."

_WORD = re.compile(r"\w+")


def count_tokens(text: str) -> int:
    """The emulators' token count: words and punctuation marks (deterministic, close enough)."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def text_of(content: Any) -> str:
    """The text of a message's content: a string, OpenAI's list of parts, or Gemini parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(text_of(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


class TunedAnswers:
    """The (prompt, answer) pairs of a training file, and the nearest-answer rule."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = [(_words(p), a) for p, a in pairs]

    @classmethod
    def from_jsonl(cls, content: bytes) -> TunedAnswers:
        """Pairs from a training file in any format anytune reads (OpenAI/Together chat,
        Gemini ``contents``, preference records): the user turns, and the last answer."""
        from anytune.data import parse_record

        pairs = []
        for line in content.splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            ex = parse_record(value, [])
            if ex is None:
                continue
            answer = (
                ex.chosen[-1].content
                if ex.kind == "preference" and ex.chosen
                else (
                    ex.messages[-1].content if ex.messages and ex.messages[-1].role == "assistant" else None
                )
            )
            prompt = " ".join(m.content or "" for m in ex.messages if m.role == "user")
            if answer:
                pairs.append((prompt, answer))
        return cls(pairs)

    def reply(self, prompt: str, *, fraction: float = 1.0) -> str:
        """The answer of the nearest training prompt (``fraction`` < 1: a checkpoint)."""
        if not self.pairs:
            return BASE_REPLY
        if fraction < 1.0:
            bucket = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) % 1000
            if bucket >= fraction * 1000:
                return BASE_REPLY
        words = _words(prompt)

        def closeness(pair: tuple[set[str], str]) -> float:
            union = words | pair[0]
            return len(words & pair[0]) / len(union) if union else 0.0

        return max(self.pairs, key=closeness)[1]


def user_text(messages: Iterable[dict[str, Any]]) -> str:
    """The user turns of a chat request, joined: what the nearest-answer rule compares."""
    return " ".join(text_of(m.get("content")) for m in messages if m.get("role") == "user")
