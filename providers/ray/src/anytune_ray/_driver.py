"""The Ray job's entrypoint: ``python -m anytune_ray._driver`` in the job's working dir.

Reads ``spec.json`` (and the data, when it travelled with the job) from the working dir,
runs the local provider's training under Ray Train's ``TorchTrainer`` on
``workers`` workers, and exits 0 only when training succeeded, so the Ray job's own
status is the job's status. Checkpoints go to ``<storage>/<job id>/`` through Ray Train;
a failed worker group is restarted from the last one up to ``max_failures`` times.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

from anytune_local._state import now_iso

from anytune_ray import _logs

__all__ = ["fsdp_env", "main"]


def _event(message: str, *, level: str = "info", type: str = "message", **data: Any) -> None:
    row = {"created_at": now_iso(), "message": message, "level": level, "type": type, "data": data}
    print(_logs.line("event", row), flush=True)


def fsdp_env() -> dict[str, str]:
    """What ``accelerate launch --use_fsdp ...`` sets for the local provider, as the
    environment accelerate reads in each worker (the Trainer builds its FSDP plugin from
    it): FSDP2, transformer-layer wrapping, a full state dict at save time."""
    return {
        "ACCELERATE_USE_FSDP": "true",
        "FSDP_VERSION": "2",
        "FSDP_AUTO_WRAP_POLICY": "TRANSFORMER_BASED_WRAP",
        "FSDP_STATE_DICT_TYPE": "FULL_STATE_DICT",
        "FSDP_CPU_RAM_EFFICIENT_LOADING": "true",
        "FSDP_RESHARD_AFTER_FORWARD": "true",
    }


def _checkpoint_reporter() -> Any:
    """A Ray Train callback (it runs in the train controller) that records each
    checkpoint Ray Train persisted to the storage as a line of the job's log."""
    from ray.train import UserCallback

    class CheckpointRecorder(UserCallback):
        def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
            if checkpoint is None:
                return
            first = metrics[0] if metrics else {}
            named = {"train_loss": first.get("loss"), "valid_loss": first.get("eval_loss")}
            print(
                _logs.line(
                    "checkpoint",
                    {
                        "id": checkpoint.path.rstrip("/").rsplit("/", 1)[-1],
                        "path": checkpoint.path,
                        "step": first.get("step"),
                        "created_at": now_iso(),
                        "metrics": {k: v for k, v in named.items() if isinstance(v, (int, float))},
                    },
                ),
                flush=True,
            )

    return CheckpointRecorder()


def _data(spec: dict[str, Any]) -> dict[str, bytes]:
    """Data files that travelled in the working dir: read here once and handed to every
    worker through Ray's object store (workers on other nodes have another working dir)."""
    out = {}
    for key in ("training_file", "validation_file"):
        value = spec.get(key)
        if value and value.startswith("workdir:"):
            out[key] = Path(value.removeprefix("workdir:")).read_bytes()
    return out


def run(spec: dict[str, Any]) -> int:
    """Train; the exit status of the job."""
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from anytune_ray._worker import train_loop

    opts = spec["options"]
    workers = int(opts.get("workers") or 1)
    gpus = float(opts.get("gpus_per_worker") or 0)
    resources: dict[str, float] = {"CPU": float(opts.get("cpus_per_worker") or 1)}
    if gpus:
        resources["GPU"] = gpus
    env = fsdp_env() if opts.get("fsdp") else {}
    trainer = TorchTrainer(
        train_loop,
        train_loop_config={"spec": spec, "data": _data(spec), "env": env},
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=gpus > 0, resources_per_worker=resources),
        run_config=RunConfig(
            name=spec["id"],
            storage_path=spec["storage"],
            failure_config=FailureConfig(max_failures=int(opts.get("max_failures", 2))),
            checkpoint_config=CheckpointConfig(num_to_keep=opts.get("save_total_limit")),
            callbacks=[_checkpoint_reporter()],
        ),
    )
    _event(
        f"training {spec['method']} on {spec['model']} with {workers} worker(s)"
        + (f", {gpus:g} GPU each" if gpus else " on CPU"),
        type="submitted_to_ray_train",
        workers=workers,
        gpus_per_worker=gpus,
    )
    try:
        result = trainer.fit()
    except Exception as exc:  # Ray Train's TrainingFailedError wraps the worker's error
        traceback.print_exc()
        _event(f"job failed: {type(exc).__name__}: {exc}", level="error", type="failed")
        return 1
    error = getattr(result, "error", None)
    if error is not None:
        _event(f"job failed: {type(error).__name__}: {error}", level="error", type="failed")
        return 1
    _event("job succeeded", type="succeeded")
    return 0


def main(argv: list[str]) -> int:
    """Run the job whose ``spec.json`` is in the working dir (or at ``argv[0]``)."""
    spec = json.loads(Path(argv[0] if argv else "spec.json").read_text(encoding="utf-8"))
    _event(f"Ray job started on the cluster ({sys.executable})", type="started")
    return run(spec)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
