"""Duplicate detection: exact and near duplicates from 64-bit keys of each example's
texts. The keys are computed per record (in the workers, for a parallel scan); the only
state that grows with the data is 24 bytes per record (key, near key, line).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any

from anytune._types import Problem
from anytune.data._scan_result import ScanConfig, ScanResult

__all__ = ["duplicates", "keys"]

# Near-duplicate key: lower-cased, with ASCII punctuation and whitespace removed.
# bytes.translate runs in C; a regex here cost as much as tokenizing the text.
_STRIP = bytes(range(0, 48)) + bytes(range(58, 65)) + bytes(range(91, 97)) + bytes(range(123, 128))
_MASK = (1 << 64) - 1


def keys(texts: list[str]) -> tuple[int, int]:
    """(exact, near) 64-bit keys of an example's texts. Python's own hash is used: it is
    consistent within a run (forked workers share its seed), which is all duplicate
    detection needs, and it is several times cheaper than a digest. Near keys fold
    ASCII case only (``bytes.lower``, much cheaper than ``str.lower``)."""
    data = "\x00".join(texts).encode("utf-8", "surrogatepass")
    return hash(data) & _MASK, hash(data.lower().translate(None, _STRIP)) & _MASK


_NUMPY_FROM = 200_000


def _dupes(keys: array[int], lines: array[int]) -> Iterator[tuple[int, int]]:
    """(line, line of its first copy) for every repeated key, in no particular order."""
    np: Any
    if len(keys) < _NUMPY_FROM:
        np = None  # a dict is quicker than importing numpy (0.1 s or more) for this many
    else:
        try:
            import numpy as np  # sorting 1M keys in numpy takes milliseconds
        except ImportError:  # pragma: no cover
            np = None
    if np is None:
        first: dict[int, int] = {}
        for k, ln in zip(keys, lines, strict=True):
            if k in first:
                yield ln, first[k]
            else:
                first[k] = ln
        return
    key_arr = np.frombuffer(keys, dtype=np.uint64)
    line_arr = np.frombuffer(lines, dtype=np.uint64)
    order = np.lexsort((line_arr, key_arr))
    ks, ls = key_arr[order], line_arr[order]
    same = np.flatnonzero(ks[1:] == ks[:-1]) + 1
    if not len(same):
        return
    # The first line of each run of equal keys.
    run_start = np.maximum.accumulate(np.where(np.r_[True, ks[1:] != ks[:-1]], np.arange(len(ks)), 0))
    for i in same.tolist():
        yield int(ls[i]), int(ls[run_start[i]])


def duplicates(res: ScanResult, cfg: ScanConfig) -> None:
    """[ANYTUNE] warnings: exact duplicates, and near-duplicates: examples whose texts are
    equal once ASCII letters are lower-cased and ASCII punctuation and whitespace removed
    (cheap enough for 1 GB; paraphrases are not caught)."""
    exact = dict(_dupes(res.hashes, res.hash_lines))
    for line, first in sorted(exact.items()):
        res.add(
            Problem(
                code="duplicate", message=f"the same example as line {first}", line=line, file=cfg.file,
                severity="warning",
            ),
            cfg.max_problems,
        )
    for line, first in sorted(_dupes(res.near, res.hash_lines)):
        if line not in exact:
            res.add(
                Problem(
                    code="near_duplicate",
                    message=f"nearly the same example as line {first}",
                    line=line,
                    file=cfg.file,
                    severity="warning",
                ),
                cfg.max_problems,
            )
