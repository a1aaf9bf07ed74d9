"""What anytune rewrites between the user's file and the file it uploads.

``validate --json`` says it (``input_format``, ``converted``, ``conversions``) so that a
user knows, before anything is uploaded, whether the provider receives their bytes as
they are or a rewritten file: a BOM removed, CR line ends made LF, a JSON array or
Parquet rows written as JSONL, records of another format written in the provider's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["NATIVE_FORMATS", "conversions", "input_format"]

#: Input formats each upload format takes as they are (anytune still re-serializes them,
#: which changes no content).
NATIVE_FORMATS = {
    "openai": frozenset({"openai_chat", "openai_preference"}),
    "together": frozenset({"openai_chat", "openai_preference", "text"}),
    "vertex": frozenset({"gemini"}),
    "alpaca": frozenset({"alpaca"}),
}

_NOTES = {
    "bom": "the UTF-8 byte order mark is removed",
    "cr_line_endings": "CR-only line ends are written as LF",
    "not_jsonl": "JSON objects spread over several lines are written one per line",
}


def input_format(formats: dict[str, int]) -> str | None:
    """The format most records are in (``None`` when no record was read)."""
    return max(formats, key=lambda k: formats[k]) if formats else None


def _container(data: Any) -> str | None:
    """How the records are stored, when it is not plain JSONL."""
    if not isinstance(data, (str, os.PathLike)):
        return "records in memory are written as a JSONL file"
    path = Path(data)
    try:
        with path.open("rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
    except OSError:
        return None
    from anytune.data._readers import file_kind  # lazy: keeps this module import-light

    kind = file_kind(path)
    if kind == "parquet":
        return "Parquet rows are written as JSONL"
    if kind == "json":
        return "the JSON array is written as JSONL"
    return "the gzip file is decompressed" if gz else None


def conversions(data: Any, formats: dict[str, int], codes: set[str], target: str | None) -> list[str]:
    """What is rewritten before upload to ``target`` (empty: the records go as they are).
    ``codes`` are the problem codes of the pass (file notes such as ``bom``)."""
    if target is None:
        return []
    out = [text for code, text in _NOTES.items() if code in codes]
    container = _container(data)
    if container:
        out.append(container)
    native = NATIVE_FORMATS.get(target, frozenset())
    for fmt in sorted(formats):
        if fmt not in native:
            out.append(f"{fmt} records are rewritten in the {target} format")
    return out
