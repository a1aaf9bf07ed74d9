"""Async twins of :class:`TogetherProvider`'s network methods on ``together.AsyncTogether``.

They mirror the sync methods line for line and share every request builder, response
mapper (:mod:`._mapping`) and create step (:mod:`._create`), so the two cannot disagree
on what a job looks like. ``aupload`` is not here: uploading is file I/O with byte
progress, and the base class runs the sync ``upload`` in a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from anytune.errors import InvalidRequestError, ProviderError
from anytune.provider import Checkpoint, CreateRequest, JobEvent, JobSnapshot, Metric
from anytune_together._create import (
    accepted_estimate,
    creating,
    estimate_kwargs,
    prepared_params,
    with_estimate,
    with_lora_settings,
)
from anytune_together._errors import translating
from anytune_together._mapping import (
    TAG_METADATA_KEY,
    checkpoint_from,
    event_from,
    idempotency_tag,
    metrics_from,
    snapshot_from,
)

__all__ = ["AsyncTwins"]

log = logging.getLogger("anytune.together")


class AsyncTwins:
    """Mixin: the ``a``-prefixed methods. Needs ``async_client()`` and ``_secrets()``."""

    _async: Any
    _async_loop: Any
    # Provided by TogetherProvider; declared here so the mixin type-checks on its own.
    async_client: Callable[[], Any]
    _secrets: Callable[[], tuple[str, ...]]

    async def avendor_estimate(self, request: CreateRequest) -> dict[str, Any] | None:
        """Async twin of ``vendor_estimate``."""
        kwargs = estimate_kwargs(request)
        with translating(self._secrets()):
            return accepted_estimate(await self.async_client().fine_tuning.estimate_price(**kwargs))

    async def acreate(self, request: CreateRequest) -> JobSnapshot:
        """Async twin of ``create`` (SDK retries off, as there)."""
        params = prepared_params(request)
        estimate = None
        try:
            estimate = await self.avendor_estimate(request)
        except ProviderError as exc:  # "when reachable": the job does not depend on it
            log.info("together: estimate-price unavailable (%s)", type(exc).__name__)
        with translating(self._secrets()):  # the limits the SDK would fetch, read once here
            limits = await self.async_client().fine_tuning.model_limits(model_name=request.model)
        params = with_lora_settings(params, limits, request.model)
        with creating(self._secrets(), request):  # redacts the job's W&B key too
            job = await self.async_client().with_options(max_retries=0).fine_tuning.create(
                **params, model_limits=limits)
        return with_estimate(snapshot_from(job), estimate)

    async def aget(self, job_id: str) -> JobSnapshot:
        """Async twin of ``get``."""
        with translating(self._secrets()):
            return snapshot_from(await self.async_client().fine_tuning.retrieve(job_id))

    async def alist(self, *, limit: int = 20) -> list[JobSnapshot]:
        """Async twin of ``list``."""
        with translating(self._secrets()):
            page = await self.async_client().fine_tuning.list()
        snaps = [snapshot_from(j) for j in page.data or []]
        snaps.sort(key=lambda s: s.created_at.timestamp() if s.created_at else 0.0, reverse=True)
        return snaps[:limit]

    async def acancel(self, job_id: str) -> JobSnapshot:
        """Async twin of ``cancel`` (idempotent the same way)."""
        try:
            with translating(self._secrets()):
                return snapshot_from(await self.async_client().fine_tuning.cancel(job_id))
        except InvalidRequestError:
            snap = await self.aget(job_id)
            if snap.status.terminal:
                return snap
            raise

    async def aevents(self, job_id: str, *, limit: int = 100) -> list[JobEvent]:
        """Async twin of ``events``."""
        with translating(self._secrets()):
            page = await self.async_client().fine_tuning.list_events(job_id)
        events = sorted((event_from(e) for e in page.data or []), key=lambda e: e.created_at)
        return events[-limit:] if limit else []

    async def acheckpoints(self, job_id: str) -> list[Checkpoint]:
        """Async twin of ``checkpoints``."""
        with translating(self._secrets()):
            page = await self.async_client().fine_tuning.list_checkpoints(job_id)
        return sorted((checkpoint_from(job_id, c) for c in page.data or []), key=lambda c: c.step or 0)

    async def ametrics(self, job_id: str) -> list[Metric]:
        """Async twin of ``metrics``."""
        with translating(self._secrets()):
            answer = await self.async_client().fine_tuning.list_metrics(job_id)
        return metrics_from(list(answer.metrics or []))

    async def afind_by_idempotency_key(self, key: str, *, limit: int = 50) -> JobSnapshot | None:
        """Async twin of ``find_by_idempotency_key``."""
        tag = idempotency_tag(key)
        for snap in await self.alist(limit=limit):
            if snap.metadata.get(TAG_METADATA_KEY) == tag:
                return snap
        return None

    async def aclose(self) -> None:
        """Close both clients. An async client of another (ended) loop is only dropped:
        its connections cannot be closed from this one."""
        import asyncio

        self.close()  # type: ignore[attr-defined]
        client, loop = self._async, self._async_loop
        self._async = self._async_loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.close()
