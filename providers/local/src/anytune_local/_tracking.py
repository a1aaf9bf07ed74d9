"""Experiment tracking from the local worker, live while it trains.

``LocalProvider.native_tracking`` puts the job's trackers and params into the job's
options (``tracking``; never a secret). The worker then logs every metric row it writes
into each tracker through anytune's tracker interface (``anytune.tracking``), so the run
holds exactly the points of ``job.metrics()``, and ends the run before it writes the
job's final state. W&B goes through TRL's own ``report_to="wandb"`` instead (credentials,
project and mode from W&B's variables, read by wandb itself).

A tracker that fails is reported in ``worker.log`` and dropped: tracking never fails a run.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

__all__ = ["OPTION", "LiveTracking", "open_live", "report_to"]

#: The job option holding ``{"trackers": [...], "params": {...}, "project": ...}``.
OPTION = "tracking"
#: Trackers that TRL's ``report_to`` feeds (its own integration) rather than anytune.
_TRAINER_REPORTED = ("wandb",)


def _config(spec: dict[str, Any]) -> dict[str, Any]:
    cfg = (spec.get("options") or {}).get(OPTION)
    return cfg if isinstance(cfg, dict) else {}


def report_to(spec: dict[str, Any]) -> list[str] | str:
    """TRL's ``report_to`` for the job: the trackers it reports to itself, else "none"."""
    names = [n for n in _config(spec).get("trackers", []) if n in _TRAINER_REPORTED]
    if names:
        os.environ.setdefault("WANDB_PROJECT", str(_config(spec).get("project") or "anytune"))
    return names or "none"


class LiveTracking:
    """Feeds the job's metric rows and its end into anytune's trackers."""

    def __init__(self, spec: dict[str, Any], names: list[str]) -> None:
        self.spec = spec
        self.names = names
        self.job_id = f"local:{spec['id']}"
        self.params: dict[str, str] = dict(_config(spec).get("params") or {})
        self.metrics: list[Any] = []
        self.started = time.time()

    def _run(self, status: Any, final: dict[str, float], tags: dict[str, str]) -> Any:
        from anytune.tracking import RunData

        return RunData(
            job_id=self.job_id, provider="local", status=status, params=self.params,
            tags={"anytune.job_id": self.job_id, "anytune.provider": "local",
                  "anytune.provider_job_id": self.spec["id"], "anytune.status": status.value, **tags},
            metrics=list(self.metrics), final=final, started_at=self.started,
            finished_at=time.time() if status.terminal else None,
        )

    def _sync(self, run: Any) -> None:
        from anytune.tracking import get_tracker

        for name in list(self.names):
            try:
                get_tracker(name).sync(run)
            except Exception as exc:  # never fail the training run over its tracking
                print(f"anytune: tracking to {name} failed, stopped: {type(exc).__name__}: {exc}",
                      file=sys.stderr)
                self.names.remove(name)

    def metric(self, row: dict[str, Any]) -> None:
        """One metrics row, as ``metrics.jsonl`` holds it (and ``job.metrics()`` reads it)."""
        from anytune.provider import JobStatus, Metric

        fields = ("epoch", "train_loss", "valid_loss", "learning_rate", "token_accuracy")
        self.metrics.append(Metric(step=row["step"], extra=row.get("extra") or {},
                                   **{k: row.get(k) for k in fields}))
        self._sync(self._run(JobStatus.RUNNING, {}, {}))

    def finish(self, status: str, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
        """End the runs with the job's status, trained tokens and cost (0: a local run)."""
        from anytune.provider import JobStatus

        final: dict[str, float] = {"cost_usd": 0.0}
        if self.params.get("estimate.cost_usd"):
            final["estimated_cost_usd"] = float(self.params["estimate.cost_usd"])
        tokens = (result or {}).get("trained_tokens")
        if tokens:
            final["trained_tokens"] = float(tokens)
        tags: dict[str, str] = {}
        if result and result.get("model"):
            tags["anytune.result_model"] = str(result["model"])
        if error:
            tags["anytune.error"] = error[:500]
        self._sync(self._run(JobStatus(status), final, tags))
        from anytune.tracking import get_tracker

        for name in self.names:
            try:
                get_tracker(name).close()
            except Exception:
                pass


def open_live(spec: dict[str, Any], recorder: Any) -> LiveTracking | None:
    """The job's live tracking, hooked into ``recorder``'s metric rows; ``None`` when the
    job asked for no tracker that anytune feeds itself."""
    names = [n for n in _config(spec).get("trackers", []) if n not in _TRAINER_REPORTED]
    if not names or not recorder.main:
        return None
    live = LiveTracking(spec, names)
    recorder.on_metric = live.metric
    return live
