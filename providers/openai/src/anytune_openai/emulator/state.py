"""The emulator's memory: files, Uploads and fine-tuning jobs, and each job's life.

A job's state is a pure function of the clock: created at ``t0``, it validates its files
for the first 10% of ``job_seconds``, is queued until 20%, runs (steps, metrics events,
checkpoints) until 100%, then succeeds with a result file. Nothing runs in the
background; every read computes where the job is now. Objects are returned as the JSON
OpenAI's spec describes.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from anytune import emulator
from anytune.emulator import new_id
from anytune_openai import _catalog
from anytune_openai.emulator.data import DataCheck, check_training_data, loss_at

__all__ = ["ApiError", "Job", "State", "new_id"]

ORG = "org-anytune-emulator"


class ApiError(emulator.ApiError):
    """An error answer in OpenAI's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(status, {"error": {"message": message, "type": type, "param": param, "code": code}})


@dataclass
class Job:
    """One fine-tuning job, as created; its status is derived from the clock."""

    id: str
    created: float
    model: str
    method: str  # "supervised" | "dpo"
    training_file: str
    validation_file: str | None
    hp: dict[str, Any]
    suffix: str | None
    seed: int
    metadata: dict[str, str] | None
    check: DataCheck
    cancelled_at: float | None = None
    result_file: str | None = None
    event_ids: dict[int, str] = field(default_factory=dict)
    integrations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return int(self.hp["n_epochs"])

    @property
    def total_steps(self) -> int:
        per_epoch = math.ceil(max(self.check.examples, 1) / int(self.hp["batch_size"]))
        return per_epoch * self.epochs

    @property
    def fine_tuned_model(self) -> str:
        tag = f":{self.suffix}" if self.suffix else ""
        return f"ft:{self.model}:anytune-emulator{tag}:{self.id[-8:]}"


