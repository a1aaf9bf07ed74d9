"""The proto-based checks themselves, and exchanges of a full job life checked with them
(the session-wide recorder checks every other test's exchanges at the end)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from anytune_vertex import VertexEmulator, VertexProvider
from anytune_vertex.emulator import RECORD_ENV
from vertex_helpers import MODEL, write_chat, write_preference
from vertex_spec import check, messages, validate_exchange

from anytune.provider import CreateRequest, Hyperparameters, LoRA


def test_the_proto_parser_finds_the_tuning_job_fields() -> None:
    table = messages()
    job = table["TuningJob"]
    assert {"name", "baseModel", "supervisedTuningSpec", "tunedModelDisplayName", "labels", "state",
            "createTime", "tunedModel", "tuningDataStats"} <= set(job)
    assert job["supervisedTuningSpec"] == "SupervisedTuningSpec"
    assert {"epochCount", "learningRateMultiplier", "adapterSize", "learningRate", "batchSize"} <= set(
        table["SupervisedHyperParameters"])
    assert "AdapterSize" not in table  # enums are not messages
    assert table["ListTuningJobsResponse"] == {"tuningJobs": "TuningJob", "nextPageToken": "string"}
    assert "beta" in table["PreferenceOptimizationHyperParameters"]  # from google-genai's types


def test_unknown_fields_are_reported_at_any_depth() -> None:
    good = {"baseModel": "m", "supervisedTuningSpec": {"hyperParameters": {"epochCount": "3"}}}
    assert check(good, "TuningJob") == []
    bad = {"baseModel": "m", "supervisedTuningSpec": {"hyperParameters": {"epochs": 3}}, "suffix": "x"}
    problems = check(bad, "TuningJob")
    assert len(problems) == 2
    assert any("'epochs'" in p for p in problems) and any("'suffix'" in p for p in problems)
    assert validate_exchange({"operation": "cancel", "status": 200, "response": {"name": "x"}})
    assert validate_exchange({"operation": "get", "status": 404, "response": {"error": {"code": 404}}})


def test_a_whole_job_life_follows_the_protos(
    tmp_path: Path, emulator: VertexEmulator, provider: VertexProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "exchanges.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(record))
    emulator.state.job_seconds = 0.3
    uri = provider.upload(write_chat(tmp_path / "t.jsonl"), purpose="train")
    valid = provider.upload(write_chat(tmp_path / "v.jsonl", 3, tag="v"), purpose="validation")
    hp = Hyperparameters(epochs=2, lora=LoRA(r=4), learning_rate=1e-4, batch_size=8)
    sft = provider.create(CreateRequest(model=MODEL, training_file=uri, validation_file=valid,
                                        hyperparameters=hp, suffix="spec", idempotency_key="spec-key"))
    pref = provider.upload(write_preference(tmp_path / "p.jsonl"), purpose="train")
    dpo_hp = Hyperparameters(beta=0.1, learning_rate_multiplier=2.0)
    dpo = provider.create(
        CreateRequest(model=MODEL, training_file=pref, method="dpo", hyperparameters=dpo_hp)
    )
    provider.cancel(dpo.id)
    time.sleep(0.5)
    provider.get(sft.id)
    provider.list()
    provider.cancel(dpo.id)  # a 400 FAILED_PRECONDITION, answered with the job
    exchanges = [json.loads(line) for line in record.read_text().splitlines()]
    ops = {e["operation"] for e in exchanges}
    assert {"upload", "create", "get", "list", "cancel"} <= ops
    assert any(e["status"] == 400 and e["operation"] == "cancel" for e in exchanges)
    create = next(e for e in exchanges if e["operation"] == "create")
    assert create["request"]["supervisedTuningSpec"]["hyperParameters"]["adapterSize"] == "ADAPTER_SIZE_FOUR"
    problems = [p for e in exchanges for p in validate_exchange(e)]
    assert problems == []
    assert os.environ[RECORD_ENV] == str(record)
