"""Flows for what a user does after a job (issue 14): diagnose its loss curves, fetch or
merge its weights. Written once, run by ``run_sync`` / ``run_async`` in :mod:`anytune.job`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anytune._doctor import Diagnosis, diagnose
from anytune._flow import Call, Flow

__all__ = ["diagnose_flow", "weights_flow"]


def diagnose_flow(job: Any) -> Flow[Diagnosis]:
    """Read the job's metrics (and checkpoints, where the provider has them) and judge them."""
    provider, native = job._provider, job._snapshot.id
    provider.require("metrics")
    metrics = yield Call(provider, "metrics", (native,))
    checkpoints = []
    if provider.supports("checkpoints"):
        checkpoints = yield Call(provider, "checkpoints", (native,))
    return diagnose(metrics, checkpoints)


def weights_flow(job: Any, operation: str, output_dir: str | Path) -> Flow[Path]:
    """``download`` or ``export_merged`` into ``output_dir`` (created if missing)."""
    out = Path(output_dir).expanduser()
    path = yield Call(job._provider, operation, (job._snapshot.id, out))
    return Path(path)
