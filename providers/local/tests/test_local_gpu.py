"""GPU paths (skipped without CUDA): bf16 LoRA and QLoRA on the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
from anytune_local._launch import gpu_count
from anytune_local._tiny import format_dataset, write_jsonl

from anytune import Hyperparameters, Job, JobStatus, LoRA

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(gpu_count() == 0, reason="needs a CUDA GPU"),
]


@pytest.mark.parametrize("quantization", [None, "4bit"])
def test_lora_and_qlora_on_a_gpu(home: Path, tiny_model: Path, quantization: str | None) -> None:
    if quantization:
        pytest.importorskip("bitsandbytes")
    data = write_jsonl(format_dataset(64), home.parent / "train.jsonl")
    options = {"quantization": quantization} if quantization else {}
    job = Job.create(
        provider="local",
        model=str(tiny_model),
        training_file=data,
        hyperparameters=Hyperparameters(epochs=1, learning_rate=1e-2, batch_size=8, lora=LoRA(r=8)),
        devices=1,
        **options,
    )
    job.wait(timeout=300, progress=False)
    assert job.status is JobStatus.SUCCEEDED, job.error
    last = [m for m in job.metrics() if m.train_loss is not None][-1]
    assert last.extra["gpu_memory_gb"] > 0
    assert (Path(job.result.model) / "adapter_model.safetensors").exists()
