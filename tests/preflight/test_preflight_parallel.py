"""The parallel path (byte ranges in forked workers) must report exactly what the
sequential path reports: same lines, codes, duplicates across ranges, tokens, output."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from preflight_helpers import OpenAILike, real

from anytune import Hyperparameters
from anytune._preflight import preflight, prepare
from anytune.data import _engine

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forked workers are used on Linux only")


def _mixed_file(tmp_path: Path) -> Path:
    lines = (
        real("instruction_alpaca/alpacadatacleaned_gsm_8k_train.first2000.jsonl").read_bytes().splitlines()
    )
    lines[10] = b"{broken"  # line 11
    lines[999] = b"[1, 2]"  # line 1000
    lines[1500] = lines[3]  # line 1501 repeats line 4 (another byte range)
    lines.insert(1700, b"")  # a blank line shifts everything after it
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    return path


def _run(path: Path, workers: str, monkeypatch: pytest.MonkeyPatch) -> tuple:
    monkeypatch.setenv("ANYTUNE_PREFLIGHT_WORKERS", workers)
    report, est = preflight(path, provider=OpenAILike(), model="m")
    return (
        [(p.line, p.code, p.field) for p in report.errors],
        [(p.line, p.code, p.message) for p in report.warnings],
        report.records,
        report.valid,
        est.tokens_per_epoch,
    )


def test_parallel_equals_sequential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _mixed_file(tmp_path)
    sequential = _run(path, "1", monkeypatch)
    monkeypatch.setattr(_engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(_engine, "RANGE_BYTES", 64 << 10)  # about 16 ranges
    parallel = _run(path, "2", monkeypatch)
    assert parallel == sequential
    errors, warnings, records, valid, _ = parallel
    assert errors == [(11, "invalid_json", None), (1000, "not_an_object", None)]
    assert (1501, "duplicate", "the same example as line 4") in warnings
    assert (records, valid) == (2000, 1998)


def test_parallel_prepare_writes_the_same_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = real("instruction_alpaca/alpacadatacleaned_gsm_8k_train.first2000.jsonl")
    kwargs = dict(
        provider=OpenAILike(fmt="vertex"), model="m", method="sft", hyperparameters=Hyperparameters()
    )
    monkeypatch.setenv("ANYTUNE_PREFLIGHT_WORKERS", "1")
    one = prepare(src, workdir=tmp_path / "a", **kwargs)
    monkeypatch.setattr(_engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(_engine, "RANGE_BYTES", 100 << 10)
    monkeypatch.setenv("ANYTUNE_PREFLIGHT_WORKERS", "2")
    two = prepare(src, workdir=tmp_path / "b", **kwargs)
    assert one.sha256 == two.sha256 == hashlib.sha256(two.path.read_bytes()).hexdigest()
    assert one.records == two.records == 2000


def test_no_fork_from_a_threaded_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.delenv("ANYTUNE_PREFLIGHT_WORKERS", raising=False)
    cfg = _engine.ScanConfig()
    got: list[int] = []
    worker = threading.Thread(target=lambda: got.append(_engine._workers(cfg)))
    worker.start()
    worker.join()
    assert got == [1]
    monkeypatch.setattr(_engine.os, "cpu_count", lambda: 2)
    assert _engine._workers(cfg) == (2 if threading.active_count() == 1 else 1)
