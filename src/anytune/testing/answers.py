"""Vendor answers generated from the vendor's own schemas, for spec-driven fuzzing.

A provider must turn *any* answer its vendor's spec allows into a correct snapshot or a
typed :class:`~anytune.ProviderError`, never a crash. :func:`answers` turns one schema of
an OpenAPI document (or any JSON schema, e.g. a pydantic model's) into a Hypothesis
strategy of answers, with the variations real services show and specs permit or forget:

- optional fields absent, or present as ``null``;
- enum values the spec does not list yet (a new status, a new event type);
- fields the spec does not know (additions on the vendor's side);
- empty lists where the spec sets a minimum.

``$ref``\\ s are inlined (a recursive one, after ``max_depth`` levels, becomes "any JSON
object or null"); OpenAPI-only keywords (``discriminator``, ``x-*``, examples) and
``pattern`` are dropped.

The generator is :func:`from_schema` below, on Hypothesis alone. ``hypothesis-jsonschema``
(0.23.1, its latest release) was the first choice, but it calls
``hypothesis.internal.conjecture.utils.many(...).more()``, which Hypothesis 6.170 no
longer has (``AttributeError`` on the first object drawn), and schemathesis builds on it.
The subset of JSON Schema that vendors' answer schemas use (types, properties, required,
items, anyOf/oneOf/allOf, enum, const, bounds, date-time) is small enough to own.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["answers", "from_schema", "loosen", "resolve_refs", "response_schema", "serving"]

_DROP = {"discriminator", "example", "examples", "description", "title", "deprecated", "readOnly",
         "writeOnly", "pattern", "externalDocs", "xml", "default", "$comment", "contentMediaType"}
_FORMATS = {"date-time", "date", "email", "uri", "uuid", "ipv4", "ipv6", "hostname"}
#: Words a vendor might add to an enum tomorrow.
_UNKNOWN_ENUM = ["zz_unknown_value", "", "NEW_STATE_2031"]
_EXTRA = {"zz_vendor_added": {"type": ["string", "integer", "null", "object"]}}


def resolve_refs(schema: Any, document: dict[str, Any], *, max_depth: int = 4,
                 _seen: tuple[str, ...] = ()) -> Any:
    """``schema`` with every ``$ref`` into ``document`` inlined (recursion bounded)."""
    if isinstance(schema, list):
        return [resolve_refs(s, document, max_depth=max_depth, _seen=_seen) for s in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if _seen.count(ref) >= 1 or len(_seen) >= max_depth * 8:
            return {"type": ["object", "null"]}  # a recursive type: any object will do
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return resolve_refs(merged, document, max_depth=max_depth, _seen=(*_seen, ref))
    # pydantic's JSON schemas keep definitions under $defs with refs "#/$defs/X"
    return {k: resolve_refs(v, document, max_depth=max_depth, _seen=_seen) for k, v in schema.items()
            if k not in ("$defs", "definitions")}


def loosen(schema: Any) -> Any:
    """``schema`` widened to what a vendor may really answer (see the module docstring)."""
    if isinstance(schema, list):
        return [loosen(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP or key.startswith("x-"):
            continue
        if key == "format" and value not in _FORMATS:
            continue
        if key in ("properties", "patternProperties", "$defs"):
            out[key] = {k: loosen(v) for k, v in value.items()} if isinstance(value, dict) else value
        elif key in ("minItems",):
            continue  # an empty list, whatever the spec says
        else:
            out[key] = loosen(value)
    if "enum" in out:  # a value the spec does not list (yet)
        enum = out.pop("enum")
        kinds = {type(v).__name__ for v in enum}
        extra = _UNKNOWN_ENUM if kinds <= {"str", "NoneType"} else []
        out = {"anyOf": [{**out, "enum": enum}, *([{"enum": extra}] if extra else [])]}
        return out
    if out.get("type") == "object" or "properties" in out:
        props = out.get("properties", {})
        required = set(out.get("required", ()))
        # optional fields: absent (Hypothesis leaves them out) or explicitly null
        out["properties"] = {
            name: (sub if name in required else {"anyOf": [sub, {"type": "null"}]})
            for name, sub in props.items()
        }
        if out.get("additionalProperties") is not False:
            out["properties"].update(_EXTRA)  # a field the spec does not know
    return out


def answers(schema: dict[str, Any], document: dict[str, Any] | None = None, *,
            max_depth: int = 4) -> Any:
    """A Hypothesis strategy of answers for ``schema`` (refs resolved in ``document``,
    else in ``schema`` itself), widened by :func:`loosen`."""
    root = document if document is not None else schema
    resolved = resolve_refs(copy.deepcopy(schema), root, max_depth=max_depth)
    return from_schema(loosen(resolved))


def _merge(a: dict[str, Any], b: Any) -> dict[str, Any]:
    """``allOf``: both schemas' constraints (properties and required united)."""
    if not isinstance(b, dict):
        return a
    out = {**a, **{k: v for k, v in b.items() if k not in ("properties", "required")}}
    if "properties" in a or "properties" in b:
        out["properties"] = {**a.get("properties", {}), **b.get("properties", {})}
    if "required" in a or "required" in b:
        out["required"] = sorted(set(a.get("required", ())) | set(b.get("required", ())))
    return out


