"""Async twins of :class:`OpenAIProvider`'s network methods on ``openai.AsyncOpenAI``.

They mirror the sync methods line for line and share every request builder and response
mapper (:mod:`._mapping`), so the two cannot disagree on what a job looks like.
``aupload`` is not here: uploading is file I/O, and the base class runs the sync
``upload`` in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anytune.errors import InvalidRequestError
from anytune.provider import Checkpoint, CreateRequest, JobEvent, JobSnapshot, Metric
from anytune_openai._errors import translating
from anytune_openai._mapping import (
    IDEMPOTENCY_METADATA_KEY,
    PAGE,
    checkpoint_from,
    create_params,
    event_from,
    metrics_from_events,
    oldest_first,
    page_kwargs,
    parse_result_file,
    snapshot_from,
)

__all__ = ["AsyncTwins"]


class AsyncTwins:
    """Mixin: the ``a``-prefixed methods. Needs ``async_client()`` and ``_secrets()``."""

    _async: Any
    # Provided by OpenAIProvider; declared here so the mixin type-checks on its own.
    async_client: Callable[[], Any]
    _secrets: Callable[[], tuple[str, ...]]

    async def acreate(self, request: CreateRequest) -> JobSnapshot:
        """Async twin of ``create`` (SDK retries off, as there)."""
        params = create_params(request)
        with translating(self._secrets()):
            client = self.async_client().with_options(max_retries=0)
            job = await client.fine_tuning.jobs.create(**params)
        return snapshot_from(job)

    async def aget(self, job_id: str) -> JobSnapshot:
        """Async twin of ``get``."""
        with translating(self._secrets()):
            return snapshot_from(await self.async_client().fine_tuning.jobs.retrieve(job_id))

    async def alist(self, *, limit: int = 20, metadata: dict[str, str] | None = None) -> list[JobSnapshot]:
        """Async twin of ``list``."""
        jobs = self.async_client().fine_tuning.jobs
        out: list[JobSnapshot] = []
        after: str | None = None
        with translating(self._secrets()):
            while len(out) < limit:
                page = await jobs.list(**page_kwargs(after, min(PAGE, limit - len(out)), metadata))
                out.extend(snapshot_from(j) for j in page.data)
                if not page.has_more or not page.data or page.data[-1].id == after:
                    break  # the last test guards against a server repeating a page
                after = page.data[-1].id
        return out[:limit]

    async def acancel(self, job_id: str) -> JobSnapshot:
        """Async twin of ``cancel`` (idempotent the same way)."""
        try:
            with translating(self._secrets()):
                return snapshot_from(await self.async_client().fine_tuning.jobs.cancel(job_id))
        except InvalidRequestError:
            snap = await self.aget(job_id)
            if snap.status.terminal:
                return snap
            raise

    async def aevents(self, job_id: str, *, limit: int = 100) -> list[JobEvent]:
        """Async twin of ``events``."""
        jobs = self.async_client().fine_tuning.jobs
        raw: list[Any] = []
        after: str | None = None
        with translating(self._secrets()):
            while len(raw) < limit:
                kwargs = page_kwargs(after, min(PAGE, limit - len(raw)))
                page = await jobs.list_events(job_id, **kwargs)
                raw.extend(page.data)
                if not page.has_more or not page.data or page.data[-1].id == after:
                    break  # the last test guards against a server repeating a page
                after = page.data[-1].id
        return oldest_first([event_from(e) for e in raw[:limit]])

    async def acheckpoints(self, job_id: str) -> list[Checkpoint]:
        """Async twin of ``checkpoints``."""
        pages = self.async_client().fine_tuning.jobs.checkpoints
        raw: list[Any] = []
        after: str | None = None
        with translating(self._secrets()):
            while True:
                page = await pages.list(job_id, **page_kwargs(after, PAGE))
                raw.extend(page.data)
                if not page.has_more or not page.data or page.data[-1].id == after:
                    break  # the last test guards against a server repeating a page
                after = page.data[-1].id
        return sorted((checkpoint_from(c) for c in raw), key=lambda c: c.step or 0)

    async def ametrics(self, job_id: str) -> list[Metric]:
        """Async twin of ``metrics``."""
        snap = await self.aget(job_id)
        result_files = (snap.raw or {}).get("result_files") or []
        if result_files:
            with translating(self._secrets()):
                response = await self.async_client().files.content(result_files[0])
                content = response.read()
            return parse_result_file(content)
        return metrics_from_events(await self.aevents(job_id, limit=10_000))

    async def afind_by_idempotency_key(self, key: str, *, limit: int = 50) -> JobSnapshot | None:
        """Async twin of ``find_by_idempotency_key``."""
        for snap in await self.alist(limit=limit, metadata={IDEMPOTENCY_METADATA_KEY: key}):
            if snap.metadata.get(IDEMPOTENCY_METADATA_KEY) == key:
                return snap
        return None

    async def aclose(self) -> None:
        """Close both clients."""
        self.close()  # type: ignore[attr-defined]
        if self._async is not None:
            await self._async.close()
            self._async = None
