"""The tracker interface and the run every tracker receives.

A tracker turns one :class:`RunData` (a job: its params, tags, metric points, status and
cost) into a run of an experiment tracker. ``sync`` is an idempotent upsert: called again
with more points or a new status, it adds what is new and never duplicates, so the same
code serves live logging (the local worker), syncing while ``wait`` runs, and
``anytune sync`` for jobs waited elsewhere.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from anytune._types import JobStatus, Metric

__all__ = ["RunData", "Tracker", "metric_points", "run_key"]

#: Metric fields of :class:`~anytune.Metric` logged under their own names, in this order.
METRIC_FIELDS = ("train_loss", "valid_loss", "learning_rate", "token_accuracy", "epoch")


@dataclass
class RunData:
    """One job as a tracker sees it. ``params`` are fixed at launch; ``tags`` and
    ``metrics`` grow; ``final`` holds the last values (cost, trained tokens)."""

    job_id: str
    provider: str
    status: JobStatus
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)
    #: Seconds since the epoch (the provider's creation and end times, when known).
    started_at: float | None = None
    finished_at: float | None = None


def metric_points(metrics: list[Metric]) -> list[tuple[str, int, float]]:
    """``(key, step, value)`` for every value a :class:`Metric` list holds: the named
    fields, then the provider's extras (``tokens_seen``, ...), skipping absent ones."""
    points: list[tuple[str, int, float]] = []
    for m in metrics:
        for key in METRIC_FIELDS:
            value = getattr(m, key)
            if value is not None:
                points.append((key, int(m.step), float(value)))
        for key, value in sorted(m.extra.items()):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                points.append((_safe_key(key), int(m.step), float(value)))
    return points


_UNSAFE = re.compile(r"[^A-Za-z0-9_./ -]")


def _safe_key(key: str) -> str:
    """A metric name every tracker accepts (MLflow allows letters, digits, ``_-./`` and space)."""
    return _UNSAFE.sub("_", key)[:250] or "_"


def run_key(job_id: str) -> str:
    """A stable, path- and id-safe name for ``job_id`` (W&B run ids, folder names)."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", job_id)[:48].strip("-")
    return f"{readable}-{hashlib.sha256(job_id.encode()).hexdigest()[:10]}"


class Tracker(ABC):
    """One experiment tracker, in its own module, loaded only when a job asks for it.

    Subclasses set ``name``, the pip ``extra`` that installs it and the ``requires``
    modules whose absence makes that extra the error, and implement :meth:`sync`."""

    name: ClassVar[str] = ""
    #: ``pip install 'anytune[<extra>]'`` installs what this tracker needs.
    extra: ClassVar[str] = ""
    #: Top-level modules the tracker imports.
    requires: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def target(cls) -> str:
        """Where runs go (a tracking URI, a folder), from the environment; one tracker
        instance is kept per target and process, so its cache of what was logged holds."""
        return ""

    @abstractmethod
    def sync(self, run: RunData) -> str:
        """Create or update the run of ``run.job_id``: params once, tags, every metric
        point not logged yet, and the end state when the job is terminal. Returns where
        the run is (a run id, a folder)."""

    def close(self) -> None:  # noqa: B027  (optional: most trackers hold nothing open)
        """Flush and release files or connections."""

    def describe(self) -> dict[str, Any]:
        """Where this tracker writes, for messages and ``--json`` output."""
        return {"tracker": self.name, "target": self.target()}
