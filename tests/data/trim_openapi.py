"""Trim a vendor's OpenAPI document to the paths anytune talks to, keeping every
component those paths reference (transitively), so the trimmed copy validates exactly
what the full one does for those paths.

Usage (from the repository root)::

    python tests/data/trim_openapi.py SRC DEST --keep /files /fine_tuning ... \\
        [--schema ErrorResponse ...]

``--keep`` takes path prefixes: a path is kept when it equals a prefix or starts with
``prefix + "/"``. ``--schema`` keeps a named schema (and what it references) even when no
kept path references it, e.g. the error body the exchange checks use by name. Dropped:
every other path, ``webhooks``, ``tags``, the top-level ``x-oaiMeta`` and each kept
operation's ``x-oaiMeta`` (documentation examples: code samples in many languages).
Nothing inside a kept operation or schema is changed.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import yaml

_REF = re.compile(r"^#/components/([^/]+)/(.+)$")


def _refs(node: Any) -> set[tuple[str, str]]:
    """Every ``(section, name)`` that ``node`` references through ``$ref``."""
    found: set[tuple[str, str]] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                match = _REF.match(ref)
                if match:
                    found.add((match.group(1), match.group(2).replace("~1", "/").replace("~0", "~")))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _keep_path(path: str, prefixes: list[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def trim(doc: dict[str, Any], prefixes: list[str], schemas: list[str]) -> dict[str, Any]:
    """A copy of ``doc`` with only the kept paths and the components they need."""
    paths = {p: item for p, item in doc["paths"].items() if _keep_path(p, prefixes)}
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("x-oaiMeta", None)
    components = doc.get("components", {})
    wanted = _refs(paths) | {("schemas", s) for s in schemas}
    wanted |= {("securitySchemes", name) for name in components.get("securitySchemes", {})}
    done: set[tuple[str, str]] = set()
    while wanted - done:
        section, name = (wanted - done).pop()
        done.add((section, name))
        wanted |= _refs(components[section][name])
    kept: dict[str, Any] = {}
    for section, names in components.items():
        chosen = {n: v for n, v in names.items() if (section, n) in done}
        if chosen:
            kept[section] = chosen
    out = {k: v for k, v in doc.items() if k not in ("paths", "components", "webhooks", "tags", "x-oaiMeta")}
    out["paths"] = paths
    out["components"] = kept
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: read SRC, write the trimmed DEST."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dest", type=Path)
    ap.add_argument("--keep", nargs="+", required=True, help="path prefixes to keep")
    ap.add_argument("--schema", nargs="*", default=[], help="schemas to keep by name")
    args = ap.parse_args(argv)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with args.src.open("rb") as fh:
        doc = yaml.load(fh, Loader=loader)
    out = trim(doc, args.keep, args.schema)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(out, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    args.dest.parent.mkdir(parents=True, exist_ok=True)
    args.dest.write_text(text, encoding="utf-8")
    print(f"{args.dest}: {len(out['paths'])} paths, "
          f"{sum(len(v) for v in out['components'].values())} components, {len(text.encode())} bytes")


if __name__ == "__main__":
    main()
