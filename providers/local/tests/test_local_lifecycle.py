"""Life cycle of a local job: cancel, a killed worker and resume, early stopping, DPO."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from anytune_local._tiny import format_dataset, preference_dataset, write_jsonl
from local_helpers import job_folder, wait_for, worker_pid

from anytune import Hyperparameters, Job, JobFailedError, JobStatus, LoRA

pytestmark = pytest.mark.slow

FAST = dict(seed=0, max_seq_length=128, devices="cpu")


def _hp(epochs: int, lr: float = 1e-2) -> Hyperparameters:
    return Hyperparameters(
        epochs=epochs, learning_rate=lr, batch_size=8, lora=LoRA(r=8, alpha=16, dropout=0.0)
    )


def _training(home: Path) -> Path:
    return write_jsonl(format_dataset(200, seed=0), home.parent / "train.jsonl")


def _step(job: Job) -> int:
    state = json.loads((job_folder(Path(os.environ["ANYTUNE_HOME"]), job.id) / "state.json").read_text())
    return int(state.get("step") or 0) if state.get("phase") == "training" else 0


def test_cancel_stops_at_a_step_and_saves(home: Path, tiny_model: Path) -> None:
    job = Job.create(
        provider="local",
        model=str(tiny_model),
        training_file=_training(home),
        hyperparameters=_hp(epochs=200),
        **FAST,
    )
    wait_for(lambda: _step(job) >= 3, 60, "training to start")
    asked = time.monotonic()
    assert job.cancel().status is JobStatus.CANCELLING
    job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.CANCELLED
    assert time.monotonic() - asked < 10, "cancel must take effect within seconds"
    with pytest.raises(JobFailedError):
        job.raise_for_status()
    # The adapter and a checkpoint of the step where it stopped were saved.
    assert job.result is not None and (Path(job.result.model) / "adapter_model.safetensors").exists()
    checkpoints = job.checkpoints()
    assert checkpoints and Path(checkpoints[-1].model).is_dir()
    assert checkpoints[-1].step and checkpoints[-1].step < 200 * 25
    assert "cancelling" in [e.type for e in job.events()]


def test_cancel_before_training_starts_is_prompt(home: Path, tiny_model: Path) -> None:
    job = Job.create(
        provider="local",
        model=str(tiny_model),
        training_file=_training(home),
        hyperparameters=_hp(epochs=1),
        **FAST,
    )
    job.cancel()
    job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.CANCELLED


def test_killed_worker_is_failed_then_resumed(home: Path, tiny_model: Path) -> None:
    data = _training(home)
    job = Job.create(
        provider="local",
        model=str(tiny_model),
        training_file=data,
        hyperparameters=_hp(epochs=200),
        save_steps=10,
        **FAST,
    )
    wait_for(lambda: job.checkpoints(), 90, "a first checkpoint")
    os.killpg(worker_pid(home, job.id), signal.SIGKILL)  # no chance to say goodbye
    wait_for(lambda: job.refresh().status.terminal, 30, "the death to be noticed", 0.2)
    assert job.status is JobStatus.FAILED
    assert job.error is not None and job.error.code == "worker_died"
    assert "last log lines" in job.error.message  # the user sees what the worker printed
    saved = job.checkpoints()[-1].step
    assert saved is not None and saved >= 10

    # Same data, one epoch (25 steps): the resumed run picks up after the checkpoint.
    resumed = Job.create(
        provider="local",
        model=str(tiny_model),
        training_file=data,
        hyperparameters=_hp(epochs=1),
        resume_from=job.id,
        **FAST,
    )
    resumed.wait(timeout=90, progress=False)
    assert resumed.status is JobStatus.SUCCEEDED, resumed.error
    steps = [m.step for m in resumed.metrics() if m.train_loss is not None]
    if saved < 25:
        assert steps and min(steps) == saved + 1 and max(steps) == 25
    assert any(f"resuming at step {saved}" in e.message for e in resumed.events())


def test_early_stopping_on_validation_loss(home: Path, tiny_model: Path) -> None:
    # Validation answers in another style: the better the model learns the JSON format,
    # the worse the validation loss gets, so training must stop early.
    other = [
        {"messages": [r["input"]["messages"][0], r["non_preferred_output"][0]]}
        for r in preference_dataset(20, seed=4)
    ]
    valid = write_jsonl(other, home.parent / "valid.jsonl")
    job = Job.create(
        provider="local",
        model=str(tiny_model),
        training_file=_training(home),
        validation_file=valid,
        hyperparameters=_hp(epochs=20),
        early_stopping_patience=2,
        eval_steps=5,
        **FAST,
    )
    job.wait(timeout=120, progress=False)
    assert job.status is JobStatus.SUCCEEDED, job.error
    stops = [e for e in job.events() if e.type == "early_stopping"]
    assert len(stops) == 1
    assert stops[0].data["step"] < 20 * 25
    valid_losses = [m.valid_loss for m in job.metrics() if m.valid_loss is not None]
    assert min(valid_losses[-2:]) >= stops[0].data["best_valid_loss"]


def test_dpo_runs_with_the_frozen_base_as_reference(home: Path, tiny_model: Path) -> None:
    data = write_jsonl(preference_dataset(40, seed=0), home.parent / "prefs.jsonl")
    job = Job.create(
        provider="local",
        model=str(tiny_model),
        training_file=data,
        method="dpo",
        hyperparameters=Hyperparameters(epochs=2, learning_rate=5e-3, batch_size=8, beta=0.1),
        **FAST,
    )
    job.wait(timeout=120, progress=False)
    assert job.status is JobStatus.SUCCEEDED, job.error
    metrics = [m for m in job.metrics() if m.train_loss is not None]
    assert len(metrics) == 10
    # DPO's own signals stream too; the chosen answer's margin over the rejected grows.
    margins = [m.extra["rewards/margins"] for m in metrics]
    assert margins[-1] > margins[0]
    assert (Path(job.result.model) / "adapter_model.safetensors").exists()


_FROM_CACHE = """
import sys
from anytune import Hyperparameters, Job
job = Job.create(provider="local", model="acme/tiny-chat", training_file=sys.argv[1],
                 hyperparameters=Hyperparameters(epochs=1, batch_size=4), max_steps=2,
                 devices="cpu")
job.wait(timeout=120, progress=False)
print(job.status.value, job.result.model if job.result else job.error)
"""


def test_model_id_from_the_local_hugging_face_cache(home: Path, tiny_model: Path) -> None:
    import shutil
    import subprocess
    import sys

    # The layout huggingface_hub writes: models--ORG--NAME/{refs/main, snapshots/REV/...}.
    cache = home.parent / "hf-cache"
    repo = cache / "models--acme--tiny-chat"
    revision = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(tiny_model, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    data = write_jsonl(format_dataset(8), home.parent / "few.jsonl")
    out = subprocess.run(
        [sys.executable, "-c", _FROM_CACHE, str(data)], env=env, capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr[-2000:]
    status, adapter = out.stdout.split()
    assert status == "succeeded" and (Path(adapter) / "adapter_model.safetensors").exists()
