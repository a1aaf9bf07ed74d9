"""Streaming readers: every accepted input becomes ``(line, value, problem)`` triples.

Memory never grows with the input: JSONL is read in blocks cut at line ends, JSON arrays
are decoded one element at a time, Parquet one row group batch at a time. ``line`` is the
physical line in a text file (where the element starts, for JSON arrays) and the 1-based
row number for Parquet, ``list[dict]``, ``datasets.Dataset`` and ``pandas.DataFrame``.
``problem`` is set (and ``value`` is ``None``) when the record could not be decoded.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from anytune._types import Problem

__all__ = [
    "BLOCK_BYTES",
    "Item",
    "iter_items",
    "jsonl_block_items",
    "loads",
    "split_ranges",
]

Item = tuple[int, Any, "Problem | None"]

#: JSONL is read in blocks of this size, cut at the last line end.
BLOCK_BYTES = 4 << 20
#: A JSON-array element may span at most this many bytes before we call it broken
#: (bounds memory when an array is truncated or malformed).
MAX_ELEMENT_BYTES = 64 << 20
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


def loads(raw: bytes) -> Any:
    """Decode one JSON document; raise ``ValueError`` with a location on failure."""
    try:
        return _fast_loads(raw)
    except _FAST_ERROR:
        # orjson is stricter than the json module on a few inputs (integers over 64
        # bits); the json module decides, and gives the better message when it fails too.
        return json.loads(raw.decode("utf-8"))


def _decode_problem(raw: bytes, line: int, file: str | None) -> Problem:
    """The problem with a line that failed to decode: invalid UTF-8 or invalid JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(
            "invalid_utf8",
            f"bytes at column {exc.start + 1} are not valid UTF-8 ({exc.reason})",
            line=line,
            file=file,
        )
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        hint = ""
        if text.strip() in ("{", "["):
            hint = " (a JSON value spread over several lines: JSONL needs one per line)"
        return Problem("invalid_json", f"{exc.msg} at column {exc.colno}{hint}", line=line, file=file)
    except ValueError as exc:  # e.g. numbers too large to convert
        return Problem("invalid_json", str(exc), line=line, file=file)
    return Problem("invalid_json", "not valid JSON", line=line, file=file)


def jsonl_block_items(block: bytes, first_line: int, file: str | None) -> Iterator[Item]:
    """Decode a block of whole JSONL lines that starts at ``first_line``. Blank lines
    are skipped (a trailing newline is not a record)."""
    pieces = block.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    line = first_line - 1
    fast, err = _fast_loads, _FAST_ERROR
    for raw in pieces:
        line += 1
        try:
            yield line, fast(raw), None
            continue
        except err:
            pass
        if not raw.strip():
            continue
        try:
            yield line, loads(raw), None
        except (ValueError, UnicodeDecodeError):
            yield line, None, _decode_problem(raw, line, file)


def _open_binary(path: Path) -> BinaryIO:
    fh = path.open("rb")
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh)  # type: ignore[return-value]
    return fh


def _iter_jsonl(fh: BinaryIO, file: str | None) -> Iterator[Item]:
    line = 1
    carry = b""
    first = True
    while True:
        chunk = fh.read(BLOCK_BYTES)
        if first:
            first = False
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
        if not chunk:
            break
        data = carry + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        block, carry = data[: cut + 1], data[cut + 1 :]
        yield from jsonl_block_items(block, line, file)
        line += block.count(b"\n")
    if carry:
        yield from jsonl_block_items(carry, line, file)


def _iter_json_stream(fh: BinaryIO, file: str | None) -> Iterator[Item]:
    """Decode a JSON array (or concatenated JSON values) one element at a time."""
    decoder = json.JSONDecoder()
    reader = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    buf = ""
    pos = 0
    line = 1  # line number at ``pos``
    eof = False
    in_array = False
    started = False

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
                        Problem("invalid_json", "the JSON array is not closed", line=line, file=file),
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
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as exc:
                    if len(buf) - pos < MAX_ELEMENT_BYTES and fill():
                        continue
                    where = line + buf.count("\n", pos, exc.pos)
                    col = exc.pos - buf.rfind("\n", 0, exc.pos)
                    yield (
                        where,
                        None,
                        Problem(
                            "invalid_json",
                            f"{exc.msg} column {col}; reading stopped here",
                            line=where,
                            file=file,
                        ),
                    )
                    return
            yield line, value, None
            line += buf.count("\n", pos, end)
            pos = end
    except _StreamError as exc:
        yield line, None, Problem(exc.code, f"{exc}; reading stopped here", line=line, file=file)


