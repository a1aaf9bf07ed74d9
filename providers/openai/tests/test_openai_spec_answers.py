"""Spec-driven fuzzing (issue 15 §4): every answer OpenAI's OpenAPI spec allows, widened
the way real services drift (optional fields absent or null, unknown enum values, extra
fields, empty lists), served to the official ``openai`` SDK through an httpx transport;
each provider operation returns a correct result or raises a typed ``ProviderError``
naming the provider, never anything else. 200 examples per operation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import openai
import pytest
from anytune_openai import OpenAIProvider
from hypothesis import HealthCheck, given, settings
from openai_helpers import MODEL, TEST_KEY
from openai_spec import OPENAI_SPEC, SPEC_PATH

from anytune import AnytuneError, ProviderError
from anytune.provider import Checkpoint, CreateRequest, Hyperparameters, JobEvent, JobSnapshot, JobStatus
from anytune.testing.answers import answers, response_schema, serving

needs_spec = pytest.mark.skipif(not SPEC_PATH.is_file(), reason=f"OpenAI's spec is missing: {SPEC_PATH}")

JOB = "/fine_tuning/jobs/{fine_tuning_job_id}"
REQUEST = CreateRequest(model=MODEL, training_file="file-abc", method="sft",
                        hyperparameters=Hyperparameters(epochs=1), idempotency_key="k",
                        metadata={"anytune_idempotency_key": "k"})


def _job(snap: Any) -> None:
    assert isinstance(snap, JobSnapshot) and isinstance(snap.id, str)
    assert isinstance(snap.status, JobStatus) and isinstance(snap.model, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in snap.metadata.items())
    assert snap.created_at is None or isinstance(snap.created_at, datetime)


def _jobs(snaps: Any) -> None:
    assert isinstance(snaps, list)
    for snap in snaps:
        _job(snap)


def _events(events: Any) -> None:
    assert all(isinstance(e, JobEvent) and isinstance(e.created_at, datetime) for e in events)
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)


def _checkpoints(cps: Any) -> None:
    assert all(isinstance(c, Checkpoint) for c in cps)


#: operation -> (spec method, spec path, route served, call, check of the result)
OPERATIONS: dict[str, tuple[str, str, str, Callable[[OpenAIProvider], Any], Callable[[Any], None]]] = {
    "get": ("get", JOB, r"GET /v1/fine_tuning/jobs/ftjob-1", lambda p: p.get("ftjob-1"), _job),
    "create": ("post", "/fine_tuning/jobs", r"POST /v1/fine_tuning/jobs", lambda p: p.create(REQUEST), _job),
    "cancel": ("post", JOB + "/cancel", r"POST /v1/fine_tuning/jobs/ftjob-1/cancel",
               lambda p: p.cancel("ftjob-1"), _job),
    "list": ("get", "/fine_tuning/jobs", r"GET /v1/fine_tuning/jobs", lambda p: p.list(limit=5), _jobs),
    "events": ("get", JOB + "/events", r"GET /v1/fine_tuning/jobs/ftjob-1/events",
               lambda p: p.events("ftjob-1", limit=5), _events),
    "checkpoints": ("get", JOB + "/checkpoints", r"GET /v1/fine_tuning/jobs/ftjob-1/checkpoints",
                    lambda p: p.checkpoints("ftjob-1"), _checkpoints),
    "upload_exists": ("get", "/files/{file_id}", r"GET /v1/files/file-1",
                      lambda p: p.upload_exists("file-1"), lambda r: r is True),
}


def provider_serving(routes: dict[str, Any]) -> OpenAIProvider:
    """A provider whose official SDK client is answered from ``routes`` (changeable)."""
    p = OpenAIProvider(api_key=TEST_KEY, base_url="http://fuzz.invalid/v1")
    p._sync = openai.OpenAI(api_key=TEST_KEY, base_url="http://fuzz.invalid/v1", max_retries=0,
                            http_client=httpx.Client(transport=serving(routes)))
    return p


@pytest.mark.slow
@needs_spec
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_any_answer_the_spec_allows_maps_or_fails_typed(operation: str) -> None:
    method, path, route, call, check = OPERATIONS[operation]
    document = OPENAI_SPEC.spec
    outcomes = {"mapped": 0, "typed": 0}
    routes: dict[str, Any] = {}
    provider = provider_serving(routes)

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(answers(response_schema(document, method, path), document))
    def run(body: Any) -> None:
        routes.clear()
        routes[route] = body
        try:
            result = call(provider)
        except AnytuneError as exc:
            assert isinstance(exc, ProviderError) and exc.provider == "openai", repr(exc)
            outcomes["typed"] += 1
            return
        check(result)
        outcomes["mapped"] += 1

    run()
    provider.close()
    assert outcomes["mapped"] > 0, outcomes  # the generator reaches valid answers too
    assert sum(outcomes.values()) >= 200, outcomes  # issue 15: at least 200 per operation
