"""8. Track every job in MLflow: one run per job, whatever the provider, side by side.

    python examples/track_mlflow.py

`tracking="mlflow"` (or `ANYTUNE_TRACKING=mlflow`, or `tracking = "mlflow"` in a profile)
makes each job an MLflow run with its params, loss curves, status and cost. Runs go to
`MLFLOW_TRACKING_URI` when set, else to a SQLite store in the anytune home. Here the
cloud providers are their local emulators and the local job trains a tiny model, so the
script runs offline; `pip install 'anytune[mlflow]'` first.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from mlflow.tracking import MlflowClient

from anytune import Hyperparameters, Job
from anytune.testing import running_emulator, write_chat_examples
from anytune.tracking import mlflow_uri


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="anytune-example-") as tmp, ExitStack() as stack:
        from anytune_local._tiny import build_tiny_model  # stands in for your own model folder

        targets = {
            "openai": "gpt-4.1-mini-2025-04-14",
            "together": "Qwen/Qwen3.5-9B",
            "vertex": "gemini-3.5-flash",
            "local": str(build_tiny_model(Path(tmp) / "tiny-model")),
        }
        for provider in ("openai", "together", "vertex"):
            os.environ.update(stack.enter_context(running_emulator(provider, job_seconds=2)).env)
        data = write_chat_examples(Path(tmp) / "train.jsonl", 24)
        extra = {"local": {"max_seq_length": 128}}
        jobs = [Job.create(provider=p, model=m, training_file=data, tracking="mlflow", progress=False,
                           hyperparameters=Hyperparameters(epochs=1), **extra.get(p, {}))
                for p, m in targets.items()]
        for job in jobs:
            job.wait(timeout=600, progress=False)  # syncs the run while it waits

        uri = mlflow_uri()
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name("anytune")
        for job in jobs:
            (run,) = client.search_runs([experiment.experiment_id],
                                        filter_string=f"tags.`anytune.job_id` = '{job.id}'")
            losses = client.get_metric_history(run.info.run_id, "train_loss")
            print(f"{job.provider:>8} run {run.info.run_id[:8]} {run.info.status:<9} "
                  f"{len(losses):>3} loss points, cost ${run.data.metrics.get('cost_usd', 0):.4f}")
        print(f"see them side by side: mlflow ui --backend-store-uri {uri}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
