"""The native async twins (google-genai's ``client.aio``), through ``anytune.AsyncJob`` and
the provider, against the emulator with the official SDKs.

Every test here runs with the SPI's thread fallback (``Provider._in_thread``) refused for
anything but ``upload`` (google-cloud-storage is sync): a twin that fell back to running
its sync method in a worker thread fails the test.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from anytune_vertex import VertexEmulator, VertexProvider
from vertex_helpers import MODEL, FakeClock

from anytune import (
    AnytuneError,
    AsyncJob,
    Hyperparameters,
    JobStatus,
    MissingCredentialsError,
    NotFoundError,
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from anytune.provider import Backoff, CreateRequest, Provider


@pytest.fixture(autouse=True)
def threaded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The methods run through the thread fallback; anything but ``upload`` fails."""
    seen: list[str] = []

    async def only_upload(self: Provider, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        name = getattr(fn, "__name__", repr(fn))
        seen.append(name)
        if name != "upload":
            raise AssertionError(f"{name} ran in a worker thread instead of natively")
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))

    monkeypatch.setattr(Provider, "_in_thread", only_upload)
    return seen


class EmulatorTime:
    """The wait loop's clock, driving the emulator's fake clock: polling costs no time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def now(self) -> float:
        return self.clock.now

    def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await asyncio.sleep(0)


def _request(provider: VertexProvider, folder: Path, **kwargs: Any) -> CreateRequest:
    """A request on 12 Gemini-format examples, uploaded (the provider takes them as they are)."""
    data = folder / "gemini.jsonl"
    data.write_text("".join(json.dumps({"contents": [
        {"role": "user", "parts": [{"text": f"What is {i} times 3?"}]},
        {"role": "model", "parts": [{"text": f"{3 * i}."}]},
    ]}) + "\n" for i in range(12)), encoding="utf-8")
    return CreateRequest(model=MODEL, training_file=provider.upload(data, purpose="train"), **kwargs)


def test_the_guard_catches_a_thread_fallback(provider: VertexProvider, threaded: list[str]) -> None:
    with pytest.raises(AssertionError, match="worker thread"):
        asyncio.run(Provider.aget(provider, "projects/p/locations/l/tuningJobs/1"))
    assert threaded == ["get"]


@pytest.mark.emulator(fake_clock=True)
def test_create_wait_events_checkpoints_get_list(emulator: VertexEmulator, clock: FakeClock, home: Path,
                                                 chat_file: Path, threaded: list[str]) -> None:
    async def run() -> tuple[AsyncJob, AsyncJob, list[AsyncJob], list[str], list[int]]:
        job = await AsyncJob.create(provider="vertex", model=MODEL, training_file=chat_file,
                                    hyperparameters=Hyperparameters(epochs=2), suffix="async-bot")
        assert job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        await job.wait(timeout=600, progress=False, clock=EmulatorTime(clock))
        events = [e.type for e in await job.events()]
        steps = [c.step or 0 for c in await job.checkpoints()]
        return job, await AsyncJob.get(job.id), await AsyncJob.list(provider="vertex"), events, steps

    job, again, listed, events, steps = asyncio.run(run())
    assert job.status is JobStatus.SUCCEEDED and again.status is JobStatus.SUCCEEDED
    assert job.result is not None and job.result.model.endswith(job.id.rsplit("/", 1)[1])
    assert events == ["created", "started", "dataset", "succeeded"]
    assert steps == [12, 24]
    assert [j.id for j in listed] == [job.id]
    assert emulator.state.jobs[job.id.split(":", 1)[1]].body["tunedModelDisplayName"] == "async-bot"
    assert threaded == ["upload"]  # the only thread twin: the storage SDK is sync
    assert emulator.counts == {"jobs_created": 1, "files_created": 1}


@pytest.mark.emulator(fake_clock=True)
def test_cancel_is_idempotent_and_a_finished_job_is_returned_as_is(
    emulator: VertexEmulator, clock: FakeClock, provider: VertexProvider, home: Path, chat_file: Path,
) -> None:
    async def cancel_twice() -> tuple[JobStatus, AsyncJob]:
        job = await AsyncJob.create(provider="vertex", model=MODEL, training_file=chat_file)
        first = (await job.cancel()).status
        await job.cancel()  # cancelling already: no error
        await job.wait(timeout=600, progress=False, clock=EmulatorTime(clock))
        return first, job

    first, job = asyncio.run(cancel_twice())
    assert first in (JobStatus.CANCELLING, JobStatus.CANCELLED)
    assert job.status is JobStatus.CANCELLED and emulator.requests["cancel"] == 2
    ended = provider.create(_request(provider, home))
    clock.advance(5)
    snap = asyncio.run(provider.acancel(ended.id))  # Vertex refuses it: the job as it is
    assert snap.status is JobStatus.SUCCEEDED and emulator.requests["cancel"] == 3


@pytest.mark.emulator(fake_clock=True)
def test_sync_and_async_read_the_same_jobs(emulator: VertexEmulator, clock: FakeClock,
                                           provider: VertexProvider, tmp_path: Path) -> None:
    snap = asyncio.run(provider.acreate(_request(provider, tmp_path, suffix="twins")))
    clock.advance(5)
    assert asyncio.run(provider.aget(snap.id)) == provider.get(snap.id)
    assert asyncio.run(provider.alist()) == provider.list()
    assert asyncio.run(provider.aevents(snap.id, limit=2)) == provider.events(snap.id, limit=2)
    assert asyncio.run(provider.acheckpoints(snap.id)) == provider.checkpoints(snap.id)


def test_one_provider_across_event_loops(provider: VertexProvider, tmp_path: Path) -> None:
    request = _request(provider, tmp_path, suffix="loops")
    created = asyncio.run(provider.acreate(request))  # first loop, closed when run() returns
    assert asyncio.run(provider.aget(created.id)).id == created.id  # a second loop
    assert [s.id for s in asyncio.run(provider.alist())] == [created.id]

    async def close_then_read() -> str:
        await provider.aclose()
        return (await provider.aget(created.id)).id  # a fresh client after aclose

    assert asyncio.run(close_then_read()) == created.id


@pytest.mark.parametrize(("kind", "error"), [
    ("429", RateLimitError), ("503", ServerError), ("drop", ProviderConnectionError),
    ("slow", ProviderTimeoutError),
])
def test_acreate_is_sent_once(provider: VertexProvider, emulator: VertexEmulator, tmp_path: Path,
                              kind: str, error: type[AnytuneError]) -> None:
    request = _request(provider, tmp_path)
    emulator.add_fault(f"create:{kind}")
    with pytest.raises(error):
        asyncio.run(provider.acreate(request))
    assert emulator.requests["create"] == 1  # google-genai did not retry it either
    # drop and slow make the job and lose the answer: AsyncJob then finds it by its key
    assert emulator.counts["jobs_created"] == (1 if kind in ("drop", "slow") else 0)


def test_a_create_lost_to_a_timeout_is_found_by_its_key(emulator: VertexEmulator, home: Path,
                                                        chat_file: Path) -> None:
    emulator.add_fault("create:slow")  # made, but the answer comes after the client gave up
    job = asyncio.run(AsyncJob.create(provider="vertex", model=MODEL, training_file=chat_file, timeout=1.0))
    assert emulator.requests["create"] == 1 and emulator.counts["jobs_created"] == 1
    assert emulator.state.jobs[job.id.split(":", 1)[1]].body["labels"]["anytune_idempotency_key"]


def test_reads_are_retried_and_honour_retry_after(provider: VertexProvider, emulator: VertexEmulator,
                                                  tmp_path: Path) -> None:
    created = provider.create(_request(provider, tmp_path))
    emulator.retry_after = 0.3
    emulator.add_fault("get:429:2")
    started = time.monotonic()
    assert asyncio.run(provider.aget(created.id)).id == created.id
    assert time.monotonic() - started >= 0.6  # the base delay is 0.01 s: Retry-After was waited
    assert emulator.requests["get"] == 3
    emulator.add_fault("list:503:9")
    few = VertexProvider(timeout=1.0, max_retries=1)
    few.read_backoff = Backoff(initial=0.01, cap=0.05)
    with pytest.raises(ServerError):
        asyncio.run(few.alist())
    assert emulator.requests["list"] == 2


def test_find_by_idempotency_key_and_errors(provider: VertexProvider, emulator: VertexEmulator,
                                            tmp_path: Path) -> None:
    key = "Nightly Run #7 / EU"  # outside the label alphabet: stored encoded
    snap = asyncio.run(provider.acreate(_request(provider, tmp_path, idempotency_key=key)))
    found = asyncio.run(provider.afind_by_idempotency_key(key))
    assert found is not None and found.id == snap.id
    assert asyncio.run(provider.afind_by_idempotency_key("another-key")) is None
    missing = snap.id.rsplit("/", 1)[0] + "/404"
    with pytest.raises(NotFoundError):
        asyncio.run(provider.aget(missing))


def test_missing_credentials_are_reported_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p")
    provider = VertexProvider()  # reads nothing yet
    with pytest.raises(MissingCredentialsError) as info:
        asyncio.run(provider.alist())
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(info.value) and "credentials" in str(info.value)
