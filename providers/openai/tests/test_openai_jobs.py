"""Jobs through the official SDK against the emulator: every status, DPO, pagination,
events, checkpoints, metrics, idempotency lookup, and the async twins."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anytune_openai._mapping as mapping
import pytest
from anytune_openai import OpenAIProvider
from anytune_openai.emulator import OpenAIEmulator
from openai_helpers import MODEL, FakeClock, write_chat, write_preference

from anytune.provider import CreateRequest, Hyperparameters, JobStatus
from anytune.testing import require_tiktoken

fake_clock = pytest.mark.emulator(job_seconds=100.0, fake_clock=True)


def _create(provider: OpenAIProvider, path: Path, **kwargs: object) -> str:
    file_id = provider.upload(path, purpose="train")
    request = CreateRequest(
        model=kwargs.pop("model", MODEL),
        training_file=file_id,  # type: ignore[arg-type]
        hyperparameters=kwargs.pop("hyperparameters", Hyperparameters(epochs=2)),  # type: ignore[arg-type]
        **kwargs,
    )  # type: ignore[arg-type]
    return provider.create(request).id


@fake_clock
def test_a_job_goes_through_every_status_to_success(
    provider: OpenAIProvider, emulator: OpenAIEmulator, clock: FakeClock, chat_file: Path
) -> None:
    job_id = _create(provider, chat_file, suffix="bot")
    seen = []
    for _ in range(12):
        snap = provider.get(job_id)
        seen.append(snap.status)
        clock.advance(10)
    assert seen[0] is JobStatus.VALIDATING
    assert JobStatus.QUEUED in seen and JobStatus.RUNNING in seen
    assert seen[-1] is JobStatus.SUCCEEDED
    done = provider.get(job_id)
    assert done.result is not None and done.result.model.startswith(f"ft:{MODEL}:")
    assert ":bot:" in done.result.model
    assert done.finished_at is not None and done.error is None


@fake_clock
def test_trained_tokens_follow_openais_billing_rule(
    provider: OpenAIProvider, clock: FakeClock, chat_file: Path
) -> None:
    require_tiktoken()  # exact OpenAI token counts
    import tiktoken

    job_id = _create(provider, chat_file, hyperparameters=Hyperparameters(epochs=3))
    clock.advance(200)
    enc = tiktoken.get_encoding("o200k_base")
    import json

    per_epoch = 0
    for line in chat_file.read_text().splitlines():
        messages = json.loads(line)["messages"]
        per_epoch += 3 + sum(3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"])) for m in messages)
    result = provider.get(job_id).result
    assert result is not None and result.trained_tokens == per_epoch * 3


@fake_clock
def test_invalid_training_data_fails_the_job_with_openais_error(
    provider: OpenAIProvider, clock: FakeClock, tmp_path: Path
) -> None:
    bad = write_chat(tmp_path / "bad.jsonl", 12)
    with bad.open("a") as fh:
        fh.write('{"messages": [{"role": "user", "content": "no answer"}]}\n')
    job_id = _create(provider, bad)
    assert provider.get(job_id).status is JobStatus.VALIDATING
    clock.advance(20)
    snap = provider.get(job_id)
    assert snap.status is JobStatus.FAILED
    assert snap.error is not None and snap.error.code == "invalid_training_file"
    assert snap.error.param == "training_file" and "line 13" in snap.error.message
    assert any(e.level == "error" for e in provider.events(job_id))


@fake_clock
def test_too_few_examples_fail_validation(provider: OpenAIProvider, clock: FakeClock, tmp_path: Path) -> None:
    job_id = _create(provider, write_chat(tmp_path / "few.jsonl", 9))
    clock.advance(20)
    snap = provider.get(job_id)
    assert snap.status is JobStatus.FAILED and snap.error and "at least 10" in snap.error.message


@fake_clock
def test_cancel_stops_a_running_job(provider: OpenAIProvider, clock: FakeClock, chat_file: Path) -> None:
    job_id = _create(provider, chat_file)
    clock.advance(50)
    assert provider.get(job_id).status is JobStatus.RUNNING
    assert provider.cancel(job_id).status is JobStatus.CANCELLED
    clock.advance(100)
    snap = provider.get(job_id)
    assert snap.status is JobStatus.CANCELLED and snap.result is None
    assert provider.events(job_id)[-1].message == "Fine-tuning job cancelled"


@fake_clock
def test_dpo_job_sends_method_and_beta(
    provider: OpenAIProvider, emulator: OpenAIEmulator, clock: FakeClock, tmp_path: Path
) -> None:
    job_id = _create(
        provider,
        write_preference(tmp_path / "pref.jsonl"),
        method="dpo",
        model="gpt-4.1-mini-2025-04-14",
        hyperparameters=Hyperparameters(epochs=1, beta=0.25),
    )
    raw = provider.get(job_id).raw
    assert raw["method"]["type"] == "dpo"
    assert raw["method"]["dpo"]["hyperparameters"]["beta"] == 0.25
    clock.advance(200)
    assert provider.get(job_id).status is JobStatus.SUCCEEDED


@fake_clock
def test_events_and_checkpoints_while_running_and_after(
    provider: OpenAIProvider, clock: FakeClock, chat_file: Path
) -> None:
    job_id = _create(provider, chat_file, hyperparameters=Hyperparameters(epochs=3, batch_size=2))
    clock.advance(60)  # half way through training
    early = provider.metrics(job_id)  # from metrics events: no result file yet
    assert early and all(m.train_loss is not None for m in early)
    assert provider.get(job_id).raw["result_files"] == []
    clock.advance(100)
    events = provider.events(job_id)
    times = [e.created_at for e in events]
    assert times == sorted(times)
    assert events[0].message == "Created fine-tuning job"
    assert events[-1].message == "The job has successfully completed"
    checkpoints = provider.checkpoints(job_id)
    assert [c.step for c in checkpoints] == [6, 12, 18]  # 12 examples / batch 2 = 6 steps/epoch
    assert checkpoints[-1].model == provider.get(job_id).result.model  # type: ignore[union-attr]
    assert "train_loss" in checkpoints[0].metrics


@fake_clock
def test_metrics_come_from_the_result_file_with_a_falling_loss(
    provider: OpenAIProvider, clock: FakeClock, tmp_path: Path
) -> None:
    train = provider.upload(write_chat(tmp_path / "t.jsonl", 20), purpose="train")
    valid = provider.upload(write_chat(tmp_path / "v.jsonl", 10, tag=" (v)"), purpose="validation")
    job_id = provider.create(
        CreateRequest(
            model=MODEL, training_file=train, validation_file=valid, hyperparameters=Hyperparameters(epochs=2)
        )
    ).id
    clock.advance(200)
    assert provider.get(job_id).raw["result_files"]
    metrics = provider.metrics(job_id)
    assert [m.step for m in metrics] == list(range(1, 41))
    assert metrics[-1].train_loss < metrics[0].train_loss  # type: ignore[operator]
    assert all(m.valid_loss is not None and m.token_accuracy is not None for m in metrics)


def test_list_and_events_follow_pagination(
    provider: OpenAIProvider, chat_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("anytune_openai._provider.PAGE", 4)
    file_id = provider.upload(chat_file, purpose="train")
    ids = [provider.create(CreateRequest(model=MODEL, training_file=file_id, seed=i)).id for i in range(11)]
    listed = provider.list(limit=10)
    assert [s.id for s in listed] == ids[::-1][:10]  # newest first, across 3 pages
    assert [s.id for s in provider.list(limit=50)] == ids[::-1]
    assert mapping.PAGE == 100  # only the provider's page size was lowered


def test_events_pagination_returns_the_latest_oldest_first(
    provider: OpenAIProvider, emulator: OpenAIEmulator, chat_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _create(provider, chat_file)
    import time

    time.sleep(1.1)  # job_seconds=1: the job has finished and emitted all its events
    full = provider.events(job_id, limit=1000)
    monkeypatch.setattr("anytune_openai._provider.PAGE", 3)
    assert [e.id for e in provider.events(job_id, limit=1000)] == [e.id for e in full]
    latest = provider.events(job_id, limit=5)
    assert [e.id for e in latest] == [e.id for e in full[-5:]]
    assert emulator.requests["events"] >= 1 + (len(full) + 2) // 3


def test_find_by_idempotency_key(provider: OpenAIProvider, chat_file: Path) -> None:
    file_id = provider.upload(chat_file, purpose="train")
    made = provider.create(CreateRequest(model=MODEL, training_file=file_id, idempotency_key="k-42"))
    provider.create(CreateRequest(model=MODEL, training_file=file_id, idempotency_key="k-43"))
    found = provider.find_by_idempotency_key("k-42")
    assert found is not None and found.id == made.id
    assert provider.find_by_idempotency_key("k-unknown") is None


@fake_clock
def test_async_twins_agree_with_sync(provider: OpenAIProvider, clock: FakeClock, chat_file: Path) -> None:
    file_id = provider.upload(chat_file, purpose="train")

    async def run() -> tuple[object, ...]:
        created = await provider.acreate(
            CreateRequest(model=MODEL, training_file=file_id, idempotency_key="async-1")
        )
        clock.advance(200)
        got = await provider.aget(created.id)
        listed = await provider.alist(limit=5)
        events = await provider.aevents(created.id)
        ckpts = await provider.acheckpoints(created.id)
        metrics = await provider.ametrics(created.id)
        found = await provider.afind_by_idempotency_key("async-1")
        await provider.aclose()
        return created, got, listed, events, ckpts, metrics, found

    created, got, listed, events, ckpts, metrics, found = asyncio.run(run())
    assert got.status is JobStatus.SUCCEEDED  # type: ignore[attr-defined]
    assert got == provider.get(created.id)  # type: ignore[attr-defined]
    assert [s.id for s in listed] == [s.id for s in provider.list(limit=5)]  # type: ignore[attr-defined]
    assert events == provider.events(created.id)  # type: ignore[attr-defined]
    assert ckpts == provider.checkpoints(created.id)  # type: ignore[attr-defined]
    assert metrics == provider.metrics(created.id)  # type: ignore[attr-defined]
    assert found is not None and found.id == created.id  # type: ignore[attr-defined]


@fake_clock
def test_cancelling_a_finished_job_returns_it_as_it_ended(
    provider: OpenAIProvider, clock: FakeClock, chat_file: Path
) -> None:
    job_id = _create(provider, chat_file)
    clock.advance(200)
    assert provider.cancel(job_id).status is JobStatus.SUCCEEDED
    assert asyncio.run(provider.acancel(job_id)).status is JobStatus.SUCCEEDED


@fake_clock
def test_async_cancel(provider: OpenAIProvider, chat_file: Path) -> None:
    job_id = _create(provider, chat_file)
    snap = asyncio.run(provider.acancel(job_id))
    assert snap.status is JobStatus.CANCELLED
