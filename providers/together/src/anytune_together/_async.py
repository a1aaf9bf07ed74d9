"""Async twins of :class:`TogetherProvider`'s network methods on ``together.AsyncTogether``.

They mirror the sync methods line for line and share every request builder, response
mapper (:mod:`._mapping`) and create step (:mod:`._create`), so the two cannot disagree
on what a job looks like. The client per event loop, ``acancel``,
``afind_by_idempotency_key`` and ``aclose`` come from
:class:`~anytune.provider.SDKProvider`. ``aupload`` is not here: uploading is file I/O
with byte progress, and the base class runs the sync ``upload`` in a worker thread.
"""

from __future__ import annotations

import logging
from typing import Any

from anytune.errors import ProviderError
from anytune.provider import ChatReply, Checkpoint, CreateRequest, JobEvent, JobSnapshot, Metric, SDKProvider
from anytune_together._chat import chat_params, check_serverless, reply_from
from anytune_together._create import (
    accepted_estimate,
    creating,
    estimate_kwargs,
    prepared_params,
    with_estimate,
    with_lora_settings,
)
from anytune_together._mapping import checkpoint_from, latest_events, metrics_from, snapshot_from

__all__ = ["AsyncTwins"]

log = logging.getLogger("anytune.together")


class AsyncTwins(SDKProvider):
    """The ``a``-prefixed methods of :class:`TogetherProvider`."""

    async def avendor_estimate(self, request: CreateRequest) -> dict[str, Any] | None:
        """Async twin of ``vendor_estimate``."""
        kwargs = estimate_kwargs(request)
        client = await self.async_client()
        with self.translating("estimate"):
            return accepted_estimate(await client.fine_tuning.estimate_price(**kwargs))

    async def acreate(self, request: CreateRequest) -> JobSnapshot:
        """Async twin of ``create`` (SDK retries off, as there)."""
        params = prepared_params(request)
        estimate = None
        try:
            estimate = await self.avendor_estimate(request)
        except ProviderError as exc:  # "when reachable": the job does not depend on it
            log.info("together: estimate-price unavailable (%s)", type(exc).__name__)
        client = await self.async_client()
        with self.translating("create"):  # the limits the SDK would fetch, read once here
            limits = await client.fine_tuning.model_limits(model_name=request.model)
        params = with_lora_settings(params, limits, request.model)
        with creating(self.secrets(), request):  # redacts the job's W&B key too
            job = await client.with_options(max_retries=0).fine_tuning.create(**params, model_limits=limits)
        return with_estimate(snapshot_from(job), estimate)

    async def aget(self, job_id: str) -> JobSnapshot:
        """Async twin of ``get``."""
        client = await self.async_client()
        with self.translating("get"):
            return snapshot_from(await client.fine_tuning.retrieve(job_id))

    async def alist(self, *, limit: int = 20) -> list[JobSnapshot]:
        """Async twin of ``list``."""
        client = await self.async_client()
        with self.translating("list"):
            page = await client.fine_tuning.list()
        return self.newest_first((snapshot_from(j) for j in page.data or []), limit)

    async def asend_cancel(self, job_id: str) -> JobSnapshot:
        """Async twin of ``send_cancel``."""
        return snapshot_from(await (await self.async_client()).fine_tuning.cancel(job_id))

    async def aevents(self, job_id: str, *, limit: int = 100) -> list[JobEvent]:
        """Async twin of ``events``."""
        client = await self.async_client()
        with self.translating("events"):
            page = await client.fine_tuning.list_events(job_id)
        return latest_events(page, limit)

    async def acheckpoints(self, job_id: str) -> list[Checkpoint]:
        """Async twin of ``checkpoints``."""
        client = await self.async_client()
        with self.translating("checkpoints"):
            page = await client.fine_tuning.list_checkpoints(job_id)
        return sorted((checkpoint_from(job_id, c) for c in page.data or []), key=lambda c: c.step or 0)

    async def ametrics(self, job_id: str) -> list[Metric]:
        """Async twin of ``metrics``."""
        client = await self.async_client()
        with self.translating("metrics"):
            answer = await client.fine_tuning.list_metrics(job_id)
        return metrics_from(list(answer.metrics or []))

    async def achat(
        self, model: str, messages: list[dict[str, Any]], *, base_model: str | None = None, **params: Any,
    ) -> ChatReply:
        """Async twin of ``chat``."""
        check_serverless(model, base_model)
        client = await self.async_client()
        with self.translating("chat"):
            resp = await client.chat.completions.create(**chat_params(model, messages, params))
        return reply_from(resp)
