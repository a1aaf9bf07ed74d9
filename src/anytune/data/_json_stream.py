"""The JSON-array reader: a ``.json`` file (or pretty-printed objects in a ``.jsonl``
file) decoded one element at a time, so memory stays bounded whatever the file's size.
Each element's location is its line and, in an array, its 0-based index (``Loc``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import BinaryIO

from anytune._types import Problem
from anytune.data._decode import (
    _BOM,
    MAX_DEPTH,
    MAX_ELEMENT_BYTES,
    Item,
    RecordError,
    _note,
    _too_large,
    check_text,
)

__all__ = ["Loc", "iter_json_stream"]


class Loc(int):
    """A line number that also carries the 0-based index of a JSON-array element: in a
    minified array every element is on line 1, and the index is what finds it."""

    element: int

    def __new__(cls, line: int, element: int) -> Loc:
        loc = super().__new__(cls, line)
        loc.element = element
        return loc


def iter_json_stream(fh: BinaryIO, file: str | None) -> Iterator[Item]:
    """Decode a JSON array (or concatenated JSON values) one element at a time."""
    if fh.read(3) == _BOM:
        yield _note("bom", "the file starts with a UTF-8 byte order mark; it is removed in the file "
                    "anytune uploads", file)
    fh.seek(0)
    decoder = json.JSONDecoder()
    reader = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    buf = ""
    pos = 0
    line = 1  # line number at ``pos``
    eof = False
    in_array = False
    started = False
    element = -1  # index of the current array element, as jq's .[n] counts

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        try:
            more = reader.read(1 << 20)
        except UnicodeDecodeError as exc:
            raise _StreamError("invalid_utf8", f"not valid UTF-8 ({exc.reason})") from exc
        if not more:
            eof = True
            return False
        buf = buf[pos:] + more
        pos = 0
        return True

    def skip_ws() -> None:
        nonlocal pos, line
        while True:
            n = len(buf)
            while pos < n and buf[pos] in " \t\r\n":
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < n or not fill():
                return

    try:
        while True:
            skip_ws()
            if pos >= len(buf):
                if in_array:
                    yield (
                        line,
                        None,
                        Problem(code="invalid_json", message="the JSON array is not closed", line=line,
                                file=file),
                    )
                return
            ch = buf[pos]
            if not started:
                started = True
                if ch == "[":
                    in_array = True
                    pos += 1
                    skip_ws()
                    if pos < len(buf) and buf[pos] == "]":
                        return
                    continue
            if in_array and ch == "]":
                return
            if in_array and ch == ",":
                pos += 1
                continue
            element += 1
            at = Loc(line, element) if in_array else line
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as exc:
                    if len(buf) - pos < MAX_ELEMENT_BYTES and fill():
                        continue
                    where = line + buf.count("\n", pos, exc.pos)
                    col = exc.pos - buf.rfind("\n", 0, exc.pos)
                    if len(buf) - pos >= MAX_ELEMENT_BYTES:
                        problem = _too_large(len(buf) - pos, line, file)
                        stopped = problem.message + "; reading stopped here"
                        problem = problem.model_copy(update={"message": stopped})
                    else:
                        problem = Problem(
                            code="invalid_json",
                            message=f"{exc.msg} (column {col}); reading stopped here",
                            line=where,
                            file=file,
                        )
                    yield (Loc(where, element) if in_array else where), None, problem
                    return
                except RecursionError:
                    yield at, None, Problem(
                        code="too_deep",
                        message=f"the record is nested deeper than {MAX_DEPTH} levels; reading stopped here",
                        line=line,
                        file=file,
                    )
                    return
            try:
                check_text(value)
            except RecordError as exc:
                yield at, None, Problem(code=exc.code, message=str(exc), line=line, file=file)
            else:
                yield at, value, None
            line += buf.count("\n", pos, end)
            pos = end
    except _StreamError as exc:
        yield line, None, Problem(code=exc.code, message=f"{exc}; reading stopped here", line=line, file=file)


class _StreamError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
