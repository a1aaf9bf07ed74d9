"""A whole fine-tuning job, offline and free: a cloud provider against anytune's local
emulator of its API (the same one `anytune sandbox PROVIDER` serves).

    python examples/sandbox_job.py [openai|together|vertex]

The provider is one string: the code below is the same for each of them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from anytune import Hyperparameters, Job, UnsupportedError, estimate
from anytune.testing import running_emulator, write_chat_examples

MODELS = {
    "openai": "gpt-4.1-mini-2025-04-14",
    "together": "Qwen/Qwen3.5-9B",
    "vertex": "gemini-3.5-flash",
}


def main() -> int:
    provider = sys.argv[1] if len(sys.argv) > 1 else "openai"
    if provider not in MODELS:
        print(f"usage: sandbox_job.py [{'|'.join(MODELS)}]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="anytune-example-") as tmp:
        return run(provider, write_chat_examples(Path(tmp) / "train.jsonl", 20))


def run(provider: str, data: Path) -> int:
    with running_emulator(provider, job_seconds=3) as emulator:
        # The sandbox's endpoint and fake credentials, in each vendor's own variables
        # (OPENAI_BASE_URL, TOGETHER_API_KEY, GOOGLE_CLOUD_PROJECT, ...).
        os.environ.update(emulator.env)
        # A budget needs a price; where the catalog has none (Gemini 3.5's tuning price
        # is not in anytune's sources yet) anytune refuses to guess, so none is set.
        priced = estimate(data, provider=provider, model=MODELS[provider], epochs=2).cost_usd is not None
        job = Job.create(
            provider=provider,
            model=MODELS[provider],
            training_file=data,
            hyperparameters=Hyperparameters(epochs=2),
            suffix="example",
            max_cost_usd=1.00 if priced else None,
        )
        cost = job.estimate.cost_usd if job.estimate else None
        print(f"created {job.id} ({job.status.value}); estimated "
              + (f"${cost:.4f}" if cost is not None else "cost unknown (no catalog price)"))
        job.wait(timeout=120)
        job.raise_for_status()
        print(f"tuned model: {job.result.model}")
        for event in job.events()[-3:]:
            print(f"  event: {event.message}")
        try:
            losses = [m.train_loss for m in job.metrics() if m.train_loss is not None]
            print(f"train loss: {losses[0]:.3f} -> {losses[-1]:.3f} over {len(losses)} steps")
        except UnsupportedError as exc:  # Vertex keeps metrics in Experiments, not its API
            print(f"no metrics: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
