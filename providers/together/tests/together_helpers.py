"""Helpers shared by the Together provider's tests."""

from __future__ import annotations

import json
from pathlib import Path

TEST_KEY = "tgp_v1_test-emulator-0123456789abcdef"
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
# The real-data fixtures of the repository (sources and licences: tests/data/README.md).
DATA = Path(__file__).resolve().parents[3] / "tests" / "data"
#: GSM8K records 2377-2388; line 6 (record 2382) holds raw U+2028 inside a JSON string.
GSM_U2028 = DATA / "instruction_alpaca" / "alpacadatacleaned_gsm_8k_train.2377-2388.jsonl"


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
