"""The async twins run natively on ``together.AsyncTogether``: through ``AsyncJob`` against
the emulator, with no worker thread but the upload's (file I/O with byte progress)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from anytune_together import TogetherProvider
from anytune_together.emulator import TogetherEmulator
from together_helpers import MODEL, TEST_KEY

from anytune import (
    AsyncJob,
    AuthenticationError,
    Hyperparameters,
    InvalidRequestError,
    Job,
    JobStatus,
    MissingCredentialsError,
    NotFoundError,
    ProviderConnectionError,
    ServerError,
)
from anytune.provider import CreateRequest, Provider
from anytune.testing import write_chat_examples


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The methods the SPI's thread fallback ran; any but ``upload`` fails at once."""
    ran: list[str] = []
    original = Provider._in_thread

    async def only_upload(self: Provider, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        name = getattr(fn, "__name__", repr(fn))
        ran.append(name)
        if name != "upload":
            raise AssertionError(f"{name} ran in a worker thread, not on AsyncTogether")
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(Provider, "_in_thread", only_upload)
    return ran


@pytest.fixture
def seen(emulator: TogetherEmulator, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(operation, X-Stainless-Async header) of every request the emulator answers. The
    Stainless SDK sends ``false`` from ``Together`` and ``async:asyncio`` from ``AsyncTogether``."""
    out: list[tuple[str, str]] = []
    original = emulator.handle

    def handle(method: str, target: str, body: bytes, headers: Any) -> Any:
        operation = emulator.route(method, target.partition("?")[0])[0]
        out.append((operation, str(headers.get("X-Stainless-Async", ""))))
        return original(method, target, body, headers)

    monkeypatch.setattr(emulator, "handle", handle)
    return out


def _native(seen: list[tuple[str, str]]) -> set[str]:
    """Operations sent by AsyncTogether; fails on any other than the upload's sent by Together."""
    sync = {op for op, flag in seen if flag != "async:asyncio"}
    assert sync <= {"upload"}, f"sent by the sync client: {sorted(sync)}"
    return {op for op, flag in seen if flag == "async:asyncio"}


def test_async_job_life_cycle_is_native(
    env: TogetherEmulator, threads: list[str], seen: list[tuple[str, str]], tmp_path: Path
) -> None:
    data = write_chat_examples(tmp_path / "train.jsonl", 12)

    async def run() -> tuple[Any, ...]:
        job = await AsyncJob.create(provider="together", model=MODEL, training_file=data, suffix="bot",
                                    hyperparameters=Hyperparameters(epochs=2), n_checkpoints=2)
        queued = job.status
        await job.wait(timeout=30, progress=False)
        got = await AsyncJob.get(job.id)
        listed = await AsyncJob.list(provider="together")
        return job, queued, got, listed, await job.events(), await job.checkpoints(), await job.metrics()

    job, queued, got, listed, events, ckpts, metrics = asyncio.run(run())
    assert threads == ["upload"]
    assert _native(seen) >= {"estimate", "create", "get", "list", "events", "checkpoints", "metrics"}
    assert queued is JobStatus.QUEUED and job.status is JobStatus.SUCCEEDED
    assert job.result is not None and "bot-at" in job.result.model
    assert got.status is JobStatus.SUCCEEDED and job.id in [j.id for j in listed]
    assert [c.step for c in ckpts] == [10, 20] and metrics[-1].train_loss is not None
    assert events[0].type == "job_pending" and "job_complete" in [e.type for e in events]
    # The sync methods read the same job the same way.
    same = Job.get(job.id)
    assert (events, ckpts, metrics) == (same.events(), same.checkpoints(), same.metrics())


def test_async_cancel_is_native_and_idempotent(
    env: TogetherEmulator, threads: list[str], seen: list[tuple[str, str]], tmp_path: Path
) -> None:
    env.state.job_seconds = 5.0
    data = write_chat_examples(tmp_path / "t.jsonl")

    async def run() -> tuple[JobStatus, JobStatus]:
        job = await AsyncJob.create(provider="together", model=MODEL, training_file=data)
        await job.cancel()
        first = job.status
        await job.wait(timeout=10, progress=False)
        await job.cancel()  # Together refuses it with a 400 now: the job is returned as it ended
        return first, job.status

    first, last = asyncio.run(run())
    assert first in (JobStatus.CANCELLING, JobStatus.CANCELLED) and last is JobStatus.CANCELLED
    assert threads == ["upload"] and "cancel" in _native(seen)
    assert env.requests["cancel"] == 2


def test_one_provider_serves_successive_event_loops(
    provider: TogetherProvider, emulator: TogetherEmulator, threads: list[str], tmp_path: Path
) -> None:
    fid = provider.upload(write_chat_examples(tmp_path / "t.jsonl"), purpose="train")
    request = CreateRequest(model=MODEL, training_file=fid, idempotency_key="loops")
    snap = asyncio.run(provider.acreate(request))
    assert "Together estimates" in (snap.message or "")  # the vendor estimate, as in sync
    (first,) = provider._async_clients.values()
    # Each asyncio.run is a new loop: the old loop's client (its connections and locks
    # belong to that loop) is not reused. httpx happens to survive the reuse against this
    # emulator, leaking the old sockets, so the client's identity is what is checked.
    assert asyncio.run(provider.aget(snap.id)).id == snap.id
    assert first not in provider._async_clients.values()

    async def last() -> tuple[Any, Any]:
        found = await provider.afind_by_idempotency_key("loops")
        client = await provider.async_client()
        await provider.aclose()
        return found, client

    found, client = asyncio.run(last())
    assert found is not None and found.id == snap.id
    assert client.is_closed() and provider._async_clients == {} and threads == []


def test_async_create_has_retries_off(
    provider: TogetherProvider, emulator: TogetherEmulator, tmp_path: Path
) -> None:
    fid = provider.upload(write_chat_examples(tmp_path / "t.jsonl"), purpose="train")
    for kind, error in (("500", ServerError), ("drop", ProviderConnectionError)):
        before = emulator.requests.get("create", 0)
        emulator.add_fault(f"create:{kind}")
        with pytest.raises(error):
            asyncio.run(provider.acreate(CreateRequest(model=MODEL, training_file=fid)))
        assert emulator.requests["create"] == before + 1
    assert emulator.counts["jobs_created"] == 1  # the dropped answer's job was made once


def test_async_errors_are_mapped_like_sync(
    provider: TogetherProvider, emulator: TogetherEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(NotFoundError):
        asyncio.run(provider.aget("ft-doesnotexist000000"))
    wrong = TogetherProvider(api_key="tgp_v1_wrong", base_url=emulator.env["TOGETHER_BASE_URL"])
    with pytest.raises(AuthenticationError) as info:
        asyncio.run(wrong.alist())
    assert "TOGETHER_API_KEY" in str(info.value) and "tgp_v1_wrong" not in str(info.value)
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError) as missing:
        asyncio.run(TogetherProvider().aget("ft-x"))
    assert "TOGETHER_API_KEY" in str(missing.value) and "api_key=" in str(missing.value)


def test_async_create_redacts_the_wandb_key(tmp_path: Path) -> None:
    from test_together_secrets import _EchoingEmulator

    wandb_key = "wandb-canary-async-0e9d8c7b6a5f"
    with _EchoingEmulator(job_seconds=1.0, api_key=TEST_KEY) as emu:
        p = TogetherProvider(api_key=TEST_KEY, base_url=emu.env["TOGETHER_BASE_URL"])
        fid = p.upload(write_chat_examples(tmp_path / "t.jsonl"), purpose="train")
        request = CreateRequest(model=MODEL, training_file=fid, options={"wandb_api_key": wandb_key})
        with pytest.raises(InvalidRequestError) as info:
            asyncio.run(p.acreate(request))
    assert "W&B rejected the key" in str(info.value) and wandb_key not in str(info.value)
