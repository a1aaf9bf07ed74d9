"""A third-party provider used by the core's tests, registered through a real entry point.

State lives in a JSON file (``ANYTUNE_FAKE_STATE``) so that several processes (the CLI in
a subprocess, a test) see the same jobs, like a real remote service. Jobs move through
validating -> queued -> running -> succeeded over ``job_seconds`` of wall time. The
``faults`` setting injects failures into ``create``: ``drop`` makes the job and then
raises a connection error (the ambiguous case), ``refuse`` raises one before making it;
``die_in_upload``, ``die_before_create`` and ``die_after_create`` end the calling process
at that step, for the crash tests. ``vanish`` deletes the training file just before one
``create`` (a file gone between the reuse check and the create); ``flaky_reads``
answers the first two ``get`` and ``list`` calls with a 503
(``flaky_reads_forever``: every one); ``bad_answer`` makes ``get`` raise a bare
``TypeError``, as a mapper meeting an answer it did not expect would. ``base_url`` names the
endpoint (the provider's scope).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

from anytune import (
    Checkpoint,
    JobError,
    JobEvent,
    JobResult,
    JobStatus,
    Metric,
    MissingCredentialsError,
    ModelInfo,
    NotFoundError,
    ProviderConnectionError,
)
from anytune._types import CreateRequest, JobSnapshot
from anytune.provider import Capability, Limits, Provider

PHASES = [(0.1, JobStatus.VALIDATING), (0.2, JobStatus.QUEUED), (1.0, JobStatus.RUNNING)]


class FakeProvider(Provider):
    name = "fake"
    capabilities = (
        Capability.SFT | Capability.DPO | Capability.LORA | Capability.VALIDATION_FILE
        | Capability.LIST | Capability.CANCEL | Capability.EVENTS | Capability.METRICS
        | Capability.CHECKPOINTS
    )
    settings: ClassVar[frozenset[str]] = frozenset({"api_key", "job_seconds", "faults", "base_url"})
    create_options: ClassVar[frozenset[str]] = frozenset({"region"})

    # --- preflight -----------------------------------------------------------------
    def catalog(self) -> list[ModelInfo]:
        return [
            ModelInfo(provider="fake", model="fake-small", methods=("sft", "dpo"),
                      max_tokens_per_example=4096,
                      price_per_million_tokens={"sft": 2.0, "dpo": 4.0},
                      price_source="https://example.invalid/prices", price_as_of="2026-11-01"),
            ModelInfo(provider="fake", model="fake-fail", methods=("sft",), max_tokens_per_example=4096,
                      price_per_million_tokens={"sft": 1.0},
                      price_source="https://example.invalid/prices", price_as_of="2026-11-01"),
        ]

    def limits(self, model: str, method: str) -> Limits:
        return Limits(min_examples=1, max_tokens_per_example=4096, data_format="openai",
                      source="test double")

    # --- state ---------------------------------------------------------------------
    def _key(self) -> str:
        key = self.config.get("api_key") or os.environ.get("FAKE_API_KEY")
        if not key:
            raise MissingCredentialsError("fake", env_var="FAKE_API_KEY", argument="api_key")
        return key

    @contextmanager
    def _state(self) -> Any:
        path = Path(os.environ["ANYTUNE_FAKE_STATE"])
        path.touch()
        with path.open("r+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            text = fh.read()
            state = json.loads(text) if text else {"jobs": {}, "files": {}, "calls": {}}
            try:
                yield state
            finally:  # a raised fault still counts as a call
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps(state))

    def _count(self, state: dict[str, Any], op: str) -> None:
        state["calls"][op] = state["calls"].get(op, 0) + 1
        faults = str(self.config.get("faults", ""))
        if "flaky_reads" in faults and op in ("get", "list") and (
                state["calls"][op] <= 2 or "flaky_reads_forever" in faults):
            from anytune import ServerError

            raise ServerError("try again", provider="fake", status_code=503, retry_after=0.01)

    def scope(self) -> str:
        return str(self.config.get("base_url") or "https://fake.invalid/v1")

    def upload_exists(self, file_ref: str) -> bool:
        self._key()
        with self._state() as state:
            self._count(state, "upload_exists")
            return file_ref in state["files"]

    def _snap(self, job: dict[str, Any]) -> JobSnapshot:
        seconds = float(self.config.get("job_seconds", 1.0))
        frac = (time.time() - job["created"]) / seconds
        status = JobStatus(job["forced"]) if job.get("forced") else next(
            (s for limit, s in PHASES if frac < limit), JobStatus.SUCCEEDED)
        if status is JobStatus.SUCCEEDED and job["model"] == "fake-fail":
            status = JobStatus.FAILED
        return JobSnapshot(
            id=job["id"], status=status, model=job["model"],
            created_at=datetime.fromtimestamp(job["created"], timezone.utc),
            result=(JobResult(model=f"{job['model']}:ft:{job['id']}",
                              trained_tokens=job.get("trained_tokens"))
                    if status is JobStatus.SUCCEEDED else None),
            error=(JobError(message="training diverged", code="diverged")
                   if status is JobStatus.FAILED else None),
            progress=min(1.0, max(0.0, frac)), metadata=job["metadata"], raw=dict(job),
        )

    def _job(self, state: dict[str, Any], job_id: str) -> dict[str, Any]:
        if job_id not in state["jobs"]:
            raise NotFoundError(f"no job {job_id}", provider="fake", status_code=404)
        return state["jobs"][job_id]  # type: ignore[no-any-return]

    # --- the SPI -------------------------------------------------------------------
    def upload(self, path: Path, *, purpose: str) -> str:
        self._key()
        with self._state() as state:
            self._count(state, "upload")
            file_id = f"file-{uuid.uuid4().hex[:12]}"
            state["files"][file_id] = path.read_text()
        if self.upload_progress is not None:  # as a streaming upload would report it
            size = path.stat().st_size
            self.upload_progress(size // 2, size)
            self.upload_progress(size, size)
        if "die_in_upload" in str(self.config.get("faults", "")):
            os._exit(137)  # the caller's process dies: the crash tests
        return file_id

    def create(self, request: CreateRequest) -> JobSnapshot:
        self._key()
        faults = str(self.config.get("faults", ""))
        with self._state() as state:
            self._count(state, "create")
            if "vanish" in faults and not state.get("vanished"):
                state["files"].pop(request.training_file, None)
                state["vanished"] = True
            if "refuse" in faults and state["calls"]["create"] == 1:
                raise ProviderConnectionError("connect failed", provider="fake", request_sent=False)
            if request.training_file not in state["files"]:
                from anytune import InvalidRequestError

                raise InvalidRequestError("no such file", provider="fake", status_code=400)
            # What it bills, like a real service: its own count (1 token per 3 bytes of
            # the uploaded file, not anytune's rule) times the epochs it ran.
            epochs = request.hyperparameters.epochs or 3
            trained = len(state["files"][request.training_file].encode()) // 3 * epochs
            job = {"id": f"ft-{uuid.uuid4().hex[:10]}", "model": request.model,
                   "created": time.time(), "metadata": request.metadata,
                   "request": request.to_dict(), "forced": None, "trained_tokens": trained}
            state["jobs"][job["id"]] = job
            if "die_before_create" in faults:
                state["jobs"].pop(job["id"])
        if "die_" in faults and "die_in_upload" not in faults:
            os._exit(137)  # the caller dies before (or after) the provider made the job
        if "drop" in faults and state["calls"]["create"] == 1:
            raise ProviderConnectionError("connection dropped", provider="fake")
        return self._snap(job)

    def get(self, job_id: str) -> JobSnapshot:
        self._key()
        if "bad_answer" in str(self.config.get("faults", "")):  # a mapper that did not expect it
            raise TypeError("unsupported operand type(s) for *: 'NoneType' and 'int'")
        with self._state() as state:
            self._count(state, "get")
            return self._snap(self._job(state, job_id))

    def list(self, *, limit: int = 20) -> list[JobSnapshot]:
        self._key()
        with self._state() as state:
            self._count(state, "list")
            jobs = sorted(state["jobs"].values(), key=lambda j: -j["created"])[:limit]
        return [self._snap(j) for j in jobs]

    def cancel(self, job_id: str) -> JobSnapshot:
        self._key()
        with self._state() as state:
            job = self._job(state, job_id)
            if not self._snap(job).status.terminal:
                job["forced"] = JobStatus.CANCELLED.value
            return self._snap(job)

    def events(self, job_id: str, *, limit: int = 100) -> list[JobEvent]:
        snap = self.get(job_id)
        t0 = snap.created_at
        assert t0 is not None
        return [JobEvent(created_at=t0, message="Job created"),
                JobEvent(created_at=datetime.now(timezone.utc), message=f"Status: {snap.status.value}")]

    def metrics(self, job_id: str) -> list[Metric]:
        self.get(job_id)
        return [Metric(step=s, train_loss=2.0 / s, valid_loss=2.2 / s) for s in range(1, 6)]

    def checkpoints(self, job_id: str) -> list[Checkpoint]:
        snap = self.get(job_id)
        return [Checkpoint(id=f"ckpt-{snap.id}-5", step=5, model=f"fake-small:ckpt:{snap.id}")]
