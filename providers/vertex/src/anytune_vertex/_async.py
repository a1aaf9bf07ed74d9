"""Async twins of :class:`VertexProvider`'s network methods on google-genai's async
surface (``Client.aio.tunings``).

They mirror the sync methods line for line and share every request builder, response
mapper (:mod:`._mapping`) and policy (:mod:`._rules`; read retries, list order, cancel of
an ended job and the idempotency lookup are :class:`~anytune.provider.SDKProvider`'s), so
sync and async cannot disagree. ``acreate`` is sent once, as ``create`` is: google-genai's retries
stay off (its default; ``_clients.genai_client`` sets none). ``aupload`` is not here:
google-cloud-storage is sync, so the base class runs ``upload`` (with its byte progress)
in a worker thread.

Event loops: an async client's connections belong to the loop that opened them (recent
google-genai keeps a pool per loop itself, older releases do not), so each running loop
gets its own google-genai client (``SDKProvider.async_client``, built in a worker thread
as it reads credentials); those of closed loops are dropped. Two ``asyncio.run`` calls on
one provider therefore each get a working client.
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any

from anytune.provider import Checkpoint, CreateRequest, JobEvent, JobSnapshot, SDKProvider
from anytune_vertex import _catalog, _rules
from anytune_vertex._mapping import checkpoints_from, events_from, snapshot_from, tune_arguments

__all__ = ["AsyncTwins"]


class AsyncTwins(SDKProvider):
    """The ``a``-prefixed methods of :class:`VertexProvider` (``aupload`` excepted)."""

    async def acreate(self, request: CreateRequest) -> JobSnapshot:
        """Async twin of ``create``: sent once."""
        kwargs = tune_arguments(request, _catalog.adapter_sizes(request.model))
        aio = await self.async_client()
        with self.translating("create"):
            with warnings.catch_warnings():
                # tunings.tune is marked experimental; it warns when called, before any
                # await, so the filter is never left changed while other tasks run.
                warnings.simplefilter("ignore")
                sending = aio.tunings.tune(**kwargs)
            job = await sending
        return snapshot_from(job)

    async def _aget_raw(self, job_id: str) -> Any:
        return await self.aretrying("get", lambda aio: aio.tunings.get(name=job_id))

    async def aget(self, job_id: str) -> JobSnapshot:
        """Async twin of ``get``."""
        return snapshot_from(await self._aget_raw(job_id))

    async def alist(self, *, limit: int = 20) -> builtins.list[JobSnapshot]:
        """Async twin of ``list``: recent jobs, newest first."""

        async def fetch(aio: Any) -> builtins.list[Any]:
            out: builtins.list[Any] = []
            try:
                async for job in await aio.tunings.list(config=_rules.list_config(limit)):
                    out.append(job)
                    if len(out) >= limit:
                        break
            except IndexError:
                pass  # google-genai's pager on an empty page that still has a next token: the end
            return out

        return self.newest_first((snapshot_from(j) for j in await self.aretrying("list", fetch)), limit)

    async def asend_cancel(self, job_id: str) -> None:
        """Async twin of ``send_cancel``."""
        await self.aretrying("cancel", lambda aio: aio.tunings.cancel(name=job_id))

    async def aevents(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """Async twin of ``events`` (derived from the job)."""
        return events_from(await self._aget_raw(job_id))[-limit:]

    async def acheckpoints(self, job_id: str) -> builtins.list[Checkpoint]:
        """Async twin of ``checkpoints``."""
        return checkpoints_from(await self._aget_raw(job_id))
