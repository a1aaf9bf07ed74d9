"""The life of a Ray job: cancel stops it within seconds; a create whose answer was lost
makes one job only. (A killed worker: see test_ray_training.)"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from anytune_local._tiny import format_dataset, write_jsonl
from dropping_proxy import DroppingProxy
from ray_helpers import wait_for

from anytune import Hyperparameters, Job, JobStatus, LoRA

pytestmark = pytest.mark.slow

HP = Hyperparameters(epochs=1, learning_rate=1e-3, batch_size=4, lora=LoRA(r=4, alpha=8, dropout=0.0))


def _pids(job: Job) -> dict[int, int]:
    """Rank -> pid of the job's newest worker processes."""
    out: dict[int, int] = {}
    for e in job.events():
        if e.type == "worker_started":
            out[e.data["rank"]] = e.data["pid"]
    return out


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_cancel_stops_the_job_within_seconds(
    ray_cluster: dict[str, str], tiny_model: Path, tmp_path: Path, home: Path
) -> None:
    data = write_jsonl(format_dataset(64, seed=1), tmp_path / "train.jsonl")
    job = Job.create(provider="ray", model=str(tiny_model), training_file=data,
                     hyperparameters=HP, max_steps=100_000, max_seq_length=64,
                     storage=str(tmp_path / "storage"))
    # The first training step, or an early end (which fails here at once, not in 900 s).
    wait_for(lambda: job.metrics() or job.refresh().status.terminal, 900, "the first training step")
    assert not job.status.terminal, f"the job ended before training: {job.status}"
    pids = _pids(job)
    start = time.monotonic()
    job.cancel()
    assert job.status in (JobStatus.CANCELLING, JobStatus.CANCELLED)
    job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.CANCELLED
    wait_for(lambda: all(_gone(p) for p in pids.values()), 15, "the worker processes to end")
    assert time.monotonic() - start < 20, "cancel took more than a few seconds"
    assert any(e.type == "ray_stopped" for e in job.events())


def test_create_after_a_dropped_answer_makes_one_job(
    ray_cluster: dict[str, str], tiny_model: Path, tmp_path: Path, home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ray.job_submission import JobSubmissionClient

    data = write_jsonl(format_dataset(16, seed=3), tmp_path / "train.jsonl")
    proxy = DroppingProxy(ray_cluster["RAY_ADDRESS"].removeprefix("http://"))
    try:
        job = Job.create(provider="ray", model=str(tiny_model), training_file=data,
                         hyperparameters=HP, max_steps=2, max_seq_length=64,
                         address=proxy.url, idempotency_key="dropped-answer-1",
                         storage=str(tmp_path / "storage"))
    finally:
        proxy.close()
    assert proxy.dropped == 1, "the submit reached the cluster and its answer was lost"
    client = JobSubmissionClient(ray_cluster["RAY_ADDRESS"])
    mine = [j for j in client.list_jobs()
            if (j.metadata or {}).get("anytune_idempotency_key") == "dropped-answer-1"]
    assert [j.submission_id for j in mine] == [job.id.split(":", 1)[1]]
    # Another process with an empty job store and the same key finds the same Ray job.
    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "other-home"))
    again = Job.create(provider="ray", model=str(tiny_model), training_file=data,
                       hyperparameters=HP, max_steps=2, max_seq_length=64,
                       idempotency_key="dropped-answer-1", storage=str(tmp_path / "storage"))
    assert again.id == job.id
    assert len([j for j in client.list_jobs()
                if (j.metadata or {}).get("anytune_idempotency_key") == "dropped-answer-1"]) == 1
    client.stop_job(mine[0].submission_id)
