"""Every script in examples/ runs as a user would run it and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
    # the same data priced on each cloud provider, each with its price table's source, or
    # "unknown" with the reason on the next line (no verified tuning price for Gemini 3.5)
    lines = out.splitlines()
    for provider in ("openai", "together", "vertex"):
        i = next(i for i, ln in enumerate(lines) if ln.strip().startswith(provider))
        priced = "$" in lines[i] and "prices: https://" in lines[i]
        assert priced or ("unknown" in lines[i] and "no catalog price" in lines[i]
                          and "note:" in lines[i + 1]), lines[i:i + 2]
        assert priced or provider == "vertex"
    assert "None" not in out


def test_preflight_example_reports_problems_with_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{broken\n')
    result = subprocess.run([sys.executable, str(EXAMPLES / "preflight.py"), str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "line 2" in result.stdout


@pytest.mark.parametrize(
    ("provider", "job_id", "model"),
    [
        ("openai", "openai:ftjob-", "ft:gpt-4.1-mini"),
        ("together", "together:ft-", "emulator/Meta-Llama-3.1-8B-Instruct-Reference-example"),
        ("vertex", "vertex:projects/", "projects/"),
    ],
)
def test_sandbox_example_runs_a_whole_job_on_each_cloud_provider(
    provider: str, job_id: str, model: str
) -> None:
    out = run("sandbox_job.py", provider)
    assert f"created {job_id}" in out and f"tuned model: {model}" in out
    assert "train loss:" in out or "no metrics: provider 'vertex'" in out
