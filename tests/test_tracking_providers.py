"""One job on every provider (the three sandboxes and a tiny local model), each tracked
in MLflow with a temporary SQLite store and read back through MLflow's own client; the
cloud jobs then go to TensorBoard through ``anytune sync``, and every job's event files
are read back with TensorBoard's own reader. The local and Vertex jobs also go to W&B in
offline mode (the worker through TRL's ``report_to``; Vertex synced by anytune), with a
W&B key in the environment that must appear in no file anytune writes.

Cost: one local CPU run of 5 steps and three emulated jobs of 2 s, side by side (about
30-60 s on 2 cores, mostly the worker's imports).
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anytune import Hyperparameters, Job, JobStatus, LoRA, UnsupportedError
from anytune.cli import app
from anytune.testing import running_emulator, write_chat_examples
from anytune.testing.tracking import files_containing, mlflow_store
from anytune.tracking import run_key

CANARY = "wandb-canary-every-provider-51c9e0a7d3"
CLOUD = {
    "openai": "gpt-4.1-mini-2025-04-14",
    "together": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
    "vertex": "gemini-3.5-flash",
}


def _metrics(job: Job) -> list[Any]:
    try:
        return job.metrics()
    except UnsupportedError:  # Vertex keeps metrics in Vertex Experiments, not its API
        return []


@pytest.mark.slow
def test_every_providers_job_is_an_mlflow_run_and_tensorboard_events(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anytune_local._tiny import build_tiny_model
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    uri = mlflow_store(isolated / "mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("ANYTUNE_TENSORBOARD_DIR", str(isolated / "tb"))
    for key, value in {"WANDB_MODE": "offline", "WANDB_DIR": str(isolated), "WANDB_API_KEY": CANARY,
                       "WANDB_SILENT": "true"}.items():
        monkeypatch.setenv(key, value)
    data = write_chat_examples(isolated / "train.jsonl", 20)
    model = build_tiny_model(isolated / "tiny")
    with ExitStack() as stack:
        for provider in CLOUD:
            emulator = stack.enter_context(running_emulator(provider, job_seconds=2))
            for key, value in emulator.env.items():
                monkeypatch.setenv(key, value)
        jobs = [
            Job.create(provider="local", model=str(model), training_file=data, progress=False,
                       tracking=["mlflow", "tensorboard", "wandb"], seed=0, max_seq_length=128, devices="cpu",
                       hyperparameters=Hyperparameters(epochs=1, batch_size=4, learning_rate=1e-2,
                                                       lora=LoRA(r=4, alpha=8, dropout=0.0)))
        ]
        jobs += [
            Job.create(provider=p, model=m, training_file=data, progress=False,
                       tracking=["mlflow", "wandb"] if p == "vertex" else "mlflow",
                       hyperparameters=Hyperparameters(epochs=1))
            for p, m in CLOUD.items()
        ]
        for job in jobs:
            job.wait(timeout=240, progress=False)
            assert job.status is JobStatus.SUCCEEDED, (job.id, job.error)
        # The cloud jobs into TensorBoard after the fact, as for jobs waited elsewhere.
        result = CliRunner().invoke(app, ["sync", *[j.id for j in jobs[1:]], "--to", "tensorboard", "--json"])
        assert result.exit_code == 0, result.stdout
        assert {r["job"] for r in json.loads(result.stdout)["jobs"]} == {j.id for j in jobs[1:]}
        metrics = {job.id: _metrics(job) for job in jobs}

    client = MlflowClient(tracking_uri=uri)
    (experiment,) = [e for e in client.search_experiments() if e.name == "anytune"]
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["anytune.job_id"] for r in runs) == sorted(j.id for j in jobs)  # one each
    for job in jobs:
        (run,) = [r for r in runs if r.data.tags["anytune.job_id"] == job.id]
        params, tags = run.data.params, run.data.tags
        assert params["provider"] == job.provider and params["base_model"] == job.model, job.id
        assert params["method"] == "sft" and params["hp.epochs"] == "1" and len(params["data_sha256"]) == 64
        assert job.estimate is not None
        priced = job.estimate.cost_usd is not None  # Vertex publishes no Gemini 3.x tuning price
        if priced:
            assert float(params["estimate.cost_usd"]) == pytest.approx(job.estimate.cost_usd)
        assert tags["anytune.status"] == "succeeded" and run.info.status == "FINISHED", job.id
        expected = [(m.step, m.train_loss) for m in metrics[job.id] if m.train_loss is not None]
        logged = sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, "train_loss"))
        assert logged == [(s, pytest.approx(v)) for s, v in expected], job.id
        assert ("cost_usd" in run.data.metrics) == priced, job.id
        if job.result is not None and job.result.trained_tokens:
            assert run.data.metrics["trained_tokens"] == job.result.trained_tokens
        # TensorBoard: the same train-loss points, read with TensorBoard's reader
        acc = EventAccumulator(str(isolated / "tb" / run_key(job.id)))
        acc.Reload()
        tb = [(e.step, e.value) for e in acc.Scalars("train_loss")] if expected else []
        assert tb == [(s, pytest.approx(v, rel=1e-6)) for s, v in expected], job.id
    assert len([j for j in jobs if metrics[j.id]]) >= 3  # local, openai, together report losses
    local_run = next(r for r in runs if r.data.tags["anytune.provider"] == "local")
    assert local_run.data.metrics["cost_usd"] == 0.0
    # W&B, offline: the local worker's run (TRL report_to) and Vertex's run synced by anytune
    offline = sorted(p.name for p in (isolated / "wandb").glob("offline-run-*"))
    vertex = next(j for j in jobs if j.provider == "vertex")
    assert any(name.endswith(run_key(vertex.id)) for name in offline), offline
    assert len(offline) == 2, offline
    # the key is W&B's business: in no file anytune wrote (job store, records, local job
    # folder, MLflow store, event files)
    assert files_containing(CANARY, isolated / "home", isolated / "tb", isolated / "mlflow.db") == []
