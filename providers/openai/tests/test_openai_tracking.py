"""``tracking="wandb"`` on OpenAI switches on OpenAI's own W&B integration: the create
request carries ``integrations`` (checked against OpenAI's spec), anytune logs no run of
its own, and no W&B key lands in any file anytune writes. ``tracking="mlflow"`` is synced
by anytune while ``wait`` runs (the cross-provider test in ``tests/`` reads it back)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anytune_openai.emulator import OpenAIEmulator
from openai_helpers import write_chat

from anytune import Job, JobStatus
from anytune.testing.tracking import files_containing

CANARY = "wandb-canary-openai-7d1e4b9a2c6f"


def test_wandb_tracking_uses_openais_integration_and_stores_no_key(
    emulator: OpenAIEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _environment: Path
) -> None:
    for key, value in {
        **emulator.env, "ANYTUNE_HOME": str(tmp_path / "home"), "WANDB_API_KEY": CANARY,
        "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path / "wandb"), "WANDB_PROJECT": "tuning",
        "WANDB_ENTITY": "acme",
    }.items():
        monkeypatch.setenv(key, value)
    job = Job.create(provider="openai", model="gpt-4.1-mini-2025-04-14", suffix="wb", tracking="wandb",
                     training_file=write_chat(tmp_path / "t.jsonl"), progress=False)
    job.wait(timeout=60, progress=False)
    assert job.status is JobStatus.SUCCEEDED
    # OpenAI reports the integration back on the job
    assert job.provider_raw["integrations"] == [
        {"type": "wandb", "wandb": {"project": "tuning", "name": "wb", "entity": "acme", "tags": ["anytune"]}}
    ]
    creates = [json.loads(line) for line in _environment.read_text().splitlines()]
    creates = [x for x in creates if x["method"] == "POST" and x["path"].endswith("/fine_tuning/jobs")
               and x.get("response", {}).get("id") == job.id.split(":", 1)[1]]
    assert len(creates) == 1 and creates[0]["request"]["integrations"][0]["type"] == "wandb"
    from openai_spec import OPENAI_SPEC, SPEC_PATH

    if SPEC_PATH.is_file():
        assert [p for p in OPENAI_SPEC.validate(creates[0])] == []
    # OpenAI logs to W&B itself: anytune started no run, and wrote the key nowhere
    assert not (tmp_path / "wandb").exists()
    assert files_containing(CANARY, tmp_path) == []
