"""Spec-driven fuzzing (issue 15 §4, :class:`anytune.testing.spec_answers.SpecAnswers`)
for Vertex, whose API is described by protos rather than OpenAPI: the answers' JSON
schemas are derived from google-genai's pydantic types
(``TuningJob.model_json_schema(by_alias=True)``, the REST field names), widened the way
real services drift (optional fields absent or null, unknown enum values, extra fields,
empty lists) and served to the official ``google-genai`` SDK through an httpx transport.
Each provider operation returns a correct result or raises a typed ``ProviderError``
naming the provider, never anything else. 200 examples per operation. This file keeps
only Vertex's operations table."""

from __future__ import annotations

from typing import Any

import httpx
from anytune_vertex import VertexProvider
from vertex_helpers import MODEL

from anytune.provider import CreateRequest, Hyperparameters
from anytune.testing.answers import answers, serving
from anytune.testing.spec_answers import Operation, SpecAnswers, checks, serve

NAME = "projects/p/locations/us-central1/tuningJobs/123"
JOB_ROUTE = "GET .*/tuningJobs/123"
REQUEST = CreateRequest(model=MODEL, training_file="gs://b/anytune/x.jsonl", method="sft",
                        hyperparameters=Hyperparameters(epochs=1), idempotency_key="k",
                        metadata={"anytune_idempotency_key": "k"})


def _schema(type_name: str) -> Any:
    """Answers shaped as google-genai's ``type_name`` (read when the test runs)."""

    def strategy() -> Any:
        from google.genai import types

        return answers(getattr(types, type_name).model_json_schema(by_alias=True))

    return strategy


def _cancel_answers() -> Any:
    """``cancel`` posts ``:cancel`` (an empty answer) and reads the job back."""
    return _schema("TuningJob")().map(lambda b: {"POST .*/tuningJobs/123:cancel": {}, JOB_ROUTE: b})


class TestVertexSpecAnswers(SpecAnswers):
    provider = "vertex"
    operations = {
        "get": Operation(serve(JOB_ROUTE, _schema("TuningJob")), lambda p: p.get(NAME), checks.job),
        # a job's events come from its one TuningJob answer: in the order Vertex lists them
        "events": Operation(serve(JOB_ROUTE, _schema("TuningJob")), lambda p: p.events(NAME),
                            checks.events_any_order),
        "checkpoints": Operation(serve(JOB_ROUTE, _schema("TuningJob")), lambda p: p.checkpoints(NAME),
                                 checks.checkpoints),
        "cancel": Operation(_cancel_answers, lambda p: p.cancel(NAME), checks.job),
        "list": Operation(serve("GET .*/tuningJobs", _schema("ListTuningJobsResponse")),
                          lambda p: p.list(limit=5), checks.jobs),
        "create": Operation(serve("POST .*/tuningJobs", _schema("TuningJob")),
                            lambda p: p.create(REQUEST), checks.job),
    }

    def provider_serving(self, routes: dict[str, Any]) -> VertexProvider:
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


def test_the_schemas_cover_the_fields_the_mapping_reads() -> None:
    """The derived schema is the REST shape (camelCase), so generated answers reach the
    fields the mapping reads rather than being dropped by the SDK's converters."""
    from google.genai import types

    props = types.TuningJob.model_json_schema(by_alias=True)["properties"]
    assert {"name", "state", "baseModel", "createTime", "tunedModel", "labels"} <= set(props)
