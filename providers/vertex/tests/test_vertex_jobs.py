"""Jobs through anytune's public API and the official SDKs against the emulator:
create / get / wait / cancel / list, Gemini and OpenAI-format data, DPO, estimates."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from anytune_vertex import VertexEmulator, VertexProvider
from vertex_helpers import GEMINI_DATA, MODEL, write_chat, write_preference

from anytune import (
    ConfigurationError,
    Hyperparameters,
    Job,
    JobStatus,
    LoRA,
    MissingCredentialsError,
    UnsupportedError,
    estimate,
    validate,
)
from anytune.provider import CreateRequest

GLUCOSE = GEMINI_DATA / "gcp_generative_ai_patient_1_glucose_examples.jsonl"


def _stored(emulator: VertexEmulator) -> list[dict[str, Any]]:
    """The records of every object the emulator holds."""
    out = []
    for obj in emulator.state.objects.values():
        out += [json.loads(line) for line in obj.data.decode().splitlines() if line.strip()]
    return out


def test_openai_chat_data_is_converted_uploaded_and_tuned(emulator: VertexEmulator, home: Path) -> None:
    data = write_chat(home / "train.jsonl")
    job = Job.create(provider="vertex", model=MODEL, training_file=data, suffix="support-bot",
                     hyperparameters=Hyperparameters(epochs=2, lora=LoRA(r=8), learning_rate_multiplier=0.5))
    assert job.id.startswith("vertex:projects/anytune-sandbox/locations/us-central1/tuningJobs/")
    assert job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    records = _stored(emulator)
    assert len(records) == 12 and records[0]["systemInstruction"]["parts"][0]["text"] == "Answer briefly."
    assert [c["role"] for c in records[0]["contents"]] == ["user", "model"]
    body = emulator.state.jobs[job.id.split(":", 1)[1]].body
    hp = body["supervisedTuningSpec"]["hyperParameters"]
    assert hp["adapterSize"] == "ADAPTER_SIZE_EIGHT" and hp["epochCount"] == "2"
    assert hp["learningRateMultiplier"] == 0.5
    assert body["tunedModelDisplayName"] == "support-bot"
    assert body["labels"]["anytune_idempotency_key"].startswith("auto-")
    done = job.wait(timeout=20, progress=False)
    assert done.status is JobStatus.SUCCEEDED
    assert job.result is not None and job.result.model.endswith(job.id.rsplit("/", 1)[1])
    assert job.result.trained_tokens and job.result.trained_tokens % 2 == 0  # billable tokens x 2 epochs
    assert [e.type for e in job.events()] == ["created", "started", "dataset", "succeeded"]
    assert [c.step for c in job.checkpoints()] == [12, 24]
    assert Job.get(job.id).status is JobStatus.SUCCEEDED
    # What Vertex reported (billable tokens x epochs), next to the estimate; Vertex bills
    # no figure through this API, so the cost is those tokens at the estimate's rate.
    actual, est = job.actual, job.estimate
    assert actual is not None and est is not None
    assert actual.trained_tokens == job.result.trained_tokens
    if est.cost_usd is None:  # no published tuning price (Gemini 3.x): no cost is guessed
        assert actual.cost_usd is None and actual.cost_source is None
    else:
        assert actual.cost_source == "estimate rate"
        assert actual.cost_usd == pytest.approx(est.cost_usd * actual.trained_tokens / est.trained_tokens)
    # The short numeric id, as the console shows it, expands with the configured project
    # and location (the emulator's env sets both).
    short = Job.get("vertex:" + job.id.rsplit("/", 1)[1])
    assert short.id == job.id and short.status is JobStatus.SUCCEEDED


def test_gemini_data_from_the_shared_folder_goes_through_unchanged(
    emulator: VertexEmulator, home: Path
) -> None:
    report = validate(str(GLUCOSE), provider="vertex", model=MODEL)
    assert report.ok, report.errors
    job = Job.create(provider="vertex", model=MODEL, training_file=str(GLUCOSE),
                     hyperparameters=Hyperparameters(epochs=1))
    original = [json.loads(line) for line in GLUCOSE.read_text().splitlines() if line.strip()]
    assert _stored(emulator) == original
    assert job.wait(timeout=20, progress=False).status is JobStatus.SUCCEEDED


def test_messages_data_with_gemini_roles_is_read_with_a_warning(tmp_path: Path) -> None:
    # Google's "wrong" sample uses OpenAI's messages with Gemini's role names: anytune reads
    # it (and says so) and writes proper contents, instead of uploading a file Vertex rejects.
    wrong = GEMINI_DATA / "gcp_generative_ai_training_data_wrong.jsonl"
    report = validate(str(wrong), provider="vertex", model=MODEL)
    assert report.ok and {w.code for w in report.warnings} == {"role_alias"}
    from anytune import convert

    out = tmp_path / "fixed.jsonl"
    convert(str(wrong), to="vertex", output=out)
    first = json.loads(out.read_text().splitlines()[0])
    assert [c["role"] for c in first["contents"]] == ["user", "model"] and "messages" not in first


def test_estimate_uses_the_vertex_price_without_network_or_credentials(chat_file: Path) -> None:
    est = estimate(str(chat_file), provider="vertex", model="gemini-2.5-flash-lite", epochs=4)
    assert est.exact_tokens is False  # Gemini's tokenizer is not local
    assert est.trained_tokens == est.tokens_per_epoch * 4
    assert est.cost_usd == pytest.approx(est.trained_tokens * 1.5 / 1_000_000)
    assert est.price_source and "cloud.google.com" in est.price_source and est.price_as_of
    auto = estimate(str(chat_file), provider="vertex", model=MODEL)
    assert auto.epochs == VertexProvider().default_epochs(MODEL, 12)


def test_dpo_is_preference_tuning(emulator: VertexEmulator, home: Path) -> None:
    data = write_preference(home / "pref.jsonl")
    job = Job.create(provider="vertex", model=MODEL, training_file=data, method="dpo",
                     hyperparameters=Hyperparameters(epochs=1, beta=0.2))
    body = emulator.state.jobs[job.id.split(":", 1)[1]].body
    assert body["preferenceOptimizationSpec"]["hyperParameters"]["beta"] == 0.2
    assert len(_stored(emulator)[0]["completions"]) == 2
    assert job.wait(timeout=20, progress=False).status is JobStatus.SUCCEEDED


def test_dpo_on_a_model_without_it_is_refused_before_upload(emulator: VertexEmulator, home: Path) -> None:
    with pytest.raises(UnsupportedError):
        Job.create(provider="vertex", model="gemini-2.5-pro",
                   training_file=write_preference(home / "p.jsonl"), method="dpo")
    assert emulator.counts == {"jobs_created": 0, "files_created": 0}


@pytest.mark.parametrize("lora", [LoRA(r=3), LoRA(r=32), LoRA(r=8, alpha=16)])
def test_unsupported_adapter_settings_are_refused_before_upload(
    emulator: VertexEmulator, home: Path, lora: LoRA
) -> None:
    with pytest.raises(UnsupportedError):
        Job.create(provider="vertex", model="gemini-2.5-pro", training_file=write_chat(home / "t.jsonl"),
                   hyperparameters=Hyperparameters(lora=lora))
    assert emulator.counts == {"jobs_created": 0, "files_created": 0}


def test_validation_file_and_cancel(emulator: VertexEmulator, home: Path) -> None:
    emulator.state.job_seconds = 30.0
    job = Job.create(provider="vertex", model=MODEL, training_file=write_chat(home / "t.jsonl"),
                     validation_file=write_chat(home / "v.jsonl", 4, tag=" v"))
    body = emulator.state.jobs[job.id.split(":", 1)[1]].body
    assert body["supervisedTuningSpec"]["validationDatasetUri"].startswith("gs://anytune-sandbox-bucket/")
    job.cancel()
    assert job.status in (JobStatus.CANCELLING, JobStatus.CANCELLED)
    job.cancel()  # again: idempotent
    job.wait(timeout=10, progress=False)
    assert job.status is JobStatus.CANCELLED
    assert job.events()[-1].type == "cancelled"


def test_invalid_training_data_fails_the_job_like_vertex(provider: VertexProvider, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}\n')
    uri = provider.upload(bad, purpose="train")
    snap = provider.create(CreateRequest(model=MODEL, training_file=uri))
    import time

    time.sleep(1.1)
    done = provider.get(snap.id)
    assert done.status is JobStatus.FAILED and done.error and "line 1" in done.error.message


def test_upload_is_stored_once_per_content(provider: VertexProvider, emulator: VertexEmulator,
                                           chat_file: Path) -> None:
    first = provider.upload(chat_file, purpose="train")
    again = provider.upload(chat_file, purpose="train")  # 412 from ifGenerationMatch=0: same object
    assert first == again and first.startswith("gs://anytune-sandbox-bucket/anytune/")
    assert emulator.counts["files_created"] == 1


def test_a_large_file_goes_through_a_resumable_upload(provider: VertexProvider, emulator: VertexEmulator,
                                                      tmp_path: Path) -> None:
    big = write_chat(tmp_path / "big.jsonl", 90_000)  # over the SDK's 8 MiB multipart limit
    assert big.stat().st_size > 8 << 20
    seen: list[tuple[int, int]] = []
    provider.upload_progress = lambda sent, total: seen.append((sent, total))
    uri = provider.upload(big, purpose="train")
    assert emulator.state.objects[("anytune-sandbox-bucket", uri.split("/", 3)[3])].data == big.read_bytes()
    # The progress bar's feed: several steps, never backwards, ending at the whole file.
    size = big.stat().st_size
    assert len(seen) > 1 and seen[-1] == (size, size)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


def test_idempotency_keys_outside_the_label_alphabet_are_encoded(provider: VertexProvider,
                                                                 chat_file: Path) -> None:
    uri = provider.upload(chat_file, purpose="train")
    key = "Nightly Run #7 / EU"
    snap = provider.create(CreateRequest(model=MODEL, training_file=uri, idempotency_key=key))
    label = snap.metadata["anytune_idempotency_key"]
    assert label.startswith("h-") and len(label) == 63
    found = provider.find_by_idempotency_key(key)
    assert found is not None and found.id == snap.id
    assert provider.find_by_idempotency_key("another-key") is None


def test_missing_project_names_the_variable_and_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYTUNE_VERTEX_ACCESS_TOKEN", "ya29.x")
    with pytest.raises(MissingCredentialsError) as info:
        VertexProvider().list()
    assert "GOOGLE_CLOUD_PROJECT" in str(info.value) and "project" in str(info.value)


def test_missing_credentials_name_the_variable_and_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p")
    with pytest.raises(MissingCredentialsError) as info:
        VertexProvider().list()
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(info.value) and "credentials" in str(info.value)


def test_missing_bucket_is_a_clear_configuration_error(emulator: VertexEmulator, home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANYTUNE_VERTEX_GCS_BUCKET")
    with pytest.raises(ConfigurationError, match="gcs_bucket"):
        Job.create(provider="vertex", model=MODEL, training_file=write_chat(home / "t.jsonl"))
    job = Job.create(provider="vertex", model=MODEL, training_file=write_chat(home / "t.jsonl"),
                     gcs_bucket="gs://anytune-sandbox-bucket")
    assert job.status is JobStatus.QUEUED


def test_construction_reads_nothing() -> None:
    p = VertexProvider(credentials="/does/not/exist.json", project="p")
    assert p.limits(MODEL, "sft").data_format == "vertex"
    assert "exist" not in repr(p)


def test_retired_model_is_refused_before_upload_unless_allowed(
    emulator: VertexEmulator, home: Path
) -> None:
    from anytune.catalog import ModelRetiredError

    data = write_chat(home / "t.jsonl")
    with pytest.raises(ModelRetiredError, match=r"successor is gemini-3\.5-flash"):
        Job.create(provider="vertex", model="gemini-2.5-flash", training_file=data)
    assert emulator.counts == {"jobs_created": 0, "files_created": 0}
    job = Job.create(provider="vertex", model="gemini-2.5-flash", training_file=data, allow_retired=True)
    assert emulator.counts["jobs_created"] == 1 and job.id.startswith("vertex:")


def test_an_old_vertex_table_says_it_cannot_be_refreshed() -> None:
    from datetime import datetime, timezone

    from anytune.catalog import find_notices

    [notice] = find_notices(VertexProvider(), MODEL, now=datetime(2027, 4, 1, tzinfo=timezone.utc))
    assert notice.code == "catalog_stale" and "publishes no list to refresh from" in notice.message
