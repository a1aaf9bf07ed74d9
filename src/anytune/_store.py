"""The local job record: every job anytune creates, in SQLite under ``ANYTUNE_HOME``.

Why a local record at all: providers forget nothing, but a caller that crashes between
"request sent" and "id received" does; the store remembers the idempotency key *before*
``create`` is sent, so a rerun finds the job instead of paying for a second one.

Safe for concurrent processes: WAL journal, a busy timeout, one short transaction per
call (``BEGIN IMMEDIATE`` where a read decides a write). The file is user-only (0600).
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anytune._config import anytune_home

__all__ = ["PENDING", "STALE", "JobRecord", "JobStore"]

PENDING = "pending"  # state of a row whose create was sent but not (yet) confirmed
#: State of a row whose job its provider answered "not found" for (an emulator restarted,
#: an account reset): kept for ``list``, never reused, and its key is free again.
STALE = "stale"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    state TEXT NOT NULL,
    status TEXT,
    result_model TEXT,
    error TEXT,
    estimate TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_spec ON jobs (provider, spec_hash, created_at);
CREATE TABLE IF NOT EXISTS uploads (
    provider TEXT NOT NULL,
    scope TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    purpose TEXT NOT NULL,
    file_ref TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (provider, scope, sha256, purpose)
);
"""
# Jobs are scoped like uploads: a key or a spec is "the same job" only on the same endpoint,
# project and location (``Provider.scope()``), and a stale row gives its key up. Added to
# stores made before the column existed (rows without a scope are never reused).
_MIGRATE = """
DROP INDEX IF EXISTS jobs_key;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_scoped_key ON jobs (provider, scope, idempotency_key)
    WHERE state != 'stale';
"""
_COLUMNS = ("id, provider, model, spec_hash, idempotency_key, state, status, result_model, "
            "error, estimate, created_at, updated_at, scope")


@dataclass(frozen=True)
class JobRecord:
    """One row of the store. ``id`` is the qualified id, or ``pending:<key>`` while the
    provider has not confirmed the job."""

    id: str
    provider: str
    model: str
    spec_hash: str
    idempotency_key: str
    state: str
    status: str | None
    result_model: str | None
    error: dict[str, Any] | None
    estimate: dict[str, Any] | None
    created_at: float
    updated_at: float
    #: ``Provider.scope()`` when the job was created ("" for rows seen, not created).
    scope: str = ""

    @property
    def pending(self) -> bool:
        """True while the provider has not confirmed this job."""
        return self.state == PENDING

    @property
    def stale(self) -> bool:
        """True once the provider answered "not found" for this job."""
        return self.state == STALE


def _row(row: sqlite3.Row) -> JobRecord:
    d = dict(row)
    for k in ("error", "estimate"):
        d[k] = json.loads(d[k]) if d[k] else None
    return JobRecord(**d)


