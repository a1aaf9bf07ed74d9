"""Every CLI command: its ``--json`` shape and its exit code (DESIGN.md §3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anytune.cli import app
from anytune.testing import write_chat_examples
from anytune.testing.conformance import JOB_KEYS

ESTIMATE_KEYS = {"provider", "model", "method", "records", "tokens_per_epoch", "epochs",
                 "trained_tokens", "cost_usd", "currency", "exact_tokens", "price_source",
                 "price_as_of", "approximation"}


def cli(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        doc = result.stdout
    return result.exit_code, doc


@pytest.fixture
def data(isolated: Path) -> Path:
    return write_chat_examples(isolated / "train.jsonl", 12)


@pytest.fixture
def job_id(data: Path) -> str:
    code, doc = cli("create", str(data), "--provider", "fake", "--model", "fake-small")
    assert code == 0, doc
    return doc["id"]  # type: ignore[no-any-return]


def test_create_prints_the_job(data: Path) -> None:
    code, doc = cli("create", str(data), "-p", "fake", "-m", "fake-small", "--epochs", "2")
    assert code == 0 and set(doc) == JOB_KEYS
    assert doc["provider"] == "fake" and doc["estimate"]["epochs"] == 2


def test_provider_options_pass_through_option_key_value(data: Path) -> None:
    code, doc = cli("create", str(data), "-p", "fake", "-m", "fake-small", "-O", "region=eu-west")
    assert code == 0
    from anytune import Job

    assert Job.get(doc["id"]).provider_raw["request"]["options"] == {"region": "eu-west"}
    # Values that read as JSON are typed; a typo or a missing "=" is a usage error (exit 2).
    assert cli("estimate", str(data), "-p", "fake", "-m", "fake-small", "-O", "region=3")[0] == 0
    for bad in ("regoin=eu", "region"):
        code, doc = cli("create", str(data), "-p", "fake", "-m", "fake-small", "--option", bad)
        assert code == 2 and doc["error"]["type"] == "ConfigurationError", doc
        code, doc = cli("estimate", str(data), "-p", "fake", "-m", "fake-small", "--option", bad)
        assert code == 2 and doc["error"]["type"] == "ConfigurationError", doc


def test_create_wait_exits_1_when_the_job_fails(data: Path) -> None:
    code, doc = cli("create", str(data), "-p", "fake", "-m", "fake-fail", "--wait")
    assert code == 1 and doc["status"] == "failed" and doc["error"]["message"]


def test_create_over_budget_exits_1(data: Path) -> None:
    code, doc = cli("create", str(data), "-p", "fake", "-m", "fake-small", "--max-cost", "0.0000001")
    assert code == 1 and doc["error"]["type"] == "BudgetExceededError"


def test_create_with_the_same_idempotency_key_twice_gives_one_job(data: Path) -> None:
    a = cli("create", str(data), "-p", "fake", "-m", "fake-small", "--idempotency-key", "k1")[1]
    b = cli("create", str(data), "-p", "fake", "-m", "fake-small", "--idempotency-key", "k1")[1]
    assert a["id"] == b["id"]


def test_get_wait_cancel(job_id: str) -> None:
    code, doc = cli("get", job_id)
    assert code == 0 and doc["id"] == job_id and set(doc) == JOB_KEYS
    code, doc = cli("wait", job_id, "--timeout", "30")
    assert code == 0 and doc["status"] == "succeeded" and doc["result"]["model"]
    code, doc = cli("cancel", job_id)  # already done: cancelling a finished job changes nothing
    assert code == 0 and doc["status"] == "succeeded"


def test_wait_timeout_exits_3(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYTUNE_PROFILE", "slow")
    Path("anytune.toml").write_text('[profiles.slow]\nprovider = "fake"\njob_seconds = 3600\n')
    code, doc = cli("create", str(data), "-m", "fake-small")
    code, doc = cli("wait", doc["id"], "--timeout", "0.01")
    assert code == 3 and doc["error"]["type"] == "WaitTimeoutError"


def test_cancel_of_a_running_job_exits_0_and_wait_then_exits_1(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("anytune.toml").write_text('[profiles.slow]\nprovider = "fake"\njob_seconds = 3600\n')
    monkeypatch.setenv("ANYTUNE_PROFILE", "slow")
    job_id = cli("create", str(data), "-m", "fake-small")[1]["id"]
    code, doc = cli("cancel", job_id)
    assert code == 0 and doc["status"] == "cancelled"
    code, doc = cli("wait", job_id)
    assert code == 1 and doc["status"] == "cancelled"


def test_events_and_list(job_id: str) -> None:
    code, doc = cli("events", job_id)
    assert code == 0 and isinstance(doc, list) and {"created_at", "message", "level"} <= set(doc[0])
    code, doc = cli("list", "--provider", "fake")
    assert code == 0 and [d["id"] for d in doc] == [job_id] and set(doc[0]) == JOB_KEYS
    assert cli("list")[1][0]["id"] == job_id


def test_plot_writes_a_png(job_id: str, isolated: Path) -> None:
    out = isolated / "loss.png"
    code, doc = cli("plot", job_id, "-o", str(out))
    assert code == 0 and doc["points"] == 10
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_models_lists_the_catalog_with_price_source() -> None:
    code, doc = cli("models", "--provider", "fake")
    assert code == 0 and {m["model"] for m in doc} == {"fake-small", "fake-fail"}
    assert all(m["price_source"] and m["price_as_of"] for m in doc)


def test_models_table_says_where_the_prices_come_from() -> None:
    result = CliRunner().invoke(app, ["models", "--provider", "fake"])
    assert result.exit_code == 0
    source = next(m for m in cli("models", "--provider", "fake")[1] if m["price_source"])
    assert f"prices of fake: {source['price_source']} (as of {source['price_as_of']})" in result.stdout


def test_estimate_has_the_design_shape(data: Path) -> None:
    code, doc = cli("estimate", str(data), "-p", "fake", "-m", "fake-small", "--epochs", "3")
    assert code == 0 and set(doc) == ESTIMATE_KEYS
    assert doc["trained_tokens"] == doc["tokens_per_epoch"] * 3 and doc["records"] == 12


def test_validate_exit_codes(data: Path, isolated: Path) -> None:
    code, doc = cli("validate", str(data), "-p", "fake", "-m", "fake-small")
    assert code == 0 and doc["ok"] is True and doc["records"] == 12
    # DESIGN.md's shape, plus the input format and what is rewritten before upload.
    assert set(doc) == {"ok", "records", "errors", "warnings", "input_format", "converted", "conversions"}
    bad = isolated / "bad.jsonl"
    bad.write_text(data.read_text() + "{oops\n")
    code, doc = cli("validate", str(bad), "-p", "fake", "-m", "fake-small")
    assert code == 1 and doc["ok"] is False
    assert doc["errors"][0]["line"] == 13 and {"line", "field", "code", "message"} <= set(doc["errors"][0])


def test_convert_writes_the_target_format(data: Path, isolated: Path) -> None:
    out = isolated / "vertex.jsonl"
    code, doc = cli("convert", str(data), "--to", "vertex", "-o", str(out))
    assert code == 0 and doc["records"] == 12
    first = json.loads(out.read_text().splitlines()[0])
    assert "contents" in first


def test_configuration_errors_exit_2(data: Path) -> None:
    code, doc = cli("create", str(data), "-p", "nope", "-m", "x")
    assert code == 2 and doc["error"]["type"] == "UnknownProviderError"
    code, doc = cli("sandbox", "fake")
    assert code == 2 and doc["error"]["type"] == "UnsupportedError"


def test_provider_errors_exit_3(job_id: str) -> None:
    code, doc = cli("get", "fake:ft-missing")
    assert code == 3 and doc["error"]["type"] == "NotFoundError" and doc["error"]["status_code"] == 404


def test_usage_errors_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "anytune", "create"], capture_output=True, text=True)
    assert result.returncode == 2


def test_convert_with_broken_records_exits_1_and_lists_them(data: Path, isolated: Path) -> None:
    bad = isolated / "mixed.jsonl"
    bad.write_text(data.read_text() + '{"messages": [{"role": "wizard", "content": "x"}]}\n')
    code, doc = cli("convert", str(bad), "--to", "openai", "-o", str(isolated / "out.jsonl"))
    assert code == 1 and doc["ok"] is False and doc["records"] == 12 and doc["skipped"] == 1
    assert doc["errors"][0]["line"] == 13


def test_human_tables_never_cut_ids(job_id: str) -> None:
    out = CliRunner().invoke(app, ["list"], env={"COLUMNS": "40"}).stdout
    assert job_id in out  # the whole id, copyable into `anytune wait`
