"""Spec-driven fuzzing (issue 15 §4, :class:`anytune.testing.spec_answers.SpecAnswers`):
every answer Together's OpenAPI spec allows, widened the way real services drift
(optional fields absent or null, unknown enum values, extra fields, empty lists), served
to the official ``together`` SDK through an httpx transport; each provider operation
returns a correct result or raises a typed ``ProviderError`` naming the provider, never
anything else. 200 examples per operation. This file keeps only Together's operations.

``create`` is served generated model limits as well: Together's SDK once computed
``lora_alpha = lora_r * 2`` from the optional ``default_rank`` (a bare ``TypeError``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import together
from anytune_together import TogetherProvider
from hypothesis import strategies as st
from together_helpers import MODEL, TEST_KEY
from together_spec import SPEC_PATH, TOGETHER_SPEC

from anytune import UnsupportedError
from anytune.provider import CreateRequest, Hyperparameters
from anytune.testing.answers import answers, response_schema, serving
from anytune.testing.spec_answers import Operation, SpecAnswers, checks, serve

BASE = "http://fuzz.invalid"  # the SDK adds /v1
REQUEST = CreateRequest(model=MODEL, training_file="file-abc", method="sft",
                        hyperparameters=Hyperparameters(epochs=1), idempotency_key="k",
                        metadata={"anytune_idempotency_key": "k"})


def _schema(method: str, path: str) -> Any:
    return answers(response_schema(TOGETHER_SPEC.spec, method, path), TOGETHER_SPEC.spec)


def _answer(method: str, path: str) -> Any:
    """Answers of the spec's ``method path`` operation (read when the test runs)."""
    return lambda: _schema(method, path)


def _create_answers() -> Any:
    """The three answers ``create`` reads: the model's limits, the price estimate, the job."""
    limits = answers({"$ref": "#/components/schemas/FineTuneModelLimits"}, TOGETHER_SPEC.spec)
    estimate, job = _schema("post", "/fine-tunes/estimate-price"), _schema("post", "/fine-tunes")
    return st.tuples(limits, estimate, job).map(
        lambda t: {"GET .*/fine-tunes/models/limits": t[0], "POST .*/fine-tunes/estimate-price": t[1],
                   "POST .*/fine-tunes": t[2]})


@pytest.mark.skipif(not SPEC_PATH.is_file(), reason=f"Together's spec is missing: {SPEC_PATH}")
class TestTogetherSpecAnswers(SpecAnswers):
    provider = "together"
    also_typed = (UnsupportedError,)  # limits without LoRA training: said before the POST
    operations = {
        "get": Operation(serve("GET .*/fine-tunes/ft-1", _answer("get", "/fine-tunes/{id}")),
                         lambda p: p.get("ft-1"), checks.job),
        "list": Operation(serve("GET .*/fine-tunes", _answer("get", "/fine-tunes")),
                          lambda p: p.list(limit=5), checks.jobs),
        "cancel": Operation(
            serve("POST .*/fine-tunes/ft-1/cancel", _answer("post", "/fine-tunes/{id}/cancel")),
            lambda p: p.cancel("ft-1"), checks.job),
        "events": Operation(serve("GET .*/fine-tunes/ft-1/events", _answer("get", "/fine-tunes/{id}/events")),
                            lambda p: p.events("ft-1"), checks.events),
        "checkpoints": Operation(
            serve("GET .*/fine-tunes/ft-1/checkpoints", _answer("get", "/fine-tunes/{id}/checkpoints")),
            lambda p: p.checkpoints("ft-1"), checks.checkpoints),
        "upload_exists": Operation(serve("GET .*/files/file-1", _answer("get", "/files/{id}")),
                                   lambda p: p.upload_exists("file-1"), checks.true),
        "create": Operation(_create_answers, lambda p: p.create(REQUEST), checks.job),
    }

    def provider_serving(self, routes: dict[str, Any]) -> TogetherProvider:
        p = TogetherProvider(api_key=TEST_KEY, base_url=BASE)
        p._sync = together.Together(api_key=TEST_KEY, base_url=BASE, max_retries=0,
                                    http_client=httpx.Client(transport=serving(routes)))
        return p


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
