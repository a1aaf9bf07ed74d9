"""Weights & Biases: a job synced by anytune becomes a W&B run whose id derives from the
job id (so a later sync resumes the same run online).

Used for providers without a W&B integration of their own (Vertex; any job through
``anytune sync --to wandb``). OpenAI's ``integrations`` and Together's ``wandb_*`` fields
are switched on by those providers (``Provider.native_tracking``), and the local worker
reports through TRL's ``report_to``. Credentials, project and mode come from W&B's own
variables (``WANDB_API_KEY``, ``WANDB_PROJECT``, ``WANDB_ENTITY``, ``WANDB_MODE``,
``WANDB_DIR``), read by wandb itself: anytune never reads, stores or logs the key.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from anytune._types import JobStatus
from anytune.tracking._base import RunData, Tracker, metric_points, run_key

__all__ = ["WandbTracker"]


def _mode(value: str | None) -> Any:
    return value if value in ("online", "offline", "disabled", "shared") else None


class WandbTracker(Tracker):
    """Logs jobs to W&B, one run per job, metrics against the job's own step."""

    name: ClassVar[str] = "wandb"
    extra: ClassVar[str] = "wandb"
    requires: ClassVar[tuple[str, ...]] = ("wandb",)

    @classmethod
    def target(cls) -> str:
        mode = os.environ.get("WANDB_MODE") or "online"
        return f"{mode}:{os.environ.get('WANDB_ENTITY') or ''}/{os.environ.get('WANDB_PROJECT') or 'anytune'}"

    def __init__(self) -> None:
        #: job id -> (the open wandb run, steps logged)
        self._runs: dict[str, tuple[Any, set[int]]] = {}

    def _open(self, run: RunData) -> tuple[Any, set[int]]:
        import wandb

        # wandb caches its settings, WANDB_DIR and WANDB_MODE included, at the first
        # init of a process; passing them each time honours the environment of now.
        wb = wandb.init(
            dir=os.environ.get("WANDB_DIR") or None,
            mode=_mode(os.environ.get("WANDB_MODE")),
            project=os.environ.get("WANDB_PROJECT") or "anytune",
            entity=os.environ.get("WANDB_ENTITY") or None,
            id=run_key(run.job_id),
            name=run.job_id,
            config=dict(run.params),
            tags=[run.provider],
            resume="allow",
            reinit="create_new",
        )
        wb.define_metric("step")
        wb.define_metric("*", step_metric="step")
        return wb, set()

    def sync(self, run: RunData) -> str:
        """Log new points of ``run``; finish the W&B run once the job is terminal."""
        if run.job_id not in self._runs:
            self._runs[run.job_id] = self._open(run)
        wb, logged = self._runs[run.job_id]
        by_step: dict[int, dict[str, float]] = {}
        for key, step, value in metric_points(run.metrics):
            if step not in logged:
                by_step.setdefault(step, {})[key] = value
        for step in sorted(by_step):
            wb.log({"step": step, **by_step[step]})
            logged.add(step)
        wb.summary.update({**run.final, **{k: v for k, v in run.tags.items()}})
        where = str(getattr(wb, "dir", "") or wb.id)
        if run.status.terminal:
            wb.finish(exit_code=0 if run.status == JobStatus.SUCCEEDED else 1)
            del self._runs[run.job_id]
        return where

    def close(self) -> None:
        for wb, _ in self._runs.values():
            wb.finish()
        self._runs.clear()
