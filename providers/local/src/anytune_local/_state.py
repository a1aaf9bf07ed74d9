"""The job folder: every piece of a local job's state, as files any process can read.

Layout of ``anytune_home()/local/<job_id>/``::

    spec.json          what to train (written once by ``create``)
    state.json         status, pid, timestamps, result, error (rewritten atomically)
    heartbeat          the worker's last sign of life (a timestamp, rewritten every few s)
    events.jsonl       one JSON event per line, appended by the worker
    metrics.jsonl      one JSON metric row per logging step, appended by the worker
    checkpoints.json   the saved checkpoints (rewritten atomically after each save)
    cancel             present once a cancel was requested
    worker.log         the worker's stdout and stderr
    train.jsonl ...    the training (and validation) data
    checkpoints/       the trainer's checkpoint folders
    adapter/           the final adapter (safetensors) and tokenizer
    merged/            the merged model, when asked for

Whole files are written to a temporary name and moved into place with ``os.replace``, so a
reader never sees half a file. JSON Lines files have a single writer at a time (the worker
while it lives); readers skip a last line that is still being written.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "JobRecorder",
    "append_jsonl",
    "jobs_root",
    "now_iso",
    "pid_alive",
    "read_json",
    "read_jsonl",
    "tail",
    "write_json",
]

#: A worker whose heartbeat is older than this is considered dead even if its pid exists
#: (pid reuse, a frozen process).
HEARTBEAT_STALE_S = 120.0
HEARTBEAT_EVERY_S = 2.0


def jobs_root() -> Path:
    """The folder holding one sub-folder per local job."""
    from anytune.provider import state_dir as anytune_home

    root = anytune_home() / "local"
    root.mkdir(parents=True, exist_ok=True)
    return root


def now_iso() -> str:
    """The current UTC time in ISO 8601."""
    return datetime.now(timezone.utc).isoformat()


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temporary file + ``os.replace``)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, default=str)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON in ``path``, or ``default`` when the file is missing."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def append_jsonl(path: Path, row: dict[str, Any]) -> None:
    """Append one JSON line. A single ``write`` on an ``O_APPEND`` file keeps lines whole."""
    line = (json.dumps(row, default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a JSON Lines file (a torn last line is skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows = []
    for line in text.splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a text file ("" when missing)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64_000))
            data = fh.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def pid_alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs (a zombie, finished but not yet reaped, counts as dead)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # /proc/<pid>/stat: "pid (comm) state ..."; comm may contain spaces or parentheses.
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def heartbeat_age(folder: Path) -> float | None:
    """Seconds since the worker's last heartbeat, or ``None`` if it never wrote one."""
    try:
        return time.time() - float((folder / "heartbeat").read_text())
    except (FileNotFoundError, ValueError):
        return None


class JobRecorder:
    """Writes a job's state, events, metrics and checkpoints into its folder."""

    def __init__(self, folder: Path, *, main: bool = True) -> None:
        self.folder = folder
        self.main = main
        self.phase = "starting"
        # The heartbeat thread may end the job (cancel before training): the lock keeps its
        # final write from interleaving with the main thread's read-modify-write.
        self.lock = threading.Lock()
        #: Called with each metrics row after it is written (live experiment tracking).
        self.on_metric: Any = None

    def update(self, **fields: Any) -> None:
        """Merge ``fields`` into ``state.json`` (the worker is its only writer while alive)."""
        self.phase = fields.get("phase", self.phase)
        if not self.main:
            return
        with self.lock:
            self._update(fields)

    def _update(self, fields: dict[str, Any]) -> None:
        state = read_json(self.folder / "state.json", {}) or {}
        state.update(fields)
        state["updated_at"] = now_iso()
        write_json(self.folder / "state.json", state)

    def event(self, message: str, *, level: str = "info", type: str = "message", **data: Any) -> None:
        """Append one event."""
        if self.main:
            row = {"created_at": now_iso(), "message": message, "level": level, "type": type}
            append_jsonl(self.folder / "events.jsonl", {**row, "data": data})

    def metric(self, row: dict[str, Any]) -> None:
        """Append one metrics row."""
        if self.main:
            append_jsonl(self.folder / "metrics.jsonl", row)
            if self.on_metric is not None:
                self.on_metric(row)

    def cancel_requested(self) -> bool:
        """Whether someone asked this job to stop."""
        return (self.folder / "cancel").exists()
