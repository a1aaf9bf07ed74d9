"""A real LoRA run data-parallel on 2 Ray Train workers of a loopback Ray cluster: the
adapter lands on the storage and the model learns the trained format; metrics, events and
checkpoints come back through the Ray job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anytune_local._tiny import format_dataset, write_jsonl
from ray_helpers import generate, in_format

from anytune import Hyperparameters, Job, JobStatus, LoRA

pytestmark = pytest.mark.slow

RECORDS, BATCH, EPOCHS = 160, 8, 4


@pytest.fixture(scope="module")
def trained(
    ray_cluster: dict[str, str], tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """One 2-worker LoRA job on the cluster, waited for."""
    tmp = tmp_path_factory.mktemp("ray-trained")
    mp = pytest.MonkeyPatch()
    mp.setenv("ANYTUNE_HOME", str(tmp / "home"))
    data = write_jsonl(format_dataset(RECORDS, seed=0), tmp / "train.jsonl")
    try:
        job = Job.create(
            provider="ray", model=str(tiny_model), training_file=data,
            hyperparameters=Hyperparameters(epochs=EPOCHS, learning_rate=1e-2, batch_size=BATCH,
                                            lora=LoRA(r=16, alpha=32, dropout=0.0)),
            seed=0, max_seq_length=128, workers=2, storage=str(tmp / "storage"),
        )
        job.wait(timeout=600, progress=False)
        yield {"job": job, "storage": tmp / "storage", "model": tiny_model}
    finally:
        mp.undo()


def test_two_workers_train_data_parallel(trained: dict[str, Any]) -> None:
    job = trained["job"]
    assert job.status is JobStatus.SUCCEEDED, job.error
    events = job.events()
    started = [e.data for e in events if e.type == "worker_started"]
    assert sorted(d["rank"] for d in started) == [0, 1] and {d["world_size"] for d in started} == {2}
    assert len({d["pid"] for d in started}) == 2, "two worker processes"
    # Each step takes a batch on each worker: an epoch is half as many steps as on one.
    begin = next(e for e in events if e.type == "training_started")
    assert begin.data["total_steps"] == EPOCHS * -(-RECORDS // (BATCH * 2))


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


def test_metrics_and_checkpoints_come_back(trained: dict[str, Any]) -> None:
    job = trained["job"]
    train = [m.train_loss for m in job.metrics() if m.train_loss is not None]
    assert len(train) >= 30
    assert sum(train[-5:]) / 5 < 0.5 * sum(train[:5]) / 5
    checkpoints = job.checkpoints()
    assert len(checkpoints) == EPOCHS  # one per epoch, persisted by Ray Train
    assert all(Path(c.model).is_dir() for c in checkpoints)
    assert [c.step for c in checkpoints] == sorted(c.step for c in checkpoints)
    assert job.result.trained_tokens and job.result.trained_tokens > 0
