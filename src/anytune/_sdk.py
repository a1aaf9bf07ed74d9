"""``SDKProvider``: the base of providers built on a vendor's SDK (public as
``anytune.provider.SDKProvider``).

The three cloud providers wrapped the same plumbing around three SDKs: a sync client made
on first use, one async client per running event loop, the secrets to scrub, close and
aclose, a cancel that is no error once the job has ended, cursor pagination, read
retries, SDK models read as dicts. It lives here once; a provider keeps only its vendor's
mapping, errors and quirks. A subclass implements:

* :meth:`make_client` (and :meth:`make_async_client` for native async twins): build the
  SDK's clients. Called on the first network call, so credentials are read there; use
  :meth:`api_key` for a key-shaped credential (it raises ``MissingCredentialsError``).
* :meth:`sdk_errors` and :meth:`map_error`: the SDK's exception roots and the one place
  that maps them (by type and status code) onto :mod:`anytune.errors`. Network code runs
  inside ``with self.translating("get"):``.
* :meth:`send_cancel` / :meth:`asend_cancel`: the vendor's cancel call; :meth:`cancel`
  and :meth:`acancel` make it idempotent.

Everything a provider retries itself waits by the one backoff policy,
:class:`~anytune.provider.Backoff` (``read_backoff`` here); a vendor SDK that retries on
its own (openai, together) keeps its retries for reads, and the provider then does not
call :meth:`retrying`.
"""

from __future__ import annotations

import builtins
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from anytune._errors import (
    AnytuneError,
    InvalidRequestError,
    MissingCredentialsError,
    NotFoundError,
    ProviderError,
)
from anytune._log import redact, remember_secret
from anytune._polling import TRANSIENT, Backoff
from anytune._sdk_helpers import Pager, as_dict, status_error, vendor_message
from anytune._types import JobSnapshot, JobStatus
from anytune.provider import Provider

if TYPE_CHECKING:
    import asyncio

__all__ = ["Pager", "SDKProvider", "as_dict", "status_error", "vendor_message"]  # helpers re-exported

T = TypeVar("T")
_EPOCH_KEY = 0.0


