"""One pass over a dataset: read, check, convert, count, hash; in parallel on big JSONL.

``scan`` is the single engine behind ``validate``, ``estimate``, ``convert`` and
``prepare``. A plain JSONL file above ``PARALLEL_MIN_BYTES`` is cut into byte ranges at
line ends and processed by a pool of forked workers (one per core), results merged in
file order. Memory stays bounded: each worker holds one range, and the only state that
grows with the data is 24 bytes per record for duplicate detection (``_duplicates``).
What a scan is asked and what it learned are ``_scan_result``.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from anytune._types import Problem
from anytune.data._duplicates import duplicates, keys
from anytune.data._formats import detect_format, parse_record
from anytune.data._openai_format import Issues
from anytune.data._readers import (
    Item,
    RangeReader,
    is_cr_only,
    iter_items,
    iter_jsonl,
    loads,
    split_ranges,
)
from anytune.data._records import Example
from anytune.data._rules import LONG_FRACTION, check_example
from anytune.data._scan_result import ScanConfig, ScanResult
from anytune.data._tokens import TokenCounter, make_counter
from anytune.data._writers import write_example

__all__ = ["ScanConfig", "ScanResult", "scan"]

#: Files from this size are read by the workers. At 10 MB (about 1.5 CPU s) forking the
#: pool and merging cost no measurable CPU (1.36-1.88 s either way, docs/benchmarks.md),
#: and on free cores the second worker halves the wall time; it was 32 MiB.
PARALLEL_MIN_BYTES = 8 << 20
#: The largest byte range a worker takes at once (bounds each worker's memory).
RANGE_BYTES = 8 << 20
#: The smallest: below it, handing out and merging ranges costs more than it saves.
MIN_RANGE_BYTES = 1 << 20


def range_bytes(size: int, workers: int) -> int:
    """The range size for a file of ``size`` bytes: about 8 ranges per worker, so that
    the last ranges end close together (at 60 MB, 8 MB ranges left one worker idle for
    up to a range's time at the end), within [MIN_RANGE_BYTES, RANGE_BYTES]."""
    return max(MIN_RANGE_BYTES, min(RANGE_BYTES, size // (workers * 8)))


def _escape_separators(data: bytes) -> bytes:
    """U+2028 and U+2029 written as ``\\u2028``/``\\u2029``: valid JSON either way, but
    raw they end a line for readers that split with ``str.splitlines()`` or JavaScript's
    line rules, so a file anytune writes is safe for any line reader. In JSON output they
    can only stand inside strings, where the escape means the same character."""
    if b"\xe2\x80\xa8" in data or b"\xe2\x80\xa9" in data:
        data = data.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
    return data


try:
    import orjson

    def _dumps(rec: Any) -> bytes:
        return _escape_separators(orjson.dumps(rec)) + b"\n"
except ImportError:  # pragma: no cover
    import json

    def _dumps(rec: Any) -> bytes:
        return _escape_separators(json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()) + b"\n"


#: Problems that say the same of every record they hit (a whole file in the wrong
#: method): reported once per file, at the first record, with a count.
ONCE_PER_FILE = frozenset({"wrong_method", "multi_turn_preference"})
# Exceptions a hostile record can raise in the per-record steps (a lone surrogate in
# in-memory data, an integer orjson cannot write, nesting past a limit): the record
# gets a coded problem instead of crashing the pass.
_RECORD_FAULTS = (UnicodeError, RecursionError, ValueError, TypeError, OverflowError)


def _process(
    items: Iterable[Item],
    cfg: ScanConfig,
    counter: TokenCounter | None,
    res: ScanResult,
    sink: Callable[[bytes], None] | None,
) -> None:
    """Run every per-record step on ``items``, accumulating into ``res``."""
    cap, file = cfg.max_problems, cfg.file
    for line, obj, problem in items:
        if problem is not None:
            # Warnings from the reader (a BOM, CR line ends, a U+2028 in a record) are
            # about the file or annotate the record that follows: not records themselves.
            if problem.severity == "error" and problem.code not in ("not_jsonl", "unreadable"):
                res.records += 1
            element = getattr(line, "element", None)
            res.add(problem if element is None else problem.model_copy(update={"element": element}), cap)
            continue
        res.records += 1
        issues: Issues = []
        try:
            bad = _record(line, obj, cfg, counter, res, sink, issues)
        except _RECORD_FAULTS as exc:
            issues = [(*_fault(exc), "error")]
            bad = True
        if not bad:
            res.valid += 1
        element = getattr(line, "element", None)
        for code, fld, msg, sev in issues:
            if code in ONCE_PER_FILE:
                res.once_per_file(code, line, msg, sev)
                continue
            res.add(
                Problem(code=code, message=msg, line=line, field=fld, file=file,
                        severity=sev, element=element),  # type: ignore[arg-type]
                cap,
            )


def _fault(exc: BaseException) -> tuple[str, None, str]:
    if isinstance(exc, UnicodeError):
        return "invalid_unicode", None, f"the record holds text that is not valid Unicode ({exc})"
    if isinstance(exc, RecursionError):
        return "too_deep", None, "the record is nested too deep to process"
    return "invalid_record", None, f"the record cannot be processed: {type(exc).__name__}: {exc}"


def _record(
    line: int,
    obj: Any,
    cfg: ScanConfig,
    counter: TokenCounter | None,
    res: ScanResult,
    sink: Callable[[bytes], None] | None,
    issues: Issues,
) -> bool:
    """The per-record steps of one decoded record; returns whether it has an error."""
    target, method, max_tokens = cfg.target, cfg.method, cfg.max_tokens
    ex = parse_record(obj, issues, cfg.default_format)
    rec = None
    if ex is not None:
        if cfg.default_format is None:
            cfg.default_format = ex.source_format
        elif ex.source_format != cfg.default_format and detect_format(obj) is not None:
            issues.append(
                (
                    "mixed_formats",
                    None,
                    f"a {ex.source_format} record in a {cfg.default_format} file",
                    "warning",
                )
            )
        res.formats[ex.source_format] = res.formats.get(ex.source_format, 0) + 1
        if not issues or not any(i[3] == "error" for i in issues):
            # Only on records that read cleanly: one root cause, not its echoes.
            check_example(ex, method, issues)
        if target is not None:
            rec = write_example(ex, target, issues)
        if not cfg.tools:
            _refuse_tools(ex, issues)
    if not issues:
        bad = False
    elif cfg.lossy:
        bad = any(i[3] == "error" and i[0] != "not_expressible" for i in issues)
    else:
        bad = any(i[3] == "error" for i in issues)
    if ex is not None and not bad:
        # Everything that can fail on a hostile record runs before anything is counted
        # or written, so a record is either wholly in the result or wholly out of it.
        seqs = counter.sequences(ex) if counter is not None else ()
        data = _dumps(rec) if rec is not None else None
        exact, near = keys(ex.texts())
        if seqs:
            n, longest = sum(seqs), max(seqs)
            if max_tokens is not None and longest > max_tokens:
                # A warning: providers truncate such examples (OpenAI's guide: "Examples
                # longer than the default will be truncated"), and bill the capped count.
                issues.append(
                    (
                        "too_many_tokens",
                        None,
                        f"the example has {longest} tokens, over the model's limit of {max_tokens}: "
                        f"{longest - max_tokens} tokens would be truncated",
                        "warning",
                    )
                )
            elif max_tokens is not None and longest > LONG_FRACTION * max_tokens:
                issues.append(
                    (
                        "long_example",
                        None,
                        f"the example has {longest} tokens, close to the limit of {max_tokens}",
                        "warning",
                    )
                )
            res.tokens += n
            res.capped_tokens += n if max_tokens is None else sum(min(q, max_tokens) for q in seqs)
        if data is not None:
            res.out_bytes += len(data)
            if sink is not None:
                sink(data)
        res.hashes.append(exact)
        res.near.append(near)
        res.hash_lines.append(line)
        if ex.tools:
            res.with_tools += 1
    return bad


# --- parallel JSONL ----------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _range_worker(rng: tuple[int, int]) -> ScanResult:
    cfg: ScanConfig = _WORKER["cfg"]
    counter = _WORKER.get("counter")
    if counter is None and cfg.tokenizer:
        counter = _WORKER["counter"] = make_counter(cfg.tokenizer)
    start, end = rng
    res = ScanResult()
    out: list[bytes] = []
    with open(str(cfg.file), "rb") as fh:
        # Streamed in blocks like a serial read, so that one huge line in the range is
        # skipped from its size instead of being held whole.
        reader = RangeReader(fh, start, end)
        items = iter_jsonl(reader, cfg.file, first=start == 0)  # type: ignore[arg-type]
        _process(items, cfg, counter, res, out.append if cfg.write else None)
    res.lines = reader.newlines
    res.output = out
    return res


def _first_format(path: Path) -> str | None:
    with path.open("rb") as fh:
        for raw in fh.read(1 << 20).split(b"\n")[:-1]:
            try:
                obj = loads(raw.lstrip(b"\xef\xbb\xbf"))
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(obj, dict) and detect_format(obj):
                return detect_format(obj)
    return None


def _workers(cfg: ScanConfig) -> int:
    if cfg.workers is not None:
        return cfg.workers
    env = os.environ.get("ANYTUNE_PREFLIGHT_WORKERS")
    if env:
        return max(1, int(env))
    # Forked workers only: spawn and forkserver re-import the user's __main__, which
    # breaks scripts without an ``if __name__ == "__main__"`` guard. And fork only from
    # a single-threaded process (not from AsyncJob's worker thread, for one): a fork
    # copies locks other threads may hold.
    if sys.platform != "linux" or threading.active_count() > 1:
        return 1
    return os.cpu_count() or 1


def _parallel(
    path: Path,
    cfg: ScanConfig,
    counter: TokenCounter | None,
    workers: int,
    sink: Callable[[bytes], None] | None,
) -> ScanResult:
    import multiprocessing

    cfg.default_format = cfg.default_format or _first_format(path)
    _WORKER.clear()
    _WORKER.update(cfg=cfg, counter=counter)  # inherited by the forked workers
    total = ScanResult()
    offset = 0
    ctx = multiprocessing.get_context("fork")
    # Objects that exist now are never collected by the workers' GC: its passes would
    # otherwise write to every inherited object and copy the parent's pages.
    gc.freeze()
    try:
        with ctx.Pool(workers) as pool:
            ranges = split_ranges(path, range_bytes(path.stat().st_size, workers))
            for part in pool.imap(_range_worker, ranges):
                total.merge(part, offset, cfg.max_problems)
                offset += part.lines
                if sink is not None:
                    for data in part.output:
                        sink(data)
    finally:
        gc.unfreeze()
    total.lines = offset
    _WORKER.clear()
    return total


def _plain_jsonl(data: Any) -> Path | None:
    if not isinstance(data, (str, os.PathLike)):
        return None
    path = Path(data)
    if path.suffix.lower() != ".jsonl" or not path.is_file():
        return None
    with path.open("rb") as fh:
        head = fh.read(65536)
    if head[:2] == b"\x1f\x8b":
        return None
    if is_cr_only(head):  # ranges are cut at LF: read CR-only files serially
        return None
    first = next((ln.strip() for ln in head.lstrip(b"\xef\xbb\xbf").split(b"\n") if ln.strip()), b"")
    return None if first in (b"{", b"[") else path


def scan(
    data: Any,
    cfg: ScanConfig,
    sink: Callable[[bytes], None] | None = None,
    counter: TokenCounter | None = None,
) -> ScanResult:
    """Run every check on ``data`` once; converted records go to ``sink`` in order."""
    if counter is None and cfg.tokenizer:
        counter = make_counter(cfg.tokenizer)
    path = _plain_jsonl(data)
    workers = _workers(cfg)
    if path is not None and workers > 1 and path.stat().st_size >= PARALLEL_MIN_BYTES:
        res = _parallel(path, cfg, counter, workers, sink)
    else:
        res = ScanResult()
        _process(iter_items(data), cfg, counter, res, sink)
    res.finish_once(cfg.file, cfg.max_problems)
    duplicates(res, cfg)
    res.errors.sort(key=lambda p: p.line or 0)
    res.warnings.sort(key=lambda p: p.line or 0)
    return res


def _refuse_tools(ex: Example, issues: Issues) -> None:
    """One error for the first tool definition, call or result of ``ex``: the model cannot
    be trained on them (``Limits.tools`` is false)."""
    if ex.tools:
        where = "tools"
    else:
        msgs = [*ex.messages, *(ex.chosen or []), *(ex.rejected or [])]
        used = next((m for m in msgs if m.role == "tool" or m.tool_calls), None)
        if used is None:
            return
        where = used.path
    issues.append(
        (
            "tools_not_supported",
            where,
            "this model cannot be trained on tool definitions, tool calls or tool results; "
            "pick a model that supports function-calling fine-tuning, or drop the tools",
            "error",
        )
    )
