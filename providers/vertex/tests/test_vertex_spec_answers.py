"""Spec-driven fuzzing (issue 15 §4) for Vertex, whose API is described by protos rather
than OpenAPI: the answers' JSON schemas are derived from google-genai's pydantic types
(``TuningJob.model_json_schema(by_alias=True)``, the REST field names), widened the way
real services drift (optional fields absent or null, unknown enum values, extra fields,
empty lists) and served to the official ``google-genai`` SDK through an httpx transport.
Each provider operation returns a correct result or raises a typed ``ProviderError``
naming the provider, never anything else. 200 examples per operation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from anytune_vertex import VertexProvider
from hypothesis import HealthCheck, given, settings
from vertex_helpers import MODEL

from anytune import AnytuneError, ProviderError
from anytune.provider import Checkpoint, CreateRequest, Hyperparameters, JobEvent, JobSnapshot, JobStatus
from anytune.testing.answers import answers, serving

pytestmark = pytest.mark.slow

NAME = "projects/p/locations/us-central1/tuningJobs/123"
REQUEST = CreateRequest(model=MODEL, training_file="gs://b/anytune/x.jsonl", method="sft",
                        hyperparameters=Hyperparameters(epochs=1), idempotency_key="k",
                        metadata={"anytune_idempotency_key": "k"})


def _schema(type_name: str) -> Any:
    from google.genai import types

    return answers(getattr(types, type_name).model_json_schema(by_alias=True))


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


def _checkpoints(cps: Any) -> None:
    assert all(isinstance(c, Checkpoint) for c in cps)


def _get_routes(body: Any) -> dict[str, Any]:
    return {"GET .*/tuningJobs/123": body}


#: operation -> (strategy of {route: body}, call, check of the result)
OPERATIONS: dict[str, tuple[Callable[[], Any], Callable[[VertexProvider], Any], Callable[[Any], None]]] = {
    "get": (lambda: _schema("TuningJob").map(_get_routes), lambda p: p.get(NAME), _job),
    "events": (lambda: _schema("TuningJob").map(_get_routes), lambda p: p.events(NAME), _events),
    "checkpoints": (lambda: _schema("TuningJob").map(_get_routes), lambda p: p.checkpoints(NAME),
                    _checkpoints),
    "cancel": (lambda: _schema("TuningJob").map(
        lambda b: {"POST .*/tuningJobs/123:cancel": {}, **_get_routes(b)}), lambda p: p.cancel(NAME), _job),
    "list": (lambda: _schema("ListTuningJobsResponse").map(lambda b: {"GET .*/tuningJobs": b}),
             lambda p: p.list(limit=5), _jobs),
    "create": (lambda: _schema("TuningJob").map(lambda b: {"POST .*/tuningJobs": b}),
               lambda p: p.create(REQUEST), _job),
}


def provider_serving(routes: dict[str, Any]) -> VertexProvider:
    import google.oauth2.credentials
    from google import genai
    from google.genai import types

    from anytune.provider import Backoff

    p = VertexProvider(project="p", location="us-central1", max_retries=0)
    p.read_backoff = Backoff(initial=0.0)
    p._sync = genai.Client(
        vertexai=True, project="p", location="us-central1",
        credentials=google.oauth2.credentials.Credentials(token="ya29.fuzz"),  # type: ignore[no-untyped-call]
        http_options=types.HttpOptions(base_url="http://fuzz.invalid/",
                                       httpx_client=httpx.Client(transport=serving(routes))),
    )
    return p


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_any_answer_the_types_allow_maps_or_fails_typed(operation: str) -> None:
    strategy, call, check = OPERATIONS[operation]
    outcomes = {"mapped": 0, "typed": 0}
    served: dict[str, Any] = {}
    provider = provider_serving(served)  # one client: building one costs ~0.3 s (TLS setup)

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(strategy())
    def run(routes: dict[str, Any]) -> None:
        served.clear()
        served.update(routes)
        try:
            result = call(provider)
        except AnytuneError as exc:
            assert isinstance(exc, ProviderError) and exc.provider == "vertex", repr(exc)
            outcomes["typed"] += 1
            return
        check(result)
        outcomes["mapped"] += 1

    run()
    assert outcomes["mapped"] > 0, outcomes  # the generator reaches valid answers too
    assert sum(outcomes.values()) >= 200, outcomes  # issue 15: at least 200 per operation


def test_the_schemas_cover_the_fields_the_mapping_reads() -> None:
    """The derived schema is the REST shape (camelCase), so generated answers reach the
    fields the mapping reads rather than being dropped by the SDK's converters."""
    from google.genai import types

    props = types.TuningJob.model_json_schema(by_alias=True)["properties"]
    assert {"name", "state", "baseModel", "createTime", "tunedModel", "labels"} <= set(props)