class JobStore:
    """The SQLite job record. Each method opens, uses and closes its own connection, so
    one instance may be shared by threads and many processes may use one file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or anytune_home() / "jobs.sqlite3"
        self._init()

    def __repr__(self) -> str:
        return f"JobStore({str(self.path)!r})"

    def _init(self) -> None:
        # Stores opened at once on a file in the old rollback journal (an async sweep's
        # threads, several processes) can meet in SQLite's lock upgrade, where it answers
        # SQLITE_BUSY at once instead of calling the busy handler (switching to WAL needs
        # the exclusive lock). Whoever lost tries again; by then the file is in WAL.
        deadline = time.monotonic() + 30.0
        delay = 0.01
        while True:
            try:
                self._init_once()
                return
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
                if not busy or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _init_once(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            # Create the file user-only before SQLite opens it with the umask's mode.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(self.path, 0o600)
        old = os.umask(0o077)
        try:
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        finally:
            os.umask(old)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            # WAL lets readers proceed while another process writes; it is a property of
            # the file, so setting it once here covers every later connection.
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            # One migrating connection at a time: stores opened at once (threads of an
            # async sweep, several processes) would otherwise all see the old schema and
            # all try to alter it. The column check runs once the write lock is held.
            db.execute("BEGIN IMMEDIATE")
            try:
                if "scope" not in {r[1] for r in db.execute("PRAGMA table_info(jobs)")}:
                    db.execute("ALTER TABLE jobs ADD COLUMN scope TEXT NOT NULL DEFAULT ''")
                for statement in filter(str.strip, _MIGRATE.split(";")):
                    db.execute(statement)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    @contextmanager
    def _connect(self, *, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        old = os.umask(0o077)  # the -wal and -shm files are created user-only too
        try:
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        finally:
            os.umask(old)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")
        finally:
            db.close()

    # --- jobs -------------------------------------------------------------------------------
    def claim(
        self,
        *,
        provider: str,
        model: str,
        spec_hash: str,
        idempotency_key: str,
        estimate: dict[str, Any] | None = None,
        scope: str = "",
    ) -> tuple[JobRecord, bool]:
        """Record a job about to be created in ``scope`` (``Provider.scope()``). Returns
        the row and whether this call created it; ``False`` means the key was already
        taken there and the caller returns or recovers that job instead of a second one."""
        now = time.time()
        find = ("SELECT * FROM jobs WHERE provider=? AND scope=? AND idempotency_key=? "
                "AND state!='stale'")
        with self._connect(immediate=True) as db:
            row = db.execute(find, (provider, scope, idempotency_key)).fetchone()
            if row is not None:
                return _row(row), False
            pending_id = f"pending:{provider}:{idempotency_key}"
            if scope:  # the same key may be pending on another endpoint at the same time
                pending_id += ":" + hashlib.sha256(scope.encode()).hexdigest()[:12]
            db.execute(
                f"INSERT INTO jobs ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    pending_id, provider, model, spec_hash,
                    idempotency_key, PENDING, None, None, None,
                    json.dumps(estimate) if estimate else None, now, now, scope,
                ),
            )
            row = db.execute(find, (provider, scope, idempotency_key)).fetchone()
            return _row(row), True

    def confirm(
        self, *, provider: str, idempotency_key: str, job_id: str, status: str,
        scope: str | None = None,
    ) -> None:
        """The provider confirmed the job: give the live row holding the key (in
        ``scope``, when given) its qualified id."""
        with self._connect(immediate=True) as db:
            # A stale row may hold the same id (an emulator restarted numbers its jobs
            # from 1 again): it steps aside, keeping its place in ``list``.
            db.execute("UPDATE jobs SET id=id || '#stale' || rowid WHERE id=? AND state='stale'",
                       (job_id,))
            db.execute(
                "UPDATE jobs SET id=?, state='created', status=?, updated_at=? "
                "WHERE provider=? AND idempotency_key=? AND state!='stale' "
                "AND (? IS NULL OR scope=?)",
                (job_id, status, time.time(), provider, idempotency_key, scope, scope),
            )

    def release(self, *, provider: str, idempotency_key: str, scope: str | None = None) -> None:
        """Forget a pending row whose create certainly made no job."""
        with self._connect(immediate=True) as db:
            db.execute(
                "DELETE FROM jobs WHERE provider=? AND idempotency_key=? AND state=? "
                "AND (? IS NULL OR scope=?)",
                (provider, idempotency_key, PENDING, scope, scope),
            )

    def mark_stale(self, job_id: str) -> None:
        """The provider answered "not found" for this job: keep the row, marked, for
        ``list``; it is never reused and its key is free for a new job."""
        with self._connect(immediate=True) as db:
            db.execute("UPDATE jobs SET state=?, updated_at=? WHERE id=?",
                       (STALE, time.time(), job_id))

    def record(
        self,
        *,
        job_id: str,
        provider: str,
        model: str,
        status: str,
        result_model: str | None = None,
        error: dict[str, Any] | None = None,
        created_at: float | None = None,
    ) -> None:
        """Insert or update a job seen on the provider (``get``/``refresh``/``list``)."""
        now = time.time()
        with self._connect(immediate=True) as db:
            cur = db.execute(
                "UPDATE jobs SET status=?, result_model=COALESCE(?, result_model), error=?, "
                "updated_at=? WHERE id=?",
                (status, result_model, json.dumps(error) if error else None, now, job_id),
            )
            if cur.rowcount == 0:
                db.execute(
                    f"INSERT OR IGNORE INTO jobs ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'')",
                    (
                        job_id, provider, model, "", f"seen:{job_id}", "created", status,
                        result_model, json.dumps(error) if error else None, None,
                        created_at or now, now,
                    ),
                )

    def get(self, job_id: str) -> JobRecord | None:
        """The row of a qualified job id, if recorded."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _row(row) if row else None

    def by_key(self, provider: str, idempotency_key: str) -> JobRecord | None:
        """The row holding an idempotency key, if any."""
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM jobs WHERE provider=? AND idempotency_key=?",
                (provider, idempotency_key),
            ).fetchone()
        return _row(row) if row else None

    def recent_by_spec(
        self, provider: str, spec_hash: str, *, within: float, scope: str = ""
    ) -> JobRecord | None:
        """The newest live job with this spec created in ``scope`` (the provider's
        endpoint, project, location) less than ``within`` seconds ago."""
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM jobs WHERE provider=? AND scope=? AND spec_hash=? AND created_at>=? "
                "AND state!='stale' ORDER BY created_at DESC LIMIT 1",
                (provider, scope, spec_hash, time.time() - within),
            ).fetchone()
        return _row(row) if row else None

    def list(self, *, provider: str | None = None, limit: int = 20) -> builtins.list[JobRecord]:
        """Recorded jobs, newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM jobs WHERE (? IS NULL OR provider=?) "
                "ORDER BY created_at DESC LIMIT ?",
                (provider, provider, limit),
            ).fetchall()
        return [_row(r) for r in rows]

    def providers(self) -> builtins.list[str]:
        """Providers that have jobs in the store."""
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT provider FROM jobs ORDER BY 1")]

    # --- uploads ----------------------------------------------------------------------------
    def forget_upload(self, *, provider: str, scope: str, file_ref: str) -> None:
        """The provider no longer has this file: the next create uploads it again."""
        with self._connect(immediate=True) as db:
            db.execute("DELETE FROM uploads WHERE provider=? AND scope=? AND file_ref=?",
                       (provider, scope, file_ref))

    def find_upload(self, *, provider: str, scope: str, sha256: str, purpose: str) -> str | None:
        """A file already uploaded with this content to this provider account."""
        with self._connect() as db:
            row = db.execute(
                "SELECT file_ref FROM uploads WHERE provider=? AND scope=? AND sha256=? AND purpose=?",
                (provider, scope, sha256, purpose),
            ).fetchone()
        return row[0] if row else None

    def record_upload(
        self, *, provider: str, scope: str, sha256: str, purpose: str, file_ref: str
    ) -> None:
        """Remember an upload so identical content is not uploaded twice."""
        with self._connect(immediate=True) as db:
            db.execute(
                "INSERT OR REPLACE INTO uploads VALUES (?,?,?,?,?,?)",
                (provider, scope, sha256, purpose, file_ref, time.time()),
            )
