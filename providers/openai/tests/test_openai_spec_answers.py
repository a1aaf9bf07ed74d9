"""Spec-driven fuzzing (issue 15 §4, :class:`anytune.testing.spec_answers.SpecAnswers`):
every answer OpenAI's OpenAPI spec allows, widened the way real services drift (optional
fields absent or null, unknown enum values, extra fields, empty lists), served to the
official ``openai`` SDK through an httpx transport; each provider operation returns a
correct result or raises a typed ``ProviderError`` naming the provider, never anything
else. 200 examples per operation. This file keeps only OpenAI's operations table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from anytune_openai import OpenAIProvider
from openai_helpers import MODEL, TEST_KEY
from openai_spec import OPENAI_SPEC, SPEC_PATH

from anytune.provider import CreateRequest, Hyperparameters
from anytune.testing.answers import answers, response_schema, serving
from anytune.testing.spec_answers import Operation, SpecAnswers, checks, serve

JOB = "/fine_tuning/jobs/{fine_tuning_job_id}"  # the spec's path
SERVED = "/v1/fine_tuning/jobs/ftjob-1"  # the path the SDK calls
REQUEST = CreateRequest(model=MODEL, training_file="file-abc", method="sft",
                        hyperparameters=Hyperparameters(epochs=1), idempotency_key="k",
                        metadata={"anytune_idempotency_key": "k"})


def _answer(method: str, path: str) -> Callable[[], Any]:
    """Answers of the spec's ``method path`` operation (read when the test runs)."""
    return lambda: answers(response_schema(OPENAI_SPEC.spec, method, path), OPENAI_SPEC.spec)


@pytest.mark.skipif(not SPEC_PATH.is_file(), reason=f"OpenAI's spec is missing: {SPEC_PATH}")
class TestOpenAISpecAnswers(SpecAnswers):
    provider = "openai"
    operations = {
        "get": Operation(serve(f"GET {SERVED}", _answer("get", JOB)),
                         lambda p: p.get("ftjob-1"), checks.job),
        "create": Operation(serve("POST /v1/fine_tuning/jobs", _answer("post", "/fine_tuning/jobs")),
                            lambda p: p.create(REQUEST), checks.job),
        "cancel": Operation(serve(f"POST {SERVED}/cancel", _answer("post", JOB + "/cancel")),
                            lambda p: p.cancel("ftjob-1"), checks.job),
        "list": Operation(serve("GET /v1/fine_tuning/jobs", _answer("get", "/fine_tuning/jobs")),
                          lambda p: p.list(limit=5), checks.jobs),
        "events": Operation(serve(f"GET {SERVED}/events", _answer("get", JOB + "/events")),
                            lambda p: p.events("ftjob-1", limit=5), checks.events),
        "checkpoints": Operation(serve(f"GET {SERVED}/checkpoints", _answer("get", JOB + "/checkpoints")),
                                 lambda p: p.checkpoints("ftjob-1"), checks.checkpoints),
        "upload_exists": Operation(serve("GET /v1/files/file-1", _answer("get", "/files/{file_id}")),
                                   lambda p: p.upload_exists("file-1"), checks.true),
    }

    def provider_serving(self, routes: dict[str, Any]) -> OpenAIProvider:
        p = OpenAIProvider(api_key=TEST_KEY, base_url="http://fuzz.invalid/v1")
        p._sync = openai.OpenAI(api_key=TEST_KEY, base_url="http://fuzz.invalid/v1", max_retries=0,
                                http_client=httpx.Client(transport=serving(routes)))
        return p