class SDKProvider(Provider):
    """Base class of a provider on a vendor SDK (see the module docstring)."""

    #: The environment variable read for the ``api_key`` setting when it is not given
    #: (``OPENAI_API_KEY``); empty for a provider without a key-shaped credential.
    api_key_env: ClassVar[str] = ""
    #: The SDK's sync and async client classes as ``"module:Class"`` (imported on first
    #: use), made with :meth:`client_kwargs`; or override :meth:`make_client`.
    sdk_clients: ClassVar[tuple[str, str] | None] = None
    #: What a refused cancel raises when the job may simply have ended already (the
    #: vendor's 400/409); :meth:`cancel` then returns the ended job instead.
    cancel_refusals: ClassVar[tuple[type[BaseException], ...]] = (InvalidRequestError,)
    #: Retries of :meth:`retrying` when the ``max_retries`` setting is not given.
    default_read_retries: ClassVar[int] = 3
    #: The backoff between those retries (a test may shorten it on the instance).
    read_backoff: Backoff = Backoff(initial=0.5, factor=2.0, cap=30.0, jitter=0.5)

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._sync: Any = None
        self._async_clients: dict[asyncio.AbstractEventLoop, Any] = {}

    # --- hooks a provider implements ---------------------------------------------------
    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the SDK's client classes (credentials read here)."""
        return {}

    def make_client(self) -> Any:
        """A new sync SDK client (``sdk_clients[0]`` with :meth:`client_kwargs`)."""
        return self._sdk_class(0)(**self.client_kwargs())

    def make_async_client(self) -> Any:
        """A new async SDK client (called in a worker thread, once per event loop)."""
        return self._sdk_class(1)(**self.client_kwargs())

    def _sdk_class(self, which: int) -> Any:
        import importlib

        if self.sdk_clients is None:
            raise NotImplementedError(f"{type(self).__name__}: set sdk_clients or override make_client")
        module, _, name = self.sdk_clients[which].partition(":")
        return getattr(importlib.import_module(module), name)

    def given(self, *names: str) -> dict[str, Any]:
        """The settings among ``names`` that were given (for :meth:`client_kwargs`)."""
        return {n: self.config[n] for n in names if self.config.get(n) is not None}

    def sdk_errors(self) -> tuple[type[BaseException], ...]:
        """The SDK's exception classes that :meth:`map_error` translates."""
        return ()

    def map_error(self, exc: BaseException, *, secrets: tuple[str, ...]) -> AnytuneError:
        """The anytune error for an SDK exception (the provider's one mapping place)."""
        return ProviderError(redact(f"{type(exc).__name__}: {exc}", secrets), provider=self.name)

    def send_cancel(self, job_id: str) -> JobSnapshot | None:
        """Ask the vendor to cancel; the job as it answers, or ``None`` to read it again."""
        raise NotImplementedError(f"{type(self).__name__}.send_cancel")

    async def asend_cancel(self, job_id: str) -> JobSnapshot | None:
        """Async twin of :meth:`send_cancel` (default: the sync one in a worker thread)."""
        return await self._in_thread(self.send_cancel, job_id)

    def fetch_upload(self, file_ref: str) -> bool:
        """Ask the vendor for an uploaded file: ``False`` (or ``NotFoundError``) when it
        is gone. Default: ``True``, the record is trusted."""
        return True

    def idempotency_filter(self, key: str) -> dict[str, Any]:
        """Extra arguments of :meth:`list` that narrow it to the job of ``key``, where the
        vendor can filter (OpenAI's ``metadata``)."""
        return {}

    def holds_idempotency_key(self, snap: JobSnapshot, key: str) -> bool:
        """Whether ``snap`` is the job created with ``key``."""
        return snap.metadata.get("anytune_idempotency_key") == key

    # --- credentials and secrets -------------------------------------------------------
    def api_key(self) -> str:
        """The ``api_key`` setting, else ``$api_key_env``; ``MissingCredentialsError`` naming
        both when neither is set."""
        key = self._given_key()
        if not key:
            raise MissingCredentialsError(self.name, env_var=self.api_key_env, argument="api_key")
        return key

    def _given_key(self) -> str:
        import os

        from_env = os.environ.get(self.api_key_env) if self.api_key_env else None
        return str(self.config.get("api_key") or from_env or "")

    def secrets(self) -> tuple[str, ...]:
        """The secret values this provider may send, scrubbed from every error it raises:
        secret settings and the key from the environment."""
        found = [str(v) for k, v in self.config.items() if k in self.secret_names and isinstance(v, str)]
        key = self._given_key()
        return tuple(dict.fromkeys([*found, *([key] if key else [])]))

    # --- clients --------------------------------------------------------------------------
    def client(self) -> Any:
        """The sync SDK client (made on first use; its secrets are registered so that the
        SDK's own log records are redacted too)."""
        if self._sync is None:
            with self.translating("connect"):
                self._sync = self.make_client()
            remember_secret(*self.secrets())
        return self._sync

    async def async_client(self) -> Any:
        """The async SDK client of the running event loop. Its connections belong to that
        loop, so each loop gets its own, and those of closed loops are dropped. Making one
        imports the SDK and reads credentials (blocking work): done in a worker thread."""
        import asyncio

        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            with self.translating("connect"):
                built = await asyncio.to_thread(self.make_async_client)
            remember_secret(*self.secrets())
            # Another task of this loop may have made one meanwhile: keep a single one.
            client = self._async_clients.get(loop) or built
            for stale in [lp for lp in self._async_clients if lp.is_closed()]:
                del self._async_clients[stale]
            self._async_clients[loop] = client
        return client

    def close(self) -> None:
        """Close the sync client. Async clients are only dropped: their connections can be
        closed from their own loop alone (:meth:`aclose`)."""
        client, self._sync = self._sync, None
        closer = getattr(client, "close", None)
        if callable(closer):
            closer()
        self._async_clients = {}

    async def aclose(self) -> None:
        """Close the sync client and the running loop's async client; drop the others."""
        import asyncio
        import inspect

        client = self._async_clients.get(asyncio.get_running_loop())
        self.close()
        closer = getattr(client, "aclose", None) or getattr(client, "close", None)
        if callable(closer):
            result = closer()
            if inspect.isawaitable(result):
                await result

    # --- errors ---------------------------------------------------------------------------
    def _map(self, exc: BaseException, operation: str, extra_secrets: tuple[str, ...] = ()) -> AnytuneError:
        """The anytune error for ``exc`` raised while doing ``operation``."""
        error = self.map_error(exc, secrets=(*self.secrets(), *extra_secrets))
        if isinstance(error, ProviderError) and error.operation is None:
            error.operation = operation
        return error

    @contextlib.contextmanager
    def translating(self, operation: str, *extra_secrets: str) -> Iterator[None]:
        """Run a block of SDK calls (``await`` included); re-raise the SDK's errors as
        anytune errors, scrubbed of this provider's secrets and ``extra_secrets``."""
        try:
            yield
        except AnytuneError:
            raise
        except self.sdk_errors() as exc:
            raise self._map(exc, operation, extra_secrets) from None

    # --- retries of reads (one policy: read_backoff) --------------------------------------
    def read_attempts(self) -> int:
        """How many times :meth:`retrying` sends a read: once plus ``max_retries``."""
        return int(self.config.get("max_retries", self.default_read_retries)) + 1

    def retrying(self, operation: str, fn: Callable[[], T]) -> T:
        """``fn()`` under :meth:`translating`, sent again after 429, 5xx, timeouts and
        dropped connections (waiting by ``read_backoff``, ``Retry-After`` a floor). For
        reads only: never around a request that creates something."""
        attempts = self.read_attempts()
        for attempt in range(attempts):
            try:
                with self.translating(operation):
                    return fn()
            except TRANSIENT as exc:
                if attempt == attempts - 1:
                    raise
                time.sleep(self.read_backoff.retry_delay(attempt, exc))
        raise AssertionError("unreachable")  # pragma: no cover

    async def aretrying(self, operation: str, fn: Callable[[Any], Awaitable[T]]) -> T:
        """Async twin of :meth:`retrying`: ``await fn(async client)``, same policy."""
        import asyncio

        attempts = self.read_attempts()
        for attempt in range(attempts):
            try:
                with self.translating(operation):
                    return await fn(await self.async_client())
            except TRANSIENT as exc:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(self.read_backoff.retry_delay(attempt, exc))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- idempotent cancel ----------------------------------------------------------------
    @staticmethod
    def cancel_is_moot(snap: JobSnapshot) -> bool:
        """Whether a refused cancel is no error: the job has ended or is cancelling."""
        return snap.status.terminal or snap.status is JobStatus.CANCELLING

    def cancel(self, job_id: str) -> JobSnapshot:
        """Cancel the job. Idempotent: cancelling a job that has ended (or is cancelling)
        returns it as it is, where vendors refuse (a lost answer resent, a job that
        finished first)."""
        try:
            with self.translating("cancel"):
                snap = self.send_cancel(job_id)
        except self.cancel_refusals:
            snap = self.get(job_id)
            if self.cancel_is_moot(snap):
                return snap
            raise
        return snap if snap is not None else self.get(job_id)

    async def acancel(self, job_id: str) -> JobSnapshot:
        """Async twin of :meth:`cancel` (idempotent the same way)."""
        try:
            with self.translating("cancel"):
                snap = await self.asend_cancel(job_id)
        except self.cancel_refusals:
            snap = await self.aget(job_id)
            if self.cancel_is_moot(snap):
                return snap
            raise
        return snap if snap is not None else await self.aget(job_id)

    # --- uploads and idempotency keys ---------------------------------------------------
    def upload_exists(self, file_ref: str) -> bool:
        """Whether the vendor still holds the file (:meth:`fetch_upload`; 404: gone)."""
        try:
            with self.translating("upload_exists"):
                return self.fetch_upload(file_ref)
        except NotFoundError:
            return False

    def find_by_idempotency_key(self, key: str, *, limit: int = 50) -> JobSnapshot | None:
        """The recent job created with ``key`` (:meth:`holds_idempotency_key`)."""
        found = self.list(limit=limit, **self.idempotency_filter(key))
        return next((s for s in found if self.holds_idempotency_key(s, key)), None)

    async def afind_by_idempotency_key(self, key: str, *, limit: int = 50) -> JobSnapshot | None:
        """Async twin of :meth:`find_by_idempotency_key`."""
        found = await self.alist(limit=limit, **self.idempotency_filter(key))
        return next((s for s in found if self.holds_idempotency_key(s, key)), None)

    # --- listing helpers --------------------------------------------------------------------
    @staticmethod
    def paginate(fetch: Callable[[str | None, int], tuple[Sequence[T], str | None]], *,
                 limit: int | None, page_size: int) -> builtins.list[T]:
        """Items of a cursor-paged listing: ``fetch(cursor, size)`` answers one page's
        items and the next cursor (``None`` on the last page). See :class:`Pager`."""
        pager: Pager[T] = Pager(limit=limit, page_size=page_size)
        while (request := pager.request()) is not None:
            pager.receive(*fetch(*request))
        return pager.items

    @staticmethod
    async def apaginate(fetch: Callable[[str | None, int], Awaitable[tuple[Sequence[T], str | None]]], *,
                        limit: int | None, page_size: int) -> builtins.list[T]:
        """Async twin of :meth:`paginate`."""
        pager: Pager[T] = Pager(limit=limit, page_size=page_size)
        while (request := pager.request()) is not None:
            pager.receive(*await fetch(*request))
        return pager.items

    @staticmethod
    def newest_first(snaps: Iterable[JobSnapshot], limit: int) -> builtins.list[JobSnapshot]:
        """At most ``limit`` snapshots, newest first (for vendors that list in any order)."""
        ordered = sorted(snaps, key=lambda s: s.created_at.timestamp() if s.created_at else _EPOCH_KEY,
                         reverse=True)
        return ordered[:limit]

    as_dict = staticmethod(as_dict)
