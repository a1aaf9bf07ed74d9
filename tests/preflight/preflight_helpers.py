"""Helpers for preflight tests: the real datasets in ``tests/data`` and a provider with
known rules.

The provider here is a plain ``Provider`` subclass with a fixed catalog, so the
numbers asserted below (limits, prices, epochs) are chosen by the test, not copied from
a vendor package that may change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anytune._types import ModelInfo
from anytune.provider import Limits, Provider

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
GSM = "instruction_alpaca/alpacadatacleaned_gsm_8k_train.first2000.jsonl"


def real(rel: str) -> Path:
    """A real-data fixture of ``tests/data`` (sources and licences in its README)."""
    path = DATA / rel
    if not path.is_file():
        # The fixtures are part of the repository: a missing one is a broken checkout, and
        # a skip would let the real-data tests vanish silently.
        pytest.fail(f"test data file missing: {path}")
    return path



def alpaca_with_text(path: Path, n: int = 100) -> Path:
    """The first ``n`` GSM8K records as a JSON array in the Hugging Face Alpaca shape: each
    also carries ``text``, the prompt rendered with Alpaca's template plus the answer."""
    records = []
    with real(GSM).open(encoding="utf-8") as fh:
        for line, _ in zip(fh, range(n), strict=False):
            rec = json.loads(line)
            rec["text"] = (
                "Below is an instruction that describes a task. Write a response that "
                "appropriately completes the request.\n\n### Instruction:\n"
                f"{rec['instruction']}\n\n### Response:\n{rec['output']}"
            )
            records.append(rec)
    path.write_text(json.dumps(records, indent=4, ensure_ascii=False), encoding="utf-8")
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
