"""1. Quickstart: fine-tune a model on this machine (LoRA, CPU or GPU) and use the adapter.

    python examples/quickstart_local.py [MODEL_FOLDER_OR_HF_ID]

Without an argument it builds a tiny chat model here (nothing is downloaded), so the
whole run takes a minute on a laptop CPU. Pass any causal LM folder or cached Hugging
Face id for a real run.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from anytune import Hyperparameters, Job, LoRA
from anytune.testing import write_chat_examples


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="anytune-example-") as tmp:
        if len(sys.argv) > 1:
            model = sys.argv[1]
        else:
            from anytune_local._tiny import build_tiny_model  # a tiny random Llama, ~1 s

            model = str(build_tiny_model(Path(tmp) / "tiny-model"))
        data = write_chat_examples(Path(tmp) / "train.jsonl", 24)

        job = Job.create(
            provider="local",
            model=model,
            training_file=data,
            hyperparameters=Hyperparameters(epochs=1, batch_size=4, learning_rate=1e-3,
                                            lora=LoRA(r=8, alpha=16)),
            max_seq_length=128,
        )
        print(f"started {job.id}: a detached worker; `anytune get {job.id}` from any shell")
        job.wait(timeout=600)
        job.raise_for_status()
        losses = [m.train_loss for m in job.metrics() if m.train_loss is not None]
        print(f"train loss {losses[0]:.3f} -> {losses[-1]:.3f} over {len(losses)} steps")
        print(f"adapter: {job.result.model}")  # load it with peft's AutoPeftModelForCausalLM
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
