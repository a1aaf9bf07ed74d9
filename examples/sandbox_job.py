"""A whole fine-tuning job, offline and free: the OpenAI provider against anytune's
local emulator of OpenAI's API (the same one `anytune sandbox openai` serves).

    python examples/sandbox_job.py

Swap `provider="openai"` for `"together"`, `"vertex"` or `"local"` and the rest of the
code stays the same.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from anytune import Hyperparameters, Job
from anytune.testing import running_emulator, write_chat_examples


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="anytune-example-") as tmp:
        return run(write_chat_examples(Path(tmp) / "train.jsonl", 20))


def run(data: Path) -> int:
    with running_emulator("openai", job_seconds=3) as emulator:
        os.environ.update(emulator.env)  # OPENAI_BASE_URL, OPENAI_API_KEY of the sandbox
        job = Job.create(
            provider="openai",
            model="gpt-4.1-mini-2025-04-14",
            training_file=data,
            hyperparameters=Hyperparameters(epochs=2),
            suffix="example",
            max_cost_usd=1.00,
        )
        print(f"created {job.id} ({job.status.value}); estimated ${job.estimate.cost_usd:.4f}")
        job.wait(timeout=120)
        job.raise_for_status()
        print(f"tuned model: {job.result.model}")
        for event in job.events()[-3:]:
            print(f"  event: {event.message}")
        losses = [m.train_loss for m in job.metrics() if m.train_loss is not None]
        print(f"train loss: {losses[0]:.3f} -> {losses[-1]:.3f} over {len(losses)} steps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
