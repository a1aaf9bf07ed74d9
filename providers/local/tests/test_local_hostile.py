"""Hostile input on the user's own machine: dataset text is data, never a command, and
weights that could run code on load (pickles) are refused unless the user opts in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from anytune import Hyperparameters, Job, JobStatus, LoRA

pytestmark = pytest.mark.slow


def test_shell_text_in_the_dataset_is_never_run(home: Path, tiny_model: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payloads = [f"$(touch {marker})", f"`touch {marker}`", f"; touch {marker} #",
                f"{{{{ __import__('os').system('touch {marker}') }}}}", f"' && touch {marker} && '"]
    data = tmp_path / "hostile.jsonl"
    with data.open("w") as fh:
        for i in range(12):
            text = payloads[i % len(payloads)]
            fh.write(json.dumps({"messages": [
                {"role": "system", "content": text},
                {"role": "user", "content": f"{text} {i}"},
                {"role": "assistant", "content": f"ok {text}"},
            ]}) + "\n")
    job = Job.create(provider="local", model=str(tiny_model), training_file=data, seed=0,
                     max_seq_length=512, devices="cpu", max_steps=2,
                     hyperparameters=Hyperparameters(epochs=1, batch_size=4, lora=LoRA(r=4, alpha=8)))
    job.wait(timeout=120, progress=False)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert not marker.exists()


def test_pickled_weights_are_refused_unless_the_user_opts_in(
    home: Path, tiny_model: Path, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    pickled = tmp_path / "pickled-model"
    shutil.copytree(tiny_model, pickled)
    state = load_file(str(pickled / "model.safetensors"))
    (pickled / "model.safetensors").unlink()
    torch.save(state, pickled / "pytorch_model.bin")  # a pickle: loading it may run code
    data = tmp_path / "t.jsonl"
    data.write_text("".join(json.dumps({"messages": [
        {"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}) + "\n"
        for i in range(12)))
    common = dict(provider="local", model=str(pickled), training_file=data, seed=0,
                  max_seq_length=64, devices="cpu", max_steps=1,
                  hyperparameters=Hyperparameters(epochs=1, batch_size=4, lora=LoRA(r=4, alpha=8)))
    refused = Job.create(**common).wait(timeout=120, progress=False)  # type: ignore[arg-type]
    assert refused.status is JobStatus.FAILED
    assert refused.error is not None and "safetensors" in refused.error.message.lower()
    allowed = Job.create(**common, allow_pickle=True, suffix="optin").wait(timeout=120, progress=False)  # type: ignore[arg-type]
    assert allowed.status is JobStatus.SUCCEEDED, allowed.error


def test_examples_cut_to_nothing_say_what_to_change(home: Path, tiny_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "long.jsonl"
    data.write_text("".join(json.dumps({"messages": [
        {"role": "user", "content": "word " * 200}, {"role": "assistant", "content": "ok"}]}) + "\n"
        for _ in range(12)))
    job = Job.create(provider="local", model=str(tiny_model), training_file=data, seed=0,
                     max_seq_length=32, devices="cpu", max_steps=1,
                     hyperparameters=Hyperparameters(epochs=1, batch_size=4, lora=LoRA(r=4, alpha=8)))
    job.wait(timeout=120, progress=False)
    assert job.status is JobStatus.FAILED
    assert job.error is not None and "raise max_seq_length" in job.error.message
