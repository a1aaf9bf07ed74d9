"""TensorBoard: each job an event-file folder, ``<logdir>/<job>/``, where ``logdir`` is
``ANYTUNE_TENSORBOARD_DIR`` or ``<anytune home>/tensorboard`` (``tensorboard --logdir``
that folder shows every job side by side).

Scalars are the job's metrics against its own step; params go in as hparams (the
HParams tab), the end state as the hparams session's status. Written with TensorBoard's
own protobufs and event-file writer (no TensorFlow, no torch). A sync from a new process
rewrites the job's folder, so ``anytune sync --to tensorboard`` can run any number of
times without doubling points.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

from anytune._types import JobStatus
from anytune.tracking._base import RunData, Tracker, metric_points, run_key

__all__ = ["TensorBoardTracker", "logdir"]


def logdir() -> Path:
    """Where event files go."""
    env = os.environ.get("ANYTUNE_TENSORBOARD_DIR")
    if env:
        return Path(env).expanduser()
    from anytune._config import anytune_home

    return anytune_home() / "tensorboard"


class TensorBoardTracker(Tracker):
    """Writes one event-file folder per job."""

    name: ClassVar[str] = "tensorboard"
    extra: ClassVar[str] = "tensorboard"
    requires: ClassVar[tuple[str, ...]] = ("tensorboard",)

    @classmethod
    def target(cls) -> str:
        return str(logdir())

    def __init__(self) -> None:
        #: job id -> (event-file writer, steps logged per key, ended)
        self._runs: dict[str, tuple[Any, dict[str, set[int]], bool]] = {}

    def folder(self, job_id: str) -> Path:
        """The event-file folder of ``job_id``."""
        return logdir() / run_key(job_id)

    def _open(self, run: RunData) -> tuple[Any, dict[str, set[int]], bool]:
        from tensorboard.plugins.hparams import plugin_data_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        folder = self.folder(run.job_id)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("events.out.tfevents.*"):  # a sync from scratch: no doubles
            old.unlink()
        writer = EventFileWriter(str(folder))
        start = run.started_at or time.time()
        info = plugin_data_pb2.SessionStartInfo(start_time_secs=start)
        for key, value in {**run.params, "job_id": run.job_id}.items():
            info.hparams[key].string_value = value
        session = _hparams("session_start_info", plugin_data_pb2.HParamsPluginData(session_start_info=info))
        writer.add_event(_event(start, 0, session))
        return writer, {}, False

    def sync(self, run: RunData) -> str:
        """Append new points of ``run``; end the hparams session once the job is terminal."""
        from tensorboard.compat.proto.summary_pb2 import Summary

        if run.job_id not in self._runs:
            self._runs[run.job_id] = self._open(run)
        writer, logged, ended = self._runs[run.job_id]
        now = time.time()
        by_step: dict[int, list[Any]] = {}
        for key, step, value in metric_points(run.metrics):
            if step not in logged.setdefault(key, set()):
                by_step.setdefault(step, []).append(Summary.Value(tag=key, simple_value=value))
                logged[key].add(step)
        for step in sorted(by_step):
            writer.add_event(_event(now, step, Summary(value=by_step[step])))
        if run.status.terminal and not ended:
            from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

            last = max((m.step for m in run.metrics), default=0)
            finals = [Summary.Value(tag=k, simple_value=v) for k, v in sorted(run.final.items())]
            if finals:
                writer.add_event(_event(now, last, Summary(value=finals)))
            status = {
                JobStatus.SUCCEEDED: api_pb2.STATUS_SUCCESS,
                JobStatus.FAILED: api_pb2.STATUS_FAILURE,
                JobStatus.CANCELLED: api_pb2.STATUS_FAILURE,  # hparams has no "cancelled"; the tag says it
            }[run.status]
            info = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=run.finished_at or now)
            end = _hparams("session_end_info", plugin_data_pb2.HParamsPluginData(session_end_info=info))
            writer.add_event(_event(now, last, end))
            self._runs[run.job_id] = (writer, logged, True)
        writer.flush()
        return str(self.folder(run.job_id))

    def close(self) -> None:
        for writer, _, _ in self._runs.values():
            writer.close()
        self._runs.clear()


def _event(wall_time: float, step: int, summary: Any) -> Any:
    from tensorboard.compat.proto.event_pb2 import Event

    return Event(wall_time=wall_time, step=step, summary=summary)


def _hparams(which: str, data: Any) -> Any:
    """An hparams-plugin summary, built as ``tensorboard.plugins.hparams.summary`` does
    (that module imports TensorFlow; this needs only TensorBoard's own protobufs)."""
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.plugins.hparams import metadata

    return Summary(value=[Summary.Value(
        tag=f"_hparams_/{which}", metadata=metadata.create_summary_metadata(data),
        tensor=metadata.NULL_TENSOR,
    )])
