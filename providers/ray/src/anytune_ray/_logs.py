"""The job's log as its record: events, metrics and the result as marked JSON lines.

A Ray job has a status and a log, and nothing else a client can read without access to
the storage. The driver and the rank-0 worker print one line per event, metric row and
result, each starting with :data:`MARK`; Ray forwards worker output into the job's log
(with a ``(RayTrainWorker pid=...)`` prefix), where :func:`parse` finds them again.
Pure functions, no I/O: the worker side formats, the client side parses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MARK", "Parsed", "line", "parse"]

#: What starts every record line (unlikely in any library's own output).
MARK = "@@anytune@@ "


def line(kind: str, body: dict[str, Any]) -> str:
    """One record line: ``kind`` is ``event``, ``metric``, ``checkpoint`` or ``result``."""
    return MARK + json.dumps({"kind": kind, **body}, default=str, separators=(",", ":"))


@dataclass
class Parsed:
    """The records found in one job log, in log order."""

    events: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    #: The last lines that are not records (what a failed job said last).
    tail: list[str] = field(default_factory=list)


def parse(log: str, *, tail: int = 15) -> Parsed:
    """Every record line of ``log``; torn or foreign lines are skipped."""
    out = Parsed()
    seen: set[str] = set()
    for raw in log.splitlines():
        at = raw.find(MARK)
        if at < 0:
            if raw.strip():
                out.tail.append(raw)
                del out.tail[:-tail]
            continue
        payload = raw[at + len(MARK) :]
        # Ray may forward a worker's line twice (its log monitor and the controller's);
        # a record carries its own time, so an identical line is the same record.
        if payload in seen:
            continue
        seen.add(payload)
        try:
            rec = json.loads(payload)
        except json.JSONDecodeError:
            continue
        if not isinstance(rec, dict):
            continue
        kind = rec.pop("kind", None)
        if kind == "event":
            out.events.append(rec)
        elif kind == "metric":
            out.metrics.append(rec)
        elif kind == "checkpoint":
            out.checkpoints.append(rec)
        elif kind == "result":
            out.result = rec
    # After a worker was replaced, the run goes on from its checkpoint and logs some steps
    # again: keep the last row of each step, in step order.
    by_step = {m.get("step"): m for m in out.metrics}
    out.metrics = sorted(by_step.values(), key=lambda m: m.get("step") or 0)
    return out
