"""What the emulator does with training data: check it as OpenAI's file validation does,
count billable tokens, and invent a plausible (falling) loss curve.

Tokens are counted with tiktoken (OpenAI's encodings, the cookbook's per-message
overhead) when the encoding is available offline; otherwise with an approximation of 4
characters per token, since the emulator must never try to download anything.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DataCheck", "check_training_data", "loss_at"]

_ENCODING_KEYS = {  # tiktoken's cache key (sha1 of the download URL) per encoding
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
}


@functools.lru_cache(maxsize=4)
def _encoder(name: str) -> Any:
    """A tiktoken encoding, only if it can load without the network; else ``None``."""
    import tempfile

    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    cache = cache or str(Path(tempfile.gettempdir()) / "data-gym-cache")
    key = _ENCODING_KEYS.get(name)
    if key is None or not (Path(cache) / key).is_file():
        return None
    try:
        import tiktoken

        return tiktoken.get_encoding(name)
    except Exception:  # a broken cache must not break the emulator: approximate instead
        return None


def _count(text: str, encoding: str) -> int:
    enc = _encoder(encoding)
    if enc is None:
        return max(1, math.ceil(len(text) / 4)) if text else 0
    return len(enc.encode_ordinary(text))


_PER_MESSAGE = 3  # cookbook: <|start|>{role}\n{content}<|end|> around every message
_PER_NAME = 1  # cookbook: a name costs one token more
_PER_EXAMPLE = 3  # cookbook: the reply is primed with <|start|>assistant<|message|>


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: only their text is read
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else json.dumps(content)


def _message_tokens(messages: list[Any], encoding: str) -> int:
    """The cookbook's count of a message list (without the reply priming)."""
    total = 0
    for m in messages:
        if not isinstance(m, dict):
            continue
        total += _PER_MESSAGE + _count(str(m.get("role") or ""), encoding)
        total += _count(_text(m.get("content")), encoding)
        if isinstance(m.get("name"), str):
            total += _count(m["name"], encoding) + _PER_NAME
        for call in m.get("tool_calls") or []:
            fn = call.get("function", {}) if isinstance(call, dict) else {}
            total += _count(str(fn.get("name") or ""), encoding)
            total += _count(str(fn.get("arguments") or ""), encoding)
    return total


def _sequences(record: dict[str, Any], method: str, encoding: str) -> tuple[int, ...]:
    """Tokens of each sequence trained on: the conversation for SFT; prompt + preferred
    and prompt + non-preferred for DPO (each is capped on its own)."""
    messages = record["input"]["messages"] if method == "dpo" else record["messages"]
    tools = record.get("tools") or (record["input"].get("tools") if method == "dpo" else None)
    prompt = _message_tokens(messages, encoding) + _PER_EXAMPLE
    if tools:
        prompt += _count(json.dumps(tools, ensure_ascii=False, separators=(",", ":")), encoding)
    if method != "dpo":
        return (prompt,)
    return (
        prompt + _message_tokens(record["preferred_output"], encoding),
        prompt + _message_tokens(record["non_preferred_output"], encoding),
    )


@dataclass(frozen=True)
class DataCheck:
    """The outcome of checking a training file: examples and tokens, or the error."""

    examples: int = 0
    tokens: int = 0
    error: str | None = None


def _sft_problem(record: dict[str, Any]) -> str | None:
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return "missing 'messages' list"
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if len(roles) != len(messages):
        return "each message must be an object"
    if any(r not in ("system", "developer", "user", "assistant", "tool", "function") for r in roles):
        return "unrecognized role"
    if "assistant" not in roles:
        return "no assistant message"
    return None


def _dpo_problem(record: dict[str, Any]) -> str | None:
    inp = record.get("input")
    if not isinstance(inp, dict) or not isinstance(inp.get("messages"), list):
        return "missing 'input.messages'"
    for key in ("preferred_output", "non_preferred_output"):
        if not isinstance(record.get(key), list) or not record[key]:
            return f"missing '{key}' list"
    return None


def check_training_data(
    content: bytes, *, method: str, encoding: str, max_tokens: int, min_examples: int
) -> DataCheck:
    """Check JSONL ``content`` for ``method`` ("supervised" or "dpo"); count the tokens
    OpenAI bills per epoch: each sequence's, capped at ``max_tokens``."""
    examples = 0
    tokens = 0
    # JSONL lines end at \n alone, as the vendor reads them: str.splitlines() would
    # also split at U+2028/U+2029, which JSON strings may hold raw.
    for n, line in enumerate(content.decode("utf-8", "replace").split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return DataCheck(error=f"line {n}: not valid JSON")
        if not isinstance(record, dict):
            return DataCheck(error=f"line {n}: not a JSON object")
        problem = _dpo_problem(record) if method == "dpo" else _sft_problem(record)
        if problem:
            return DataCheck(error=f"line {n}: {problem}")
        examples += 1
        tokens += sum(min(n, max_tokens) for n in _sequences(record, method, encoding))
    if examples < min_examples:
        return DataCheck(
            examples, tokens, f"the file has {examples} examples; at least {min_examples} are required"
        )
    return DataCheck(examples, tokens)


def _noise(seed: str, step: int) -> float:
    digest = hashlib.sha256(f"{seed}:{step}".encode()).digest()
    return (int.from_bytes(digest[:4], "big") / 2**32 - 0.5) * 0.06


def loss_at(seed: str, step: int, total: int, *, valid: bool = False) -> dict[str, float]:
    """Loss and token accuracy at ``step`` of ``total``: an exponential decay with a
    little deterministic noise, validation slightly worse than training."""
    frac = step / max(total, 1)
    loss = 0.15 + 2.2 * math.exp(-3.5 * frac) + _noise(seed, step)
    if valid:
        loss += 0.08 + abs(_noise(seed + "v", step))
    accuracy = min(0.99, 0.45 + 0.5 * (1 - math.exp(-3.0 * frac)) + _noise(seed + "a", step) / 3)
    return {"loss": round(max(loss, 0.01), 4), "accuracy": round(max(accuracy, 0.0), 4)}
