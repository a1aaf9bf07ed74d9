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
        ("together", "together:ft-", "emulator/Qwen3.5-9B-example"),
        ("vertex", "vertex:projects/", "projects/"),
    ],
)
def test_sandbox_example_runs_a_whole_job_on_each_cloud_provider(
    provider: str, job_id: str, model: str
) -> None:
    out = run("sandbox_job.py", provider)
    assert f"created {job_id}" in out and f"tuned model: {model}" in out
    assert "train loss:" in out or "no metrics: provider 'vertex'" in out


# --- one test per example of examples/ (issue 11); the slow ones train a tiny local model
@pytest.mark.slow
def test_quickstart_example_tunes_a_local_model() -> None:
    out = run("quickstart_local.py")
    assert "started local:" in out and "train loss" in out and "adapter: " in out


def test_cheapest_provider_example_prices_every_provider_offline() -> None:
    out = run("cheapest_provider.py")
    for provider in ("openai", "together"):
        assert any(line.strip().startswith(provider) and "$" in line for line in out.splitlines())
    # Vertex publishes no tuning price for the Gemini 3.x models tunable today: listed, unpriced.
    assert any(line.strip().startswith("vertex") for line in out.splitlines())
    cheapest = next(line for line in out.splitlines() if line.startswith("cheapest:"))
    prices = [float(line.split("$")[1].split()[0]) for line in out.splitlines()
              if "$" in line and not line.startswith("cheapest")]
    assert float(cheapest.split("$")[1].split()[0]) == min(prices)


@pytest.mark.slow
def test_move_provider_example_runs_the_same_job_on_four_providers() -> None:
    out = run("move_provider.py")
    for provider in ("openai", "together", "vertex", "local"):
        assert f"{provider:>8}: succeeded, tuned model " in out


@pytest.mark.slow
def test_dpo_example_trains_on_preference_pairs() -> None:
    out = run("dpo.py")
    assert ": DPO succeeded; loss" in out and "tuned model: " in out
    out = run("dpo.py", "openai")
    assert "openai:ftjob-" in out and "DPO succeeded" in out


def test_concurrent_jobs_example_waits_for_all() -> None:
    out = run("concurrent_jobs.py")
    assert "9/9 jobs succeeded" in out


def test_third_party_provider_example_passes_the_conformance_suite(tmp_path: Path) -> None:
    """The example's package, installed as pip would (its ``pyproject.toml`` entry point in
    a dist-info on the path, its files copied, the repository's ``conftest.py`` out of
    reach), then the example's own tests, ``ProviderConformance`` against its emulator, in
    a fresh pytest run: what a third party would run."""
    import os
    import shutil

    import tomllib

    example = EXAMPLES / "third_party_provider"
    entry = tomllib.loads((example / "pyproject.toml").read_text())["project"]["entry-points"]
    site = tmp_path / "site"
    dist = site / "anytune_acme-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: anytune-acme\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text(
        "[anytune.providers]\n" + "".join(f"{k} = {v}\n" for k, v in entry["anytune.providers"].items())
    )
    shutil.copytree(example / "anytune_acme", site / "anytune_acme")
    shutil.copytree(example / "tests", tmp_path / "tests")
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "-rs", "tests"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    summary = result.stdout.strip().splitlines()[-1]
    # every behaviour of the suite ran and passed: nothing failed, nothing skipped
    assert "passed" in summary and "failed" not in summary and "skipped" not in summary, summary
    from anytune.testing import ProviderConformance

    suite = [name for name in dir(ProviderConformance) if name.startswith("test_")]
    assert f"{len(suite)} passed" in summary, (suite, summary)


@pytest.mark.slow
def test_track_mlflow_example_shows_one_run_per_provider() -> None:
    out = run("track_mlflow.py")
    for provider in ("openai", "together", "vertex", "local"):
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(provider))
        assert "FINISHED" in line
    assert "mlflow ui --backend-store-uri sqlite:///" in out
