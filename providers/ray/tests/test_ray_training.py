"""A real LoRA run data-parallel on 2 Ray Train workers of a loopback Ray cluster, one of
which is killed mid-run: Ray Train replaces the worker group, the run resumes from the
checkpoint on the storage and succeeds, and the adapter has learnt the trained format.

One job for all of it: starting Ray Train workers is most of the cost on a CPU machine."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anytune_local._tiny import format_dataset, write_jsonl
from ray_helpers import CLUSTER, foreign_sockets, generate, in_format, wait_for

from anytune import Hyperparameters, Job, JobStatus, LoRA

pytestmark = pytest.mark.slow

RECORDS, BATCH, EPOCHS, WORKERS = 200, 8, 5, 2
STEPS_PER_EPOCH = -(-RECORDS // (BATCH * WORKERS))  # each step takes a batch on each worker


def _workers(job: Job) -> list[dict[str, Any]]:
    return [e.data for e in job.events() if e.type == "worker_started"]


@pytest.fixture(scope="module")
def trained(
    ray_cluster: dict[str, str], tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """One 2-worker LoRA job; rank 1 is killed (SIGKILL) after the first checkpoint."""
    tmp = tmp_path_factory.mktemp("ray-trained")
    mp = pytest.MonkeyPatch()
    mp.setenv("ANYTUNE_HOME", str(tmp / "home"))
    data = write_jsonl(format_dataset(RECORDS, seed=0), tmp / "train.jsonl")
    try:
        job = Job.create(
            provider="ray", model=str(tiny_model), training_file=data,
            hyperparameters=Hyperparameters(epochs=EPOCHS, learning_rate=1e-2, batch_size=BATCH,
                                            lora=LoRA(r=16, alpha=32, dropout=0.0)),
            seed=0, max_seq_length=128, workers=WORKERS, max_failures=1,
            storage=str(tmp / "storage"),
        )
        wait_for(lambda: job.checkpoints(), 900, "the first checkpoint on the storage")
        # Mid-run, with the workers talking to each other (gloo) and to Ray. torch's
        # rendezvous store (TCPStore, served by rank 0 on MASTER_PORT) listens on every
        # interface whatever MASTER_ADDR says; it is torch's, not Ray's, and only
        # loopback peers connect to it: checked below like every other connection.
        store_ports = tuple(int(w["master_port"]) for w in _workers(job) if w.get("master_port"))
        sockets = foreign_sockets(CLUSTER["pgid"], listen_ok=store_ports)
        first = {w["rank"]: w["pid"] for w in _workers(job)}
        os.kill(first[1], signal.SIGKILL)
        job.wait(timeout=900, progress=False)
        yield {"job": job, "storage": tmp / "storage", "model": tiny_model, "killed": first,
               "sockets": sockets}
    finally:
        mp.undo()


def test_two_workers_train_data_parallel(trained: dict[str, Any]) -> None:
    job = trained["job"]
    assert job.status is JobStatus.SUCCEEDED, job.error
    group = _workers(job)[:2]
    assert sorted(d["rank"] for d in group) == [0, 1] and {d["world_size"] for d in group} == {2}
    assert len({d["pid"] for d in group}) == 2, "two worker processes"
    # Half as many steps per epoch as one worker would take: the data is split.
    begin = next(e for e in job.events() if e.type == "training_started")
    assert begin.data["total_steps"] == EPOCHS * STEPS_PER_EPOCH


def test_a_killed_worker_is_replaced_and_resumes_from_its_checkpoint(trained: dict[str, Any]) -> None:
    job = trained["job"]
    killed = trained["killed"]
    later = {w["rank"]: w["pid"] for w in _workers(job)[2:]}
    assert sorted(later) == [0, 1], "Ray Train started a new worker group"
    assert later[1] != killed[1]
    resumed = [e for e in job.events() if e.type == "resumed"]
    assert resumed and str(trained["storage"]) in resumed[0].data["path"]
    restart = [e for e in job.events() if e.type == "training_started"][-1]
    assert "resuming at step" in restart.message
    steps = sorted({c.step for c in job.checkpoints()})
    assert steps == [STEPS_PER_EPOCH * (i + 1) for i in range(EPOCHS)]
    assert all(Path(c.model).is_dir() for c in job.checkpoints())


def test_adapter_on_storage_changes_behaviour(trained: dict[str, Any]) -> None:
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = Path(trained["job"].result.model)
    assert adapter.parent.parent == trained["storage"], "the adapter is on the job's storage"
    assert (adapter / "adapter_model.safetensors").exists()
    tokenizer = AutoTokenizer.from_pretrained(adapter)
    base = AutoModelForCausalLM.from_pretrained(trained["model"])
    tuned = AutoPeftModelForCausalLM.from_pretrained(adapter)
    prompts = [r["messages"][:2] for r in format_dataset(6, seed=11, held_out=True)]
    assert not any(in_format(generate(base, tokenizer, p)) for p in prompts)
    assert sum(in_format(generate(tuned, tokenizer, p)) for p in prompts) >= 5


def test_metrics_come_back_through_the_job(trained: dict[str, Any]) -> None:
    job = trained["job"]
    metrics = job.metrics()
    assert [m.step for m in metrics] == list(range(1, EPOCHS * STEPS_PER_EPOCH + 1))
    train = [m.train_loss for m in metrics if m.train_loss is not None]
    assert sum(train[-5:]) / 5 < 0.5 * sum(train[:5]) / 5
    assert metrics[-1].extra["tokens_per_s"] > 0
    assert job.result.trained_tokens and job.result.trained_tokens > 0


def test_every_socket_of_the_cluster_stays_on_loopback(trained: dict[str, Any]) -> None:
    assert trained["sockets"] == []
