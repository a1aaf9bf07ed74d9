"""A third-party provider in about 50 lines: ``provider="acme"`` once installed.

Registered by the entry point in ``pyproject.toml`` (group ``anytune.providers``), exactly
as the built-in providers are, and written with the public kit only (``anytune.provider``,
``anytune.errors``). "Acme" is a made-up vendor with a small JSON API; its emulator
(:mod:`anytune_acme.emulator`) serves it on 127.0.0.1, and ``tests/`` runs anytune's
conformance suite against it. docs/providers.md walks through every part.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from anytune import errors
from anytune.provider import (
    Capability,
    CreateRequest,
    Emulator,
    JobResult,
    JobSnapshot,
    JobStatus,
    Metric,
    ModelInfo,
    Provider,
)

_STATUS = {"running": JobStatus.RUNNING, "done": JobStatus.SUCCEEDED, "cancelled": JobStatus.CANCELLED}


@errors.malformed_answer("acme", "job")  # an answer of another shape: a typed ProviderError, not a KeyError
def _snapshot(job: dict[str, Any]) -> JobSnapshot:
    status = _STATUS.get(job["status"], JobStatus.QUEUED)
    return JobSnapshot(id=job["id"], status=status, model=job["model"], metadata=job["metadata"],
                       created_at=datetime.fromtimestamp(job["created"], timezone.utc),
                       result=JobResult(model=job["output"]) if status is JobStatus.SUCCEEDED else None)


class AcmeProvider(Provider):
    """Fine-tuning on Acme: settings ``api_key`` (else ``ACME_API_KEY``) and ``base_url``."""

    name = "acme"
    capabilities = Capability.SFT | Capability.LIST | Capability.CANCEL | Capability.METRICS
    settings = frozenset({"api_key", "base_url"})

    def catalog(self) -> list[ModelInfo]:
        return [ModelInfo(provider="acme", model="acme-1b", price_per_million_tokens={"sft": 0.5},
                          price_source="https://acme.example/prices", price_as_of="2026-11-01")]

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; every failure becomes a typed error here, in one place, by status."""
        key = self.config.get("api_key") or os.environ.get("ACME_API_KEY")
        if not key:  # read at the first call, never at construction (preflight needs none)
            raise errors.MissingCredentialsError("acme", env_var="ACME_API_KEY", argument="api_key")
        base = self.config.get("base_url") or os.environ.get("ACME_BASE_URL", "https://api.acme.example")
        try:
            answer = httpx.request(method, base + path, headers={"Authorization": f"Bearer {key}"},
                                   timeout=30, **kwargs)
        except httpx.TransportError as exc:
            raise errors.ProviderConnectionError(f"{type(exc).__name__}", provider="acme") from None
        if answer.status_code >= 400:
            raise errors.status_error_class(answer.status_code)(
                answer.text[:200], provider="acme", status_code=answer.status_code,
                retry_after=errors.retry_after_seconds(answer.headers))
        return answer.json()

    def upload(self, path: Path, *, purpose: str) -> str:
        return str(self._call("POST", "/v1/files", content=path.read_bytes())["id"])

    def create(self, request: CreateRequest) -> JobSnapshot:
        body = {"model": request.model, "training_file": request.training_file, "metadata": request.metadata}
        return _snapshot(self._call("POST", "/v1/jobs", json=body))

    def get(self, job_id: str) -> JobSnapshot:
        return _snapshot(self._call("GET", f"/v1/jobs/{job_id}"))

    def cancel(self, job_id: str) -> JobSnapshot:
        return _snapshot(self._call("POST", f"/v1/jobs/{job_id}/cancel"))

    def metrics(self, job_id: str) -> list[Metric]:
        rows = self._call("GET", f"/v1/jobs/{job_id}/metrics")["data"]
        return [Metric(step=row["step"], train_loss=row["loss"]) for row in rows]

    @classmethod
    def emulator(cls, *, port: int = 0, job_seconds: float = 30.0, faults: str = "",
                 api_key: str | None = None) -> Emulator:
        """``anytune sandbox acme``: Acme's API on 127.0.0.1 (loaded only when asked for)."""
        from anytune_acme.emulator import AcmeEmulator

        return AcmeEmulator(port=port, job_seconds=job_seconds, faults=faults, api_key=api_key)

    def list(self, *, limit: int = 20) -> list[JobSnapshot]:  # last: it shadows list in the class
        return [_snapshot(job) for job in self._call("GET", "/v1/jobs", params={"limit": limit})["data"]]
