"""Experiment tracking (``Job.create(tracking=...)``, ``anytune sync``) on the fake
provider: which trackers a job gets, the MLflow run it becomes (real MLflow, SQLite
store), TensorBoard event files read back with TensorBoard's reader, and the guarantees
(nothing before preflight, a broken tracker never stops a wait, no heavy import)."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from anytune import ConfigurationError, Job, JobStatus
from anytune import tracking as trk
from anytune._store import JobStore
from anytune.cli import app
from anytune.testing import write_chat_examples
from anytune.testing.tracking import mlflow_store


@pytest.fixture
def data(isolated: Path) -> Path:
    return write_chat_examples(isolated / "train.jsonl", 12)


@pytest.fixture
def mlflow_uri(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    uri = mlflow_store(isolated / "mlruns.db")  # a copy of a migrated store: seconds saved
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


def runs_of(uri: str, job_id: str) -> list[Any]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("anytune")
    if exp is None:  # no run was ever made
        return []
    where = f"tags.`anytune.job_id` = '{job_id}'"
    return list(client.search_runs([exp.experiment_id], filter_string=where))


def history(uri: str, run_id: str, key: str) -> list[tuple[int, float]]:
    from mlflow.tracking import MlflowClient

    return sorted((m.step, m.value) for m in MlflowClient(tracking_uri=uri).get_metric_history(run_id, key))


def create(data: Path, **kwargs: Any) -> Job:
    kwargs.setdefault("model", "fake-small")
    kwargs.setdefault("job_seconds", 0.3)
    return Job.create(provider="fake", training_file=data, progress=False, **kwargs)


# --- which trackers a job gets ---------------------------------------------------------
def test_argument_beats_environment_beats_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANYTUNE_TRACKING", raising=False)
    assert trk.resolve_trackers(None, "tensorboard") == ("tensorboard",)
    monkeypatch.setenv("ANYTUNE_TRACKING", "mlflow, wandb")
    assert trk.resolve_trackers(None, "tensorboard") == ("mlflow", "wandb")
    assert trk.resolve_trackers(["tensorboard", "mlflow", "mlflow"], "wandb") == ("tensorboard", "mlflow")
    assert trk.resolve_trackers("none", "wandb") == ()


def test_an_unknown_tracker_fails_before_anything_is_uploaded(data: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"unknown tracker 'comet'.*mlflow"):
        create(data, tracking="comet")
    assert JobStore().list() == []


def test_a_missing_tracker_package_names_the_extra(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("anytune_test_tracker")

    class Missing(trk.Tracker):
        name: ClassVar[str] = "neptune"
        extra: ClassVar[str] = "neptune"
        requires: ClassVar[tuple[str, ...]] = ("neptune_client_not_installed",)

        def sync(self, run: trk.RunData) -> str:
            raise AssertionError("never called")

    module.Missing = Missing  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "anytune_test_tracker", module)
    monkeypatch.setitem(trk.TRACKERS, "neptune", "anytune_test_tracker:Missing")
    with pytest.raises(ConfigurationError, match=r"pip install 'anytune\[neptune\]'"):
        create(data, tracking=["mlflow", "neptune"])
    assert JobStore().list() == []


@pytest.mark.slow  # MLflow: 10-30 s to import and build the first store of a process
def test_profile_key_and_cli_option_choose_trackers(data: Path, mlflow_uri: str) -> None:
    profile = '[profiles.t]\nprovider = "fake"\ntracking = "mlflow"\njob_seconds = 0.3\n'
    Path("anytune.toml").write_text(profile)
    result = CliRunner().invoke(app, ["create", str(data), "--model", "fake-small", "--wait", "--json"],
                                env={"ANYTUNE_PROFILE": "t"})
    assert result.exit_code == 0, result.stdout
    job_id = json.loads(result.stdout)["id"]
    assert [r.info.status for r in runs_of(mlflow_uri, job_id)] == ["FINISHED"]
    # -O tracking=... on the command line, as for any per-job option
    result = CliRunner().invoke(app, ["create", str(data), "--provider", "fake", "--model", "fake-small",
                                      "-O", "tracking=tensorboard", "-O", "job_seconds=0.3", "--suffix", "tb",
                                      "--wait", "--json"])
    assert result.exit_code == 0, result.stdout
    other = json.loads(result.stdout)["id"]
    assert runs_of(mlflow_uri, other) == []
    assert any((Path("home") / "tensorboard").iterdir())


# --- MLflow -------------------------------------------------------------------------------
@pytest.mark.slow  # MLflow: 10-30 s to import and build the first store of a process
def test_a_tracked_job_is_one_mlflow_run_with_params_losses_status_and_cost(
    data: Path, mlflow_uri: str
) -> None:
    job = create(data, tracking="mlflow", suffix="tracked", seed=3)
    job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    (run,) = runs_of(mlflow_uri, job.id)
    params = run.data.params
    assert params["provider"] == "fake" and params["base_model"] == "fake-small" and params["method"] == "sft"
    assert params["suffix"] == "tracked" and params["seed"] == "3"
    assert len(params["data_sha256"]) == 64
    assert job.estimate is not None
    assert float(params["estimate.cost_usd"]) == pytest.approx(job.estimate.cost_usd)
    assert int(params["estimate.trained_tokens"]) == job.estimate.trained_tokens
    metrics = job.metrics()
    assert history(mlflow_uri, run.info.run_id, "train_loss") == [(m.step, m.train_loss) for m in metrics]
    assert history(mlflow_uri, run.info.run_id, "valid_loss") == [(m.step, m.valid_loss) for m in metrics]
    assert run.info.status == "FINISHED" and run.info.run_name == job.id
    assert run.data.tags["anytune.status"] == "succeeded"
    assert run.data.tags["anytune.provider_job_id"] == job.id.split(":", 1)[1]
    # The cost the provider reports (the fake: its trained tokens at the estimate's rate).
    assert job.actual is not None and job.actual.cost_usd is not None
    assert run.data.metrics["cost_usd"] == pytest.approx(job.actual.cost_usd)


@pytest.mark.slow  # MLflow: 10-30 s to import and build the first store of a process
def test_a_failed_job_ends_its_run_failed(data: Path, mlflow_uri: str) -> None:
    job = create(data, model="fake-fail", tracking="mlflow").wait(timeout=30, progress=False)
    (run,) = runs_of(mlflow_uri, job.id)
    assert run.info.status == "FAILED" and "diverged" in run.data.tags["anytune.error"]


@pytest.mark.slow  # MLflow: 10-30 s to import and build the first store of a process
def test_the_embedded_store_lives_in_the_anytune_home(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    db = Path("home") / "mlflow.db"
    mlflow_store(db)  # already migrated (as after a first run): the test is about where
    job = create(data, tracking="mlflow").wait(timeout=30, progress=False)
    assert db.is_file()
    assert len(runs_of(f"sqlite:///{db.resolve()}", job.id)) == 1


@pytest.mark.slow  # MLflow: 10-30 s to import and build the first store of a process
def test_anytune_sync_logs_a_job_created_without_tracking_once(data: Path, mlflow_uri: str) -> None:
    job = create(data).wait(timeout=30, progress=False)
    assert runs_of(mlflow_uri, job.id) == []
    for _ in range(2):  # a second sync adds nothing
        result = CliRunner().invoke(app, ["sync", job.id, "--to", "mlflow", "--json"])
        assert result.exit_code == 0, result.stdout
        doc = json.loads(result.stdout)
        assert doc["errors"] == [] and doc["jobs"][0]["job"] == job.id
    (run,) = runs_of(mlflow_uri, job.id)
    expected = [(m.step, m.train_loss) for m in job.metrics()]
    assert history(mlflow_uri, run.info.run_id, "train_loss") == expected
    assert run.data.params["method"] == "sft" and run.info.status == "FINISHED"


@pytest.mark.slow  # MLflow: 10-30 s to import and build the first store of a process
def test_sync_without_ids_takes_every_stored_job_and_reports_bad_ones(data: Path, mlflow_uri: str) -> None:
    jobs = [create(data, suffix=f"s{i}").wait(timeout=30, progress=False) for i in range(2)]
    result = CliRunner().invoke(app, ["sync", "--to", "mlflow", "--json"])
    assert result.exit_code == 0, result.stdout
    assert sorted(r["job"] for r in json.loads(result.stdout)["jobs"]) == sorted(j.id for j in jobs)
    result = CliRunner().invoke(app, ["sync", "fake:no-such-job", "--to", "mlflow", "--json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 3 and doc["errors"][0]["job"] == "fake:no-such-job"


def test_a_broken_tracker_never_stops_a_wait(
    data: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    module = types.ModuleType("anytune_test_broken_tracker")
    calls: list[JobStatus] = []

    class Broken(trk.Tracker):
        name: ClassVar[str] = "broken"

        def sync(self, run: trk.RunData) -> str:
            calls.append(run.status)
            raise OSError("the tracking server is down")

    module.Broken = Broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "anytune_test_broken_tracker", module)
    monkeypatch.setitem(trk.TRACKERS, "broken", "anytune_test_broken_tracker:Broken")
    job = create(data, tracking="broken").wait(timeout=30, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    assert calls[-1] is JobStatus.SUCCEEDED and len(calls) >= 2  # at create, ..., at the end
    assert "could not sync" in caplog.text and "the tracking server is down" in caplog.text


# --- TensorBoard ----------------------------------------------------------------------------
def test_tensorboard_event_files_read_back_with_tensorboards_reader(
    data: Path, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.setenv("ANYTUNE_TENSORBOARD_DIR", str(isolated / "tb"))
    job = create(data, tracking="tensorboard").wait(timeout=30, progress=False)
    result = CliRunner().invoke(app, ["sync", job.id, "--to", "tensorboard", "--json"])  # again: no doubles
    assert result.exit_code == 0, result.stdout
    (folder,) = (isolated / "tb").iterdir()
    acc = EventAccumulator(str(folder))
    acc.Reload()
    points = [(e.step, e.value) for e in acc.Scalars("train_loss")]
    assert points == [(m.step, pytest.approx(m.train_loss)) for m in job.metrics()]
    # The cost the provider reports (here: its trained tokens at the estimate's rate).
    assert job.actual is not None and job.actual.cost_usd is not None
    assert acc.Scalars("cost_usd")[0].value == pytest.approx(job.actual.cost_usd)


def test_import_anytune_imports_no_tracker() -> None:
    code = ("import sys, anytune, anytune.tracking; "
            "print([m for m in ('mlflow', 'wandb', 'tensorboard') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_async_jobs_sync_the_same_way(data: Path, monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    import asyncio

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from anytune import AsyncJob

    monkeypatch.setenv("ANYTUNE_TENSORBOARD_DIR", str(isolated / "tb"))

    async def run() -> AsyncJob:
        job = await AsyncJob.create(provider="fake", model="fake-small", training_file=data, progress=False,
                                    job_seconds=0.3, tracking="tensorboard")
        return await job.wait(timeout=30, progress=False)

    job = asyncio.run(run())
    acc = EventAccumulator(str(isolated / "tb" / trk.run_key(job.id)))
    acc.Reload()
    assert [e.step for e in acc.Scalars("train_loss")] == [m.step for m in Job.get(job.id).metrics()]
