"""Helpers shared by the OpenAI provider's tests (datasets, a fake clock, polling)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

TEST_KEY = "sk-test-emulator-0123456789abcdef"
MODEL = "gpt-4.1-mini-2025-04-14"
# The real-data fixtures of the repository (sources and licences: tests/data/README.md).
DATA = Path(__file__).resolve().parents[3] / "tests" / "data"
#: GSM8K records 2377-2388; line 6 (record 2382) holds raw U+2028 inside a JSON string.
GSM_U2028 = DATA / "instruction_alpaca" / "alpacadatacleaned_gsm_8k_train.2377-2388.jsonl"


class FakeClock:
    """Time that moves only when told to (the emulator's job clock)."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def write_chat(path: Path, n: int = 12, *, tag: str = "") -> Path:
    """``n`` valid chat examples."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(
                json.dumps(
                    {
                        "messages": [
                            {"role": "system", "content": "Answer briefly."},
                            {"role": "user", "content": f"What is {i} times 3?{tag}"},
                            {"role": "assistant", "content": f"{i} times 3 is {3 * i}."},
                        ]
                    }
                )
                + "\n"
            )
    return path


def write_preference(path: Path, n: int = 12) -> Path:
    """``n`` valid DPO examples in OpenAI's preference format."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(
                json.dumps(
                    {
                        "input": {"messages": [{"role": "user", "content": f"Greet person {i}."}]},
                        "preferred_output": [{"role": "assistant", "content": f"Hello, person {i}!"}],
                        "non_preferred_output": [{"role": "assistant", "content": "Go away."}],
                    }
                )
                + "\n"
            )
    return path


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    """Poll ``predicate`` until true (real-time emulator tests)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
