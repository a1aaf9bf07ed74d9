"""``bench/preflight.py`` at smoke size: it runs, the three methods count the same file,
and anytune's count equals the cookbook's (figures are in docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from preflight_helpers import REPO

from anytune.testing import require_tiktoken


def test_preflight_bench_smoke(tmp_path: Path) -> None:
    require_tiktoken()
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "preflight.py"),
            "--size-mb",
            "1",
            "--file",
            str(tmp_path / "b.jsonl"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    doc = json.loads(out)
    assert doc["anytune"]["tokens"] == doc["cookbook"]["tokens"] > 0
    assert doc["anytune"]["errors"] == 0 and doc["anytune"]["records"] == doc["cookbook"]["records"]
    assert doc["tiktoken-batch"]["tokens"] == doc["tiktoken-single"]["tokens"] > 0
    for method in ("anytune", "cookbook", "tiktoken-batch", "tiktoken-single"):
        assert doc[method]["mb_per_s"] > 0 and doc[method]["peak_rss_mb"] > 0
    lines = (tmp_path / "b.jsonl").read_text().splitlines()
    assert len(set(lines)) == len(lines)  # no repeated record
