"""Stored state is checked, not trusted (issue 15 §2-3), through the fake provider:
a stored job is reused only on its own endpoint, and only while its provider still has
it; a reused upload is checked first and uploaded again when gone; the reads inside
``create`` ride out transient errors; a reused job is said in Python, CLI and JSON."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from store_helpers import store_before_scopes
from typer.testing import CliRunner

from anytune import Job, ReusedJobWarning, ServerError, _create
from anytune._polling import Backoff
from anytune._store import JobStore
from anytune.cli import app
from anytune.testing import write_chat_examples


def state() -> dict[str, Any]:
    return json.loads(Path(os.environ["ANYTUNE_FAKE_STATE"]).read_text())


def edit_state(**changes: Any) -> None:
    """Change the fake provider's remote state, as the vendor's side would."""
    doc = state()
    doc.update(changes)
    Path(os.environ["ANYTUNE_FAKE_STATE"]).write_text(json.dumps(doc))


@pytest.fixture
def data(isolated: Path) -> Path:
    return write_chat_examples(isolated / "train.jsonl", 12)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_create, "_CREATE_BACKOFF", Backoff(initial=0.01, cap=0.05))


def create(data: Path, **kw: Any) -> Job:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReusedJobWarning)
        return Job.create(provider="fake", model="fake-small", training_file=data, **kw)


def test_a_job_is_never_reused_against_another_endpoint(data: Path) -> None:
    first = create(data, base_url="https://sandbox-a.invalid/v1")
    second = create(data, base_url="https://sandbox-b.invalid/v1")
    assert second.id != first.id and not second.reused
    assert len(state()["jobs"]) == 2
    # The same key on another endpoint is another job too (and needs no new key).
    a = create(data, base_url="https://sandbox-a.invalid/v1", idempotency_key="k1")
    b = create(data, base_url="https://sandbox-b.invalid/v1", idempotency_key="k1")
    assert a.id != b.id and not b.reused and len(state()["jobs"]) == 4
    # ... while on the first endpoint, the spec (its newest job) and the key find theirs.
    assert create(data, base_url="https://sandbox-a.invalid/v1").id == a.id != first.id
    assert create(data, base_url="https://sandbox-a.invalid/v1", idempotency_key="k1").id == a.id


def test_reuse_is_said_in_python_and_json(data: Path) -> None:
    first = create(data)
    assert first.reused is False and first.to_dict()["reused"] is False
    with pytest.warns(ReusedJobWarning, match=r"reusing job fake:ft-\w+ created \d+ s ago with the "
                      r"same spec; pass idempotency_key= or change the spec for a new job"):
        again = Job.create(provider="fake", model="fake-small", training_file=data)
    assert again.id == first.id and again.reused and again.to_dict()["reused"] is True
    with pytest.warns(ReusedJobWarning, match="same idempotency key"):
        Job.create(provider="fake", model="fake-small", training_file=data, idempotency_key="k")
        Job.create(provider="fake", model="fake-small", training_file=data, idempotency_key="k")


def test_reuse_is_one_line_on_the_cli_and_reused_true_in_json(data: Path) -> None:
    args = ["create", str(data), "-p", "fake", "-m", "fake-small"]
    first = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert first["reused"] is False
    human = CliRunner().invoke(app, args)
    assert human.exit_code == 0
    lines = [ln for ln in human.stderr.splitlines() if "reusing job" in ln]
    assert len(lines) == 1 and lines[0].startswith(f"reusing job {first['id']} created ")
    assert lines[0].endswith("s ago with the same spec; pass --idempotency-key or change the spec "
                             "for a new job")
    again = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert again["id"] == first["id"] and again["reused"] is True


def test_a_job_the_provider_forgot_is_replaced_not_returned(data: Path) -> None:
    first = create(data)
    keyed = create(data, idempotency_key="kept-key", suffix="keyed")
    edit_state(jobs={})  # the provider forgot both (a restarted sandbox, a reset account)
    second = create(data)
    assert second.id != first.id and not second.reused
    again = create(data, idempotency_key="kept-key", suffix="keyed")  # the key is free again
    assert again.id != keyed.id and not again.reused
    assert set(state()["jobs"]) == {second.id.split(":")[1], again.id.split(":")[1]}
    store = JobStore()
    assert store.get(first.id).stale and store.get(keyed.id).stale  # type: ignore[union-attr]
    # list shows the stale rows as such, next to the new jobs
    listed = {j.id: j for j in Job.list(provider="fake")}
    assert listed[first.id].error is not None and listed[first.id].error.code == "stale"
    assert listed[second.id].error is None
    table = CliRunner().invoke(app, ["list"]).stdout
    row = next(ln for ln in table.splitlines() if first.id in ln)
    assert "stale" in row
    # ... and a stale row is never reused again
    assert create(data).id == second.id


def test_reads_inside_create_ride_out_transient_errors(data: Path) -> None:
    first = create(data)
    again = create(data, faults="flaky_reads")  # the reuse lookup's get: 503, 503, 200
    assert again.id == first.id and again.reused
    assert state()["calls"]["get"] >= 3


def test_the_key_search_after_a_crash_rides_out_transient_errors(data: Path) -> None:
    job = create(data, idempotency_key="crash-key", faults="drop")
    with JobStore()._connect(immediate=True) as db:
        db.execute("UPDATE jobs SET id='pending:fake:crash-key', state='pending', status=NULL")
    again = create(data, idempotency_key="crash-key", faults="flaky_reads")  # list: 503, 503, 200
    assert again.id == job.id and len(state()["jobs"]) == 1


def test_transient_errors_that_never_end_fail_typed(data: Path) -> None:
    create(data)
    with pytest.raises(ServerError):
        create(data, faults="flaky_reads_forever")


def test_a_vanished_upload_is_uploaded_again(data: Path) -> None:
    create(data, suffix="a")
    create(data, suffix="b")
    assert state()["calls"]["upload"] == 1  # reused while it exists
    edit_state(files={})
    job = create(data, suffix="c")
    assert state()["calls"]["upload"] == 2 and job.status.value != "failed"
    assert job.provider_raw["request"]["training_file"] in state()["files"]


def test_a_file_gone_at_create_time_is_uploaded_again_once(data: Path) -> None:
    create(data, suffix="a")
    job = create(data, suffix="b", faults="vanish")  # exists at the check, gone at create
    assert state()["calls"]["upload"] == 2 and state()["calls"]["create"] == 3
    assert len(state()["jobs"]) == 2 and job.status.value != "failed"


def test_a_store_from_before_scopes_opens_and_its_jobs_are_not_reused(data: Path, isolated: Path) -> None:
    path = isolated / "home" / "jobs.sqlite3"
    path.parent.mkdir(parents=True)
    db = store_before_scopes(path)
    db.execute("INSERT INTO jobs VALUES ('fake:ft-old','fake','fake-small','h','k','created',"
               "'running',NULL,NULL,NULL,strftime('%s','now'),strftime('%s','now'))")
    db.commit()
    db.close()
    job = create(data, idempotency_key="k")
    assert job.id != "fake:ft-old" and not job.reused
    assert JobStore().get("fake:ft-old") is not None


def test_an_untyped_exception_from_a_provider_call_is_typed(data: Path) -> None:
    from anytune import AsyncJob, ProviderError

    job = create(data)
    with pytest.raises(ProviderError) as info:
        Job.get(job.id, faults="bad_answer")
    assert info.value.provider == "fake" and info.value.operation == "get"
    assert "TypeError" in str(info.value) and isinstance(info.value.__cause__, TypeError)
    assert info.value.to_dict()["operation"] == "get"

    import asyncio

    with pytest.raises(ProviderError) as ainfo:
        asyncio.run(AsyncJob.get(job.id, faults="bad_answer"))
    assert ainfo.value.operation == "get"
    # a typed error from a provider gets its operation too
    from anytune import NotFoundError

    with pytest.raises(NotFoundError) as missing:
        Job.get("fake:ft-nope")
    assert missing.value.operation == "get"
