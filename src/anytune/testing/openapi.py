"""Checking recorded emulator exchanges against a vendor's OpenAPI document.

An emulator built on :mod:`anytune.emulator` writes one JSON object per exchange to the
file named by ``ANYTUNE_EMULATOR_RECORD``: ``method``, ``path``, ``query``,
``content_type``, ``request``, ``status``, ``response`` and ``dropped``.
:class:`OpenAPIExchanges` matches each exchange to the spec's operation (method and path
template; literal templates win over ``{id}`` ones) and checks with jsonschema (Draft
2020-12, ``$ref``\\ s resolved against the whole document):

- each query parameter is one the operation declares, its value of the declared type
  (members of a deepObject parameter, ``metadata[k]=v``, are accepted as free-form);
- the JSON or multipart request body, against the operation's schema for its content
  type, unless the emulator refused the request (4xx: refusing it was the point);
- the JSON answer, against the operation's schema for its status, or the spec's error
  schema for a status of 400 or more.

A provider package's tests use it like this::

    ACME = OpenAPIExchanges(SHARED / "specs" / "acme" / "openapi.yaml", error_schema="Error")

    def test_exchanges(record):
        assert ACME.validate_file(record) == []

OpenAPI 3.0 leftovers are rewritten to their 2020-12 meaning when the document is read:
``nullable: true`` becomes a type union with ``"null"``, and a boolean
``exclusiveMinimum``/``exclusiveMaximum`` takes the bound's number. ``yaml``,
``jsonschema`` and ``referencing`` are test dependencies, imported on first use.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["OpenAPIExchanges"]

#: The one resource of each instance's registry: the whole document.
_URN = "urn:anytune:openapi"


def _to_2020_12(node: Any) -> None:
    """Rewrite OpenAPI 3.0 leftovers in place: ``exclusiveMinimum: true`` (2020-12 reads
    ``true`` as the number 1, so ``beta: 0.25`` would be refused) and ``nullable: true``
    (ignored by 2020-12)."""
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


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> dict[str, Any]:
    """The parsed document, once per path (a vendor spec can be megabytes: the C loader
    reads OpenAI's in about a second instead of twenty)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        document: dict[str, Any] = yaml.load(fh, Loader=loader)
    _to_2020_12(document)
    return document


def _escape(token: str) -> str:
    """A JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def _template_pattern(template: str) -> re.Pattern[str]:
    literal = re.split(r"\{[^}]+\}", template)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in literal) + "$")


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    """A query string value as the type its schema declares (left a string otherwise)."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    try:
        if "integer" in kinds:
            return int(value)
        if "number" in kinds:
            return float(value)
    except ValueError:
        return value
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


class OpenAPIExchanges:
    """Checks recorded emulator exchanges against one OpenAPI document.

    :param spec_path: the vendor's OpenAPI document (YAML or JSON).
    :param prefix: the path prefix the SDK sends and the spec's paths leave out.
    :param error_schema: the name, under ``components/schemas``, of the vendor's error body.
    :param not_in_spec: regular expressions over ``"METHOD /path"`` of exchanges the spec
        does not describe (an SDK's private upload flow, say): they are skipped, and
        listing them says so rather than hiding it.
    :param ignore: a predicate over jsonschema ``ValidationError``\\ s that are known
        defects of the spec, not of the exchange; those are not reported.
    """

    def __init__(
        self,
        spec_path: str | Path,
        *,
        prefix: str = "/v1",
        error_schema: str = "ErrorResponse",
        not_in_spec: Iterable[str | re.Pattern[str]] = (),
        ignore: Callable[[Any], bool] | None = None,
    ) -> None:
        self.spec_path = Path(spec_path).resolve()
        self.prefix = prefix.rstrip("/")
        self.error_schema = error_schema
        self.not_in_spec = tuple(re.compile(p) for p in not_in_spec)
        self.ignore = ignore
        self._validators: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"OpenAPIExchanges({str(self.spec_path)!r}, error_schema={self.error_schema!r})"

    @property
    def spec(self) -> dict[str, Any]:
        """The parsed document in 2020-12 form, shared by every instance on this path
        (do not change it)."""
        return _load(self.spec_path)

    @functools.cached_property
    def _registry(self) -> Any:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        return Registry().with_resource(_URN, Resource.from_contents(self.spec, DRAFT202012))

    @functools.cached_property
    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        # Fewest parameters first: /fine-tunes/estimate-price before /fine-tunes/{id}.
        templates = sorted(self.spec.get("paths", {}), key=lambda t: t.count("{"))
        return [(_template_pattern(t), t) for t in templates]

    def _errors(self, pointer: str, instance: Any) -> list[str]:
        validator = self._validators.get(pointer)
        if validator is None:
            from jsonschema import Draft202012Validator

            validator = Draft202012Validator({"$ref": f"{_URN}#{pointer}"}, registry=self._registry)
            self._validators[pointer] = validator
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in validator.iter_errors(instance)
            if self.ignore is None or not self.ignore(e)
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """(JSON pointer to the operation, the operation) for a request's method and path
        (with or without the prefix), or None when the spec has no such operation."""
        if self.prefix and (path == self.prefix or path.startswith(self.prefix + "/")):
            path = path[len(self.prefix) :]
        verb = method.lower()
        for pattern, template in self._templates:
            op = self.spec["paths"][template].get(verb)
            if op is not None and pattern.match(path):
                return f"/paths/{_escape(template)}/{verb}", op
        return None

    def validate(self, exchange: dict[str, Any]) -> list[str]:
        """The problems of one recorded exchange; an empty list when it follows the spec
        (or is one that ``not_in_spec`` names)."""
        where = f"{exchange['method']} {exchange['path']}"
        if any(p.match(where) for p in self.not_in_spec):
            return []
        found = self.operation(exchange["method"], exchange["path"])
        if found is None:
            return [f"{where}: no such operation in the spec"]
        pointer, op = found
        problems = self._query_problems(where, pointer, op, exchange.get("query") or "")
        problems += self._request_problems(where, pointer, op, exchange)
        if exchange.get("dropped") or exchange.get("status") is None:
            return problems  # no answer was sent
        status = int(exchange["status"])
        response = exchange.get("response")
        if status >= 400:
            schema = f"/components/schemas/{_escape(self.error_schema)}"
            problems += [f"{where} {status}: {e}" for e in self._errors(schema, response)]
        elif response is not None:
            answer = op.get("responses", {}).get(str(status), {}).get("content", {})
            if "application/json" not in answer:
                problems.append(f"{where}: the spec has no JSON answer for status {status}")
            else:
                schema = f"{pointer}/responses/{status}/content/application~1json/schema"
                problems += [f"{where} {status}: {e}" for e in self._errors(schema, response)]
        return problems

    def validate_file(self, record: str | Path, *, provider: str | None = None) -> list[str]:
        """The distinct problems of every exchange in a record file, sorted. With
        ``provider``, only that provider's emulator's exchanges are checked (a record file
        may hold several emulators' exchanges)."""
        problems: set[str] = set()
        for line in Path(record).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            exchange = json.loads(line)
            if provider is None or exchange.get("provider") == provider:
                problems.update(self.validate(exchange))
        return sorted(problems)

    def _query_problems(self, where: str, pointer: str, op: dict[str, Any], query: str) -> list[str]:
        params = {
            p["name"]: (i, p)
            for i, p in enumerate(op.get("parameters", []))
            if "name" in p and p.get("in", "query") == "query"
        }
        problems: list[str] = []
        for name, value in parse_qsl(query, keep_blank_values=True):
            base = name.split("[", 1)[0]
            if base not in params:
                problems.append(f"{where}: query parameter {name!r} is not in the spec")
                continue
            index, param = params[base]
            if base == name:  # deepObject members (metadata[k]) are free-form strings
                instance = _coerce(value, param.get("schema", {}))
                schema = f"{pointer}/parameters/{index}/schema"
                problems += [f"{where} ?{name}: {e}" for e in self._errors(schema, instance)]
        return problems

    def _request_problems(
        self, where: str, pointer: str, op: dict[str, Any], exchange: dict[str, Any]
    ) -> list[str]:
        status = exchange.get("status")
        if exchange["method"] == "GET" or (status is not None and 400 <= int(status) < 500):
            return []  # a GET's body means nothing; a refused request may break the spec
        content = op.get("requestBody", {}).get("content", {})
        ctype = (exchange.get("content_type") or "").split(";")[0].strip()
        request = exchange.get("request")
        if ctype in content and request is not None:
            schema = f"{pointer}/requestBody/content/{_escape(ctype)}/schema"
            return [f"{where} request: {e}" for e in self._errors(schema, request)]
        if content and ctype and ctype not in content:
            return [f"{where}: request body of type {ctype!r} is not one the spec accepts"]
        return []
