"""Decisions the sync methods (:mod:`._provider`) and their async twins (:mod:`._async`)
share, so the two cannot disagree: which failures of a read are retried and how long to
wait, how a listing is requested and ordered, when a refused cancel is no error, and
which job holds an idempotency key. No I/O here.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from anytune.errors import ProviderConnectionError, ProviderTimeoutError, RateLimitError, ServerError
from anytune.provider import JobSnapshot
from anytune_vertex._mapping import IDEMPOTENCY_LABEL, label_value

__all__ = ["PAGE", "TRANSIENT", "attempts", "cancel_is_moot", "holds_key", "list_config", "newest_first",
           "retry_delay"]

#: Failures of a read worth another try (never of ``create``: see ``_provider``).
TRANSIENT = (RateLimitError, ServerError, ProviderConnectionError, ProviderTimeoutError)
#: The most jobs asked for per page.
PAGE = 100
_EPOCH = datetime.fromtimestamp(0, tz=timezone.utc)


def attempts(config: Mapping[str, Any]) -> int:
    """How many times a read is sent: once plus the ``max_retries`` setting (default 3)."""
    return int(config.get("max_retries", 3)) + 1


def retry_delay(base: float, attempt: int, exc: BaseException) -> float:
    """Seconds to wait after failed ``attempt`` (0-based): exponential backoff with
    jitter, never less than the server's ``Retry-After``, at most 30 s."""
    backoff = base * 2.0**attempt * (0.5 + random.random())
    retry_after = float(getattr(exc, "retry_after", None) or 0.0)
    return min(30.0, max(retry_after, backoff))


def list_config(limit: int) -> dict[str, Any]:
    """The ``config`` of ``tunings.list`` for at most ``limit`` jobs."""
    return {"page_size": min(PAGE, max(1, limit))}


def newest_first(snaps: Iterable[JobSnapshot], limit: int) -> list[JobSnapshot]:
    """At most ``limit`` snapshots, newest first."""
    return sorted(snaps, key=lambda s: s.created_at or _EPOCH, reverse=True)[:limit]


def cancel_is_moot(snap: JobSnapshot) -> bool:
    """Whether a refused cancel is no error: the job already ended or is cancelling
    (Vertex refuses both with FAILED_PRECONDITION)."""
    return snap.status.terminal or snap.status.value == "cancelling"


def holds_key(snap: JobSnapshot, key: str) -> bool:
    """Whether ``snap`` carries the idempotency ``key`` (as given or label-encoded)."""
    return snap.metadata.get(IDEMPOTENCY_LABEL) in (key, label_value(key))