class _StreamError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _iter_parquet(path: Path) -> Iterator[Item]:
    import pyarrow.parquet as pq  # lazy: heavy, and only needed for Parquet input

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for rec in batch.to_pylist():
            row += 1
            yield row, rec, None


def _plain(value: Any) -> Any:
    """numpy arrays and scalars (from pandas) as plain Python values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if tolist is not None and type(value).__module__ == "numpy":
        return _plain(tolist())
    return value


def _pretty_printed(fh: BinaryIO) -> bool:
    """Whether the first non-blank line of ``fh`` is a lone ``{`` or ``[``; rewinds."""
    head = fh.read(65536)
    fh.seek(0)
    for raw in head.lstrip(_BOM).split(b"\n")[:-1]:
        if raw.strip():
            return raw.strip() in (b"{", b"[")
    return False


def _iter_records(data: Iterable[Any], convert: bool = False) -> Iterator[Item]:
    for row, rec in enumerate(data, 1):
        yield row, (_plain(rec) if convert else rec), None


def _is_dataframe(data: Any) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "to_dict")


def _iter_dataframe(df: Any) -> Iterator[Item]:
    row = 0
    for start in range(0, len(df), 1024):
        for rec in df.iloc[start : start + 1024].to_dict("records"):
            row += 1
            yield row, _plain(rec), None


def file_kind(path: Path) -> str:
    """``jsonl``, ``json`` or ``parquet``, from the suffix, else from the first byte."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    last = suffixes[-1] if suffixes else ""
    if last == ".parquet":
        return "parquet"
    if last == ".json":
        return "json"
    if last == ".jsonl":
        return "jsonl"
    with _open_binary(path) as fh:
        head = fh.read(4096).lstrip(_BOM).lstrip()
    return "json" if head.startswith(b"[") else "jsonl"


def iter_items(data: Any) -> Iterator[Item]:
    """Stream ``(line, value, problem)`` from any accepted input. A file that breaks
    while being read (corrupt gzip or Parquet) ends with an ``unreadable`` problem."""
    if not isinstance(data, (str, os.PathLike)):
        yield from _iter_memory(data)
        return
    last = 0
    try:
        for item in _iter_file(Path(data)):
            last = item[0]
            yield item
    except (OSError, EOFError, zlib.error) as exc:
        yield (
            last,
            None,
            Problem(
                "unreadable",
                f"reading stopped: {exc or type(exc).__name__}",
                line=last or None,
                file=str(data),
            ),
        )
    except Exception as exc:
        if type(exc).__module__.startswith("pyarrow"):  # corrupt Parquet
            yield (
                last,
                None,
                Problem("unreadable", f"reading stopped: {exc}", line=last or None, file=str(data)),
            )
        else:
            raise


def _iter_file(path: Path) -> Iterator[Item]:
    kind = file_kind(path)
    if kind == "parquet":
        yield from _iter_parquet(path)
        return
    with _open_binary(path) as fh:
        if kind == "jsonl" and _pretty_printed(fh):
            # Pretty-printed objects in a .jsonl file (a real cookbook file does
            # this): say so once, then read the objects so the rest is checked too.
            yield (
                1,
                None,
                Problem(
                    "not_jsonl",
                    "the file holds JSON objects spread over several lines; JSONL needs one "
                    "object per line (`anytune convert` rewrites it)",
                    line=1,
                    file=str(path),
                ),
            )
            yield from _iter_json_stream(fh, str(path))
        elif kind == "json":
            yield from _iter_json_stream(fh, str(path))
        else:
            yield from _iter_jsonl(fh, str(path))


def _iter_memory(data: Any) -> Iterator[Item]:
    if _is_dataframe(data):
        yield from _iter_dataframe(data)
        return
    if isinstance(data, dict):
        raise TypeError("pass a list of records, not a single dict")
    is_hf = type(data).__module__.startswith("datasets")
    yield from _iter_records(data, convert=is_hf)


def split_ranges(path: Path, parts_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of a plain (not gzip) JSONL file, each ending at a line end."""
    size = path.stat().st_size
    ranges: list[tuple[int, int]] = []
    with path.open("rb") as fh:
        start = 0
        while start < size:
            end = min(start + parts_bytes, size)
            if end < size:
                fh.seek(end)
                fh.readline()
                end = fh.tell()
            ranges.append((start, end))
            start = end
    return ranges
