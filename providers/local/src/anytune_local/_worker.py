"""The detached worker: ``python -m anytune_local._worker JOB_FOLDER``.

Started by ``LocalProvider.create`` in its own session, it outlives the caller. It writes
its state into the job folder (see ``_state``) and beats a heartbeat every few seconds, so
any process can tell a live job from a dead one. Under ``accelerate launch`` every rank
runs this module; only rank 0 writes.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from anytune_local._state import HEARTBEAT_EVERY_S, JobRecorder, now_iso, read_json

#: Phases in which no trainer callback runs yet: the heartbeat thread honours a cancel
#: request itself there, so a job cancelled while its model loads stops within seconds.
_EARLY_PHASES = ("starting", "loading")


def _finish_cancelled(rec: JobRecorder) -> None:
    with rec.lock:
        rec._update(
            {
                "status": "cancelled",
                "phase": "done",
                "finished_at": now_iso(),
                "message": "cancelled before training started",
            }
        )
        rec.event("job cancelled before training started", type="cancelled")
        sys.stdout.flush()
        os._exit(0)


def _heartbeat(rec: JobRecorder) -> None:
    beat = rec.folder / "heartbeat"
    while True:
        tmp = beat.with_suffix(".tmp")
        tmp.write_text(str(time.time()))
        os.replace(tmp, beat)
        if rec.phase in _EARLY_PHASES and rec.cancel_requested():
            _finish_cancelled(rec)
        time.sleep(HEARTBEAT_EVERY_S)


def _on_sigterm(signum: int, frame: Any) -> None:
    # A polite kill is a cancel: stop at the next step and save, like `anytune cancel`.
    (Path(sys.argv[1]) / "cancel").touch()


def _error_code(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "OutOfMemoryError":
        return "out_of_memory"
    if name in ("DatasetError", "UnsupportedError"):
        return "invalid_training_data"
    return "training_error"


def main(argv: list[str]) -> int:
    """Run the job in ``argv[0]``; the exit status is 0 unless the job failed."""
    folder = Path(argv[0])
    spec = read_json(folder / "spec.json")
    rec = JobRecorder(folder, main=int(os.environ.get("RANK", "0")) == 0)
    if rec.main:
        signal.signal(signal.SIGTERM, _on_sigterm)
        rec.update(
            status="validating",
            phase="starting",
            started_at=now_iso(),
            worker_pid=os.getpid(),
            message="starting",
        )
        rec.event(f"worker started (pid {os.getpid()})", type="started")
        threading.Thread(target=_heartbeat, args=(rec,), daemon=True, name="heartbeat").start()
    from anytune_local._tracking import open_live

    live = open_live(spec, rec)
    try:
        from anytune_local._train import train

        outcome = train(spec, rec)
    except BaseException as exc:
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc}"
        if live is not None:  # before the final state: a waiter then sees the run ended
            live.finish("failed", error=message)
        rec.update(
            status="failed",
            phase="done",
            finished_at=now_iso(),
            message=message,
            error={"message": message, "code": _error_code(exc)},
        )
        rec.event(f"job failed: {message}", level="error", type="failed")
        return 1
    status = outcome["status"]
    if live is not None:
        live.finish(status, result=outcome.get("result"))
    rec.update(
        **outcome,
        phase="done",
        finished_at=now_iso(),
        message=status,
        **({"progress": 1.0} if status == "succeeded" else {}),
    )
    rec.event(f"job {status}", type=status)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
