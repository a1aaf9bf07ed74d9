"""Helpers shared by the Together provider's tests."""

from __future__ import annotations

import json
from pathlib import Path

TEST_KEY = "tgp_v1_test-emulator-0123456789abcdef"
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


def write_preference(path: Path, n: int = 12) -> Path:
    """``n`` valid DPO examples in the preference format."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({
                "input": {"messages": [{"role": "user", "content": f"Greet person {i}."}]},
                "preferred_output": [{"role": "assistant", "content": f"Hello, person {i}!"}],
                "non_preferred_output": [{"role": "assistant", "content": "Go away."}],
            }) + "\n")
    return path
