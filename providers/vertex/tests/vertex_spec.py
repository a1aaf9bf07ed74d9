"""Checks of recorded emulator exchanges against Vertex's protos.

``spec/v1beta1/tuning_job.proto`` and ``genai_tuning_service.proto`` (copied from googleapis:
see ``spec/README.md``)
are parsed (message -> field -> type; field names in JSON camelCase). A JSON object is
valid when each key is a field of its message, recursively for message-typed fields.
Types defined in protos that are not kept there (google.rpc.Status, Timestamp, Content,
...) are not descended into. ``preferenceOptimizationSpec`` is missing from the public
protos (see the specs README): it is checked against google-genai's
``types.PreferenceOptimizationSpec`` and ``types.PreferenceOptimizationHyperParameters``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from vertex_helpers import HERE

PROTO_DIR = HERE / "spec" / "v1beta1"
_FIELD = re.compile(
    r"^\s*(?:repeated\s+|optional\s+)?(map<\s*\w+\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*\d+", re.M
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _blocks(text: str) -> dict[str, str]:
    """Top-level and nested ``message Name { ... }`` bodies, nested ones removed."""
    out: dict[str, str] = {}
    for match in re.finditer(r"\bmessage\s+(\w+)\s*\{", text):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[match.end(): i - 1]
        # drop nested messages and enums: their fields are not this message's
        body = re.sub(r"\b(message|enum)\s+\w+\s*\{[^{}]*\}", "", body)
        out.setdefault(match.group(1), body)
    return out


@functools.lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    """message name -> {camelCase field: type name (value type for maps)}."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(PROTO_DIR.glob("*.proto")):
        text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
        for name, body in _blocks(text).items():
            fields = {}
            for m in _FIELD.finditer(body):
                kind = m.group(2) or m.group(1)
                if m.group(1) in ("option", "reserved") or m.group(3) in ("option",):
                    continue
                fields[camel(m.group(3))] = kind.split(".")[-1]
            out[name] = fields
    out.update(_genai_messages())
    return out


def _genai_messages() -> dict[str, dict[str, str]]:
    """Messages missing from the public protos, from google-genai's pydantic types."""
    from google.genai import types

    def fields(model: Any, nested: dict[str, str]) -> dict[str, str]:
        return {camel(n): nested.get(n, "") for n in model.model_fields}

    return {
        "PreferenceOptimizationSpec": fields(types.PreferenceOptimizationSpec,
                                             {"hyper_parameters": "PreferenceOptimizationHyperParameters"}),
        "PreferenceOptimizationHyperParameters": fields(types.PreferenceOptimizationHyperParameters, {}),
        # TuningJob gains the field the protos lack.
        "_TuningJobExtra": {"preferenceOptimizationSpec": "PreferenceOptimizationSpec"},
        "_TuningDataStatsExtra": {"preferenceOptimizationDataStats": ""},
    }


def _fields_of(message: str) -> dict[str, str]:
    table = messages()
    fields = dict(table.get(message, {}))
    fields.update(table.get(f"_{message}Extra", {}))
    return fields


def check(doc: Any, message: str, where: str = "") -> list[str]:
    """Problems of ``doc`` as a JSON ``message`` (unknown fields, recursively)."""
    table = messages()
    if message not in table or not isinstance(doc, dict):
        return []
    fields = _fields_of(message)
    problems = []
    for key, value in doc.items():
        if key not in fields:
            problems.append(f"{where or message}: {key!r} is not a field of {message}")
            continue
        kind = fields[key]
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and kind in table:
                problems += check(item, kind, f"{where or message}.{key}")
    return problems


def validate_exchange(exchange: dict[str, Any]) -> list[str]:
    """Problems of one recorded exchange on a tuningJobs route (others: none)."""
    op, status = exchange.get("operation"), exchange.get("status")
    where = f"{exchange.get('method')} {exchange.get('path')}"
    problems: list[str] = []
    if op == "create" and isinstance(exchange.get("request"), dict):
        problems += check(exchange["request"], "TuningJob", f"{where} request")
    if status == 200 and op in ("create", "get"):
        problems += check(exchange.get("response"), "TuningJob", f"{where} answer")
    if status == 200 and op == "list":
        problems += check(exchange.get("response"), "ListTuningJobsResponse", f"{where} answer")
    if status == 200 and op == "cancel" and exchange.get("response") not in ({}, None):
        problems.append(f"{where}: cancel answers google.protobuf.Empty")
    if status and status >= 400 and op in ("create", "get", "list", "cancel"):
        error = (exchange.get("response") or {}).get("error") or {}
        if not {"code", "message", "status"} <= set(error):
            problems.append(f"{where}: error is not a google.rpc.Status")
    return problems
