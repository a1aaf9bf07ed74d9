"""An async job never holds the event loop: its life cycle runs under asyncio's debug mode
with a small ``slow_callback_duration``, and neither asyncio nor an audit hook sees
blocking work on the loop (the job store's SQLite, hashing the upload, the temp folder,
tracking records: all run as blocking actions, in worker threads)."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import pytest

from anytune import AsyncJob, JobStatus, ReusedJobWarning
from anytune._flow import blocking, call, run_async
from anytune._store import JobStore
from anytune.testing import write_chat_examples
from anytune.testing.eventloop import run_watched


def test_an_async_job_life_cycle_does_no_blocking_work_on_the_loop(isolated: Path) -> None:
    data = write_chat_examples(isolated / "train.jsonl", 12)

    async def main() -> tuple[AsyncJob, int, int]:
        job = await AsyncJob.create(provider="fake", model="fake-small", training_file=data,
                                    validation_split=0.25, progress=False, job_seconds=0.5)
        with warnings.catch_warnings():  # the same spec again: reused, from the store
            warnings.simplefilter("ignore", ReusedJobWarning)
            again = await AsyncJob.create(provider="fake", model="fake-small", training_file=data,
                                          validation_split=0.25, progress=False, job_seconds=0.5)
        assert again.id == job.id and again.reused
        await job.wait(timeout=30, progress=False)
        got = await AsyncJob.get(job.id, job_seconds=0.5)
        listed = await AsyncJob.list(provider="fake")
        await got.refresh()
        return job, len(listed), len(await got.metrics())

    (job, listed, metrics), report = run_watched(main(), watch=[isolated], slow_callback_s=0.05)
    assert job.status is JobStatus.SUCCEEDED and listed == 1 and metrics > 0
    assert report.clean, report


def test_the_watch_sees_sqlite_and_files_on_the_loop(isolated: Path) -> None:
    # The witness itself: the same store write, once on the loop and once as a blocking
    # action; only the first is reported. A watch that saw nothing would pass anything.
    store = JobStore(isolated / "s.sqlite3")

    def write() -> None:
        store.claim(provider="fake", model="m", spec_hash="s", idempotency_key="k")
        (isolated / "note.txt").write_text("x")

    async def on_loop() -> None:
        write()

    async def as_action() -> None:
        def flow():  # type: ignore[no-untyped-def]
            yield from blocking(write)

        await run_async(flow())

    _, bad = run_watched(on_loop(), watch=[isolated])
    _, good = run_watched(as_action(), watch=[isolated])
    assert any(b.startswith("sqlite3.connect ") for b in bad.blocking), bad
    assert any(b.startswith("open ") and b.endswith("note.txt") for b in bad.blocking), bad
    assert good.blocking == []


def test_a_slow_step_on_the_loop_is_reported(isolated: Path) -> None:
    import time

    async def hog() -> None:
        time.sleep(0.2)  # what a blocking call inside a flow would do to every other task
        await asyncio.sleep(0)

    _, report = run_watched(hog(), watch=[isolated], slow_callback_s=0.05)
    assert report.slow_callbacks and "took" in report.slow_callbacks[0]


def test_call_refuses_a_pair_that_is_not_one_providers_twins() -> None:
    from anytune_fake import FakeProvider

    p, q = FakeProvider(), FakeProvider()
    with pytest.raises(TypeError, match="async twin"):
        next(call(p.get, p.acancel, "j"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="async twin"):
        next(call(p.get, q.aget, "j"))
