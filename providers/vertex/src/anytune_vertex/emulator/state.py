"""The Vertex emulator's memory: Cloud Storage objects and tuning jobs.

A job's state is a pure function of the clock: created at ``t0``, it is
``JOB_STATE_PENDING`` for the first 10% of ``job_seconds``, ``JOB_STATE_RUNNING`` until
100%, then ``JOB_STATE_SUCCEEDED`` with a tuned model and one checkpoint per epoch, or
``JOB_STATE_FAILED`` when its training data was invalid. A cancel makes it
``JOB_STATE_CANCELLING`` for a short while, then ``JOB_STATE_CANCELLED``. Objects are
the JSON of the v1beta1 ``TuningJob`` message (camelCase, int64 as strings).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from anytune import emulator
from anytune_vertex import _catalog
from anytune_vertex._mapping import ADAPTER_SIZES

__all__ = ["ApiError", "Job", "State", "StoredObject", "rfc3339"]

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
    503: "UNAVAILABLE",
}
_GCS_REASONS = {400: "invalid", 401: "required", 403: "forbidden", 404: "notFound", 412: "conditionNotMet",
                429: "rateLimitExceeded"}


def error_body(status: int, message: str, *, rpc_status: str | None = None) -> dict[str, Any]:
    """An error in the shape both Google APIs use: google.rpc.Status fields (Vertex)
    plus the ``errors`` list of the Cloud Storage JSON API."""
    return {
        "error": {
            "code": status,
            "message": message,
            "status": rpc_status or _STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "UNKNOWN"),
            "errors": [{"domain": "global", "reason": _GCS_REASONS.get(status, "backendError"),
                        "message": message}],
        }
    }


class ApiError(emulator.ApiError):
    """An error answer in Google's shape."""

    def __init__(self, status: int, message: str, *, rpc_status: str | None = None) -> None:
        super().__init__(status, error_body(status, message, rpc_status=rpc_status))


def rfc3339(t: float) -> str:
    """A protobuf Timestamp in JSON: RFC 3339, UTC, with a ``Z``."""
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class StoredObject:
    """One Cloud Storage object."""

    bucket: str
    name: str
    data: bytes
    content_type: str
    generation: int
    created: float

    def resource(self) -> dict[str, Any]:
        """The object resource of the JSON API (``storage#object``)."""
        import google_crc32c

        crc = google_crc32c.value(self.data).to_bytes(4, "big")
        return {
            "kind": "storage#object",
            "id": f"{self.bucket}/{self.name}/{self.generation}",
            "selfLink": f"/storage/v1/b/{self.bucket}/o/{self.name}",
            "name": self.name,
            "bucket": self.bucket,
            "generation": str(self.generation),
            "metageneration": "1",
            "contentType": self.content_type,
            "size": str(len(self.data)),
            "md5Hash": base64.b64encode(hashlib.md5(self.data).digest()).decode(),
            "crc32c": base64.b64encode(crc).decode(),
            "timeCreated": rfc3339(self.created),
            "updated": rfc3339(self.created),
            "storageClass": "STANDARD",
        }


@dataclass
class DataCheck:
    """What the emulator found in a training file."""

    examples: int = 0
    billable_tokens: int = 0
    error: str | None = None


