"""Async twins of :class:`OpenAIProvider`'s network methods on ``openai.AsyncOpenAI``.

They mirror the sync methods line for line and share every request builder and response
mapper (:mod:`._mapping`), so the two cannot disagree on what a job looks like. The
client per event loop, ``acancel``, ``afind_by_idempotency_key`` and ``aclose`` come from
:class:`~anytune.provider.SDKProvider`. ``aupload`` is not here: uploading is file I/O,
and the base class runs the sync ``upload`` in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from anytune.provider import ChatReply, Checkpoint, CreateRequest, JobEvent, JobSnapshot, Metric, SDKProvider
from anytune_openai._chat import chat_params, reply_from
from anytune_openai._mapping import (
    PAGE,
    checkpoint_from,
    create_params,
    event_from,
    metrics_from_events,
    oldest_first,
    page_items,
    page_kwargs,
    parse_result_file,
    snapshot_from,
)

__all__ = ["AsyncTwins"]

Page = tuple[Sequence[Any], "str | None"]


class AsyncTwins(SDKProvider):
    """The ``a``-prefixed methods of :class:`OpenAIProvider`."""

    async def acreate(self, request: CreateRequest) -> JobSnapshot:
        """Async twin of ``create`` (SDK retries off, as there)."""
        params = create_params(request)
        with self.translating("create"):
            client = (await self.async_client()).with_options(max_retries=0)
            job = await client.fine_tuning.jobs.create(**params)
        return snapshot_from(job)

    async def aget(self, job_id: str) -> JobSnapshot:
        """Async twin of ``get``."""
        with self.translating("get"):
            return snapshot_from(await (await self.async_client()).fine_tuning.jobs.retrieve(job_id))

    async def alist(self, *, limit: int = 20, metadata: dict[str, str] | None = None) -> list[JobSnapshot]:
        """Async twin of ``list``."""
        jobs = (await self.async_client()).fine_tuning.jobs

        async def fetch(after: str | None, n: int) -> Page:
            return page_items(await jobs.list(**page_kwargs(after, n, metadata)))

        with self.translating("list"):
            found = await self.apaginate(fetch, limit=limit, page_size=PAGE)
        return [snapshot_from(j) for j in found]

    async def asend_cancel(self, job_id: str) -> JobSnapshot:
        """Async twin of ``send_cancel``."""
        return snapshot_from(await (await self.async_client()).fine_tuning.jobs.cancel(job_id))

    async def aevents(self, job_id: str, *, limit: int = 100) -> list[JobEvent]:
        """Async twin of ``events``."""
        jobs = (await self.async_client()).fine_tuning.jobs

        async def fetch(after: str | None, n: int) -> Page:
            return page_items(await jobs.list_events(job_id, **page_kwargs(after, n)))

        with self.translating("events"):
            raw = await self.apaginate(fetch, limit=limit, page_size=PAGE)
        return oldest_first([event_from(e) for e in raw])

    async def acheckpoints(self, job_id: str) -> list[Checkpoint]:
        """Async twin of ``checkpoints``."""
        pages = (await self.async_client()).fine_tuning.jobs.checkpoints

        async def fetch(after: str | None, n: int) -> Page:
            return page_items(await pages.list(job_id, **page_kwargs(after, n)))

        with self.translating("checkpoints"):
            raw = await self.apaginate(fetch, limit=None, page_size=PAGE)
        return sorted((checkpoint_from(c) for c in raw), key=lambda c: c.step or 0)

    async def ametrics(self, job_id: str) -> list[Metric]:
        """Async twin of ``metrics``."""
        snap = await self.aget(job_id)
        result_files = (snap.raw or {}).get("result_files") or []
        if result_files:
            with self.translating("metrics"):
                response = await (await self.async_client()).files.content(result_files[0])
                content = response.read()
            return parse_result_file(content)
        return metrics_from_events(await self.aevents(job_id, limit=10_000))

    async def achat(
        self, model: str, messages: list[dict[str, Any]], *, base_model: str | None = None, **params: Any,
    ) -> ChatReply:
        """Async twin of ``chat``."""
        client = await self.async_client()
        with self.translating("chat"):
            resp = await client.chat.completions.create(**chat_params(model, messages, params))
        return reply_from(resp)
