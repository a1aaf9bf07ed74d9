"""The benchmarks run at smoke size (figures go to docs/benchmarks.md, not assertions
on time): they must keep working, and report what they promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_bench(name: str, *args: str) -> dict:  # type: ignore[type-arg]
    out = subprocess.run([sys.executable, str(ROOT / "bench" / name), *args],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def test_import_time_bench_reports_no_heavy_module() -> None:
    doc = run_bench("import_time.py", "--runs", "2")
    assert doc["heavy_modules_loaded"] == []
    assert doc["import_anytune_ms"]["median"] > 0


def test_polling_bench_compares_backoff_with_fixed_intervals() -> None:
    doc = run_bench("polling.py", "--trials", "5")
    ours, every_2s = doc["anytune_backoff"], doc["fixed_2s"]
    assert ours["requests_median"] * 10 < every_2s["requests_median"]
    assert ours["detection_delay_s_max"] <= 60 * 1.2
