"""anytune.testing.OpenAPIExchanges checks recorded exchanges against a tiny inline spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anytune.testing import OpenAPIExchanges

pytest.importorskip("jsonschema")
pytest.importorskip("yaml")

THING = {
    "type": "object",
    "required": ["id", "size"],
    "properties": {
        "id": {"type": "string"},
        "size": {"type": "integer"},
        "note": {"type": "string", "nullable": True},  # OpenAPI 3.0
        "rate": {"type": "number", "minimum": 0, "exclusiveMinimum": True},  # OpenAPI 3.0
    },
}
REF = {"$ref": "#/components/schemas/Thing"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


SPEC = {
    "openapi": "3.0.0",
    "info": {"title": "tiny", "version": "1"},
    "paths": {
        "/things": {
            "get": {
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "metadata", "in": "query", "style": "deepObject", "schema": {"type": "object"}},
                ],
                "responses": {"200": _json({"type": "array"})},
            },
            "post": {
                "requestBody": _json(REF),
                "responses": {"200": _json(REF)},
            },
        },
        "/things/{id}": {"get": {"responses": {"200": _json(REF)}}},
        "/things/count": {"get": {"responses": {"200": _json({"type": "integer"})}}},
    },
    "components": {
        "schemas": {
            "Thing": THING,
            "Error": {
                "type": "object",
                "required": ["message"],
                "properties": {"message": {"type": "string"}},
            },
        }
    },
}


@pytest.fixture
def spec(tmp_path: Path) -> OpenAPIExchanges:
    path = tmp_path / "openapi.yaml"
    path.write_text(json.dumps(SPEC), encoding="utf-8")  # JSON is YAML
    return OpenAPIExchanges(path, error_schema="Error")


def _get(path: str, response: Any, query: str = "", status: int = 200) -> dict[str, Any]:
    return {"method": "GET", "path": path, "query": query, "status": status, "response": response}


def test_a_valid_exchange_has_no_problems(spec: OpenAPIExchanges) -> None:
    assert spec.validate(_get("/v1/things/t-1", {"id": "t-1", "size": 3, "note": None, "rate": 0.5})) == []
    assert spec.validate(_get("/v1/things", [], query="limit=5&metadata[team]=ml")) == []
    assert spec.validate(_get("/v1/things/t-9", {"message": "no such thing"}, status=404)) == []
    created = {
        "method": "POST",
        "path": "/v1/things",
        "query": "",
        "content_type": "application/json; charset=utf-8",
        "request": {"id": "t-2", "size": 1},
        "status": 200,
        "response": {"id": "t-2", "size": 1},
    }
    assert spec.validate(created) == []


def test_a_response_field_of_the_wrong_type_is_a_problem(spec: OpenAPIExchanges) -> None:
    problems = spec.validate(_get("/v1/things/t-1", {"id": "t-1", "size": "three"}))
    assert len(problems) == 1 and "size" in problems[0] and "integer" in problems[0]
    # exclusiveMinimum: true means "greater than the minimum", not "at least 1"
    assert any("rate" in p for p in spec.validate(_get("/v1/things/t-1", {"id": "t", "size": 1, "rate": 0})))
    # an error answer is checked against the error schema
    assert any("message" in p for p in spec.validate(_get("/v1/things/x", {"detail": "x"}, status=500)))


def test_an_unknown_or_mistyped_query_parameter_is_a_problem(spec: OpenAPIExchanges) -> None:
    problems = spec.validate(_get("/v1/things", [], query="limit=5&order=desc"))
    assert problems == ["GET /v1/things: query parameter 'order' is not in the spec"]
    assert any("?limit" in p for p in spec.validate(_get("/v1/things", [], query="limit=many")))


def test_a_missing_operation_is_a_problem(spec: OpenAPIExchanges) -> None:
    assert spec.validate(_get("/v1/widgets", [])) == ["GET /v1/widgets: no such operation in the spec"]
    assert spec.validate({"method": "DELETE", "path": "/v1/things/t-1", "status": 200}) != []
    assert spec.operation("GET", "/v2/things") is None  # only the configured prefix is stripped


def test_a_literal_template_wins_over_a_parameter(spec: OpenAPIExchanges) -> None:
    found = spec.operation("GET", "/v1/things/count")
    assert found is not None and found[0] == "/paths/~1things~1count/get"
    assert spec.validate(_get("/v1/things/count", 7)) == []


def test_refused_requests_skipped_exchanges_and_known_defects(spec: OpenAPIExchanges, tmp_path: Path) -> None:
    bad = {
        "method": "POST",
        "path": "/v1/things",
        "query": "",
        "content_type": "application/json",
        "request": {"id": 1},
    }
    assert any(
        "request" in p for p in spec.validate({**bad, "status": 200, "response": {"id": "t", "size": 1}})
    )
    assert spec.validate({**bad, "status": 400, "response": {"message": "bad id"}}) == []
    record = tmp_path / "exchanges.jsonl"
    record.write_text(
        json.dumps(_get("/v1/upload/u-1", None)) + "\n" + json.dumps(_get("/v1/things", [])) + "\n"
    )
    assert spec.validate_file(record) == ["GET /v1/upload/u-1: no such operation in the spec"]
    lenient = OpenAPIExchanges(
        spec.spec_path,
        error_schema="Error",
        not_in_spec=[r"^GET /v1/upload/[^/]+$"],
        ignore=lambda error: "size" in list(error.absolute_path),
    )
    assert lenient.validate_file(record) == []
    assert lenient.validate(_get("/v1/things/t-1", {"id": "t-1", "size": "three"})) == []
    assert lenient.spec is spec.spec  # parsed once per path


def test_a_shared_record_file_is_checked_per_provider(spec: OpenAPIExchanges, tmp_path: Path) -> None:
    # Suites of several providers may share one record file in one test process; each
    # checks only its own emulator's exchanges.
    record = tmp_path / "exchanges.jsonl"
    mine = {**_get("/v1/things", []), "provider": "acme"}
    theirs = {**_get("/v1beta1/projects/p/tuningJobs", {}), "provider": "other"}
    record.write_text(json.dumps(mine) + "\n" + json.dumps(theirs) + "\n")
    assert spec.validate_file(record, provider="acme") == []
    assert spec.validate_file(record) != []  # unfiltered, the other provider's call is flagged
