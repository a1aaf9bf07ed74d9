"""A real LoRA run on a tiny local model: the job outlives its caller, the model learns
the trained format, the adapter reloads and merges, metrics and events stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anytune_local._tiny import format_dataset, write_jsonl
from local_helpers import ensure_tiny_model, generate, in_format, job_folder, stop_workers

from anytune import Job, JobStatus

pytestmark = pytest.mark.slow

#: Creates the job, prints its id and status, and exits at once: the worker must go on.
_CREATOR = """
import json, sys
from anytune import Hyperparameters, Job, LoRA
job = Job.create(
    provider="local", model=sys.argv[1], training_file=sys.argv[2], validation_split=0.1,
    hyperparameters=Hyperparameters(epochs=3, learning_rate=1e-2, batch_size=8,
                                    lora=LoRA(r=16, alpha=32, dropout=0.0)),
    seed=0, max_seq_length=128, merge=True, devices="cpu",
)
print(json.dumps({"id": job.id, "status": job.status.value}))
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One LoRA job created by a process that exits right away, then waited for here."""
    model = ensure_tiny_model()
    tmp = tmp_path_factory.mktemp("trained")
    home = tmp / "home"
    data = write_jsonl(format_dataset(200, seed=0), tmp / "train.jsonl")
    env = {**os.environ, "ANYTUNE_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-c", _CREATOR, str(model), str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    created = json.loads(proc.stdout.strip().splitlines()[-1])
    saved = os.environ.get("ANYTUNE_HOME")
    os.environ["ANYTUNE_HOME"] = str(home)
    try:
        job = Job.get(created["id"]).wait(timeout=180, progress=False)
        yield {"job": job, "created": created, "home": home, "model": model}
    finally:
        stop_workers(home)
        if saved is None:
            os.environ.pop("ANYTUNE_HOME", None)
        else:
            os.environ["ANYTUNE_HOME"] = saved


def test_the_job_survives_its_callers_exit(trained: dict[str, Any]) -> None:
    # The creating process had exited while the job was still unfinished...
    assert not JobStatus(trained["created"]["status"]).terminal
    # ...and the detached worker carried on to the end.
    job = trained["job"]
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert Path(job.result.model).is_dir()


def test_lora_changes_behaviour_on_held_out_prompts(trained: dict[str, Any]) -> None:
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = trained["job"].result.model
    tokenizer = AutoTokenizer.from_pretrained(adapter)
    base = AutoModelForCausalLM.from_pretrained(trained["model"])
    tuned = AutoPeftModelForCausalLM.from_pretrained(adapter)
    prompts = [r["messages"][:2] for r in format_dataset(6, seed=11, held_out=True)]
    before = [in_format(generate(base, tokenizer, p)) for p in prompts]
    after = [in_format(generate(tuned, tokenizer, p)) for p in prompts]
    assert not any(before), "the untrained model should not know the format"
    assert sum(after) >= 5, "after LoRA training, unseen prompts are answered in the format"


def test_adapter_is_safetensors_and_merges(trained: dict[str, Any]) -> None:
    import torch
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = Path(trained["job"].result.model)
    assert (adapter / "adapter_model.safetensors").exists()
    assert not list(adapter.glob("*.bin")), "weights are written as safetensors only"
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["r"] == 16 and config["lora_alpha"] == 32

    tokenizer = AutoTokenizer.from_pretrained(adapter)
    ids = tokenizer.apply_chat_template(
        format_dataset(1, seed=3)[0]["messages"], return_tensors="pt", return_dict=True
    )["input_ids"]
    with torch.no_grad():
        peft_logits = AutoPeftModelForCausalLM.from_pretrained(adapter)(ids).logits
        in_memory = AutoPeftModelForCausalLM.from_pretrained(adapter).merge_and_unload()(ids).logits
        # merge=True asked the worker for a merged copy on disk too.
        on_disk = AutoModelForCausalLM.from_pretrained(adapter.parent / "merged")(ids).logits
        base = AutoModelForCausalLM.from_pretrained(trained["model"])(ids).logits
    assert torch.allclose(peft_logits, in_memory, atol=1e-4)
    assert torch.allclose(peft_logits, on_disk, atol=1e-4)
    assert not torch.allclose(peft_logits, base, atol=1e-2)


def test_metrics_show_the_loss_going_down(trained: dict[str, Any]) -> None:
    metrics = trained["job"].metrics()
    train = [m.train_loss for m in metrics if m.train_loss is not None]
    valid = [m.valid_loss for m in metrics if m.valid_loss is not None]
    assert len(train) >= 60  # one row per step (logging_steps=1)
    assert sum(train[-5:]) / 5 < 0.5 * sum(train[:5]) / 5
    assert len(valid) == 3 and valid[-1] < valid[0]  # evaluated each epoch
    last = next(m for m in reversed(metrics) if m.train_loss is not None)
    assert last.learning_rate is not None and last.extra["tokens_per_s"] > 0
    assert last.extra["peak_rss_gb"] > 0  # CPU run: the process's peak memory


def test_events_and_checkpoints_tell_the_story(trained: dict[str, Any]) -> None:
    job = trained["job"]
    types = [e.type for e in job.events()]
    for expected in (
        "created",
        "started",
        "training_started",
        "evaluation",
        "checkpoint",
        "saved",
        "merged",
        "succeeded",
    ):
        assert expected in types, f"missing {expected!r} event in {types}"
    checkpoints = job.checkpoints()
    assert [c.step for c in checkpoints] == sorted(c.step for c in checkpoints)
    assert len(checkpoints) == 3 and all(Path(c.model).is_dir() for c in checkpoints)
    assert "valid_loss" in checkpoints[-1].metrics
    assert job.result.trained_tokens and job.result.trained_tokens > 0


def test_the_job_folder_has_no_half_written_state(trained: dict[str, Any]) -> None:
    folder = job_folder(trained["home"], trained["job"].id)
    assert not list(folder.glob(".*.tmp")), "atomic writes leave no temporary files"
    state = json.loads((folder / "state.json").read_text())
    assert state["status"] == "succeeded" and state["progress"] == 1.0
