"""The local-training benchmark runs at smoke size and reports both sides (no timing
assertions: CI machines are noisy; figures are recorded by hand in docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "local_train.py"


@pytest.mark.slow
def test_bench_smoke(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        str(BENCH),
        "--model-config",
        "tiny",
        "--steps",
        "6",
        "--warmup",
        "2",
        "--seq-len",
        "64",
        "--workdir",
        str(tmp_path),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    for side in ("anytune", "plain_trl"):
        assert report[side]["steps"] == 6
        assert report[side]["tokens_per_s"] > 0
        assert report[side]["peak_rss_gb"] > 0
    assert report["speed_ratio"] > 0 and report["parameters"] > 0
