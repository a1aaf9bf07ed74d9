"""The SQLite job store: concurrent processes, crashes, permissions, idempotency rows."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from store_helpers import store_before_scopes

from anytune._store import JobStore


def _writer(path: str, worker: int, n: int) -> None:
    store = JobStore(Path(path))
    for i in range(n):
        _, fresh = store.claim(provider="fake", model="m", spec_hash="s",
                                 idempotency_key=f"k-{worker}-{i}")
        assert fresh
        store.confirm(provider="fake", idempotency_key=f"k-{worker}-{i}",
                      job_id=f"fake:{worker}-{i}", status="queued")
        store.record(job_id=f"fake:{worker}-{i}", provider="fake", model="m", status="running")


def _claimer(path: str, key: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    _, fresh = JobStore(Path(path)).claim(provider="fake", model="m", spec_hash="s",
                                          idempotency_key=key)
    out.put(fresh)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    JobStore(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    rows = JobStore(path).list(limit=1000)
    assert len(rows) == 160
    assert {r.status for r in rows} == {"running"}


def test_one_key_is_claimed_by_exactly_one_of_many_processes(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    JobStore(path)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(str(path), "same-key", q)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sorted(q.get() for _ in procs) == [False] * 5 + [True]


def test_a_writer_killed_mid_transaction_leaves_a_usable_store(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).claim(provider="fake", model="m", spec_hash="s", idempotency_key="before")
    code = (
        "import sys; from pathlib import Path; from anytune._store import JobStore\n"
        "s = JobStore(Path(sys.argv[1]))\n"
        "i = 0\n"
        "while True:\n"
        "    s.claim(provider='fake', model='m', spec_hash='s', idempotency_key=f'k{i}'); i += 1\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)])
    # Kill it once it is writing (a loaded machine may take seconds just to start it),
    # so that the kill lands mid-stream of transactions rather than before the first.
    deadline = time.monotonic() + 120
    while len(JobStore(path).list(limit=100000)) < 20 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = JobStore(path)  # reopen after the crash
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store.by_key("fake", "before") is not None
    assert len(store.list(limit=100000)) > 1
    _, fresh = store.claim(provider="fake", model="m", spec_hash="s", idempotency_key="after")
    assert fresh


def test_store_and_home_are_user_only(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "h"))
    old = os.umask(0o022)
    try:
        store = JobStore()
        store.claim(provider="fake", model="m", spec_hash="s", idempotency_key="k")
    finally:
        os.umask(old)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    for extra in store.path.parent.glob("jobs.sqlite3-*"):
        assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0


def test_claim_confirm_release_cycle(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "s.db")
    row, fresh = store.claim(provider="fake", model="m", spec_hash="h1", idempotency_key="k",
                             estimate={"cost_usd": 1.5})
    assert fresh and row.pending and row.estimate == {"cost_usd": 1.5}
    again, fresh2 = store.claim(provider="fake", model="m", spec_hash="h1", idempotency_key="k")
    assert not fresh2 and again.id == row.id
    store.confirm(provider="fake", idempotency_key="k", job_id="fake:ft-1", status="queued")
    got = store.get("fake:ft-1")
    assert got is not None and not got.pending and got.status == "queued"
    store.release(provider="fake", idempotency_key="k")  # confirmed rows are never released
    assert store.get("fake:ft-1") is not None
    store.claim(provider="fake", model="m", spec_hash="h2", idempotency_key="k2")
    store.release(provider="fake", idempotency_key="k2")
    assert store.by_key("fake", "k2") is None


def test_uploads_are_remembered_per_provider_scope(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "s.db")
    store.record_upload(provider="fake", scope="http://a", sha256="abc", purpose="train", file_ref="f1")
    assert store.find_upload(provider="fake", scope="http://a", sha256="abc", purpose="train") == "f1"
    assert store.find_upload(provider="fake", scope="http://b", sha256="abc", purpose="train") is None


def test_stores_opened_at_once_on_an_old_file_migrate_it_once(tmp_path: Path) -> None:
    """An async sweep opens one store per job in worker threads at the same moment; on a
    store from before scopes each used to see the old schema and alter it again."""
    import threading

    # The race needs the threads to meet: about 1 try in 30 hit SQLITE_BUSY in the WAL
    # switch before the store retried it (2026-11-30), so give it many tries.
    for attempt in range(30):
        path = tmp_path / f"old-{attempt}.sqlite3"
        store_before_scopes(path).close()
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def open_store(
            path: Path = path, start: threading.Barrier = start, errors: list[BaseException] = errors
        ) -> None:
            start.wait()
            try:
                JobStore(path)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_store) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        cols = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(jobs)")]
        assert cols.count("scope") == 1
