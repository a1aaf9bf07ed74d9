"""A job store file as anytune wrote it before provider scopes (the migration's input)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_BEFORE_SCOPES = """
    CREATE TABLE jobs (id TEXT PRIMARY KEY, provider TEXT NOT NULL, model TEXT NOT NULL,
      spec_hash TEXT NOT NULL, idempotency_key TEXT NOT NULL, state TEXT NOT NULL, status TEXT,
      result_model TEXT, error TEXT, estimate TEXT, created_at REAL NOT NULL,
      updated_at REAL NOT NULL);
    CREATE UNIQUE INDEX jobs_key ON jobs (provider, idempotency_key);
"""


def store_before_scopes(path: Path) -> sqlite3.Connection:
    """Create ``path`` with the schema from before scopes; returns the open connection."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_BEFORE_SCOPES)
    return db
