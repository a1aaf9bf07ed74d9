"""Helpers for preflight tests: the shared real datasets and a provider with known rules.

The provider here is a plain ``Provider`` subclass with a fixed catalog, so the
numbers asserted below (limits, prices, epochs) are chosen by the test, not copied from
a vendor package that may change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anytune._types import ModelInfo
from anytune.provider import Limits, Provider

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ANYTUNE_SHARED_DIR") or (REPO / ".." / "shared")).resolve()
DATA = SHARED / "data"

os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(DATA / "tiktoken"))


def shared(rel: str) -> Path:
    """A file of the shared data folder, read in place (never copied into the repo)."""
    path = DATA / rel
    if not path.is_file():
        # CI always has shared/ beside the clone: a missing file is a broken setup, and a
        # skip would let the real-data tests vanish silently.
        pytest.fail(f"shared data file missing: {path} (set ANYTUNE_SHARED_DIR)")
    return path


class OpenAILike(Provider):
    """OpenAI's counting and dataset rules with a test-chosen catalog."""

    name = "openai-test"

    def __init__(
        self,
        max_tokens: int = 65536,
        fmt: str = "openai",
        min_examples: int = 10,
        max_file_bytes: int | None = 512 << 20,
        tools: bool = True,
    ) -> None:
        super().__init__()
        self._max_tokens, self._fmt = max_tokens, fmt
        self._min, self._max_bytes, self._tools = min_examples, max_file_bytes, tools

    def catalog(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                provider=self.name,
                model="m",
                methods=("sft", "dpo"),
                max_tokens_per_example=self._max_tokens,
                price_per_million_tokens={"sft": 5.0, "dpo": 25.0},
                price_source="https://example.test/pricing",
                price_as_of="2026-11-01",
            )
        ]

    def limits(self, model: str, method: str) -> Limits:
        return Limits(
            min_examples=self._min,
            max_file_bytes=self._max_bytes,
            max_tokens_per_example=self._max_tokens,
            data_format=self._fmt,
            source="test",
            tools=self._tools,
        )

    def tokenizer(self, model: str) -> str:
        return "tiktoken:o200k_base"

    def default_epochs(self, model: str, records: int) -> int:
        # OpenAI's documented rule: 3 epochs, raised so that small sets see at least
        # 100 examples and lowered so that big sets see at most 25,000 (min 1, max 25).
        epochs = 3
        if records * epochs < 100:
            epochs = min(25, -(-100 // records))
        elif records * epochs > 25_000:
            epochs = max(1, 25_000 // records)
        return epochs
