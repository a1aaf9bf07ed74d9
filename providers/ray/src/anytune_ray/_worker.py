"""What each Ray Train worker runs: the local provider's ``train`` with a recorder that
writes into the job's log and a callback that hands checkpoints to Ray Train.

Runs inside the worker actors that ``TorchTrainer`` starts (torch.distributed is already
set up by Ray: gloo on CPU, NCCL on GPU), so the Hugging Face trainer sees the process
group and trains data-parallel. When a worker dies, Ray Train restarts the group and
this function again, and ``ray.train.get_checkpoint()`` is the last checkpoint reported.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from anytune_local._state import JobRecorder, now_iso

from anytune_ray import _logs, _storage

__all__ = ["LogRecorder", "train_loop"]


class LogRecorder(JobRecorder):
    """A :class:`JobRecorder` whose events and metrics also go to stdout as record lines
    (rank 0 only), which Ray forwards into the job's log. ``state.json`` stays in the
    worker's scratch folder: the job's status is the Ray job's."""

    def event(self, message: str, *, level: str = "info", type: str = "message", **data: Any) -> None:
        """Print one event record (rank 0)."""
        if self.main:
            row = {"created_at": now_iso(), "message": message, "level": level, "type": type, "data": data}
            print(_logs.line("event", row), flush=True)

    def metric(self, row: dict[str, Any]) -> None:
        """Print one metric record (rank 0)."""
        if self.main:
            print(_logs.line("metric", row), flush=True)

    def cancel_requested(self) -> bool:
        """Cancelling is Ray's ``stop_job``: it ends the driver, and Ray the workers."""
        return False


def _materialise(spec: dict[str, Any], data: dict[str, bytes], scratch: Path) -> None:
    """Put the training (and validation) data in the scratch folder: bytes that travelled
    with the job (working-dir upload) or a copy from the storage."""
    for key, name in (("training_file", "train.jsonl"), ("validation_file", "validation.jsonl")):
        if key in data:
            (scratch / name).write_bytes(data[key])
            spec[key] = str(scratch / name)
        elif spec.get(key):
            spec[key] = str(_storage.get(spec[key], scratch / name))


def train_loop(config: dict[str, Any]) -> None:
    """The ``train_loop_per_worker`` of the job's ``TorchTrainer``."""
    import ray.train
    from anytune_local._create import resolve_model
    from anytune_local._train import train
    from ray.train.huggingface.transformers import RayTrainReportCallback

    # FSDP (when asked) is configured through the environment accelerate reads.
    os.environ.update(config.get("env") or {})
    ctx = ray.train.get_context()
    rank = ctx.get_world_rank()
    spec = dict(config["spec"])
    scratch = Path(tempfile.mkdtemp(prefix=f"anytune-ray-{spec['id'][-8:]}-r{rank}-"))
    spec["folder"] = str(scratch)
    rec = LogRecorder(scratch, main=rank == 0)
    # Every rank says where it runs, so an operator (or a test) can find a worker process.
    print(
        _logs.line(
            "event",
            {
                "created_at": now_iso(),
                "message": f"worker {rank}/{ctx.get_world_size()} started (pid {os.getpid()})",
                "level": "info",
                "type": "worker_started",
                "data": {
                    "rank": rank,
                    "pid": os.getpid(),
                    "world_size": ctx.get_world_size(),
                    # torch.distributed's rendezvous store (rank 0 serves it on this port).
                    "master_port": os.environ.get("MASTER_PORT"),
                },
            },
        ),
        flush=True,
    )
    try:
        _materialise(spec, config.get("data") or {}, scratch)
        spec["model_path"] = str(resolve_model(spec["model"]))
        checkpoint = ray.train.get_checkpoint()
        if checkpoint is not None:
            restored = Path(checkpoint.to_directory(str(scratch / "restored")))
            spec["resume_checkpoint"] = str(restored / RayTrainReportCallback.CHECKPOINT_NAME)
            rec.event(f"resuming from the checkpoint at {checkpoint.path}", type="resumed",
                      path=checkpoint.path)
        outcome = train(spec, rec, callbacks=[RayTrainReportCallback()])  # type: ignore[no-untyped-call]
        if rank == 0:
            _publish(spec, scratch, outcome, rec)
    finally:
        sys.stdout.flush()
        shutil.rmtree(scratch, ignore_errors=True)


def _publish(spec: dict[str, Any], scratch: Path, outcome: dict[str, Any], rec: LogRecorder) -> None:
    """Copy the adapter (and merged model) from the scratch folder to the storage."""
    name = "model" if spec["options"].get("full") else "adapter"
    dest = _storage.join(spec["job_root"], name)
    _storage.put(scratch / name, dest)
    rec.event(f"{name} stored at {dest}", type="stored", path=dest)
    if (scratch / "merged").is_dir():
        merged = _storage.join(spec["job_root"], "merged")
        _storage.put(scratch / "merged", merged)
        rec.event(f"merged model stored at {merged}", type="merged", path=merged)
    result = dict(outcome.get("result") or {}, model=dest)
    print(_logs.line("result", {"status": outcome["status"], **result}), flush=True)
