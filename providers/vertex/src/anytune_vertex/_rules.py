"""Decisions the sync methods (:mod:`._provider`) and their async twins (:mod:`._async`)
share, so the two cannot disagree: how a listing is requested and which job holds an
idempotency key. No I/O here. (Read retries, list order and the idempotent cancel are
``SDKProvider``'s, shared by every provider on a vendor SDK.)
"""

from __future__ import annotations

from typing import Any

from anytune.provider import JobSnapshot
from anytune_vertex._mapping import IDEMPOTENCY_LABEL, label_value

__all__ = ["PAGE", "holds_key", "list_config"]

#: The most jobs asked for per page.
PAGE = 100


def list_config(limit: int) -> dict[str, Any]:
    """The ``config`` of ``tunings.list`` for at most ``limit`` jobs."""
    return {"page_size": min(PAGE, max(1, limit))}


def holds_key(snap: JobSnapshot, key: str) -> bool:
    """Whether ``snap`` carries the idempotency ``key`` (as given or label-encoded)."""
    return snap.metadata.get(IDEMPOTENCY_LABEL) in (key, label_value(key))
