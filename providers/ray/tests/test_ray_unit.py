"""The ray provider's pure parts, without a cluster: the job log's records, the
mapping of Ray's job details, the submission id, option checks, error mapping and the runtime env."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from anytune_ray import _logs
from anytune_ray._client import _HTTPStatus, map_error
from anytune_ray._mapping import events_from, snapshot_from
from anytune_ray._provider import RayProvider, submission_id
from anytune_ray._submit import entrypoint, runtime_env

from anytune import ConfigurationError, Hyperparameters, LoRA, UnsupportedError
from anytune.errors import NotFoundError, ProviderConnectionError, ServerError
from anytune.provider import JobStatus


def test_records_are_found_in_a_ray_log_once_each() -> None:
    event = _logs.line("event", {"created_at": "2026-01-01T00:00:00+00:00", "message": "hi", "type": "x"})
    metric = _logs.line("metric", {"step": 2, "train_loss": 1.5})
    log = "\n".join([
        "2026-01-01 INFO job_manager.py -- Runtime env is setting up.",
        event,
        f"\x1b[36m(RayTrainWorker pid=12)\x1b[0m {metric}",
        f"\x1b[36m(RayTrainWorker pid=12)\x1b[0m {metric}",  # Ray forwarded it twice
        _logs.line("metric", {"step": 1, "train_loss": 2.0}),
        _logs.MARK + '{"kind": "metric", "step": 3',  # torn
        "Traceback: boom",
    ])
    parsed = _logs.parse(log)
    assert [e["message"] for e in parsed.events] == ["hi"]
    assert [m["step"] for m in parsed.metrics] == [1, 2]  # in step order, no duplicate
    assert parsed.tail[-1] == "Traceback: boom"


def test_a_step_logged_again_after_a_restart_keeps_its_last_row() -> None:
    rows = [(1, 3.0), (2, 2.0), (2, 1.0)]
    log = "\n".join(_logs.line("metric", {"step": s, "train_loss": v}) for s, v in rows)
    assert [m["train_loss"] for m in _logs.parse(log).metrics] == [3.0, 1.0]


def test_the_same_key_always_names_the_same_ray_job() -> None:
    assert submission_id("k1") == submission_id("k1") != submission_id("k2")
    assert submission_id("k1").startswith("anytune-") and len(submission_id("k1")) == 28


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"workers": 0}, ConfigurationError),
        ({"workers": 1.5}, ConfigurationError),
        ({"gpus_per_worker": -1}, ConfigurationError),
        ({"quantization": "4bit"}, UnsupportedError),  # no GPU asked for
        ({"quantization": "8bit", "gpus_per_worker": 1}, UnsupportedError),
    ],
)
def test_options_that_cannot_run_are_refused_before_anything_is_sent(
    options: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        RayProvider().check_create("m", "sft", now=datetime.now(timezone.utc), options=options)


def test_full_with_lora_settings_is_a_contradiction() -> None:
    with pytest.raises(ConfigurationError):
        RayProvider().check_create("m", "sft", now=datetime.now(timezone.utc), options={"full": True},
                                   hyperparameters=Hyperparameters(lora=LoRA(r=4)))


def test_errors_are_mapped_by_status_code_and_type() -> None:
    import requests

    assert isinstance(map_error(_HTTPStatus(404, "Job x does not exist")), NotFoundError)
    assert isinstance(map_error(_HTTPStatus(503, "")), ServerError)
    dropped = map_error(requests.ConnectionError("Connection aborted"))
    assert isinstance(dropped, ProviderConnectionError) and dropped.request_sent is None
    with pytest.raises(ProviderConnectionError) as refused:
        from anytune_ray._client import connect

        connect("http://127.0.0.1:9", timeout=2)  # nothing listens on the discard port
    assert refused.value.request_sent is False


def test_driver_and_workers_share_one_interpreter_through_the_runtime_env(tmp_path: Path) -> None:
    env = runtime_env(tmp_path, "/opt/venv/bin/python", {"env_vars": {"A": "1"}})
    assert env["py_executable"] == "/opt/venv/bin/python"
    assert entrypoint("/opt/venv/bin/python").split()[0] == "/opt/venv/bin/python"
    assert env["working_dir"] == str(tmp_path) and env["env_vars"]["A"] == "1"
    assert env["env_vars"]["RAY_DEDUP_LOGS"] == "0"


def test_the_interpreter_defaults_to_this_one_only_for_a_cluster_on_this_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.delenv("ANYTUNE_RAY_PYTHON", raising=False)
    monkeypatch.setenv("RAY_ADDRESS", "http://127.0.0.1:8265")
    assert RayProvider().python() == sys.executable
    assert RayProvider(address="http://head.example:8265").python() == "python"
    assert RayProvider(address="http://head.example:8265", python="/py").python() == "/py"


def _details(status: str, **fields: object) -> object:
    """A Ray job as Ray's own client describes it (``JobDetails``)."""
    from ray.job_submission import JobDetails, JobStatus, JobType

    base = {"type": JobType.SUBMISSION, "entrypoint": "python -m anytune_ray._driver",
            "submission_id": "anytune-1", "status": JobStatus(status), "message": "m",
            "start_time": 1_700_000_000_000,
            "metadata": {"anytune_provider": "1", "anytune_model": "tiny", "anytune_result": "/s/adapter",
                         "anytune_idempotency_key": "k", "team": "a"}}
    return JobDetails(**{**base, **fields})


def test_a_failed_ray_job_maps_to_a_failed_snapshot_with_its_last_log_lines() -> None:
    log = _logs.parse("\n".join(["starting", "Traceback: boom",
                                 _logs.line("event", {"created_at": "2023-11-14T22:13:30+00:00",
                                                      "message": "training", "type": "x"})]))
    info = _details("FAILED", end_time=1_700_000_060_000, message="driver exited 1")
    snap = snapshot_from(info, lambda: log)
    assert snap.status is JobStatus.FAILED and snap.model == "tiny"
    assert snap.error is not None and "Traceback: boom" in snap.error.message
    assert snap.metadata == {"anytune_idempotency_key": "k", "team": "a"}  # anytune's own keys hidden
    events = events_from(info, log, limit=10)
    assert [e.type for e in events] == ["created", "x", "ray_failed"]  # oldest first


def test_a_running_job_being_stopped_reads_cancelling_and_no_log() -> None:
    def no_log() -> _logs.Parsed:
        raise AssertionError("a running job's snapshot must not read its log")

    snap = snapshot_from(_details("RUNNING"), no_log, cancelling=True)
    assert snap.status is JobStatus.CANCELLING and snap.finished_at is None
