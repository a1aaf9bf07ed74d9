"""Estimates say how sure they are, and jobs show what the provider reported (issue 16).

- an approximate token count says so and why in the Python object, ``--json``, the
  human output and ``get``;
- ``max_cost_usd`` checks an approximate count with the measured margin, never as exact;
- the margin covers the approximation's error on real files (samples kept in
  ``tests/data/estimates`` with their licences);
- after the job, trained tokens and cost as reported, next to the estimate.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anytune import BudgetExceededError, Hyperparameters, Job, estimate
from anytune._estimates import APPROX_MARGIN
from anytune._types import ModelInfo
from anytune.cli import app
from anytune.provider import Limits, Provider
from anytune.testing import write_chat_examples

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "data" / "estimates"


def cli(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def data(isolated: Path) -> Path:
    return write_chat_examples(isolated / "train.jsonl", 12)


class Exact(Provider):
    """A provider whose model is counted exactly (tiktoken), for the contrast."""

    name = "exact-test"

    def catalog(self) -> list[ModelInfo]:
        return [ModelInfo(provider=self.name, model="m", methods=("sft",), max_tokens_per_example=65536,
                          price_per_million_tokens={"sft": 5.0}, price_source="https://example.test",
                          price_as_of="2026-11-01")]

    def limits(self, model: str, method: str) -> Limits:
        return Limits(min_examples=1, max_tokens_per_example=65536, data_format="openai")

    def tokenizer(self, model: str) -> str:
        return "tiktoken:o200k_base"


def test_an_approximate_estimate_says_so_and_why(data: Path) -> None:
    est = estimate(data, provider="fake", model="fake-small", epochs=2)
    assert est.exact_tokens is False
    assert est.approximation is not None
    assert "1 token per 4 characters" in est.approximation and f"{APPROX_MARGIN:.0%}" in est.approximation
    exact = estimate(data, provider=Exact(), model="m")
    assert exact.exact_tokens is True and exact.approximation is None


def test_json_and_human_estimate_carry_the_reason(data: Path) -> None:
    code, doc = cli("estimate", str(data), "-p", "fake", "-m", "fake-small")
    assert code == 0 and doc["exact_tokens"] is False and "1 token per 4 characters" in doc["approximation"]
    human = CliRunner().invoke(app, ["estimate", str(data), "-p", "fake", "-m", "fake-small"])
    assert "(approximate tokens)" in human.stdout and "approximate: no tokenizer" in human.stdout
    assert human.stdout.count("1 token per 4 characters") == 1  # the reason is said once


def test_budget_on_an_approximate_count_uses_the_margin(data: Path, isolated: Path) -> None:
    cost = estimate(data, provider="fake", model="fake-small", epochs=1).cost_usd
    assert cost is not None and cost > 0
    # Under the budget as counted, but not once the count's measured error is allowed for.
    budget = cost * (1 + APPROX_MARGIN / 2)
    with pytest.raises(BudgetExceededError) as info:
        Job.create(provider="fake", model="fake-small", training_file=data, max_cost_usd=budget,
                   hyperparameters=Hyperparameters(epochs=1))
    msg = str(info.value)
    assert "may exceed" in msg and "approximate" in msg and f"{APPROX_MARGIN:.0%}" in msg
    assert not (isolated / "fake-state.json").exists(), "nothing was uploaded"
    # With room for the margin, the job starts.
    code, doc = cli("create", str(data), "-p", "fake", "-m", "fake-small", "--epochs", "1",
                    "--max-cost", f"{cost * (1 + APPROX_MARGIN) * 1.01:.6f}")
    assert code == 0 and doc["estimate"]["approximation"]
    code, doc = cli("create", str(data), "-p", "fake", "-m", "fake-small", "--epochs", "1",
                    "--max-cost", f"{budget:.6f}")
    assert code == 1 and doc["error"]["type"] == "BudgetExceededError"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("approx_tokens", HERE.parent / "bench" / "approx_tokens.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_margin_covers_the_measured_error_on_real_files() -> None:
    files = {p: "sft" for p in sorted(SAMPLES.glob("*.jsonl"))}
    assert len(files) == 4
    result = _bench().measure(files)
    worst = result["worst_under_count"]
    # The approximation really is low on real data (so the margin is needed) ...
    assert worst > 0.05, result
    # ... and the margin covers the worst file, for both encodings.
    assert worst <= APPROX_MARGIN, result


def test_get_shows_the_estimate_and_what_the_provider_reported(data: Path) -> None:
    job = Job.create(provider="fake", model="fake-small", training_file=data,
                     hyperparameters=Hyperparameters(epochs=2), progress=False)
    assert job.actual is None  # nothing reported before the job ends
    job.wait(progress=False)
    actual, est = job.actual, job.estimate
    assert actual is not None and est is not None and est.cost_usd is not None
    # The fake bills 1 token per 3 bytes of the uploaded file, per epoch.
    assert actual.trained_tokens > 0 and actual.trained_tokens % 2 == 0
    assert actual.vs_estimate == pytest.approx(actual.trained_tokens / est.trained_tokens - 1, abs=1e-4)
    assert actual.cost_source == "estimate rate"
    assert actual.cost_usd == pytest.approx(est.cost_usd * actual.trained_tokens / est.trained_tokens)
    code, doc = cli("get", job.id)
    assert code == 0 and doc["actual"]["trained_tokens"] == actual.trained_tokens
    assert doc["estimate"]["approximation"]
    human = CliRunner().invoke(app, ["get", job.id]).stdout
    assert f"actual: {actual.trained_tokens:,} trained tokens" in human and "vs estimate" in human
    assert "(approximate)" in human and "estimate: " in human
