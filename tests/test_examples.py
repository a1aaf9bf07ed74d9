"""Every script in examples/ runs as a user would run it and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_preflight_example_prices_without_network() -> None:
    out = run("preflight.py")
    assert "50 records, 0 errors" in out
    assert "gpt-4.1-mini-2025-04-14" in out and "$" in out and "Gemini" in out


def test_preflight_example_reports_problems_with_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{broken\n')
    result = subprocess.run([sys.executable, str(EXAMPLES / "preflight.py"), str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "line 2" in result.stdout


def test_sandbox_example_runs_a_whole_job() -> None:
    out = run("sandbox_job.py")
    assert "created openai:ftjob-" in out and "tuned model: ft:gpt-4.1-mini" in out
    assert "train loss:" in out
