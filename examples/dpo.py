"""4. Preference tuning (DPO) from chosen/rejected pairs.

    python examples/dpo.py [local|openai|together]

Pairs can be written as {"prompt", "chosen", "rejected"} (as here) or in OpenAI's
preference format; anytune converts them for each provider. By default the job runs on
this machine on a tiny model (built here, nothing downloaded); "openai" or "together"
runs it on that provider's local emulator instead.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from anytune import Hyperparameters, Job
from anytune.testing import running_emulator

MODELS = {"openai": "gpt-4.1-mini-2025-04-14", "together": "Qwen/Qwen3.5-9B"}


def write_pairs(path: Path, n: int = 24) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({
                "prompt": f"What is {i} plus {i}?",
                "chosen": f"{i} plus {i} is {2 * i}.",
                "rejected": f"I think it is {2 * i + 1}, but maybe not.",
            }) + "\n")
    return path


def main() -> int:
    provider = sys.argv[1] if len(sys.argv) > 1 else "local"
    with tempfile.TemporaryDirectory(prefix="anytune-example-") as tmp, ExitStack() as stack:
        if provider == "local":
            from anytune_local._tiny import build_tiny_model

            model, options = str(build_tiny_model(Path(tmp) / "tiny-model")), {"max_seq_length": 128}
        else:
            os.environ.update(stack.enter_context(running_emulator(provider, job_seconds=2)).env)
            model, options = MODELS[provider], {}
        job = Job.create(provider=provider, model=model, method="dpo",
                         training_file=write_pairs(Path(tmp) / "pairs.jsonl"),
                         hyperparameters=Hyperparameters(epochs=1, batch_size=4, beta=0.1),
                         progress=False, **options)
        job.wait(timeout=600, progress=False).raise_for_status()
        losses = [m.train_loss for m in job.metrics() if m.train_loss is not None]
        print(f"{job.id}: DPO {job.status.value}; loss {losses[0]:.3f} -> {losses[-1]:.3f}")
        print(f"tuned model: {job.result.model}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
