"""Streaming readers: every accepted input becomes ``(line, value, problem)`` triples.

Memory never grows with the input: JSONL is read in blocks cut at line ends, JSON arrays
are decoded one element at a time (``_json_stream``), Parquet one row group batch at a
time; decoding one record and its problems is ``_decode``. ``line`` is the
physical line in a text file (where the element starts, for JSON arrays) and the 1-based
row number for Parquet, ``list[dict]``, ``datasets.Dataset`` and ``pandas.DataFrame``.
``problem`` is set (and ``value`` is ``None``) when the record could not be decoded.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from anytune._types import Problem
from anytune.data._decode import (
    _BOM,
    _FAST_ERROR,
    MAX_DEPTH,
    MAX_RECORD_BYTES,
    Item,
    RecordError,
    _decode_problem,
    _fast_loads,
    _note,
    _too_large,
    check_text,
    loads,
)
from anytune.data._json_stream import Loc, iter_json_stream

__all__ = [
    "BLOCK_BYTES",
    "MAX_RECORD_BYTES",
    "Item",
    "Loc",
    "RangeReader",
    "RecordError",
    "check_text",
    "is_cr_only",
    "iter_items",
    "iter_jsonl",
    "jsonl_block_items",
    "loads",
    "split_ranges",
]

#: JSONL is read in blocks of this size, cut at the last line end.
BLOCK_BYTES = 4 << 20
_LS, _PS = "\u2028".encode(), "\u2029".encode()


def _separator_warning(line: int, file: str | None) -> Problem:
    return Problem(
        code="line_separator",
        message="the record holds U+2028/U+2029 (Unicode line or paragraph separator): valid JSON, "
        "but Python's str.splitlines() and some JSONL readers end a line there",
        line=line,
        file=file,
        severity="warning",
    )


def jsonl_block_items(block: bytes, first_line: int, file: str | None) -> Iterator[Item]:
    """Decode a block of whole JSONL lines that starts at ``first_line``. Blank lines
    are skipped (a trailing newline is not a record). A line over ``MAX_RECORD_BYTES``
    is refused from its size, without being decoded."""
    pieces = block.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    line = first_line - 1
    fast, err = _fast_loads, _FAST_ERROR
    # One C-speed search per block: most blocks hold no separator at all.
    separators = _LS in block or _PS in block
    for raw in pieces:
        line += 1
        if len(raw) > MAX_RECORD_BYTES:
            yield line, None, _too_large(len(raw), line, file)
            continue
        if separators and (_LS in raw or _PS in raw):
            yield line, None, _separator_warning(line, file)
        try:
            yield line, fast(raw), None
            continue
        except err:
            pass
        if not raw.strip():
            continue
        try:
            yield line, loads(raw), None
        except (ValueError, UnicodeDecodeError) as exc:
            yield line, None, _decode_problem(raw, line, file, exc)


def _open_binary(path: Path) -> BinaryIO:
    fh = path.open("rb")
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh)  # type: ignore[return-value]
    return fh


def is_cr_only(head: bytes) -> bool:
    """Whether ``head`` (the start of a file) uses classic Mac OS CR-only line ends
    (a single line end at the very end of the file does not count either way)."""
    body = head.rstrip(b"\r\n")
    return b"\n" not in body and b"\r" in body


def iter_jsonl(fh: BinaryIO, file: str | None, *, first: bool = True) -> Iterator[Item]:
    """JSONL records of ``fh`` in blocks. ``first``: ``fh`` is at the start of the file
    (a BOM and CR-only line ends are only looked for there). A line longer than
    ``MAX_RECORD_BYTES`` is skipped as it streams past, never held whole."""
    line = 1
    carry = b""
    skipped = 0  # bytes of an over-long line passed so far (0: not in one)
    cr = False
    while True:
        chunk = fh.read(BLOCK_BYTES)
        if first:
            first = False
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
                yield _note(
                    "bom",
                    "the file starts with a UTF-8 byte order mark; it is removed in the file "
                    "anytune uploads",
                    file,
                )
            if is_cr_only(chunk):
                cr = True
                yield _note(
                    "cr_line_endings",
                    "the file ends its lines with CR only (classic Mac OS); each CR is read as "
                    "a line end, and the file anytune uploads uses LF",
                    file,
                )
        if not chunk:
            break
        if cr:
            chunk = chunk.replace(b"\r", b"\n")
        if skipped:
            cut = chunk.find(b"\n")
            if cut < 0:
                skipped += len(chunk)
                continue
            yield line, None, _too_large(skipped + cut, line, file)
            line += 1
            chunk, skipped = chunk[cut + 1 :], 0
        data = carry + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
        else:
            block, carry = data[: cut + 1], data[cut + 1 :]
            yield from jsonl_block_items(block, line, file)
            line += block.count(b"\n")
        if len(carry) > MAX_RECORD_BYTES:
            skipped, carry = len(carry), b""
    if skipped:
        yield line, None, _too_large(skipped, line, file)
    elif carry:
        yield from jsonl_block_items(carry, line, file)


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
        yield _checked(row, rec, convert)


def _checked(row: int, rec: Any, convert: bool = False) -> Item:
    """An in-memory record, or its problem: Python strings can hold lone surrogates,
    which JSON files read by orjson never do."""
    try:
        if convert:
            rec = _plain(rec)
        check_text(rec)
    except RecursionError:
        message = f"the record is nested deeper than {MAX_DEPTH} levels"
        return row, None, Problem(code="too_deep", message=message, line=row)
    except RecordError as exc:
        return row, None, Problem(code=exc.code, message=str(exc), line=row)
    return row, rec, None


def _is_dataframe(data: Any) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "to_dict")


def _iter_dataframe(df: Any) -> Iterator[Item]:
    row = 0
    for start in range(0, len(df), 1024):
        for rec in df.iloc[start : start + 1024].to_dict("records"):
            row += 1
            yield _checked(row, rec, convert=True)


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
                code="unreadable",
                message=f"reading stopped: {exc or type(exc).__name__}",
                line=last or None,
                file=str(data),
            ),
        )
    except Exception as exc:
        if type(exc).__module__.startswith("pyarrow"):  # corrupt Parquet
            yield (
                last,
                None,
                Problem(code="unreadable", message=f"reading stopped: {exc}", line=last or None,
                        file=str(data)),
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
                    code="not_jsonl",
                    message="the file holds JSON objects spread over several lines; JSONL needs one "
                    "object per line (`anytune convert` rewrites it)",
                    line=1,
                    file=str(path),
                ),
            )
            yield from iter_json_stream(fh, str(path))
        elif kind == "json":
            yield from iter_json_stream(fh, str(path))
        else:
            yield from iter_jsonl(fh, str(path))


def _iter_memory(data: Any) -> Iterator[Item]:
    if _is_dataframe(data):
        yield from _iter_dataframe(data)
        return
    if isinstance(data, dict):
        raise TypeError("pass a list of records, not a single dict")
    is_hf = type(data).__module__.startswith("datasets")
    yield from _iter_records(data, convert=is_hf)


def split_ranges(path: Path, parts_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of a plain (not gzip) JSONL file, each ending at a line end. The line
    end is searched in blocks, so a huge line is never read whole."""
    size = path.stat().st_size
    ranges: list[tuple[int, int]] = []
    with path.open("rb") as fh:
        start = 0
        while start < size:
            end = min(start + parts_bytes, size)
            if end < size:
                fh.seek(end)
                while True:
                    chunk = fh.read(1 << 20)
                    cut = chunk.find(b"\n")
                    if cut >= 0:
                        end += cut + 1
                        break
                    if not chunk:
                        break
                    end += len(chunk)
                end = min(end, size)
            ranges.append((start, end))
            start = end
    return ranges


class RangeReader:
    """Reads ``[start, end)`` of a binary file and counts the line ends it returns."""

    def __init__(self, fh: BinaryIO, start: int, end: int) -> None:
        fh.seek(start)
        self._fh = fh
        self._left = end - start
        self.newlines = 0

    def read(self, n: int) -> bytes:
        """At most ``n`` bytes, never past the range's end."""
        data = self._fh.read(min(n, self._left)) if self._left > 0 else b""
        self._left -= len(data)
        self.newlines += data.count(b"\n")
        return data
