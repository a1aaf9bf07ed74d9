"""Helpers shared by the Vertex provider's tests (datasets, a fake clock, real data)."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The real-data fixtures of the repository (sources and licences: tests/data/README.md).
DATA = Path(__file__).resolve().parents[3] / "tests" / "data"
#: GSM8K records 2377-2388; line 6 (record 2382) holds raw U+2028 inside a JSON string.
GSM_U2028 = DATA / "instruction_alpaca" / "alpacadatacleaned_gsm_8k_train.2377-2388.jsonl"
GEMINI_DATA = DATA / "vertex_gemini"
TOKEN = "ya29.test-token-0123456789abcdef"
MODEL = "gemini-3.5-flash"


class FakeClock:
    """Time that moves only when told to (the emulator's job clock)."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def write_chat(path: Path, n: int = 12, *, tag: str = "") -> Path:
    """``n`` chat examples in OpenAI's ``messages`` format (converted by anytune)."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"messages": [
                {"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": f"What is {i} times 3?{tag}"},
                {"role": "assistant", "content": f"{i} times 3 is {3 * i}."},
            ]}) + "\n")
    return path


def write_preference(path: Path, n: int = 12) -> Path:
    """``n`` preference examples in OpenAI's DPO format."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({
                "input": {"messages": [{"role": "user", "content": f"Greet person {i}."}]},
                "preferred_output": [{"role": "assistant", "content": f"Hello, person {i}!"}],
                "non_preferred_output": [{"role": "assistant", "content": "Go away."}],
            }) + "\n")
    return path
