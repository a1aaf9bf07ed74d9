"""The emulator's exchanges follow OpenAI's OpenAPI spec.

Every exchange of the whole session is validated at its end (conftest); this module
makes sure the validator itself catches what it should, and drives every endpoint the
provider uses, errors included, so the session-wide check covers all of them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from anytune_openai import OpenAIProvider
from anytune_openai.emulator import RECORD_ENV, OpenAIEmulator
from openai_helpers import MODEL, TEST_KEY
from openai_spec import OPENAI_SPEC, SPEC_PATH

from anytune.provider import CreateRequest

pytestmark = pytest.mark.skipif(not SPEC_PATH.is_file(), reason="OpenAI spec not available")


def _exchanges_since(mark: int) -> list[dict[str, object]]:
    lines = Path(os.environ[RECORD_ENV]).read_text().splitlines()
    return [json.loads(line) for line in lines[mark:]]


def _mark() -> int:
    path = Path(os.environ[RECORD_ENV])
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_the_validator_catches_broken_answers_and_requests() -> None:
    good_job = {
        "method": "GET",
        "path": "/v1/fine_tuning/jobs/ftjob-1",
        "query": "",
        "status": 200,
        "response": {"object": "fine_tuning.job", "id": "x"},
    }
    assert any("required" in p for p in OPENAI_SPEC.validate(good_job))
    accepted_bad = {
        "method": "POST",
        "path": "/v1/fine_tuning/jobs",
        "query": "",
        "content_type": "application/json",
        "request": {
            "model": "m",
            "training_file": "f",
            "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}},
        },
        "status": 500,
        "response": {"error": {"message": "x"}},
    }
    problems = OPENAI_SPEC.validate(accepted_bad)
    assert any("beta" in p for p in problems)  # beta must be in (0, 2]
    assert any("500" in p and "required" in p for p in problems)  # error without type/param/code
    refused = {
        **accepted_bad,
        "status": 400,
        "response": {"error": {"message": "x", "type": "t", "param": None, "code": None}},
    }
    assert OPENAI_SPEC.validate(refused) == []  # refusing a bad request is right
    assert OPENAI_SPEC.validate({"method": "GET", "path": "/v1/nowhere", "query": ""})
    assert OPENAI_SPEC.validate(
        {
            "method": "GET",
            "path": "/v1/fine_tuning/jobs",
            "query": "limit=abc",
            "status": 200,
            "response": {"object": "list", "data": [], "has_more": False},
        }
    )


def test_beta_and_multipliers_below_one_are_valid() -> None:
    # OpenAPI 3.0's boolean exclusiveMinimum must not be read as "greater than 1".
    ex = {
        "method": "POST",
        "path": "/v1/fine_tuning/jobs",
        "query": "",
        "content_type": "application/json",
        "request": {
            "model": "m",
            "training_file": "f",
            "method": {
                "type": "dpo",
                "dpo": {"hyperparameters": {"beta": 0.1, "learning_rate_multiplier": 0.05}},
            },
        },
    }
    assert OPENAI_SPEC.validate(ex) == []


def test_every_endpoint_the_provider_uses_follows_the_spec(tmp_path: Path) -> None:
    from openai_helpers import write_chat

    mark = _mark()
    emu = OpenAIEmulator(job_seconds=0.3, api_key=TEST_KEY)
    emu.start()
    try:
        p = OpenAIProvider(api_key=TEST_KEY, base_url=emu.env["OPENAI_BASE_URL"], max_retries=0)
        small = p.upload(write_chat(tmp_path / "a.jsonl"), purpose="train")
        p.upload_threshold_bytes, p.upload_part_bytes = 100, 700
        big = p.upload(write_chat(tmp_path / "b.jsonl", tag="!"), purpose="train")
        job = p.create(
            CreateRequest(
                model=MODEL,
                training_file=small,
                validation_file=big,
                idempotency_key="spec-1",
                suffix="spec",
                seed=3,
            )
        )
        import time

        time.sleep(0.4)
        p.get(job.id), p.list(limit=3), p.events(job.id), p.checkpoints(job.id), p.metrics(job.id)
        p.find_by_idempotency_key("spec-1")
        other = p.create(CreateRequest(model=MODEL, training_file=small))
        p.cancel(other.id)
        client = p.client()
        client.files.retrieve(small)
        client.files.list(purpose="fine-tune", limit=1)
        client.files.delete(big)
        upload = client.uploads.create(
            bytes=10, filename="x.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        )
        client.uploads.cancel(upload.id)
        # error answers: unknown job, bad model, bad hyperparameter, finished job, bad key
        from anytune.errors import AuthenticationError, InvalidRequestError, NotFoundError

        with pytest.raises(NotFoundError):
            p.get("ftjob-missing")
        with pytest.raises(InvalidRequestError):
            p.create(CreateRequest(model="gpt-2", training_file=small))
        import openai

        with pytest.raises(openai.BadRequestError):
            client.fine_tuning.jobs.create(
                model=MODEL,
                training_file=small,
                method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 99}}},
            )
        # OpenAI answers 400 to cancelling a finished job; the provider returns the job
        assert p.cancel(job.id).status.value == "succeeded"
        with pytest.raises(AuthenticationError):
            OpenAIProvider(
                api_key="sk-wrong-key-000000", base_url=emu.env["OPENAI_BASE_URL"], max_retries=0
            ).list()
        p.close()
    finally:
        emu.stop()
    exchanges = _exchanges_since(mark)
    operations = {(e["method"], e["operation"]) for e in exchanges}
    assert {
        ("POST", "upload"),
        ("POST", "create"),
        ("GET", "get"),
        ("GET", "list"),
        ("POST", "cancel"),
        ("GET", "events"),
        ("GET", "checkpoints"),
    } <= operations
    paths = {e["path"].rsplit("/", 1)[-1] for e in exchanges}  # type: ignore[union-attr]
    assert {"parts", "complete", "cancel", "content", "uploads", "files", "jobs"} <= paths
    statuses = {e["status"] for e in exchanges}
    assert {200, 400, 401, 404} <= statuses
    problems = [p for e in exchanges for p in OPENAI_SPEC.validate(e)]
    assert problems == []
