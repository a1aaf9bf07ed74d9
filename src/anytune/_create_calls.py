"""The provider calls inside ``create`` (:mod:`anytune._create`), each a flow that rides
out failures without ever making a second job: reads retried with backoff, uploads that
reuse what the provider still has, and ``create`` itself with its recovery.

Everything here that touches the job store or a file is a :func:`~anytune._flow.blocking`
action, so the async ``create`` never holds the event loop on SQLite or a disk.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from anytune._errors import (
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from anytune._flow import Flow, Sleep, blocking, call
from anytune._log import logger
from anytune._polling import TRANSIENT, Backoff
from anytune._progress import UploadProgress
from anytune._store import JobStore
from anytune._types import CreateRequest, JobSnapshot
from anytune.provider import Provider

__all__ = ["CREATE_BACKOFF", "MAX_CREATE_ATTEMPTS", "MAX_READ_ATTEMPTS", "create_with_recovery",
           "read", "sha256_of", "upload", "vanished"]

P = ParamSpec("P")
T = TypeVar("T")

#: Attempts at ``create`` when each failure proves that no job was made.
MAX_CREATE_ATTEMPTS = 4
#: Attempts at each read inside ``create`` (the reuse lookup, the key search, the upload
#: check) through 429/5xx/timeouts/dropped connections: about half a minute of backoff.
MAX_READ_ATTEMPTS = 8
CREATE_BACKOFF = Backoff(initial=1.0, cap=30.0)


def sha256_of(path: Path) -> str:
    """The file's sha256, read in 1 MiB chunks (a blocking function: run it as an action)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _digest_and_size(path: Path) -> tuple[str, int]:
    return sha256_of(path), path.stat().st_size


def read(
    backoff: Backoff, method: Callable[P, T], amethod: Callable[P, Awaitable[T]], /,
    *args: P.args, **kwargs: P.kwargs,
) -> Flow[T]:
    """One provider read inside ``create`` (``read(backoff, p.get, p.aget, job_id)``),
    riding out 429/5xx/timeouts/dropped connections (``Retry-After`` is a floor)."""
    rng = random.Random()
    for attempt in range(MAX_READ_ATTEMPTS):
        try:
            return (yield from call(method, amethod, *args, **kwargs))
        except TRANSIENT as exc:
            if attempt == MAX_READ_ATTEMPTS - 1:
                raise
            name = getattr(method, "__name__", "read")
            logger.info("%s failed (%s); retrying", name, type(exc).__name__)
            yield Sleep(backoff.retry_delay(attempt, exc, rng))
    raise AssertionError("unreachable")  # pragma: no cover


def upload(
    provider: Provider, store: JobStore, path: Path, purpose: str, progress: bool = False,
    reused: set[str] | None = None, backoff: Backoff = CREATE_BACKOFF,
) -> Flow[str]:
    """Upload ``path``, or reuse the file the provider already has with the same content
    (and add its ref to ``reused``); returns the file ref."""
    digest, size = yield from blocking(_digest_and_size, path)
    scope = provider.scope()
    cached = yield from blocking(store.find_upload, provider=provider.name, scope=scope,
                                 sha256=digest, purpose=purpose)
    if cached is not None:
        # The file may be gone (deleted, a bucket lifecycle rule, a restarted sandbox):
        # ask the provider where it can answer cheaply, and upload again if it is missing.
        exists = yield from read(backoff, provider.upload_exists, provider.aupload_exists, cached)
        if exists:
            logger.info("%s: reusing uploaded file %s for %s", provider.name, cached, path.name)
            if reused is not None:
                reused.add(cached)
            return cached
        logger.warning("%s: uploaded file %s is gone; uploading %s again", provider.name, cached,
                       path.name)
        yield from blocking(store.forget_upload, provider=provider.name, scope=scope, file_ref=cached)
    bar = UploadProgress(f"{purpose} data ({size:,} bytes)", enabled=progress)
    provider.upload_progress = bar.update if bar.enabled else None
    try:
        ref = yield from call(provider.upload, provider.aupload, path, purpose=purpose)
    finally:
        provider.upload_progress = None
        bar.close()
    yield from blocking(store.record_upload, provider=provider.name, scope=scope, sha256=digest,
                        purpose=purpose, file_ref=ref)
    return ref


def vanished(provider: Provider, refs: set[str], backoff: Backoff = CREATE_BACKOFF) -> Flow[list[str]]:
    """The reused files the provider no longer has."""
    gone = []
    for ref in sorted(refs):
        if not (yield from read(backoff, provider.upload_exists, provider.aupload_exists, ref)):
            gone.append(ref)
    return gone


def create_with_recovery(
    provider: Provider, store: JobStore, request: CreateRequest, key: str, backoff: Backoff,
    scope: str | None = None,
) -> Flow[JobSnapshot]:
    """``create``, never re-sent blindly: after an ambiguous failure the provider's jobs
    are searched for ``key``, and only a proven absence allows another attempt. The
    store's pending row is released when no job was made."""
    rng = random.Random()
    last: Exception | None = None
    found: JobSnapshot | None
    find, afind = provider.find_by_idempotency_key, provider.afind_by_idempotency_key

    def release() -> None:
        store.release(provider=provider.name, idempotency_key=key, scope=scope)

    for attempt in range(MAX_CREATE_ATTEMPTS):
        if attempt:
            yield Sleep(backoff.retry_delay(attempt - 1, last, rng))
        try:
            return (yield from call(provider.create, provider.acreate, request))
        except RateLimitError as exc:  # refused: certainly no job
            last = exc
        except ProviderConnectionError as exc:
            last = exc
            if exc.request_sent is False:
                continue
            found = yield from read(backoff, find, afind, key)
            if found is not None:
                return found
        except (ProviderTimeoutError, ServerError) as exc:
            last = exc
            found = yield from read(backoff, find, afind, key)
            if found is not None:
                return found
        except Exception:
            yield from blocking(release)
            raise
        except BaseException:  # interrupted: no action can run now, so release in place
            release()
            raise
        logger.warning("%s: create failed (%s); no job was made, retrying", provider.name, last)
    yield from blocking(release)
    assert last is not None
    raise last
