"""Job.create / wait / cancel through the fake provider: the guarantees a user relies on
(nothing uploaded on bad input or over budget, one job per create, recovery)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from anytune import (
    AsyncJob,
    BudgetExceededError,
    ConfigurationError,
    DatasetError,
    Hyperparameters,
    Job,
    JobFailedError,
    JobStatus,
    LoRA,
    MissingCredentialsError,
    UnsupportedError,
    WaitTimeoutError,
)
from anytune._store import JobStore
from anytune.testing import write_chat_examples


def calls() -> dict[str, int]:
    path = Path(os.environ["ANYTUNE_FAKE_STATE"])
    return json.loads(path.read_text())["calls"] if path.exists() and path.read_text() else {}


def jobs_on_provider() -> int:
    path = Path(os.environ["ANYTUNE_FAKE_STATE"])
    return len(json.loads(path.read_text())["jobs"]) if path.exists() and path.read_text() else 0


@pytest.fixture
def data(isolated: Path) -> Path:
    return write_chat_examples(isolated / "train.jsonl", 12)


def create(data: Path, **kw: object) -> Job:
    return Job.create(provider="fake", model=kw.pop("model", "fake-small"), training_file=data, **kw)  # type: ignore[arg-type]


def test_over_budget_refuses_before_credentials_or_upload(data: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("FAKE_API_KEY")  # proves credentials are not even read
    with pytest.raises(BudgetExceededError) as info:
        create(data, max_cost_usd=0.0000001, hyperparameters=Hyperparameters(epochs=3))
    assert info.value.estimate.cost_usd > 0
    assert calls() == {} and JobStore().list() == []


def test_invalid_data_uploads_nothing_and_says_where(isolated: Path) -> None:
    bad = isolated / "bad.jsonl"
    lines = [json.dumps({"messages": [{"role": "user", "content": "hi"},
                                      {"role": "assistant", "content": "yo"}]})] * 3
    bad.write_text("\n".join([*lines, "{not json", *lines]) + "\n")
    with pytest.raises(DatasetError) as info:
        create(bad)
    assert any(p.line == 4 for p in info.value.problems)
    assert calls() == {}


def test_missing_credentials_are_reported_before_any_job(data: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("FAKE_API_KEY")
    with pytest.raises(MissingCredentialsError, match="FAKE_API_KEY"):
        create(data)
    assert jobs_on_provider() == 0


def test_unknown_option_and_bad_method_fail_before_any_work(data: Path) -> None:
    with pytest.raises(ConfigurationError, match="gpus"):
        create(data, gpus=2)
    with pytest.raises(ConfigurationError, match="method"):
        create(data, method="rlhf")
    assert calls() == {}


def test_unsupported_capability_names_provider_and_operation(data: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from anytune import _registry
    from anytune.provider import Capability

    cls = _registry.provider_class("fake")
    monkeypatch.setattr(cls, "capabilities", Capability.SFT | Capability.LIST)
    with pytest.raises(UnsupportedError) as info:
        create(data, method="dpo")
    assert (info.value.provider, info.value.operation) == ("fake", "dpo")
    with pytest.raises(UnsupportedError, match="lora"):
        create(data, hyperparameters=Hyperparameters(lora=LoRA(r=8)))
    job = create(data)
    with pytest.raises(UnsupportedError, match="cancel"):
        job.cancel()


def test_create_records_the_job_and_its_estimate_in_the_store(data: Path) -> None:
    job = create(data, hyperparameters=Hyperparameters(epochs=2))
    rec = JobStore().get(job.id)
    assert rec is not None and not rec.pending and rec.model == "fake-small"
    assert rec.estimate is not None and rec.estimate["epochs"] == 2
    assert job.estimate is not None and job.estimate.trained_tokens > 0
    assert job.to_dict()["estimate"]["cost_usd"] == job.estimate.cost_usd


def test_identical_data_is_uploaded_once(data: Path) -> None:
    create(data, suffix="a")
    create(data, suffix="b")
    assert calls()["upload"] == 1 and jobs_on_provider() == 2


def test_same_spec_moments_later_is_the_same_job_without_a_key(data: Path) -> None:
    assert create(data).id == create(data).id
    assert jobs_on_provider() == 1


def test_dropped_connection_on_create_recovers_the_job_instead_of_a_second(data: Path) -> None:
    job = create(data, faults="drop")
    assert jobs_on_provider() == 1 and calls()["create"] == 1
    assert job.id.startswith("fake:ft-")
    assert JobStore().get(job.id) is not None


def test_refused_connection_is_retried_and_makes_one_job(data: Path) -> None:
    create(data, faults="refuse")
    assert calls()["create"] == 2 and jobs_on_provider() == 1


def test_a_crash_between_claim_and_answer_is_recovered_on_rerun(data: Path) -> None:
    # The first run died after the provider made the job but before the id came back:
    # its pending row and the job on the provider both exist.
    job = create(data, idempotency_key="crash-key", faults="drop")
    store = JobStore()
    with store._connect(immediate=True) as db:
        db.execute("UPDATE jobs SET id='pending:fake:crash-key', state='pending', status=NULL")
    again = create(data, idempotency_key="crash-key")
    assert again.id == job.id and jobs_on_provider() == 1
    assert not store.by_key("fake", "crash-key").pending  # type: ignore[union-attr]


def test_wait_returns_failed_jobs_and_raise_for_status_raises(data: Path) -> None:
    job = create(data, model="fake-fail").wait(timeout=30, progress=False)
    assert job.status is JobStatus.FAILED and job.error is not None
    with pytest.raises(JobFailedError, match="training diverged") as info:
        job.raise_for_status()
    assert info.value.job is job


def test_wait_timeout_keeps_the_job_and_says_how_to_resume(data: Path) -> None:
    job = create(data, job_seconds=3600)
    with pytest.raises(WaitTimeoutError) as info:
        job.wait(timeout=0.01, progress=False)
    assert info.value.job is job and f"anytune wait {job.id}" in str(info.value)
    assert not job.status.terminal


def test_ctrl_c_stops_waiting_not_the_job(data: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from anytune import _flow

    job = create(data, job_seconds=3600)

    def interrupt(self: object, seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_flow.SystemClock, "sleep", interrupt)
    with pytest.raises(KeyboardInterrupt):
        job.wait(progress=False)
    assert f"resume with: anytune wait {job.id}" in capsys.readouterr().err
    assert Job.get(job.id).status is not JobStatus.CANCELLED


def test_validation_split_sends_a_validation_file(data: Path) -> None:
    job = create(data, validation_split=0.25, seed=1)
    req = job.provider_raw["request"]
    assert req["validation_file"] and req["validation_file"] != req["training_file"]


def test_list_shows_store_jobs_even_when_the_provider_is_unreachable(data: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    job = create(data)
    monkeypatch.delenv("FAKE_API_KEY")  # the provider's own list now fails
    assert [j.id for j in Job.list()] == [job.id]


def test_async_and_sync_give_the_same_job_shape(data: Path) -> None:
    sync_job = create(data, suffix="s").wait(timeout=30, progress=False)

    async def run() -> AsyncJob:
        job = await AsyncJob.create(provider="fake", model="fake-small", training_file=data, suffix="a")
        await job.wait(timeout=30, progress=False)
        events = await job.events()
        assert events and events[0].message == "Job created"
        assert len(await job.metrics()) == len(sync_job.metrics())
        return job

    async_job = asyncio.run(run())
    a, s = async_job.to_dict(), sync_job.to_dict()
    assert a.keys() == s.keys() and a["status"] == s["status"] == "succeeded"
    assert a["estimate"] == s["estimate"]


@pytest.mark.parametrize("suffix", ["../../etc", "a/b", "x" * 65, "has space", "-lead", "nul\x00", ""])
def test_hostile_suffixes_are_refused_before_any_work(data: Path, suffix: str) -> None:
    with pytest.raises(ConfigurationError, match="suffix"):
        create(data, suffix=suffix)
    assert calls() == {}


def test_bare_ids_use_the_configured_provider(data: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    job = create(data)
    monkeypatch.setenv("ANYTUNE_PROVIDER", "fake")
    assert Job.get(job.id.split(":", 1)[1]).id == job.id


def test_a_job_found_later_carries_its_launch_estimate(data: Path) -> None:
    job = create(data, hyperparameters=Hyperparameters(epochs=2))
    again = Job.get(job.id)
    assert again.estimate == job.estimate and again.estimate is not None
    listed = next(j for j in Job.list() if j.id == job.id)
    assert listed.to_dict()["estimate"] == job.to_dict()["estimate"]


def test_create_leaves_no_copy_of_the_data_behind(data: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    scratch = data.parent / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    create(data, validation_split=0.25)
    assert list(scratch.iterdir()) == []
