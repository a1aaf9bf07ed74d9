"""Decoding one JSON record, and the problems a record that cannot be decoded gets:
invalid UTF-8 or JSON, a NUL byte, nesting past ``MAX_DEPTH``, a lone surrogate, a record
over ``MAX_RECORD_BYTES``. Shared by the JSONL reader (``_readers``) and the JSON-array
reader (``_json_stream``).
"""

from __future__ import annotations

import json
from typing import Any

from anytune._types import Problem

Item = tuple[int, Any, "Problem | None"]

#: A record (a JSONL line, a JSON-array element) over this size is refused from its size
#: without being decoded or tokenized: far above every provider's per-example limit
#: (the largest, 131,072 tokens, is about 0.5 MiB of text), and it bounds memory.
MAX_RECORD_BYTES = 16 << 20
#: A JSON-array element may span at most this many characters before we call it broken
#: (bounds memory when an array is truncated or malformed).
MAX_ELEMENT_BYTES = MAX_RECORD_BYTES
_BOM = b"\xef\xbb\xbf"

try:  # orjson is about 3x faster than the json module; it is optional.
    import orjson as _orjson

    def _fast_loads(raw: bytes) -> Any:
        return _orjson.loads(raw)

    _FAST_ERROR: type[Exception] = _orjson.JSONDecodeError
except ImportError:  # pragma: no cover - exercised where orjson is absent

    def _fast_loads(raw: bytes) -> Any:
        return json.loads(raw)

    _FAST_ERROR = ValueError


class RecordError(ValueError):
    """A record that decodes as JSON but cannot be used as text: too deep, or holding
    lone surrogates. ``code`` is the problem code reports use."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def loads(raw: bytes) -> Any:
    """Decode one JSON document; raise ``ValueError`` with a location on failure
    (:class:`RecordError` for a record nested too deep or holding a lone surrogate)."""
    try:
        return _fast_loads(raw)
    except _FAST_ERROR:
        # orjson is stricter than the json module on a few inputs (integers over 64
        # bits); the json module decides, and gives the better message when it fails too.
        try:
            value = json.loads(raw.decode("utf-8"))
        except RecursionError:
            raise RecordError("too_deep", f"the record is nested deeper than {MAX_DEPTH} levels") from None
        check_text(value)
        return value


#: orjson's own depth limit; deeper records are refused (no provider format nests past a
#: dozen levels, and Python's json module would raise RecursionError far deeper).
MAX_DEPTH = 1024


def check_text(value: Any) -> None:
    """Raise :class:`RecordError` when a string of ``value`` holds a lone surrogate
    (``"\\ud800"`` escapes decode to code points that are not characters: UTF-8 cannot
    carry them, tokenizers and uploads fail on them) or nesting exceeds ``MAX_DEPTH``.
    Iterative, so depth cannot overflow the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RecordError("too_deep", f"the record is nested deeper than {MAX_DEPTH} levels")
        if isinstance(v, str):
            _check_str(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                if isinstance(k, str):
                    _check_str(k)
                stack.append((x, depth + 1))
        elif isinstance(v, (list, tuple)):
            stack.extend((x, depth + 1) for x in v)


def _check_str(s: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordError(
            "invalid_unicode",
            f"a lone surrogate \\u{ord(s[exc.start]):04x} in a string (at character {exc.start + 1}) "
            "is not a character; UTF-8 cannot carry it and providers reject it",
        ) from None


def _decode_problem(raw: bytes, line: int, file: str | None, exc: BaseException | None = None) -> Problem:
    """The problem with a line that failed to decode: invalid UTF-8, invalid JSON, a NUL
    byte, too deep a nesting or a lone surrogate (``exc``, from :func:`loads`)."""
    if isinstance(exc, RecordError):
        return Problem(code=exc.code, message=str(exc), line=line, file=file)
    nul = raw.find(b"\x00")
    if nul >= 0:
        return Problem(
            code="nul_byte",
            message=f"a NUL byte at column {nul + 1}: JSON text cannot hold one unescaped "
            "(a binary or UTF-16 file?)",
            line=line,
            file=file,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(
            code="invalid_utf8",
            message=f"bytes at column {exc.start + 1} are not valid UTF-8 ({exc.reason})",
            line=line,
            file=file,
        )
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        hint = ""
        if text.strip() in ("{", "["):
            hint = " (a JSON value spread over several lines: JSONL needs one per line)"
        return Problem(code="invalid_json", message=f"{err.msg} (column {err.colno}){hint}", line=line,
                       file=file)
    except RecursionError:
        return Problem(
            code="too_deep", message=f"the record is nested deeper than {MAX_DEPTH} levels", line=line,
            file=file,
        )
    except ValueError as err:  # e.g. numbers too large to convert
        return Problem(code="invalid_json", message=str(err), line=line, file=file)
    return Problem(code="invalid_json", message="not valid JSON", line=line, file=file)


def _too_large(size: int, line: int, file: str | None) -> Problem:
    return Problem(
        code="record_too_large",
        message=f"the record is {size / 2**20:.1f} MiB; anytune reads records up to "
        f"{MAX_RECORD_BYTES >> 20} MiB, far above any provider's per-example token limit "
        "(131,072 tokens is about 0.5 MiB of text), so it was refused from its size alone",
        line=line,
        file=file,
    )


def _note(code: str, message: str, file: str | None) -> Item:
    """A warning about the whole file (not a record): a conversion anytune makes."""
    return 1, None, Problem(code=code, message=message, line=1, file=file, severity="warning")