def check_data(data: bytes, method: str) -> DataCheck:
    """Vertex's checks of a Gemini tuning file, and its billable tokens (approximated as
    one token per 4 characters of text, as anytune's preflight does)."""
    out = DataCheck()
    # JSONL lines end at \n alone, as the vendor reads them: str.splitlines() would
    # also split at U+2028/U+2029, which JSON strings may hold raw.
    for number, line in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            contents = record["contents"]
            if not isinstance(contents, list) or not contents:
                raise ValueError("contents must be a non-empty list")
            roles = {c["role"] for c in contents}
            if not roles <= {"user", "model"}:
                raise ValueError(f"unknown role in {sorted(roles)}")
            if method == "dpo" and len(record.get("completions") or []) != 2:
                raise ValueError("preference examples need two completions")
        except (ValueError, KeyError, TypeError) as exc:
            out.error = f"Invalid training example at line {number}: {exc}"
            return out
        out.examples += 1
        out.billable_tokens += max(1, len(line) // 4)
    if out.examples == 0:
        out.error = "The training dataset is empty."
    return out


@dataclass
class Job:
    """One tuning job, as created; its state is derived from the clock."""

    name: str
    created: float
    body: dict[str, Any]  # the TuningJob as sent, defaults filled in
    method: str
    epochs: int
    check: DataCheck
    cancelled_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class State:
    """Buckets, objects and jobs behind a lock; a job's state is computed at read time."""

    def __init__(self, job_seconds: float, clock: Callable[[], float] = time.time,
                 buckets: tuple[str, ...] = ()) -> None:
        self.job_seconds = max(job_seconds, 0.01)
        self.clock = clock
        self.lock = threading.RLock()
        self.buckets = set(buckets)
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.jobs: dict[str, Job] = {}
        self.counts = {"jobs_created": 0, "files_created": 0}
        self._generation = 1_700_000_000_000_000
        self._job_number = 1000

    # --- storage ------------------------------------------------------------------------------
    def put_object(self, bucket: str, name: str, data: bytes, content_type: str,
                   if_generation_match: str | None) -> StoredObject:
        """Store an object (``ifGenerationMatch=0``: only when it does not exist)."""
        with self.lock:
            if bucket not in self.buckets:
                raise ApiError(404, f"The specified bucket does not exist: {bucket}")
            existing = self.objects.get((bucket, name))
            if if_generation_match is not None:
                current = existing.generation if existing else 0
                if str(current) != if_generation_match:
                    raise ApiError(412, "At least one of the pre-conditions you specified did not hold.")
            self._generation += 1
            obj = StoredObject(bucket, name, data, content_type or "application/octet-stream",
                               self._generation, self.clock())
            self.objects[(bucket, name)] = obj
            if existing is None:
                self.counts["files_created"] += 1
            return obj

    def get_object(self, bucket: str, name: str) -> StoredObject:
        with self.lock:
            if bucket not in self.buckets:
                raise ApiError(404, f"The specified bucket does not exist: {bucket}")
            obj = self.objects.get((bucket, name))
            if obj is None:
                raise ApiError(404, f"No such object: {bucket}/{name}")
            return obj

    def read_uri(self, uri: str, what: str) -> bytes:
        """The bytes at ``gs://bucket/name``; a 400 naming ``what`` when absent."""
        if not uri.startswith("gs://") or "/" not in uri[5:]:
            raise ApiError(400, f"{what} must be a gs:// URI, got {uri!r}")
        bucket, name = uri[5:].split("/", 1)
        try:
            return self.get_object(bucket, name).data
        except ApiError:
            raise ApiError(400, f"{what} {uri} does not exist or cannot be read.") from None

    # --- jobs ---------------------------------------------------------------------------------
    def create_job(self, parent: str, body: dict[str, Any]) -> Job:
        """Validate a TuningJob as Vertex does and store it."""
        model = body.get("baseModel")
        if not model:
            raise ApiError(400, "baseModel is required.")
        entry = _catalog.entry(str(model))
        if entry is None:
            raise ApiError(400, f"Base model {model} is not supported for tuning.")
        sft, dpo = body.get("supervisedTuningSpec"), body.get("preferenceOptimizationSpec")
        if bool(sft) == bool(dpo):
            raise ApiError(
                400, "Exactly one of supervisedTuningSpec or preferenceOptimizationSpec is required."
            )
        method = "dpo" if dpo else "sft"
        if method not in entry["methods"]:
            raise ApiError(400, f"Preference tuning is not supported for {model}.")
        spec = dict(sft or dpo or {})
        hp = dict(spec.get("hyperParameters") or {})
        size = hp.get("adapterSize")
        allowed = [ADAPTER_SIZES[n] for n in entry["adapter_sizes"]]
        if size is not None and size not in allowed:
            raise ApiError(400, f"adapterSize {size} is not supported for {model}; use one of {allowed}.")
        labels = body.get("labels") or {}
        with self.lock:
            data = self.read_uri(str(spec.get("trainingDatasetUri") or ""), "trainingDatasetUri")
            if spec.get("validationDatasetUri"):
                self.read_uri(str(spec["validationDatasetUri"]), "validationDatasetUri")
            check = check_data(data, method)
            epochs = int(hp.get("epochCount") or _catalog.default_epochs(check.examples))
            # Vertex answers with the defaults it chose filled in.
            hp.setdefault("learningRateMultiplier", 1.0)
            hp.setdefault("adapterSize", allowed[min(2, len(allowed) - 1)])
            hp["epochCount"] = str(epochs)
            spec["hyperParameters"] = hp
            self._job_number += 1
            # Vertex job ids are 19-digit numbers.
            name = f"{parent}/tuningJobs/{self._job_number}{secrets.randbelow(10**15):015d}"
            stored = {k: v for k, v in body.items() if k not in ("supervisedTuningSpec",
                                                                 "preferenceOptimizationSpec")}
            stored["supervisedTuningSpec" if method == "sft" else "preferenceOptimizationSpec"] = spec
            stored["labels"] = labels
            job = Job(name, self.clock(), stored, method, epochs, check)
            self.jobs[name] = job
            self.counts["jobs_created"] += 1
            return job

    def job(self, name: str) -> Job:
        with self.lock:
            job = self.jobs.get(name)
        if job is None:
            raise ApiError(404, f"TuningJob {name} does not exist.")
        return job

    def cancel(self, name: str) -> None:
        with self.lock:
            job = self.job(name)
            state = self.state_of(job)
            if state not in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_QUEUED"):
                raise ApiError(400, f"Cannot cancel tuning job {name} in state {state}.",
                               rpc_status="FAILED_PRECONDITION")
            job.cancelled_at = self.clock()

    def state_of(self, job: Job) -> str:
        now = self.clock()
        if job.cancelled_at is not None:
            grace = min(0.5, 0.1 * self.job_seconds)
            return "JOB_STATE_CANCELLING" if now < job.cancelled_at + grace else "JOB_STATE_CANCELLED"
        elapsed = now - job.created
        if elapsed < 0.1 * self.job_seconds:
            return "JOB_STATE_PENDING"
        if elapsed < self.job_seconds:
            return "JOB_STATE_RUNNING"
        return "JOB_STATE_FAILED" if job.check.error else "JOB_STATE_SUCCEEDED"
