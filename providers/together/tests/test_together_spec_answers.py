"""Spec-driven fuzzing (issue 15 §4): every answer Together's OpenAPI spec allows, widened
the way real services drift (optional fields absent or null, unknown enum values, extra
fields, empty lists), served to the official ``together`` SDK through an httpx
transport; each provider operation returns a correct result or raises a typed
``ProviderError`` naming the provider, never anything else. 200 examples per operation.

``create`` is served generated model limits as well: Together's SDK once computed
``lora_alpha = lora_r * 2`` from the optional ``default_rank`` (a bare ``TypeError``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
import together
from anytune_together import TogetherProvider
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from together_helpers import MODEL, TEST_KEY
from together_spec import SPEC_PATH, TOGETHER_SPEC

from anytune import AnytuneError, ProviderError, UnsupportedError
from anytune.provider import Checkpoint, CreateRequest, Hyperparameters, JobEvent, JobSnapshot, JobStatus
from anytune.testing.answers import answers, response_schema, serving

needs_spec = pytest.mark.skipif(not SPEC_PATH.is_file(), reason=f"Together's spec is missing: {SPEC_PATH}")

BASE = "http://fuzz.invalid"  # the SDK adds /v1
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


def _schema(method: str, path: str) -> Any:
    return answers(response_schema(TOGETHER_SPEC.spec, method, path), TOGETHER_SPEC.spec)


def _limits() -> Any:
    return answers({"$ref": "#/components/schemas/FineTuneModelLimits"}, TOGETHER_SPEC.spec)


#: operation -> (strategy of {route: body}, call, check of the result)
OPERATIONS: dict[str, tuple[Callable[[], Any], Callable[[TogetherProvider], Any], Callable[[Any], None]]] = {
    "get": (lambda: _schema("get", "/fine-tunes/{id}").map(lambda b: {"GET .*/fine-tunes/ft-1": b}),
            lambda p: p.get("ft-1"), _job),
    "list": (lambda: _schema("get", "/fine-tunes").map(lambda b: {"GET .*/fine-tunes": b}),
             lambda p: p.list(limit=5), _jobs),
    "cancel": (lambda: _schema("post", "/fine-tunes/{id}/cancel").map(
        lambda b: {"POST .*/fine-tunes/ft-1/cancel": b}), lambda p: p.cancel("ft-1"), _job),
    "events": (lambda: _schema("get", "/fine-tunes/{id}/events").map(
        lambda b: {"GET .*/fine-tunes/ft-1/events": b}), lambda p: p.events("ft-1"), _events),
    "checkpoints": (lambda: _schema("get", "/fine-tunes/{id}/checkpoints").map(
        lambda b: {"GET .*/fine-tunes/ft-1/checkpoints": b}), lambda p: p.checkpoints("ft-1"),
        _checkpoints),
    "upload_exists": (lambda: _schema("get", "/files/{id}").map(lambda b: {"GET .*/files/file-1": b}),
                      lambda p: p.upload_exists("file-1"), lambda r: r is True),
    "create": (lambda: st.tuples(_limits(), _schema("post", "/fine-tunes/estimate-price"),
                                 _schema("post", "/fine-tunes")).map(
        lambda t: {"GET .*/fine-tunes/models/limits": t[0], "POST .*/fine-tunes/estimate-price": t[1],
                   "POST .*/fine-tunes": t[2]}),
        lambda p: p.create(REQUEST), _job),
}


def provider_serving(routes: dict[str, Any]) -> TogetherProvider:
    p = TogetherProvider(api_key=TEST_KEY, base_url=BASE)
    p._sync = together.Together(api_key=TEST_KEY, base_url=BASE, max_retries=0,
                                http_client=httpx.Client(transport=serving(routes)))
    return p


@pytest.mark.slow
@needs_spec
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_any_answer_the_spec_allows_maps_or_fails_typed(operation: str) -> None:
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
        except UnsupportedError:  # limits without LoRA training: said before the POST
            outcomes["typed"] += 1
            return
        except AnytuneError as exc:
            assert isinstance(exc, ProviderError) and exc.provider == "together", repr(exc)
            outcomes["typed"] += 1
            return
        check(result)
        outcomes["mapped"] += 1

    run()
    assert outcomes["mapped"] > 0, outcomes  # the generator reaches valid answers too
    assert sum(outcomes.values()) >= 200, outcomes  # issue 15: at least 200 per operation


def test_limits_without_the_optional_rank_still_create_a_lora_job() -> None:
    """The answer of issue 15: valid by Together's spec, no ``default_rank``."""
    limits = {"model_name": MODEL, "max_num_epochs": 20, "max_num_evals": 100,
              "max_learning_rate": 1.0, "min_learning_rate": 1e-8, "supports_vision": False,
              "supports_tools": True, "supports_reasoning": False, "merge_output_lora": False,
              "lora_training": {"max_batch_size": 32, "max_batch_size_dpo": 16, "min_batch_size": 8,
                                "max_rank": 64, "target_modules": ["q_proj"]}}
    job = {"id": "ft-1", "status": "pending", "model": MODEL, "created_at": "2026-11-29T12:00:00Z"}
    sent: list[dict[str, Any]] = []
    estimate = {"estimated_total_price": 1.5, "allowed_to_proceed": True, "user_limit": 100.0,
                "estimated_train_token_count": 1000, "estimated_eval_token_count": 0}
    inner = serving({"GET .*/fine-tunes/models/limits": limits, "POST .*/fine-tunes": job,
                     "POST .*/fine-tunes/estimate-price": estimate})

    def record(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/fine-tunes"):
            import json

            sent.append(json.loads(request.content))
        return inner.handle_request(request)

    p = TogetherProvider(api_key=TEST_KEY, base_url=BASE)
    p._sync = together.Together(api_key=TEST_KEY, base_url=BASE, max_retries=0,
                                http_client=httpx.Client(transport=httpx.MockTransport(record)))
    snap = p.create(REQUEST)
    assert snap.id == "ft-1"
    training_type = sent[0]["training_type"]
    assert training_type["type"] == "Lora"
    assert training_type["lora_r"] == 8 and training_type["lora_alpha"] == 16
