"""``tracking="wandb"`` on Together fills the create's W&B fields (key from
``WANDB_API_KEY``, project, run name), checked against Together's spec; the key lands in
no file anytune writes. Without a key, anytune syncs the job to W&B itself (offline here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anytune_together.emulator import TogetherEmulator
from together_helpers import MODEL

from anytune import Job, JobStatus
from anytune.testing import write_chat_examples
from anytune.testing.tracking import files_containing
from anytune.tracking import run_key

CANARY = "wandb-canary-together-3a8f0c2e9b71"


def _env(monkeypatch: pytest.MonkeyPatch, emulator: TogetherEmulator, tmp_path: Path) -> None:
    for key, value in {
        **emulator.env, "ANYTUNE_HOME": str(tmp_path / "home"), "WANDB_MODE": "offline",
        "WANDB_DIR": str(tmp_path), "WANDB_PROJECT": "tuning",
    }.items():
        monkeypatch.setenv(key, value)


def test_wandb_tracking_fills_togethers_wandb_fields_and_stores_no_key(
    emulator: TogetherEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _environment: Path
) -> None:
    _env(monkeypatch, emulator, tmp_path)
    monkeypatch.setenv("WANDB_API_KEY", CANARY)
    data = write_chat_examples(tmp_path / "t.jsonl")
    job = Job.create(provider="together", model=MODEL, training_file=data, suffix="wb", tracking="wandb",
                     progress=False)
    job.wait(timeout=60, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    native = job.id.split(":", 1)[1]
    exchanges = [json.loads(line) for line in _environment.read_text().splitlines()]
    (create,) = [x for x in exchanges if x["method"] == "POST" and x["path"].endswith("/fine-tunes")
                 and (x.get("response") or {}).get("id") == native]
    body = create["request"]
    assert body["wandb_project_name"] == "tuning" and body["wandb_name"] == "wb"
    assert CANARY in json.dumps(body)  # the key goes to Together, and only there
    from together_spec import SPEC_PATH, TOGETHER_SPEC

    if SPEC_PATH.is_file():
        assert TOGETHER_SPEC.validate(create) == []
    assert not (tmp_path / "wandb").exists()  # Together logs the run, not anytune
    assert files_containing(CANARY, tmp_path / "home") == []


@pytest.mark.slow
def test_without_a_wandb_key_anytune_syncs_the_job_to_wandb_itself(
    emulator: TogetherEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, emulator, tmp_path)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    data = write_chat_examples(tmp_path / "t.jsonl")
    job = Job.create(provider="together", model=MODEL, training_file=data, tracking="wandb", progress=False)
    job.wait(timeout=60, progress=False)
    runs = list((tmp_path / "wandb").glob(f"offline-run-*-{run_key(job.id)}"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))


def test_a_wandb_key_given_as_an_option_is_kept_nowhere(
    emulator: TogetherEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, emulator, tmp_path)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    data = write_chat_examples(tmp_path / "t.jsonl")
    job = Job.create(provider="together", model=MODEL, training_file=data, wandb_api_key=CANARY,
                     wandb_project_name="tuning", progress=False)
    assert job.id.startswith("together:")
    record = json.loads(next((tmp_path / "home" / "tracking").glob("*.json")).read_text())
    assert record["params"]["option.wandb_project_name"] == "tuning"
    assert files_containing(CANARY, tmp_path / "home") == []
