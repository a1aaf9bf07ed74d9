"""The default async twins of the provider SPI: each runs its sync method in a worker
thread, so a provider is complete with the sync methods alone. A provider with a native
async client overrides them. Mixed into :class:`anytune.provider.Provider`."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from anytune._chat import ChatReply
    from anytune._types import Checkpoint, CreateRequest, JobEvent, JobSnapshot, Metric

__all__ = ["ThreadedTwins"]

T = TypeVar("T")


class _Sync(Protocol):
    """The sync methods the twins call (all defined on ``Provider``)."""

    async def _in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...
    def upload(self, path: Path, *, purpose: str) -> str: ...
    def create(self, request: CreateRequest) -> JobSnapshot: ...
    def get(self, job_id: str) -> JobSnapshot: ...
    def list(self, *, limit: int = 20) -> builtins.list[JobSnapshot]: ...
    def cancel(self, job_id: str) -> JobSnapshot: ...
    def events(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]: ...
    def metrics(self, job_id: str) -> builtins.list[Metric]: ...
    def checkpoints(self, job_id: str) -> builtins.list[Checkpoint]: ...
    def download(self, job_id: str, output_dir: Path) -> Path: ...
    def export_merged(self, job_id: str, output_dir: Path) -> Path: ...
    def find_by_idempotency_key(self, key: str, *, limit: int = 50) -> JobSnapshot | None: ...
    def upload_exists(self, file_ref: str) -> bool: ...
    def chat(self, model: str, messages: builtins.list[dict[str, Any]], *, base_model: str | None = None,
             **params: Any) -> ChatReply: ...
    def close(self) -> None: ...


class ThreadedTwins:
    """The async twin of every network method (``acreate`` for ``create``, ...)."""

    async def _in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        import asyncio  # lazily: asyncio is a large import that sync users never need

        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))

    async def aupload(self: _Sync, path: Path, *, purpose: str) -> str:
        """Async twin of :meth:`upload`."""
        return await self._in_thread(self.upload, path, purpose=purpose)

    async def acreate(self: _Sync, request: CreateRequest) -> JobSnapshot:
        """Async twin of :meth:`create`."""
        return await self._in_thread(self.create, request)

    async def aget(self: _Sync, job_id: str) -> JobSnapshot:
        """Async twin of :meth:`get`."""
        return await self._in_thread(self.get, job_id)

    async def alist(self: _Sync, *, limit: int = 20) -> builtins.list[JobSnapshot]:
        """Async twin of :meth:`list`."""
        return await self._in_thread(self.list, limit=limit)

    async def acancel(self: _Sync, job_id: str) -> JobSnapshot:
        """Async twin of :meth:`cancel`."""
        return await self._in_thread(self.cancel, job_id)

    async def aevents(self: _Sync, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """Async twin of :meth:`events`."""
        return await self._in_thread(self.events, job_id, limit=limit)

    async def ametrics(self: _Sync, job_id: str) -> builtins.list[Metric]:
        """Async twin of :meth:`metrics`."""
        return await self._in_thread(self.metrics, job_id)

    async def acheckpoints(self: _Sync, job_id: str) -> builtins.list[Checkpoint]:
        """Async twin of :meth:`checkpoints`."""
        return await self._in_thread(self.checkpoints, job_id)

    async def adownload(self: _Sync, job_id: str, output_dir: Path) -> Path:
        """Async twin of :meth:`download`."""
        return await self._in_thread(self.download, job_id, output_dir)

    async def aexport_merged(self: _Sync, job_id: str, output_dir: Path) -> Path:
        """Async twin of :meth:`export_merged`."""
        return await self._in_thread(self.export_merged, job_id, output_dir)

    async def afind_by_idempotency_key(self: _Sync, key: str, *, limit: int = 50) -> JobSnapshot | None:
        """Async twin of :meth:`find_by_idempotency_key`."""
        return await self._in_thread(self.find_by_idempotency_key, key, limit=limit)

    async def aupload_exists(self: _Sync, file_ref: str) -> bool:
        """Async twin of :meth:`upload_exists`."""
        return await self._in_thread(self.upload_exists, file_ref)

    async def achat(
        self: _Sync, model: str, messages: builtins.list[dict[str, Any]], *, base_model: str | None = None,
        **params: Any,
    ) -> ChatReply:
        """Async twin of :meth:`chat`."""
        return await self._in_thread(self.chat, model, messages, base_model=base_model, **params)

    async def aclose(self: _Sync) -> None:
        """Async twin of :meth:`close`."""
        self.close()
