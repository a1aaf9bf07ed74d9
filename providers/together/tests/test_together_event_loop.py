"""An async job on ``AsyncTogether`` does no file or SQLite work on the event loop: the
whole life cycle against the emulator runs under :func:`anytune.testing.eventloop.run_watched`
(asyncio's debug mode plus an audit hook), and the hook sees none (the job store, the
upload's hashing and file reads, the temp folder all run in worker threads).

asyncio's slow-callback report is not asserted here: the SDK's own work on the loop
(parsing answers into its models) stretches past any small threshold on a loaded machine
(one 0.12 s step at load 12, 2026-11-30), while the audit hook is the check that does not
depend on load. The clients are made in a worker thread (``SDKProvider.async_client``);
the fake provider's test (tests/test_event_loop.py) asserts both reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from anytune_together.emulator import TogetherEmulator
from together_helpers import MODEL

from anytune import AsyncJob, Hyperparameters, JobStatus
from anytune.testing import write_chat_examples
from anytune.testing.eventloop import run_watched


@pytest.mark.slow  # ~7 s: a whole job on the emulator, waited with the default backoff
def test_async_life_cycle_does_no_blocking_work_on_the_loop(env: TogetherEmulator, tmp_path: Path) -> None:
    data = write_chat_examples(tmp_path / "train.jsonl", 12)

    async def main() -> tuple[Any, ...]:
        job = await AsyncJob.create(provider="together", model=MODEL, training_file=data,
                                    hyperparameters=Hyperparameters(epochs=2), n_checkpoints=2,
                                    progress=False)
        await job.wait(timeout=30, progress=False)
        got = await AsyncJob.get(job.id)
        listed = await AsyncJob.list(provider="together")
        out = job, got, listed, await got.events(), await got.checkpoints(), await got.metrics()
        await job.aclose()
        await got.aclose()
        return out

    (job, got, listed, events, ckpts, metrics), report = run_watched(
        main(), watch=[tmp_path], slow_callback_s=0.05)
    assert job.status is JobStatus.SUCCEEDED and got.id in [j.id for j in listed]
    assert events and [c.step for c in ckpts] == [10, 20] and metrics
    assert report.blocking == [], report.blocking
