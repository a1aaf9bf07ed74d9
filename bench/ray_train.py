"""Ray provider scaling: tokens/s of the same job on 1 and on 2 Ray Train workers.

Starts a single-machine Ray cluster on 127.0.0.1 (``anytune sandbox ray``'s), runs the
same LoRA SFT job (same model, data, sequence length, per-worker batch, seed and number of
steps) with ``workers=1`` and then ``workers=2``, one CPU (or GPU) per worker, and reports
the global tokens/s (non-padding tokens over all workers, from the rank-0 metrics, after
warm-up steps) and the 2-worker / 1-worker ratio. The cluster is stopped at the end.

    # CPU (each worker one core: Ray sets OMP_NUM_THREADS to a worker's CPUs)
    python bench/ray_train.py --model-config cpu-small --steps 30 --seq-len 256
    # GPU machine: one GPU per worker
    python bench/ray_train.py --model-config cpu-small --steps 30 --gpus-per-worker 1

Prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
# The local training benchmark's model shapes and data: the same job, on Ray.
from local_train import SHAPES, build_model, write_data


def run(workers: int, args: argparse.Namespace, model: Path, data: Path, storage: Path) -> dict[str, Any]:
    """One job on ``workers`` workers; its throughput from the job's metrics."""
    from anytune import Hyperparameters, Job, LoRA

    start = time.monotonic()
    job = Job.create(
        provider="ray", model=str(model), training_file=data, seed=args.seed,
        hyperparameters=Hyperparameters(epochs=1, batch_size=args.batch_size, learning_rate=1e-4,
                                        lora=LoRA(r=16, alpha=32, dropout=0.0)),
        max_steps=args.steps, max_seq_length=args.seq_len, workers=workers,
        gpus_per_worker=args.gpus_per_worker, storage=str(storage), save_steps=10_000,
    )
    job.wait(timeout=3600, progress=False)
    if job.status.value != "succeeded":
        raise SystemExit(f"the {workers}-worker job ended {job.status.value}: {job.error}")
    rows = [m for m in job.metrics() if "tokens_per_s" in m.extra][args.warmup :]
    rates = sorted(m.extra["tokens_per_s"] for m in rows)
    seen = [m.extra["tokens_seen"] for m in rows]
    return {
        "workers": workers,
        "steps": len(job.metrics()),
        "median_step_tokens_per_s": rates[len(rates) // 2],
        "tokens_per_step": (seen[-1] - seen[0]) / max(1, len(seen) - 1),
        "job_wall_s": round(time.monotonic() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-config", default="cpu-small", choices=["tiny", *SHAPES])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3, help="steps left out of tokens/s")
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4, help="per worker")
    parser.add_argument("--gpus-per-worker", type=float, default=0)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the Ray cluster")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from anytune_ray.emulator import LocalCluster

    with tempfile.TemporaryDirectory(prefix="anytune-ray-bench-") as tmp:
        work = Path(tmp)
        os.environ["ANYTUNE_HOME"] = str(work / "home")
        model = build_model(args.model_config, work / "model")
        # Enough rows that 2 workers never see an example twice in --steps steps.
        data = write_data(work / "train.jsonl", 2 * args.steps * args.batch_size + 8, args.seq_len, args.seed)
        cluster = LocalCluster(num_cpus=args.cpus, num_gpus=2 if args.gpus_per_worker else 0)
        cluster.start()
        os.environ.update(cluster.env)
        try:
            one = run(1, args, model, data, work / "storage")
            two = run(2, args, model, data, work / "storage")
        finally:
            cluster.stop()
    ratio = two["median_step_tokens_per_s"] / one["median_step_tokens_per_s"]
    doc = {"config": vars(args), "runs": [one, two], "scaling_2_over_1": round(ratio, 3)}
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
