"""Flows for what a user does after a job (issue 14): diagnose its loss curves, fetch or
merge its weights. Written once, run by ``run_sync`` / ``run_async`` in :mod:`anytune.job`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anytune._doctor import Diagnosis, diagnose
from anytune._flow import Flow, call

__all__ = ["diagnose_flow", "weights_flow"]


def diagnose_flow(job: Any) -> Flow[Diagnosis]:
    """Read the job's metrics (and checkpoints, where the provider has them) and judge them."""
    provider, native = job._provider, job._snapshot.id
    provider.require("metrics")
    metrics = yield from call(provider.metrics, provider.ametrics, native)
    checkpoints = []
    if provider.supports("checkpoints"):
        checkpoints = yield from call(provider.checkpoints, provider.acheckpoints, native)
    return diagnose(metrics, checkpoints)


def weights_flow(job: Any, output_dir: str | Path, *, merged: bool = False) -> Flow[Path]:
    """``download`` (``merged``: ``export_merged``) into ``output_dir`` (created if missing)."""
    provider = job._provider
    out = Path(output_dir).expanduser()
    if merged:
        path = yield from call(provider.export_merged, provider.aexport_merged, job._snapshot.id, out)
    else:
        path = yield from call(provider.download, provider.adownload, job._snapshot.id, out)
    return Path(path)
