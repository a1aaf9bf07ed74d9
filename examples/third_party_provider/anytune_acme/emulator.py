"""A local emulator of Acme's API (``anytune sandbox acme``), on :mod:`anytune.emulator`.

:class:`~anytune.emulator.EmulatorServer` does the serving: 127.0.0.1 only, the API key,
faults (``--faults create:500``), recorded exchanges. This file holds only what is Acme's:
the routes, the state, the shape of an error and the variables a client needs. A job runs
for ``job_seconds`` and then is done, from the clock alone.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

from anytune.emulator import Answer, ApiError, EmulatorServer, Handler, Router, new_id

DEFAULT_API_KEY = "acme-emulator-key"


class AcmeEmulator(EmulatorServer):
    """Acme's ``/v1/files`` and ``/v1/jobs`` routes; ``env`` names ``ACME_BASE_URL`` and
    ``ACME_API_KEY`` once started."""

    provider = "acme"

    def __init__(self, *, job_seconds: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_seconds = job_seconds
        self.jobs: dict[str, dict[str, Any]] = {}
        self.files: set[str] = set()
        self.router = Router()
        self.router.add("POST", "/v1/files", "upload", self._upload)
        self.router.add("POST", "/v1/jobs", "create", self._create)
        self.router.add("GET", "/v1/jobs", "list", self._list)
        self.router.add("GET", "/v1/jobs/{job}", "get", lambda p, q, b, h: Answer(200, self._job(p["job"])))
        self.router.add("POST", "/v1/jobs/{job}/cancel", "cancel", self._cancel)
        self.router.add("GET", "/v1/jobs/{job}/metrics", "metrics", self._metrics)

    # --- what EmulatorServer asks of every emulator ---------------------------------------
    def route(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
        return self.router.match(method, path)

    def error(self, status: int, message: str, *, reason: str) -> Answer:
        return Answer(status, {"error": {"message": message, "reason": reason}})

    def client_env(self) -> dict[str, str]:
        return {"ACME_BASE_URL": self.url or "", "ACME_API_KEY": self.api_key or DEFAULT_API_KEY}

    # --- Acme's API -------------------------------------------------------------------------
    def _job(self, job_id: str) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, {"error": {"message": f"no job {job_id}", "reason": "not_found"}})
        done = time.time() - job["created"] >= self.job_seconds
        status = "cancelled" if job["cancelled"] else "done" if done else "running"
        return {**job, "status": status, "output": f"{job['model']}:ft-{job_id}"}

    def _upload(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        file_id = new_id("file-", 12)
        self.files.add(file_id)
        return Answer(200, {"id": file_id, "bytes": len(body)})

    def _create(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        import json

        request = json.loads(body)
        if request.get("training_file") not in self.files:
            raise ApiError(400, {"error": {"message": "unknown training_file", "reason": "invalid"}})
        job_id = new_id("acme-", 12)
        self.jobs[job_id] = {"id": job_id, "model": request["model"], "created": time.time(),
                             "metadata": request.get("metadata") or {}, "cancelled": False}
        return Answer(200, self._job(job_id))

    def _list(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        limit = int(parse_qs(query).get("limit", ["20"])[0])
        newest = sorted(self.jobs, key=lambda j: -self.jobs[j]["created"])[:limit]
        return Answer(200, {"data": [self._job(j) for j in newest]})

    def _cancel(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        if self._job(params["job"])["status"] == "running":
            self.jobs[params["job"]]["cancelled"] = True
        return Answer(200, self._job(params["job"]))

    def _metrics(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        self._job(params["job"])
        return Answer(200, {"data": [{"step": s, "loss": round(2.0 / s, 3)} for s in range(1, 4)]})
