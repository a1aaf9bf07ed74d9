"""Tune a tiny model on this machine, then check it beats its base model on held-out data.

    python examples/evaluate_local.py [WORKDIR]

It builds a tiny chat model (nothing is downloaded), writes 200 conversations whose
answers are JSON, keeps 15 % of them out of training (``holdout=0.15``), fine-tunes with
LoRA on CPU, and evaluates the tuned model against its base on the held-out prompts with
the JSON scorer: the side-by-side table is printed, then the job id (so that
``anytune evaluate JOB_ID --checkpoints`` can rank its checkpoints). A few minutes on CPU.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from anytune import Hyperparameters, Job, LoRA


def main() -> int:
    if len(sys.argv) > 1:
        return run(Path(sys.argv[1]))
    with tempfile.TemporaryDirectory(prefix="anytune-eval-") as tmp:
        return run(Path(tmp))


def run(workdir: Path) -> int:
    from anytune_local._tiny import build_tiny_model, format_dataset, write_jsonl

    model = build_tiny_model(workdir / "tiny-chat-model")
    data = write_jsonl(format_dataset(200, seed=0), workdir / "train.jsonl")
    job = Job.create(
        provider="local",
        model=str(model),
        training_file=data,
        holdout=0.15,  # 30 records never trained on, kept with the job for evaluate()
        validation_split=0.1,
        hyperparameters=Hyperparameters(
            epochs=6, learning_rate=1e-2, batch_size=8, lora=LoRA(r=16, alpha=32, dropout=0.0)
        ),
        seed=0,
        progress=False,
        max_seq_length=128,
        devices="cpu",
        save_steps=40,  # a few checkpoints, for `anytune evaluate JOB --checkpoints`
    )
    print(f"training {job.id} on {data.name} (15% held out)...")
    job.wait(progress=False)
    job.raise_for_status()
    with job:
        report = job.evaluate(scorers=["json"], baseline="base", max_tokens=32)
    print(report.to_table())
    print(
        f"tuned {report.tuned.score:.0%} vs base {report.baseline.score:.0%} "  # type: ignore[union-attr]
        f"on {report.samples} held-out prompts"
    )
    report.plot(workdir / "eval.png")
    print(f"chart: {workdir / 'eval.png'}")
    print(f"job: {job.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
