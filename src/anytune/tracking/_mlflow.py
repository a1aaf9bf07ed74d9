"""MLflow: each job a run of the ``anytune`` experiment (``MLFLOW_EXPERIMENT_NAME``
overrides it), found again by its ``anytune.job_id`` tag.

Where runs go: ``MLFLOW_TRACKING_URI`` when set (a team server, a database), else an
embedded SQLite store at ``<anytune home>/mlflow.db`` with artifacts beside it, so that
``mlflow ui --backend-store-uri sqlite:///<that file>`` shows every job of every provider.
mlflow is imported only here, and only when a job asks for it (about 1-2 s).
"""

from __future__ import annotations

import os
import time
from typing import Any, ClassVar

from anytune._types import JobStatus
from anytune.tracking._base import RunData, Tracker, metric_points

__all__ = ["MLflowTracker", "default_uri"]

#: MLflow's run statuses for anytune's terminal ones (``mlflow.entities.RunStatus``).
_END_STATUS = {
    JobStatus.SUCCEEDED: "FINISHED",
    JobStatus.FAILED: "FAILED",
    JobStatus.CANCELLED: "KILLED",
}
_BATCH = 1000  # MLflow's log_batch takes at most 1000 metrics, 100 params, 100 tags


def default_uri() -> str:
    """The embedded store: ``sqlite:///<anytune home>/mlflow.db``."""
    from anytune._config import anytune_home

    return f"sqlite:///{anytune_home() / 'mlflow.db'}"


class MLflowTracker(Tracker):
    """Logs jobs into MLflow through its client API (no global ``mlflow.start_run`` state,
    so several jobs can be synced from one process)."""

    name: ClassVar[str] = "mlflow"
    extra: ClassVar[str] = "mlflow"
    requires: ClassVar[tuple[str, ...]] = ("mlflow",)

    @classmethod
    def target(cls) -> str:
        from anytune.tracking import mlflow_uri

        return mlflow_uri()

    def __init__(self) -> None:
        from mlflow.tracking import MlflowClient

        self.uri = self.target()
        self.client = MlflowClient(tracking_uri=self.uri)
        self.experiment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "anytune"
        self._experiment_id: str | None = None
        #: job id -> (run id, {metric key: steps already logged}, ended)
        self._runs: dict[str, tuple[str, dict[str, set[int]], bool]] = {}

    def experiment_id(self) -> str:
        """The experiment's id, creating it (with artifacts next to the embedded store)."""
        if self._experiment_id is None:
            exp = self.client.get_experiment_by_name(self.experiment_name)
            if exp is not None:
                self._experiment_id = str(exp.experiment_id)
            else:
                location = None
                if not os.environ.get("MLFLOW_TRACKING_URI"):
                    from anytune._config import anytune_home

                    location = (anytune_home() / "mlartifacts").as_uri()
                self._experiment_id = str(
                    self.client.create_experiment(self.experiment_name, artifact_location=location)
                )
        return self._experiment_id

    def find_run(self, job_id: str) -> Any:
        """The run of ``job_id`` in the experiment, or ``None``."""
        quoted = job_id.replace("\\", "\\\\").replace("'", "\\'")
        runs = self.client.search_runs(
            [self.experiment_id()], filter_string=f"tags.`anytune.job_id` = '{quoted}'", max_results=1
        )
        return runs[0] if runs else None

    def _open(self, run: RunData) -> tuple[str, dict[str, set[int]], bool]:
        from mlflow.entities import Param

        found = self.find_run(run.job_id)
        if found is None:
            started = int((run.started_at or time.time()) * 1000)
            made = self.client.create_run(
                self.experiment_id(), start_time=started, tags=run.tags, run_name=run.job_id
            )
            run_id, have, logged = made.info.run_id, {}, {}
        else:
            run_id, have = found.info.run_id, dict(found.data.params)
            logged = {
                key: {m.step for m in self.client.get_metric_history(run_id, key)}
                for key in found.data.metrics
            }
        params = [Param(k, v) for k, v in sorted(run.params.items()) if k not in have]
        for i in range(0, len(params), 100):
            self.client.log_batch(run_id, params=params[i : i + 100])
        ended = found is not None and found.info.status in ("FINISHED", "FAILED", "KILLED")
        return run_id, logged, ended

    def sync(self, run: RunData) -> str:
        """Upsert the run of ``run.job_id``; returns the MLflow run id."""
        from mlflow.entities import Metric, RunTag

        if run.job_id not in self._runs:
            self._runs[run.job_id] = self._open(run)
        run_id, logged, ended = self._runs[run.job_id]
        now = int(time.time() * 1000)
        points = [
            Metric(key, value, now, step)
            for key, step, value in metric_points(run.metrics)
            if step not in logged.get(key, set())
        ]
        final_step = max((m.step for m in run.metrics), default=0)
        if run.status.terminal:  # cost and tokens once, at the last step
            points += [Metric(k, v, now, final_step) for k, v in sorted(run.final.items())
                       if final_step not in logged.get(k, set())]
        tags = [RunTag(k, v) for k, v in sorted(run.tags.items())]
        for i in range(0, max(len(points), 1), _BATCH):
            self.client.log_batch(run_id, metrics=points[i : i + _BATCH], tags=tags[:100] if i == 0 else [])
        for p in points:
            logged.setdefault(p.key, set()).add(p.step)
        if run.status.terminal and not ended:
            end = int((run.finished_at or time.time()) * 1000)
            self.client.set_terminated(run_id, status=_END_STATUS[run.status], end_time=end)
            self._runs[run.job_id] = (run_id, logged, True)
        return str(run_id)
