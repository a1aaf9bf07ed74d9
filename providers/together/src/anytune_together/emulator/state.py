"""The emulator's state: files and jobs, and what a job looks like at a moment.

A job's life is a function of the clock, as on Together: ``pending`` for the first 10%
of ``job_seconds``, ``queued`` to 20%, ``running`` to 80%, ``compressing`` to 90%,
``uploading`` to 100%, then ``completed``. A cancel shows ``cancel_requested`` for a
moment, then ``cancelled``. A training file that fails Together's server-side check
ends the job in ``error`` once it would start running.

Trained tokens follow Together's billing rule (its pricing page):
``n_epochs x training-file tokens + n_evals x validation-file tokens``; the emulator
counts a file's tokens as 1 per 4 characters of its message text (it has no tokenizer).
``total_price`` is that many tokens at the catalog's rate, in integer nanodollars: the
spec says only "integer"; the unit is the one Together's own SDK reads it in (its CLI
lists ``finetune_price_to_dollars(total_price)``, ``price / NANODOLLAR`` with
``NANODOLLAR = 1_000_000_000``: together 3.1.1, ``together/lib/utils/tools.py`` and
``together/lib/cli/api/fine_tuning/list.py``, checked 2026-11-29).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from anytune_together import _catalog

__all__ = ["NANODOLLARS_PER_USD", "File", "Job", "State", "file_tokens", "iso"]

#: ``total_price`` is in nanodollars (see the module docstring).
NANODOLLARS_PER_USD = 1_000_000_000

_PHASES = ((0.1, "pending"), (0.2, "queued"), (0.8, "running"), (0.9, "compressing"), (1.0, "uploading"))
STEPS_PER_EPOCH = 10


def iso(ts: float) -> str:
    """An ISO 8601 UTC timestamp, as Together writes them."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _texts(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [t for k, v in node.items() if k != "role" for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


def file_tokens(content: bytes) -> tuple[int, str | None]:
    """(tokens, the first problem) of a JSONL training file, by the emulator's count."""
    tokens = 0
    # JSONL lines end at \n alone, as the vendor reads them: str.splitlines() would
    # also split at U+2028/U+2029, which JSON strings may hold raw.
    for n, line in enumerate(content.decode("utf-8", "replace").split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            return tokens, f"line {n} is not JSON"
        if not isinstance(record, dict) or not any(
            k in record for k in ("messages", "input", "prompt", "text")
        ):
            return tokens, f"line {n} has no messages, input, prompt or text field"
        tokens += sum(math.ceil(len(t) / 4) for t in _texts(record))
    return tokens, None


@dataclass
class File:
    """An uploaded file (or, before its content arrives, a reserved upload)."""

    id: str
    filename: str
    purpose: str
    checksum: str
    created_at: int
    token: str
    content: bytes | None = None
    processed: bool = False

    def to_json(self) -> dict[str, Any]:
        """The spec's ``FileResponse``."""
        return {
            "id": self.id, "object": "file", "created_at": self.created_at, "filename": self.filename,
            "bytes": len(self.content or b""), "purpose": self.purpose, "FileType": "jsonl",
            "Processed": self.processed, "LineCount": (self.content or b"").count(b"\n"),
        }


@dataclass
class Job:
    """A fine-tuning job and the request that made it."""

    id: str
    created: float
    request: dict[str, Any]
    train_tokens: int
    valid_tokens: int
    problem: str | None
    cancelled_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return int(self.request.get("n_epochs") or 1)

    @property
    def total_steps(self) -> int:
        return self.epochs * STEPS_PER_EPOCH

    def token_count(self) -> int:
        """Together's billing rule (module docstring)."""
        return self.epochs * self.train_tokens + int(self.request.get("n_evals") or 0) * self.valid_tokens


class State:
    """Files and jobs behind one lock; statuses derived from ``clock``."""

    def __init__(self, job_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.job_seconds = max(job_seconds, 0.001)
        self.clock = clock
        self.lock = threading.RLock()
        self.files: dict[str, File] = {}
        self.jobs: dict[str, Job] = {}
        self.counts = {"jobs_created": 0, "files_created": 0}

    def fraction(self, job: Job) -> float:
        """How far through its life the job is (0..1+)."""
        return (self.clock() - job.created) / self.job_seconds

    def at(self, job: Job, fraction: float) -> float:
        """The clock time at ``fraction`` of the job's life."""
        return job.created + fraction * self.job_seconds

    def status(self, job: Job) -> str:
        """Together's status of ``job`` now."""
        now = self.clock()
        if job.cancelled_at is not None:
            settle = min(0.1 * self.job_seconds, 0.5)
            return "cancel_requested" if now - job.cancelled_at < settle else "cancelled"
        f = self.fraction(job)
        if job.problem is not None and f >= 0.2:
            return "error"
        for bound, name in _PHASES:
            if f < bound:
                return name
        return "completed"

    def step(self, job: Job) -> int:
        """Training steps done so far."""
        end = self.fraction(job)
        if job.cancelled_at is not None:
            end = (job.cancelled_at - job.created) / self.job_seconds
        done = (min(end, 0.8) - 0.2) / 0.6
        return max(0, min(job.total_steps, int(done * job.total_steps)))

    def price_nanodollars(self, job: Job) -> int:
        """``total_price``: the catalog's rate for the job's model, method and type."""
        kind = "full" if (job.request.get("training_type") or {}).get("type") == "Full" else "lora"
        method = (job.request.get("training_method") or {}).get("method", "sft")
        rate = _catalog.price_per_million(str(job.request.get("model")), method, kind) or 0.0
        return round(rate * job.token_count() / 1_000_000 * NANODOLLARS_PER_USD)
