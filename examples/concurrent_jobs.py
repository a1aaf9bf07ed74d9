"""5. Launch several jobs at once with AsyncJob and wait for all of them.

    python examples/concurrent_jobs.py

A sweep of epochs on three providers, nine jobs, launched and awaited
concurrently from one event loop (each provider's own async client where it has one).
The providers are their local emulators here, so it runs offline in seconds.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from anytune import AsyncJob, Hyperparameters
from anytune.testing import running_emulator, write_chat_examples

MODELS = {
    "openai": "gpt-4.1-mini-2025-04-14",
    "together": "Qwen/Qwen3.5-9B",
    "vertex": "gemini-3.5-flash",
}


async def sweep(data: Path) -> list[AsyncJob]:
    async def one(provider: str, epochs: int) -> AsyncJob:
        job = await AsyncJob.create(provider=provider, model=MODELS[provider], training_file=data,
                                    hyperparameters=Hyperparameters(epochs=epochs),
                                    suffix=f"ep{epochs}", progress=False)
        return await job.wait(timeout=300, progress=False)

    return await asyncio.gather(*(one(p, e) for p in MODELS for e in (1, 2, 3)))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="anytune-example-") as tmp, ExitStack() as stack:
        for provider in MODELS:
            os.environ.update(stack.enter_context(running_emulator(provider, job_seconds=3)).env)
        jobs = asyncio.run(sweep(write_chat_examples(Path(tmp) / "train.jsonl", 20)))
        for job in jobs:
            print(f"{job.id}: {job.status.value} -> {job.result.model if job.result else job.error}")
        print(f"{sum(j.status.value == 'succeeded' for j in jobs)}/{len(jobs)} jobs succeeded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
