"""Validation of recorded emulator exchanges against OpenAI's OpenAPI spec.

The spec (``../shared/specs/openai/openapi.yaml``, 3 MB) is parsed once per process.
Each exchange is matched to its operation by method and path template; its query
parameters, JSON or multipart request body, and JSON answer (the operation's 200
schema, or ``ErrorResponse`` for an error) are checked with jsonschema, ``$ref``s
resolved against the whole document.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("ANYTUNE_SHARED_DIR", HERE.parents[3] / "shared"))
SPEC_PATH = SHARED / "specs" / "openai" / "openapi.yaml"
URN = "urn:openai-openapi"


def _to_2020_12(node: Any) -> None:
    """Rewrite OpenAPI 3.0 leftovers in place: the 3.1 document still says
    ``exclusiveMinimum: true`` (JSON Schema 2020-12 reads ``true`` as the number 1, so
    ``beta: 0.25`` would be refused) and ``nullable: true`` (ignored by 2020-12)."""
    if isinstance(node, dict):
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if node.get(exclusive) is True and bound in node:
                node[exclusive] = node.pop(bound)
            elif node.get(exclusive) is False:
                del node[exclusive]
        if node.get("nullable") is True:  # a property *named* nullable is a dict
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
    """The parsed spec (C loader when available: ~1 s instead of ~20), in 2020-12 form."""
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


@functools.lru_cache(maxsize=1)
def _operations() -> list[tuple[re.Pattern[str], str, str]]:
    out = []
    for template in spec()["paths"]:
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        out.append((pattern, template, template))
    return out


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """(pointer to the operation, the operation) for a request path under ``/v1``."""
    sub = path[3:] if path.startswith("/v1") else path
    for pattern, template, _ in _operations():
        op = spec()["paths"][template].get(method.lower())
        if op is not None and pattern.match(sub):
            escaped = template.replace("~", "~0").replace("/", "~1")
            return f"/paths/{escaped}/{method.lower()}", op
    return None


def _errors(pointer: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
        for e in _validator(pointer).iter_errors(instance)
    ]


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    return value


def validate_exchange(ex: dict[str, Any]) -> list[str]:
    """Problems of one exchange; an empty list when it follows the spec."""
    from urllib.parse import parse_qsl

    where = f"{ex['method']} {ex['path']}"
    found = operation(ex["method"], ex["path"])
    if found is None:
        return [f"{where}: no such operation in the spec"]
    pointer, op = found
    problems: list[str] = []
    params = {p["name"]: (i, p) for i, p in enumerate(op.get("parameters", [])) if "name" in p}
    for name, value in parse_qsl(ex.get("query") or ""):
        base = name.split("[", 1)[0]
        if base not in params:
            problems.append(f"{where}: query parameter {name!r} is not in the spec")
            continue
        index, param = params[base]
        if base == name:  # deepObject members (metadata[k]) are free-form strings
            instance = _coerce(value, param.get("schema", {}))
            problems += [
                f"{where} ?{name}: {e}" for e in _errors(f"{pointer}/parameters/{index}/schema", instance)
            ]
    # A request the emulator refused (4xx) may break the spec: refusing it was the point.
    refused = ex.get("status") is not None and 400 <= int(ex["status"]) < 500
    request = None if refused else ex.get("request")
    content = op.get("requestBody", {}).get("content", {})
    ctype = (ex.get("content_type") or "").split(";")[0].strip()
    if request is not None and ctype in content:
        media = ctype.replace("~", "~0").replace("/", "~1")
        problems += [
            f"{where} request: {e}" for e in _errors(f"{pointer}/requestBody/content/{media}/schema", request)
        ]
    elif content and ex["method"] == "POST" and request is None and ctype and not refused:
        problems.append(f"{where}: request body of type {ctype!r} is not one the spec accepts")
    if ex.get("dropped") or ex.get("status") is None:
        return problems
    status = int(ex["status"])
    response = ex.get("response")
    if status >= 400:
        problems += [f"{where} {status}: {e}" for e in _errors("/components/schemas/ErrorResponse", response)]
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
