"""Async twins of :class:`VertexProvider`'s network methods on google-genai's async
surface (``Client.aio.tunings``).

They mirror the sync methods line for line and share every request builder, response
mapper (:mod:`._mapping`) and policy (:mod:`._rules`: read retries honouring
``Retry-After``, list order, cancel of an ended job, the idempotency label), so sync and
async cannot disagree. ``acreate`` is sent once, as ``create`` is: google-genai's retries
stay off (its default; ``_clients.genai_client`` sets none). ``aupload`` is not here:
google-cloud-storage is sync, so the base class runs ``upload`` (with its byte progress)
in a worker thread.

Event loops: an async client's connections belong to the loop that opened them (recent
google-genai keeps a pool per loop itself, older releases do not), so each running loop
gets its own google-genai client; those of closed loops are dropped. Two ``asyncio.run``
calls on one provider therefore each get a working client.
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from anytune.errors import ConflictError, InvalidRequestError
from anytune.provider import Checkpoint, CreateRequest, JobEvent, JobSnapshot
from anytune_vertex import _catalog, _rules
from anytune_vertex._errors import translating
from anytune_vertex._mapping import checkpoints_from, events_from, snapshot_from, tune_arguments

__all__ = ["AsyncTwins"]

T = TypeVar("T")


class AsyncTwins:
    """Mixin: the ``a``-prefixed methods (``aupload`` excepted)."""

    # Provided by VertexProvider; declared here so the mixin type-checks on its own.
    config: dict[str, Any]
    retry_base_delay: float
    _aio: dict[Any, Any]
    _new_genai: Callable[[], Any]
    _secrets: Callable[[], tuple[str, ...]]
    close: Callable[[], None]

    async def async_client(self) -> Any:
        """google-genai's async client (``Client.aio``) of the running event loop, created
        on first use there. Building it imports google-genai (~0.5 s) and, the first time,
        reads the credentials (a key file, or ADC asking the metadata server): blocking
        work, done once per loop in a worker thread so the loop is not stalled.
        Missing credentials raise :class:`MissingCredentialsError` as in sync."""
        import asyncio  # lazily, as the core does: sync users never pay for it

        loop = asyncio.get_running_loop()
        aio = self._aio.get(loop)
        if aio is None:
            built = await asyncio.to_thread(self._new_genai)
            # Another task of this loop may have built one meanwhile: keep a single one.
            aio = self._aio.get(loop) or built.aio
            for stale in [lp for lp in self._aio if lp.is_closed()]:
                del self._aio[stale]  # its pool died with its loop; let it be collected
            self._aio[loop] = aio
        return aio

    async def _aread(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        """Async twin of ``_read``: ``fn(client.aio)``, retried by the same policy."""
        import asyncio

        attempts = _rules.attempts(self.config)
        for attempt in range(attempts):
            try:
                with translating(self._secrets()):
                    return await fn(await self.async_client())
            except _rules.TRANSIENT as exc:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(_rules.retry_delay(self.retry_base_delay, attempt, exc))
        raise AssertionError("unreachable")  # pragma: no cover

    async def acreate(self, request: CreateRequest) -> JobSnapshot:
        """Async twin of ``create``: sent once."""
        kwargs = tune_arguments(request, _catalog.adapter_sizes(request.model))
        with translating(self._secrets()):
            aio = await self.async_client()
            with warnings.catch_warnings():
                # tunings.tune is marked experimental; it warns when called, before any
                # await, so the filter is never left changed while other tasks run.
                warnings.simplefilter("ignore")
                sending = aio.tunings.tune(**kwargs)
            job = await sending
        return snapshot_from(job)

    async def _aget_raw(self, job_id: str) -> Any:
        return await self._aread(lambda aio: aio.tunings.get(name=job_id))

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

        return _rules.newest_first((snapshot_from(j) for j in await self._aread(fetch)), limit)

    async def acancel(self, job_id: str) -> JobSnapshot:
        """Async twin of ``cancel`` (idempotent the same way)."""
        try:
            await self._aread(lambda aio: aio.tunings.cancel(name=job_id))
        except (InvalidRequestError, ConflictError):
            snap = await self.aget(job_id)
            if _rules.cancel_is_moot(snap):
                return snap
            raise
        return await self.aget(job_id)

    async def aevents(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """Async twin of ``events`` (derived from the job)."""
        return events_from(await self._aget_raw(job_id))[-limit:]

    async def acheckpoints(self, job_id: str) -> builtins.list[Checkpoint]:
        """Async twin of ``checkpoints``."""
        return checkpoints_from(await self._aget_raw(job_id))

    async def afind_by_idempotency_key(self, key: str, *, limit: int = 50) -> JobSnapshot | None:
        """Async twin of ``find_by_idempotency_key``."""
        return next((s for s in await self.alist(limit=limit) if _rules.holds_key(s, key)), None)

    async def aclose(self) -> None:
        """Close the sync clients and the running loop's async client. Clients of other
        loops are dropped: their connections cannot be closed from this loop."""
        import asyncio

        clients, self._aio = self._aio, {}
        self.close()
        aio = clients.get(asyncio.get_running_loop())
        close = getattr(aio, "aclose", None)  # absent in older google-genai
        if close is not None:
            await close()
