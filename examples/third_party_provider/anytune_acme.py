"""6. A third-party provider in about 50 lines: ``provider="acme"`` once installed.

Registered by the entry point in ``pyproject.toml`` (group ``anytune.providers``), exactly
as the built-in providers are. "Acme" is a toy service whose jobs live in JSON files
(``ACME_STATE_DIR``) and finish after a second; a real one calls its vendor's SDK in the
same methods. Check it with ``anytune.testing.ProviderConformance`` (see the test).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from anytune import JobResult, JobStatus, Metric, ModelInfo, NotFoundError
from anytune.provider import Capability, CreateRequest, JobSnapshot, Provider


def _dir() -> Path:
    path = Path(os.environ.get("ACME_STATE_DIR", Path.home() / ".acme-tuning"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class AcmeProvider(Provider):
    name = "acme"
    capabilities = Capability.SFT | Capability.LIST | Capability.CANCEL | Capability.METRICS

    def catalog(self) -> list[ModelInfo]:
        return [ModelInfo(provider="acme", model="acme-1b", max_tokens_per_example=4096,
                          price_per_million_tokens={"sft": 0.5},
                          price_source="https://acme.example/prices", price_as_of="2026-11-01")]

    def upload(self, path: Path, *, purpose: str) -> str:
        ref = f"file-{uuid.uuid4().hex[:12]}"
        shutil.copyfile(path, _dir() / f"{ref}.jsonl")
        return ref

    def create(self, request: CreateRequest) -> JobSnapshot:
        job = {"id": f"acme-{uuid.uuid4().hex[:12]}", "model": request.model, "created": time.time(),
               "metadata": request.metadata, "cancelled": False}
        (_dir() / f"{job['id']}.json").write_text(json.dumps(job))
        return self._snap(job)

    def _load(self, job_id: str) -> dict[str, Any]:
        path = _dir() / f"{job_id}.json"
        if not path.is_file():
            raise NotFoundError(f"acme has no job {job_id!r}", provider="acme", status_code=404)
        return json.loads(path.read_text())

    def _snap(self, job: dict[str, Any]) -> JobSnapshot:
        done = time.time() - job["created"] > 1.0
        status = JobStatus.SUCCEEDED if done else JobStatus.RUNNING
        status = JobStatus.CANCELLED if job["cancelled"] else status
        result = JobResult(model=f"{job['model']}:ft-{job['id']}") if status is JobStatus.SUCCEEDED else None
        return JobSnapshot(id=job["id"], status=status, model=job["model"], metadata=job["metadata"],
                           result=result, created_at=datetime.fromtimestamp(job["created"], tz=timezone.utc))

    def get(self, job_id: str) -> JobSnapshot:
        return self._snap(self._load(job_id))

    def list(self, *, limit: int = 20) -> list[JobSnapshot]:
        jobs = [json.loads(p.read_text()) for p in _dir().glob("acme-*.json")]
        return [self._snap(j) for j in sorted(jobs, key=lambda j: -j["created"])[:limit]]

    def cancel(self, job_id: str) -> JobSnapshot:
        job = {**self._load(job_id), "cancelled": True}
        (_dir() / f"{job_id}.json").write_text(json.dumps(job))
        return self._snap(job)

    def metrics(self, job_id: str) -> list[Metric]:
        self._load(job_id)
        return [Metric(step=s, train_loss=2.0 / s) for s in range(1, 4)]

