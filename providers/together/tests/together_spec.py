"""Validation of recorded emulator exchanges against Together's OpenAPI spec.

The spec (``../shared/specs/together/openapi.yaml``) lists paths without the ``/v1``
prefix the SDK sends. Each exchange is matched to its operation by method and path
template; its JSON request body and JSON answer (the operation's 200 schema, or
``ErrorData`` for an error) are checked with jsonschema, ``$ref``s resolved against the
whole document. The SDK's upload flow (``POST /v1/files`` answering 302/409, the
presigned PUT, ``POST /v1/files/{id}/preprocess``) is not in the spec: those exchanges
are listed in :data:`NOT_IN_SPEC` and skipped, said here rather than hidden.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("ANYTUNE_SHARED_DIR", HERE.parents[3] / "shared"))
SPEC_PATH = SHARED / "specs" / "together" / "openapi.yaml"
URN = "urn:together-openapi"
NOT_IN_SPEC = (
    re.compile(r"^POST /v1/files$"),
    re.compile(r"^PUT /v1/_emulator/uploads/[^/]+$"),
    re.compile(r"^POST /v1/files/[^/]+/preprocess$"),
)


def _to_2020_12(node: Any) -> None:
    """``nullable: true`` (OpenAPI 3.0) as a JSON Schema type union, in place."""
    if isinstance(node, dict):
        if node.get("nullable") is True:
            del node["nullable"]
            if isinstance(node.get("type"), str):
                node["type"] = [node["type"], "null"]
        for value in node.values():
            _to_2020_12(value)
    elif isinstance(node, list):
        for value in node:
            _to_2020_12(value)


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """The parsed spec, in 2020-12 form."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open("rb") as fh:
        document: dict[str, Any] = yaml.load(fh, Loader=loader)
    _to_2020_12(document)
    return document


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    return Registry().with_resource(URN, Resource.from_contents(spec(), DRAFT202012))


@functools.cache
def _validator(pointer: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": f"{URN}#{pointer}"}, registry=_registry())


def _spec_defect(error: Any) -> bool:
    """The spec's ``lr_scheduler_args`` is a oneOf of cosine and linear args whose
    schemas overlap (linear's allows any extra key), so the cosine args the SDK always
    sends match both: a defect of the spec, not of the exchange."""
    return error.validator == "oneOf" and "lr_scheduler_args" in [str(p) for p in error.absolute_path]


def _errors(pointer: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
        for e in _validator(pointer).iter_errors(instance)
        if not _spec_defect(e)
    ]


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """(pointer to the operation, the operation) for a request path under ``/v1``.
    Literal templates win over ``{id}`` ones (``/fine-tunes/estimate-price``)."""
    sub = path[3:] if path.startswith("/v1") else path
    templates = sorted(spec()["paths"], key=lambda t: t.count("{"))
    for template in templates:
        op = spec()["paths"][template].get(method.lower())
        if op is not None and re.match("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$", sub):
            escaped = template.replace("~", "~0").replace("/", "~1")
            return f"/paths/{escaped}/{method.lower()}", op
    return None


def validate_exchange(ex: dict[str, Any]) -> list[str]:
    """Problems of one exchange; an empty list when it follows the spec (or is one of
    the SDK's upload-flow exchanges the spec does not describe)."""
    where = f"{ex['method']} {ex['path']}"
    if any(p.match(where) for p in NOT_IN_SPEC):
        return []
    found = operation(ex["method"], ex["path"])
    if found is None:
        return [f"{where}: no such operation in the spec"]
    pointer, op = found
    problems: list[str] = []
    refused = ex.get("status") is not None and 400 <= int(ex["status"]) < 500
    request = None if refused else ex.get("request")
    content = op.get("requestBody", {}).get("content", {})
    ctype = (ex.get("content_type") or "").split(";")[0].strip()
    if request is not None and ctype in content and ex["method"] != "GET":
        media = ctype.replace("~", "~0").replace("/", "~1")
        problems += [
            f"{where} request: {e}" for e in _errors(f"{pointer}/requestBody/content/{media}/schema", request)
        ]
    if ex.get("dropped") or ex.get("status") is None:
        return problems
    status = int(ex["status"])
    response = ex.get("response")
    if status >= 400:
        problems += [f"{where} {status}: {e}" for e in _errors("/components/schemas/ErrorData", response)]
    elif response is not None:
        answer = op["responses"].get(str(status), {}).get("content", {}).get("application/json")
        if answer is None:
            problems.append(f"{where}: the spec has no JSON answer for status {status}")
        else:
            problems += [
                f"{where} {status}: {e}"
                for e in _errors(f"{pointer}/responses/{status}/content/application~1json/schema", response)
            ]
    return problems