def _any_json(depth: int) -> Any:
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12)
    if depth > 3:
        return scalars
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def from_schema(schema: Any, depth: int = 0) -> Any:
    """A Hypothesis strategy of JSON values valid for ``schema`` (no ``$ref``\\ s)."""
    from hypothesis import strategies as st

    if schema is False:
        return st.nothing()
    if not isinstance(schema, dict) or not schema:
        return _any_json(depth)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"])) if schema["enum"] else st.nothing()
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            base = {k: v for k, v in schema.items() if k != key}
            return st.one_of([from_schema(_merge(base, sub), depth) for sub in schema[key]])
    if isinstance(schema.get("allOf"), list):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for sub in schema["allOf"]:
            merged = _merge(merged, from_schema_ready(sub))
        return from_schema(merged, depth)
    kinds = schema.get("type")
    if kinds is None:
        kinds = "object" if "properties" in schema else "array" if "items" in schema else None
    if kinds is None:
        return _any_json(depth)
    if isinstance(kinds, list):
        return st.one_of([from_schema({**schema, "type": k}, depth) for k in kinds])
    if kinds == "null":
        return st.none()
    if kinds == "boolean":
        return st.booleans()
    if kinds == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        return st.integers(int(low) if low is not None else -(2**40),
                           int(high) if high is not None else 2**40)
    if kinds == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False) \
            | st.integers(int(low) if low is not None else -(2**31), int(high) if high is not None else 2**31)
    if kinds == "string":
        if schema.get("format") == "date-time":
            return st.datetimes().map(lambda d: d.isoformat() + "Z") | st.text(max_size=8)
        return st.text(min_size=int(schema.get("minLength", 0) or 0), max_size=24)
    if kinds == "array":
        if depth > 4:
            return st.just([])
        return st.lists(from_schema(schema.get("items", {}), depth + 1),
                        max_size=min(int(schema.get("maxItems", 3)), 3))
    if kinds == "object":
        props = schema.get("properties", {}) or {}
        required = [k for k in schema.get("required", ()) if k in props]
        optional = {k: from_schema(v, depth + 1) for k, v in props.items() if k not in required}
        if depth > 3:  # deep optional parts: rarely read, and they make answers slow to draw
            optional = {}
        return st.fixed_dictionaries({k: from_schema(props[k], depth + 1) for k in required},
                                     optional=optional)
    return _any_json(depth)


def from_schema_ready(sub: Any) -> Any:
    """An ``allOf`` member as a plain schema (its own ``allOf`` flattened)."""
    if isinstance(sub, dict) and isinstance(sub.get("allOf"), list):
        merged = {k: v for k, v in sub.items() if k != "allOf"}
        for inner in sub["allOf"]:
            merged = _merge(merged, from_schema_ready(inner))
        return merged
    return sub


def response_schema(document: dict[str, Any], method: str, path: str, status: str = "200") -> Any:
    """The JSON schema of an OpenAPI operation's answer."""
    content = document["paths"][path][method.lower()]["responses"][status]["content"]
    return content["application/json"]["schema"]


def serving(routes: dict[str, Any]) -> Any:
    """An ``httpx.MockTransport`` answering ``"METHOD /path/regex"`` with its JSON body
    (200), and any other request with a 404, so the vendor's official SDK can be driven
    with generated answers and no network. ``routes`` is read at each request: a test
    builds its client once and changes the answers between examples."""
    import json
    import re

    import httpx

    def handle(request: httpx.Request) -> httpx.Response:
        line = f"{request.method} {request.url.path}"
        for key, body in routes.items():
            if re.search(key + "$", line):
                return httpx.Response(200, content=json.dumps(body).encode(),
                                      headers={"content-type": "application/json",
                                               "x-request-id": "req_fuzz"})
        return httpx.Response(404, json={"error": {"message": "not served", "code": 404}})

    return httpx.MockTransport(handle)
