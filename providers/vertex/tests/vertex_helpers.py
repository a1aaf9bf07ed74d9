"""Helpers shared by the Vertex provider's tests (datasets, a fake clock, shared data)."""

from __future__ import annotations

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("ANYTUNE_SHARED_DIR", HERE.parents[3] / "shared"))
GEMINI_DATA = SHARED / "data" / "vertex_gemini"
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
