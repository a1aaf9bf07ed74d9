"""Ray's answers as anytune's types: a Ray job's ``JobDetails`` (status, metadata, times)
and the record lines of its log (:mod:`._logs`) become snapshots, events, metrics and
checkpoints. No I/O: the provider fetches, these functions map."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from anytune.provider import Checkpoint, JobError, JobEvent, JobResult, JobSnapshot, JobStatus, Metric
from anytune_ray import _logs

__all__ = ["TAG", "checkpoints_from", "events_from", "metrics_from", "snapshot_from", "status_of"]

#: Ray job statuses (``ray.job_submission.JobStatus`` values) as anytune's.
_STATUS = {
    "PENDING": JobStatus.QUEUED,
    "RUNNING": JobStatus.RUNNING,
    "STOPPED": JobStatus.CANCELLED,
    "SUCCEEDED": JobStatus.SUCCEEDED,
    "FAILED": JobStatus.FAILED,
}
#: Marks the Ray jobs this provider submitted (``list`` shows only those).
TAG = "anytune_provider"


def _ms(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, timezone.utc) if value else None


def _status_name(info: Any) -> str:
    return str(getattr(info.status, "value", info.status))


def status_of(info: Any) -> JobStatus:
    """The anytune status of a Ray job (an unknown one is still queued)."""
    return _STATUS.get(_status_name(info), JobStatus.QUEUED)


def snapshot_from(info: Any, log: Callable[[], _logs.Parsed], *, cancelling: bool = False) -> JobSnapshot:
    """The snapshot of a Ray job; ``log`` is read only for a finished job (its result or
    its last lines)."""
    status_name = _status_name(info)
    status = status_of(info)
    if cancelling and not status.terminal:
        status = JobStatus.CANCELLING
    meta = dict(info.metadata or {})
    result = error = None
    if status is JobStatus.SUCCEEDED:
        parsed = log().result or {}
        tokens = parsed.get("trained_tokens")
        result = JobResult(model=parsed.get("model") or meta.get("anytune_result", ""),
                           trained_tokens=int(tokens) if tokens else None)
    elif status is JobStatus.FAILED:
        tail = "\n".join(log().tail[-8:])
        message = (info.message or "the Ray job failed") + (f"; last log lines:\n{tail}" if tail else "")
        error = JobError(message=message, code=getattr(info, "error_type", None) or "ray_job_failed")
    user_meta = {
        k: v for k, v in meta.items() if not k.startswith("anytune_") or k == "anytune_idempotency_key"
    }
    return JobSnapshot(
        id=info.submission_id,
        status=status,
        model=meta.get("anytune_model", ""),
        created_at=_ms(getattr(info, "start_time", None)) or datetime.now(timezone.utc),
        finished_at=_ms(getattr(info, "end_time", None)),
        result=result,
        error=error,
        message=info.message,
        metadata=user_meta,
        poll_interval=2.0,
        raw={"ray": {"status": status_name, "driver_exit_code": getattr(info, "driver_exit_code", None)}},
    )


def events_from(info: Any, parsed: _logs.Parsed, *, limit: int) -> list[JobEvent]:
    """The Ray job's status changes and the events its log records, oldest first."""
    job_id = info.submission_id
    rows: list[JobEvent] = []
    start = _ms(getattr(info, "start_time", None))
    if start is not None:
        rows.append(JobEvent(created_at=start, message=f"Ray job {job_id} submitted", type="created"))
    for i, ev in enumerate(parsed.events):
        rows.append(
            JobEvent(
                created_at=datetime.fromisoformat(ev["created_at"]),
                message=ev.get("message", ""),
                level=ev.get("level", "info"),
                type=ev.get("type", "message"),
                data=ev.get("data") or {},
                id=f"{job_id}-{i}",
            )
        )
    end = _ms(getattr(info, "end_time", None))
    if end is not None:
        status = _status_name(info)
        rows.append(
            JobEvent(
                created_at=end,
                message=f"Ray job {status.lower()}: {info.message or ''}".strip(),
                level="error" if status == "FAILED" else "info",
                type=f"ray_{status.lower()}",
            )
        )
    rows.sort(key=lambda e: e.created_at)
    return rows[-limit:] if limit else []


def metrics_from(parsed: _logs.Parsed) -> list[Metric]:
    """The rows rank 0 logged at each step, oldest first."""
    fields = ("epoch", "train_loss", "valid_loss", "learning_rate", "token_accuracy")
    return [
        Metric(step=int(r["step"]), extra=r.get("extra") or {}, **{k: r.get(k) for k in fields})
        for r in parsed.metrics
    ]


def checkpoints_from(parsed: _logs.Parsed) -> list[Checkpoint]:
    """The checkpoints Ray Train persisted to the storage, oldest first."""
    return [
        Checkpoint(
            id=str(c.get("id") or c.get("path")),
            step=c.get("step"),
            model=str(c.get("path")),
            created_at=datetime.fromisoformat(c["created_at"]) if c.get("created_at") else None,
            metrics={k: float(v) for k, v in (c.get("metrics") or {}).items()},
        )
        for c in parsed.checkpoints
    ]
