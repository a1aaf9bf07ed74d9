"""Reading and supervising local jobs: a job's folder turned into snapshots, events,
metrics and checkpoints, and the detection of workers that died without a final word.

Every function works from any process: all it needs is the job folder.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from anytune.errors import NotFoundError, UnsupportedError
from anytune.provider import Checkpoint, JobError, JobEvent, JobResult, JobSnapshot, JobStatus, Metric
from anytune_local._state import (
    HEARTBEAT_STALE_S,
    append_jsonl,
    heartbeat_age,
    jobs_root,
    now_iso,
    pid_alive,
    read_json,
    read_jsonl,
    tail,
    write_json,
)

__all__ = [
    "cancel",
    "checkpoints",
    "events",
    "job_ids",
    "metrics",
    "resume_checkpoint",
    "snapshot",
    "start_worker",
]

#: A worker that has not written its pid this long after ``create`` never started.
START_GRACE_S = 30.0
#: Popen objects of workers this process started, so finished ones are reaped (a zombie
#: would otherwise look alive to ``kill(pid, 0)``).
_CHILDREN: dict[str, subprocess.Popen[bytes]] = {}


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def folder_of(job_id: str) -> Path:
    """The folder of local job ``job_id``; :class:`NotFoundError` when there is none."""
    folder = jobs_root() / job_id
    if job_id.startswith(("_", ".")) or "/" in job_id or not (folder / "spec.json").exists():
        raise NotFoundError(f"no local job {job_id!r}", provider="local", status_code=404)
    return folder


def start_worker(job_id: str, folder: Path, cmd: list[str], env_extra: dict[str, str]) -> None:
    """Start the worker in its own session, so it outlives the caller and its signals."""
    env = {
        **os.environ,
        **env_extra,
        "PYTHONUNBUFFERED": "1",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    with (folder / "worker.log").open("ab") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _CHILDREN[job_id] = proc
    write_json(folder / "pid.json", {"pid": proc.pid, "command": cmd, "started_at": now_iso()})


def _alive(job_id: str, folder: Path) -> bool:
    proc = _CHILDREN.get(job_id)
    if proc is not None and proc.poll() is not None:
        _CHILDREN.pop(job_id, None)
        return False
    pid = (read_json(folder / "pid.json", {}) or {}).get("pid")
    if pid is None:  # create is between writing the folder and starting the worker
        spec = read_json(folder / "spec.json", {}) or {}
        created = _dt(spec.get("created_at"))
        return created is not None and time.time() - created.timestamp() < START_GRACE_S
    if not pid_alive(pid):
        return False
    age = heartbeat_age(folder)
    return age is None or age < HEARTBEAT_STALE_S


def load_state(job_id: str) -> tuple[Path, dict[str, Any]]:
    """The job's folder and state; a worker found dead is recorded as failed here."""
    folder = folder_of(job_id)
    state = read_json(folder / "state.json", {}) or {}
    if JobStatus(state.get("status", "queued")).terminal or _alive(job_id, folder):
        return folder, state
    # The worker is gone without a final word; it may have written one just now.
    state = read_json(folder / "state.json", {}) or {}
    if JobStatus(state.get("status", "queued")).terminal:
        return folder, state
    last = tail(folder / "worker.log", 15)
    message = "the worker process died" + (f"; last log lines:\n{last}" if last else "")
    state.update(
        status="failed",
        phase="done",
        finished_at=now_iso(),
        message=message,
        error={"message": message, "code": "worker_died"},
    )
    write_json(folder / "state.json", state)
    append_jsonl(
        folder / "events.jsonl",
        {
            "created_at": now_iso(),
            "level": "error",
            "type": "failed",
            "message": "the worker process died",
            "data": {},
        },
    )
    return folder, state


def snapshot(job_id: str) -> JobSnapshot:
    """The job's state, from its folder; a dead worker is reported failed."""
    folder, state = load_state(job_id)
    spec = read_json(folder / "spec.json")
    status = JobStatus(state.get("status", "queued"))
    if not status.terminal and (folder / "cancel").exists():
        status = JobStatus.CANCELLING
    # A cancelled run saved its adapter too: it is the result, as far as it got.
    result = state.get("result") if status in (JobStatus.SUCCEEDED, JobStatus.CANCELLED) else None
    err = state.get("error") if status is JobStatus.FAILED else None
    return JobSnapshot(
        id=job_id,
        status=status,
        model=spec["model"],
        created_at=_dt(spec["created_at"]),
        finished_at=_dt(state.get("finished_at")),
        result=JobResult(model=result["model"], trained_tokens=result.get("trained_tokens"))
        if result
        else None,
        error=JobError(message=err["message"], code=err.get("code")) if err else None,
        progress=state.get("progress"),
        message=state.get("message"),
        metadata=dict(spec.get("metadata") or {}),
        poll_interval=1.0,
        raw={"state": state, "folder": str(folder)},
    )


def cancel(job_id: str) -> JobSnapshot:
    """Ask the worker to stop at the next step boundary (it saves, then ends cancelled)."""
    folder, state = load_state(job_id)
    if not JobStatus(state.get("status", "queued")).terminal:
        (folder / "cancel").touch()
    return snapshot(job_id)


def events(job_id: str, *, limit: int = 100) -> list[JobEvent]:
    """The job's events, oldest first (the last ``limit``)."""
    folder, _ = load_state(job_id)
    rows = list(enumerate(read_jsonl(folder / "events.jsonl")))
    rows = rows[-limit:] if limit else []
    return [
        JobEvent(
            created_at=datetime.fromisoformat(r["created_at"]),
            message=r["message"],
            level=r.get("level", "info"),
            type=r.get("type", "message"),
            data=r.get("data") or {},
            id=f"{job_id}-{i}",
        )
        for i, r in rows
    ]


def metrics(job_id: str) -> list[Metric]:
    """Training metrics by step, oldest first, while training and after."""
    folder, _ = load_state(job_id)
    fields = ("epoch", "train_loss", "valid_loss", "learning_rate", "token_accuracy")
    return [
        Metric(step=r["step"], extra=r.get("extra") or {}, **{k: r.get(k) for k in fields})
        for r in read_jsonl(folder / "metrics.jsonl")
    ]


def checkpoints(job_id: str) -> list[Checkpoint]:
    """Saved checkpoints that still exist, oldest first."""
    folder, _ = load_state(job_id)
    return [
        Checkpoint(
            id=c["id"],
            step=c["step"],
            model=c["model"],
            created_at=_dt(c.get("created_at")),
            metrics=c.get("metrics") or {},
        )
        for c in read_json(folder / "checkpoints.json", []) or []
        if Path(c["model"]).is_dir()
    ]


def resume_checkpoint(job_id: str) -> str:
    """The last checkpoint of job ``job_id`` (qualified or native id), to resume from."""
    job_id = job_id.removeprefix("local:")  # the qualified id works too
    index = read_json(folder_of(job_id) / "checkpoints.json", []) or []
    existing = [c for c in index if Path(c["model"]).is_dir()]
    if not existing:
        raise UnsupportedError("local", f"resume_from={job_id!r}", "that job saved no checkpoint")
    return str(existing[-1]["model"])


def job_ids() -> list[str]:
    """Ids of all local jobs, newest first."""
    specs = []
    for path in jobs_root().glob("*/spec.json"):
        if not path.parent.name.startswith(("_", ".")):
            specs.append(((read_json(path, {}) or {}).get("created_at", ""), path.parent.name))
    return [job_id for _, job_id in sorted(specs, reverse=True)]
