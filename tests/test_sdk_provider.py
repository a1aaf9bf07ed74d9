"""``SDKProvider``, the base of the providers built on a vendor SDK, and ``Backoff``, the
one backoff policy.

The behaviour users see is checked on the three real cloud providers against their
emulators (errors name the operation and hold no key, a second ``asyncio.run`` gets a
working client, close/aclose). The base's own bookkeeping (pagination stops, retries,
the client per loop, cancel) is checked with a tiny SDK-like client where the vendor
would only add noise: the fakes record calls, and the assertions are about what the
base does with them.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from anytune import NotFoundError
from anytune.errors import (
    AnytuneError,
    InvalidRequestError,
    MissingCredentialsError,
    ProviderError,
    RateLimitError,
    ServerError,
    redact,
    status_error_class,
)
from anytune.provider import Backoff, JobSnapshot, JobStatus, Pager, SDKProvider, as_dict
from anytune.testing import running_emulator

CLOUD = ("openai", "together", "vertex")


# --- the one backoff policy --------------------------------------------------------------
def test_backoff_honours_retry_after_as_a_floor_up_to_its_bound() -> None:
    b = Backoff(initial=1.0, factor=2.0, cap=8.0, jitter=0.0, max_retry_after=60.0)
    slow = RateLimitError("slow down", provider="x", status_code=429, retry_after=30.0)
    hostile = RateLimitError("come back tomorrow", provider="x", status_code=429, retry_after=86_400.0)
    assert [b.retry_delay(i) for i in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert b.retry_delay(0, slow) == 30.0  # the server's wait wins over a shorter backoff
    assert b.retry_delay(0, hostile) == 60.0  # but a caller who asked for retries is not hung
    assert b.retry_delay(4, ServerError("x", provider="x", status_code=503)) == 8.0


def test_backoff_jitter_stays_within_its_band_and_cap() -> None:
    b = Backoff(initial=2.0, factor=2.0, cap=10.0, jitter=0.25)
    rng = random.Random(7)
    delays = [b.delay(i, rng) for i in range(8) for _ in range(50)]
    assert min(delays) >= 1.5 and max(delays) <= 10.0
    assert len({round(d, 6) for d in delays[:50]}) > 1  # jittered, not lockstep


# --- pagination ----------------------------------------------------------------------------
def _pages(total: int, *, repeat_last: bool = False) -> tuple[list[tuple[str | None, int]], Any]:
    asked: list[tuple[str | None, int]] = []

    def fetch(cursor: str | None, size: int) -> tuple[list[int], str | None]:
        asked.append((cursor, size))
        start = int(cursor or 0)
        items = list(range(start, min(total, start + size)))
        nxt: str | None = str(start + len(items)) if start + len(items) < total else None
        if repeat_last and start >= 4:
            nxt = cursor  # a server that hands the same cursor back
        return items, nxt

    return asked, fetch


def test_paginate_follows_cursors_and_stops_at_the_limit() -> None:
    asked, fetch = _pages(250)
    assert SDKProvider.paginate(fetch, limit=130, page_size=100) == list(range(130))
    assert asked == [(None, 100), ("100", 30)]  # the last page asks only for what is missing


def test_paginate_reads_everything_without_limit_and_survives_a_repeated_cursor() -> None:
    asked, fetch = _pages(250)
    assert SDKProvider.paginate(fetch, limit=None, page_size=100) == list(range(250))
    assert len(asked) == 3
    asked, fetch = _pages(50, repeat_last=True)
    assert SDKProvider.paginate(fetch, limit=None, page_size=4) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert len(asked) == 2  # no endless loop on a server repeating a page


def test_apaginate_is_the_same_walk() -> None:
    asked, fetch = _pages(7)

    async def afetch(cursor: str | None, size: int) -> tuple[list[int], str | None]:
        return fetch(cursor, size)  # type: ignore[no-any-return]

    assert asyncio.run(SDKProvider.apaginate(afetch, limit=None, page_size=3)) == list(range(7))
    assert asked == [(None, 3), ("3", 3), ("6", 3)]
    assert Pager(limit=0, page_size=3).request() is None


def test_as_dict_reads_pydantic_models_in_json_types() -> None:
    from datetime import datetime, timezone

    import pydantic

    class Job(pydantic.BaseModel):
        id: str
        created: datetime
        note: str | None = None

    job = Job(id="j", created=datetime(2026, 1, 2, tzinfo=timezone.utc))
    assert as_dict(job) == {"id": "j", "created": "2026-01-02T00:00:00Z", "note": None}
    assert as_dict(job, exclude_none=True) == {"id": "j", "created": "2026-01-02T00:00:00Z"}
    with pytest.raises(TypeError):
        as_dict(object())


# --- a tiny SDK for the base's own bookkeeping ---------------------------------------------
class _SDKError(Exception):
    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


class _Client:
    made_in: ClassVar[list[int]] = []

    def __init__(self, key: str) -> None:
        self.key, self.closed = key, False
        _Client.made_in.append(threading.get_ident())

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class _Tiny(SDKProvider):
    name: ClassVar[str] = "tiny"
    settings: ClassVar[frozenset[str]] = frozenset({"api_key", "max_retries"})
    api_key_env: ClassVar[str] = "TINY_API_KEY"

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.answers: list[Any] = []
        self.status = JobStatus.SUCCEEDED

    def make_client(self) -> _Client:
        return _Client(self.api_key())

    make_async_client = make_client

    def sdk_errors(self) -> tuple[type[BaseException], ...]:
        return (_SDKError,)

    def map_error(self, exc: BaseException, *, secrets: tuple[str, ...]) -> AnytuneError:
        assert isinstance(exc, _SDKError)
        return status_error_class(exc.status)(redact(str(exc), secrets), provider=self.name,
                                              status_code=exc.status, retry_after=exc.retry_after)

    def _answer(self) -> Any:
        self.client()
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def get(self, job_id: str) -> JobSnapshot:
        return JobSnapshot(id=job_id, status=self.status, model="m")

    def send_cancel(self, job_id: str) -> JobSnapshot | None:
        return self._answer()  # type: ignore[no-any-return]


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Tiny]:
    monkeypatch.setenv("TINY_API_KEY", "tiny-key-0123456789")
    p = _Tiny(max_retries=2)
    p.read_backoff = Backoff(initial=0.001, cap=0.002)
    yield p
    p.close()


def test_missing_key_names_the_variable_and_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINY_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError) as info:
        _Tiny().client()
    assert "TINY_API_KEY" in str(info.value) and "api_key" in str(info.value)


def test_errors_are_mapped_with_their_operation_and_no_key(tiny: _Tiny) -> None:
    with pytest.raises(InvalidRequestError) as info, tiny.translating("get"):
        raise _SDKError(400, "bad request for key tiny-key-0123456789")
    assert info.value.operation == "get"
    assert "tiny-key-0123456789" not in str(info.value) and "bad request" in str(info.value)


def test_retrying_rides_out_transient_failures_and_stops_on_others(tiny: _Tiny) -> None:
    tiny.answers = [_SDKError(429, "slow", retry_after=0.05), _SDKError(503, "down"), "ok"]
    started = time.monotonic()
    assert tiny.retrying("get", tiny._answer) == "ok"
    assert time.monotonic() - started >= 0.05  # Retry-After waited, not the 1 ms backoff
    tiny.answers = [_SDKError(503, "down")] * 3 + ["never"]
    with pytest.raises(ServerError):
        tiny.retrying("get", tiny._answer)  # max_retries=2: three sends, then the error
    assert tiny.answers == ["never"]
    tiny.answers = [_SDKError(404, "gone"), "never"]
    with pytest.raises(NotFoundError):
        tiny.retrying("get", tiny._answer)
    assert tiny.answers == ["never"]


def test_cancel_of_an_ended_job_returns_it_and_of_a_running_one_raises(tiny: _Tiny) -> None:
    tiny.answers = [_SDKError(400, "job already succeeded")]
    assert tiny.cancel("j1").status is JobStatus.SUCCEEDED
    tiny.status = JobStatus.RUNNING
    tiny.answers = [_SDKError(400, "refused")]
    with pytest.raises(InvalidRequestError):
        tiny.cancel("j1")
    tiny.answers = [None]  # a vendor that answers nothing: the job is read again
    assert tiny.cancel("j1").status is JobStatus.RUNNING
    tiny.answers = [_SDKError(400, "refused twice")]
    tiny.status = JobStatus.CANCELLING
    assert asyncio.run(tiny.acancel("j1")).status is JobStatus.CANCELLING


def test_one_async_client_per_event_loop_made_off_the_loop(tiny: _Tiny) -> None:
    async def clients() -> tuple[Any, Any, int]:
        a, b = await asyncio.gather(tiny.async_client(), tiny.async_client())
        return a, b, threading.get_ident()

    _Client.made_in.clear()
    first, same, loop_thread = asyncio.run(clients())
    second, _, _ = asyncio.run(clients())
    assert first is same and first is not second
    assert loop_thread not in _Client.made_in  # the SDK import and key read left the loop alone
    assert len(tiny._async_clients) == 1  # the closed loop's client was dropped

    async def close() -> Any:
        client = await tiny.async_client()
        await tiny.aclose()
        return client

    sync = tiny.client()
    closed = asyncio.run(close())
    assert closed.closed and sync.closed and tiny._sync is None


# --- the three cloud providers on the base ------------------------------------------------
def _missing_job(provider: SDKProvider) -> str:
    return {"openai": "ftjob-nosuchjob", "together": "ft-nosuchjob"}.get(
        provider.name, provider.qualify_job_id("424242"))


@pytest.mark.parametrize("name", CLOUD)
def test_cloud_providers_share_the_base_sync_and_async(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from anytune._registry import provider_class

    key = "sk-emulated-0123456789abcdef" if name != "vertex" else "ya29.emulated-0123456789"
    with running_emulator(name, api_key=key, job_seconds=0.2) as emu:
        for var, value in emu.env.items():
            monkeypatch.setenv(var, value)
        provider = provider_class(name)(timeout=5.0)
        assert isinstance(provider, SDKProvider)
        missing = _missing_job(provider)
        with pytest.raises(NotFoundError) as info:
            provider.get(missing)
        assert info.value.operation == "get" and key not in str(info.value)

        async def read() -> list[JobSnapshot]:
            try:
                with pytest.raises(NotFoundError) as ainfo:
                    await provider.aget(missing)
                assert ainfo.value.operation == "get"
                return await provider.alist(limit=5)
            finally:
                await provider.aclose()

        # Two event loops in a row: each gets its own working client.
        assert asyncio.run(read()) == asyncio.run(read()) == provider.list(limit=5)
        provider.close()
        assert provider._sync is None and provider._async_clients == {}


def test_a_provider_error_is_a_provider_error() -> None:
    # The base's default mapping for an SDK without its own: typed, redacted, named.
    err = SDKProvider.map_error(_Tiny(), RuntimeError("boom"), secrets=())
    assert isinstance(err, ProviderError) and "tiny" in str(err) and "boom" in str(err)
