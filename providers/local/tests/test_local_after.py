"""After a local job (issue 14): ``doctor`` on a run made to overfit and on a healthy one,
``export --merged`` answering like adapter + base, and ``serve``'s vLLM command.

Two short CPU runs started together (one module fixture): the slow part of this file."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anytune_local._tiny import format_dataset, write_jsonl
from local_helpers import ensure_tiny_model, generate, stop_workers
from typer.testing import CliRunner

from anytune import Hyperparameters, Job, JobStatus, LoRA
from anytune.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``overfit``: 16 records, 15 epochs, a quarter held for validation, a high learning
    rate; ``healthy``: 200 records, one epoch, validation every few steps."""
    model = ensure_tiny_model()
    tmp = tmp_path_factory.mktemp("after")
    home = tmp / "home"
    saved = os.environ.get("ANYTUNE_HOME")
    os.environ["ANYTUNE_HOME"] = str(home)
    common: dict[str, Any] = dict(provider="local", model=str(model), seed=0, max_seq_length=128,
                                  devices="cpu", progress=False)
    try:
        overfit = Job.create(
            training_file=write_jsonl(format_dataset(16, seed=5), tmp / "small.jsonl"),
            validation_split=0.25, **common,
            hyperparameters=Hyperparameters(epochs=15, learning_rate=1e-2, batch_size=4,
                                            lora=LoRA(r=16, alpha=32, dropout=0.0)),
        )
        healthy = Job.create(
            training_file=write_jsonl(format_dataset(200, seed=0), tmp / "big.jsonl"),
            validation_split=0.1, eval_steps=5, save_steps=5, **common,
            hyperparameters=Hyperparameters(epochs=1, learning_rate=3e-3, batch_size=8,
                                            lora=LoRA(r=32, alpha=64, dropout=0.0)),
        )
        yield {"overfit": overfit.wait(timeout=300, progress=False),
               "healthy": healthy.wait(timeout=300, progress=False), "tmp": tmp, "model": model}
    finally:
        stop_workers(home)
        if saved is None:
            os.environ.pop("ANYTUNE_HOME", None)
        else:
            os.environ["ANYTUNE_HOME"] = saved


def test_doctor_finds_the_overfitting_step_and_its_checkpoint(runs: dict[str, Any]) -> None:
    job = runs["overfit"]
    assert job.status is JobStatus.SUCCEEDED, job.error
    (finding,) = [f for f in job.diagnose().findings if f.code == "overfitting"]
    valid = [(m.step, m.valid_loss) for m in job.metrics() if m.valid_loss is not None]
    best_step = min(valid, key=lambda p: p[1])[0]
    assert finding.step == best_step < valid[-1][0]
    # evaluation and saving both happen at each epoch's end: the checkpoint of that very step
    assert finding.checkpoint is not None and finding.checkpoint.endswith(f"checkpoint-{best_step}")
    assert Path(finding.checkpoint).is_dir()


def test_doctor_is_quiet_on_a_healthy_run(runs: dict[str, Any]) -> None:
    job = runs["healthy"]
    assert job.status is JobStatus.SUCCEEDED, job.error
    diagnosis = job.diagnose()
    assert diagnosis.findings == [], [f.message for f in diagnosis.findings]
    assert diagnosis.valid_points >= 3


def test_doctor_cli_json(runs: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["doctor", runs["overfit"].id, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["job"] == runs["overfit"].id and doc["ok"] is False
    assert "overfitting" in [f["code"] for f in doc["findings"]]
    assert all(f["rule"] for f in doc["findings"])


def test_merged_export_answers_like_adapter_and_base(runs: dict[str, Any]) -> None:
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    job = runs["healthy"]
    out = runs["tmp"] / "merged"
    result = CliRunner().invoke(app, ["export", job.id, "--merged", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["merged"] == str(out)
    assert (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()
    assert not (out / "adapter_config.json").exists()  # a plain model, no peft needed
    merged = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    tuned = AutoPeftModelForCausalLM.from_pretrained(job.result.model)
    prompts = [r["messages"][:2] for r in format_dataset(5, seed=11, held_out=True)]
    answers = [generate(tuned, tokenizer, p) for p in prompts]
    assert [generate(merged, tokenizer, p) for p in prompts] == answers
    # ...and the adapter mattered: the base model alone answers differently
    base = AutoModelForCausalLM.from_pretrained(runs["model"])
    assert [generate(base, tokenizer, p) for p in prompts] != answers
    # an existing folder with content is never overwritten
    again = CliRunner().invoke(app, ["export", job.id, "--merged", str(out), "--json"])
    assert again.exit_code == 2 and "not an empty folder" in again.stdout


def test_download_copies_the_adapter(runs: dict[str, Any]) -> None:
    job = runs["healthy"]
    out = job.download(runs["tmp"] / "adapter-copy")
    assert (out / "adapter_model.safetensors").read_bytes() == \
        (Path(job.result.model) / "adapter_model.safetensors").read_bytes()


def test_serve_builds_the_vllm_command_for_the_adapter(runs: dict[str, Any]) -> None:
    job = runs["healthy"]
    cmd = job.serve_command(port=8123)
    native = job.id.split(":", 1)[1]
    assert cmd.argv == [
        "vllm", "serve", str(runs["model"]), "--enable-lora",
        "--lora-modules", f"anytune-{native}={job.result.model}",
        "--host", "127.0.0.1", "--port", "8123",
        "--max-lora-rank", "32",  # the adapter's r=32 is above vLLM's default of 16
    ]
    assert cmd.base_url == "http://127.0.0.1:8123/v1" and cmd.model == f"anytune-{native}"


def test_serve_runs_vllm_and_reports_where(runs: dict[str, Any], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in `vllm` on PATH that records how it was called (vLLM itself needs a GPU).
    record = tmp_path / "argv.json"
    fake = tmp_path / "bin" / "vllm"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport json, sys\n"
                    f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    job = runs["healthy"]
    result = CliRunner().invoke(app, ["serve", job.id, "--port", "8124", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["base_url"] == "http://127.0.0.1:8124/v1"
    assert json.loads(record.read_text()) == job.serve_command(port=8124).argv[1:]