class State:
    """Everything the emulator stores, behind one lock."""

    def __init__(self, job_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.job_seconds = max(float(job_seconds), 0.001)
        self.clock = clock
        self.lock = threading.RLock()
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.parts: dict[str, bytes] = {}
        self.jobs: dict[str, Job] = {}
        self.counts = {"jobs_created": 0, "files_created": 0, "uploads_created": 0}

    # --- files ----------------------------------------------------------------------------
    def add_file(self, filename: str, content: bytes, purpose: str) -> dict[str, Any]:
        """Store a file; return its ``OpenAIFile`` object."""
        with self.lock:
            fid = new_id("file-", 22)
            self.files[fid] = {
                "id": fid,
                "object": "file",
                "bytes": len(content),
                "created_at": int(self.clock()),
                "filename": filename,
                "purpose": purpose,
                "status": "processed",
            }
            self.contents[fid] = content
            if purpose == "fine-tune":
                self.counts["files_created"] += 1
            return dict(self.files[fid])

    def file(self, fid: str) -> dict[str, Any]:
        """A file's object, or 404 as OpenAI answers it."""
        with self.lock:
            if fid not in self.files:
                raise ApiError(404, f"No such File object: {fid}", param="id")
            return dict(self.files[fid])

    # --- jobs: creation -------------------------------------------------------------------
    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        """Validate a ``CreateFineTuningJobRequest`` as OpenAI does; start the job."""
        from anytune_openai.emulator.validate import validate_create

        spec = validate_create(body, self)
        with self.lock:
            content = self.contents[spec["training_file"]]
            entry = spec["entry"]
            check = check_training_data(
                content,
                method=spec["method"],
                encoding=entry["tokenizer"].split(":", 1)[1],
                max_tokens=entry["max_tokens_per_example"],
                min_examples=_catalog.catalog_data()["min_examples"],
            )
            hp = dict(spec["hp"])
            if hp.get("n_epochs", "auto") == "auto":
                hp["n_epochs"] = _catalog.default_epochs(check.examples)
            if hp.get("batch_size", "auto") == "auto":
                hp["batch_size"] = max(1, min(256, check.examples // 50 or 1))
            if hp.get("learning_rate_multiplier", "auto") == "auto":
                hp["learning_rate_multiplier"] = 1.8 if hp["batch_size"] <= 4 else 1.0
            if spec["method"] == "dpo" and hp.get("beta", "auto") == "auto":
                hp["beta"] = 0.1
            job = Job(
                id=new_id("ftjob-"),
                created=self.clock(),
                model=spec["model"],
                method=spec["method"],
                training_file=spec["training_file"],
                validation_file=spec["validation_file"],
                hp=hp,
                suffix=spec["suffix"],
                seed=spec["seed"],
                metadata=spec["metadata"],
                check=check,
                integrations=spec["integrations"],
            )
            self.jobs[job.id] = job
            self.counts["jobs_created"] += 1
            return self.job_json(job)

    def job(self, job_id: str) -> Job:
        """The job, or OpenAI's 404."""
        with self.lock:
            if job_id not in self.jobs:
                raise ApiError(
                    404,
                    f"No such fine-tuning job: {job_id}.",
                    param="fine_tune_id",
                    code="fine_tune_not_found",
                )
            return self.jobs[job_id]

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        """Cancel a job that has not ended; a finished one is a 400, as on OpenAI."""
        with self.lock:
            job = self.job(job_id)
            status = self.phase(job)[0]
            if status in ("succeeded", "failed", "cancelled"):
                raise ApiError(
                    400, f"Job has already completed with status {status}.", code="job_already_completed"
                )
            job.cancelled_at = self.clock()
            return self.job_json(job)

    # --- jobs: the clock --------------------------------------------------------------------
    def phase(self, job: Job) -> tuple[str, float]:
        """(OpenAI status, seconds since the job was created), by the clock."""
        now = self.clock()
        t = now - job.created
        frac = t / self.job_seconds
        if job.cancelled_at is not None:
            return "cancelled", t
        if frac < 0.1:
            return "validating_files", t
        if job.check.error:
            return "failed", t
        if frac < 0.2:
            return "queued", t
        if frac < 1.0:
            return "running", t
        return "succeeded", t

    def _at(self, job: Job, frac: float) -> int:
        return int(job.created + frac * self.job_seconds)

    def steps_done(self, job: Job) -> int:
        """Training steps finished now (all of them once the job succeeded)."""
        status, t = self.phase(job)
        if status == "succeeded":
            return job.total_steps
        if status == "cancelled" and job.cancelled_at is not None:
            t = job.cancelled_at - job.created
        frac = (t / self.job_seconds - 0.2) / 0.8
        return max(0, min(job.total_steps, int(frac * job.total_steps)))

    def step_time(self, job: Job, step: int) -> int:
        """When ``step`` finished."""
        return self._at(job, 0.2 + 0.8 * step / max(job.total_steps, 1))

    def job_json(self, job: Job) -> dict[str, Any]:
        """The ``FineTuningJob`` object now."""
        with self.lock:
            status, _ = self.phase(job)
            finished = None
            if status == "succeeded":
                finished = self._at(job, 1.0)
                self._ensure_result_file(job)
            elif status == "failed":
                finished = self._at(job, 0.1)
            elif status == "cancelled" and job.cancelled_at is not None:
                finished = int(job.cancelled_at)
            hp = {k: job.hp[k] for k in ("batch_size", "learning_rate_multiplier", "n_epochs")}
            method_hp = dict(hp)
            if job.method == "dpo":
                method_hp["beta"] = job.hp["beta"]
            error = None
            if status == "failed":
                error = {
                    "code": "invalid_training_file",
                    "param": "training_file",
                    "message": f"The job failed due to an invalid training file. {job.check.error}.",
                }
            return {
                "object": "fine_tuning.job",
                "id": job.id,
                "model": job.model,
                "created_at": int(job.created),
                "finished_at": finished,
                "fine_tuned_model": job.fine_tuned_model if status == "succeeded" else None,
                "organization_id": ORG,
                "status": status,
                "error": error,
                "result_files": [job.result_file] if status == "succeeded" and job.result_file else [],
                "trained_tokens": job.check.tokens * job.epochs if status == "succeeded" else None,
                "training_file": job.training_file,
                "validation_file": job.validation_file,
                "hyperparameters": hp,
                "seed": job.seed,
                "metadata": job.metadata,
                "method": {"type": job.method, job.method: {"hyperparameters": method_hp}},
                "estimated_finish": self._at(job, 1.0) if status in ("queued", "running") else None,
                "integrations": job.integrations,
                "user_provided_suffix": job.suffix,
            }

    def _ensure_result_file(self, job: Job) -> None:
        if job.result_file is not None:
            return
        rows = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
        seed = f"{job.id}:{job.seed}"
        for step in range(1, job.total_steps + 1):
            train = loss_at(seed, step, job.total_steps)
            valid = ""
            if job.validation_file:
                v = loss_at(seed, step, job.total_steps, valid=True)
                valid = f"{v['loss']},{v['accuracy']}"
            rows.append(f"{step},{train['loss']},{train['accuracy']},{valid or ','}")
        csv_text = "\n".join(rows) + "\n"
        # OpenAI serves result files base64-encoded; so does the emulator.
        created = self.add_file("step_metrics.csv", base64.b64encode(csv_text.encode()), "fine-tune-results")
        job.result_file = created["id"]
