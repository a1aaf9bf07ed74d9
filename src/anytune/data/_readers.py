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

Item = tuple[int, Any, "Problem | None"]

#: JSONL is read in blocks of this size, cut at the last line end.
BLOCK_BYTES = 4 << 20
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


_LS, _PS = "\u2028".encode(), "\u2029".encode()


def _too_large(size: int, line: int, file: str | None) -> Problem:
    return Problem(
        code="record_too_large",
        message=f"the record is {size / 2**20:.1f} MiB; anytune reads records up to "
        f"{MAX_RECORD_BYTES >> 20} MiB, far above any provider's per-example token limit "
        "(131,072 tokens is about 0.5 MiB of text), so it was refused from its size alone",
        line=line,
        file=file,
    )


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


def _note(code: str, message: str, file: str | None) -> Item:
    """A warning about the whole file (not a record): a conversion anytune makes."""
    return 1, None, Problem(code=code, message=message, line=1, file=file, severity="warning")


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


class Loc(int):
    """A line number that also carries the 0-based index of a JSON-array element: in a
    minified array every element is on line 1, and the index is what finds it."""

    element: int

    def __new__(cls, line: int, element: int) -> Loc:
        loc = super().__new__(cls, line)
        loc.element = element
        return loc


def _iter_json_stream(fh: BinaryIO, file: str | None) -> Iterator[Item]:
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
            yield from _iter_json_stream(fh, str(path))
        elif kind == "json":
            yield from _iter_json_stream(fh, str(path))
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
