"""3. Move an OpenAI fine-tune to Together, Vertex AI and your own machine.

    python examples/move_provider.py

OpenAI takes no new fine-tuning jobs after 2027-01-06. With anytune the job is the same
code everywhere: only the provider string (and a base model it offers) changes. Here
each cloud provider is its local emulator (`anytune sandbox`), so the script runs
offline for free; drop the `running_emulator` lines and set the vendors' usual
variables (OPENAI_API_KEY, TOGETHER_API_KEY, GOOGLE_CLOUD_PROJECT) to run it for real.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from anytune import Hyperparameters, Job, estimate
from anytune.testing import running_emulator, write_chat_examples


def tune(provider: str, model: str, data: Path) -> Job:
    """The one fine-tuning job, whatever the provider."""
    # A budget needs a price: Vertex publishes none yet for tuning Gemini 3.x, and anytune
    # refuses a budget it cannot check rather than pass it silently.
    priced = estimate(data, provider=provider, model=model, epochs=1).cost_usd is not None
    job = Job.create(provider=provider, model=model, training_file=data,
                     hyperparameters=Hyperparameters(epochs=1), suffix="support-bot",
                     max_cost_usd=5.00 if priced else None, progress=False)
    return job.wait(timeout=600, progress=False).raise_for_status()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="anytune-example-") as tmp, ExitStack() as stack:
        from anytune_local._tiny import build_tiny_model  # stands in for e.g. a Llama 3.1 8B folder

        targets = {
            "openai": "gpt-4.1-mini-2025-04-14",
            "together": "Qwen/Qwen3.5-9B",
            "vertex": "gemini-3.5-flash",
            "local": str(build_tiny_model(Path(tmp) / "tiny-model")),
        }
        for provider in ("openai", "together", "vertex"):
            os.environ.update(stack.enter_context(running_emulator(provider, job_seconds=2)).env)
        data = write_chat_examples(Path(tmp) / "train.jsonl", 24)
        for provider, model in targets.items():
            job = tune(provider, model, data)
            cost = job.estimate.cost_usd if job.estimate else None
            print(f"{provider:>8}: {job.status.value}, tuned model {job.result.model}"
                  + (f", estimated ${cost:.4f}" if cost is not None else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
