"""``RayProvider``: the local provider's training on a Ray cluster, as a Ray job.

``create`` submits a Ray job (Jobs API) whose ``submission_id`` is derived from the
idempotency key, so asking twice (a retry after a lost answer) finds the first job
instead of making a second. The job's status is the Ray job's status; its events,
metrics and result are record lines in the Ray job's log (see ``_logs``); ``cancel`` is
``stop_job``. Nothing here imports ray until a network method runs.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

from anytune_local._provider import CREATE_OPTIONS as LOCAL_OPTIONS

from anytune.errors import NotFoundError, UnsupportedError
from anytune.provider import (
    Capability,
    Checkpoint,
    CreateRequest,
    Emulator,
    Hyperparameters,
    JobEvent,
    JobSnapshot,
    Limits,
    Metric,
    Provider,
)
from anytune_ray import _logs, _storage
from anytune_ray._client import PROVIDER, connect, translating
from anytune_ray._mapping import TAG, checkpoints_from, events_from, metrics_from, snapshot_from, status_of
from anytune_ray._submit import build_spec, check_options, entrypoint, runtime_env

__all__ = ["RayProvider", "submission_id"]

#: The local provider's training options, less the ones that pick this machine's devices
#: (workers and GPUs per worker do that here), plus the cluster's own.
CREATE_OPTIONS = (LOCAL_OPTIONS - {"devices", "resume_from", "chat_template"}) | {
    "workers",
    "gpus_per_worker",
    "cpus_per_worker",
    "max_failures",
    "runtime_env",
}

def submission_id(idempotency_key: str) -> str:
    """The Ray ``submission_id`` of the job created with ``idempotency_key``: the same key
    always names the same Ray job, so a second submit cannot make a second job."""
    return "anytune-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


class RayProvider(Provider):
    """LoRA/QLoRA/full SFT and DPO with TRL under Ray Train, submitted as a Ray job."""

    name: ClassVar[str] = "ray"
    capabilities: ClassVar[Capability] = (
        Capability.SFT
        | Capability.DPO
        | Capability.LORA
        | Capability.FULL
        | Capability.VALIDATION_FILE
        | Capability.LIST
        | Capability.CANCEL
        | Capability.EVENTS
        | Capability.METRICS
        | Capability.CHECKPOINTS
    )
    #: ``address``: the dashboard (``http://HEAD:8265``), else ``RAY_ADDRESS``;
    #: ``storage``: where data, checkpoints and adapters go (a path every node sees, or a
    #: URL such as ``s3://bucket/prefix``), else ``ANYTUNE_RAY_STORAGE``; ``python``: the
    #: interpreter on the cluster's nodes, else ``ANYTUNE_RAY_PYTHON`` (see :meth:`python`).
    settings: ClassVar[frozenset[str]] = frozenset({"address", "storage", "python"})
    create_options: ClassVar[frozenset[str]] = CREATE_OPTIONS

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._client: Any = None

    # --- preflight --------------------------------------------------------------------------
    def limits(self, model: str, method: str) -> Limits:
        """OpenAI-format records, like the local provider."""
        return Limits(
            data_format="openai",
            source="ray: any size; examples longer than max_seq_length are truncated",
        )

    def tokenizer(self, model: str) -> str:
        """The model's own tokenizer when the model is on this machine too."""
        from anytune_local._provider import LocalProvider

        return LocalProvider().tokenizer(model)

    def price_usd(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hyperparameters: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> float:
        """Your own cluster: anytune knows no price for it."""
        return 0.0

    def check_create(
        self,
        model: str,
        method: str,
        *,
        now: datetime,
        hyperparameters: Hyperparameters | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Refuse options that cannot run before anything is uploaded."""
        check_options(dict(options or {}), hyperparameters)

    # --- cluster and storage ----------------------------------------------------------------
    def _connect(self) -> Any:
        if self._client is None:
            self._client = connect(self.config.get("address"))
        return self._client

    def _storage(self) -> str | None:
        import os

        value = self.config.get("storage") or os.environ.get("ANYTUNE_RAY_STORAGE")
        return _storage.normalise(value) if value else None

    def scope(self) -> str:
        """Uploads are reused only on the same storage (or the same cluster, without one)."""
        import os

        return self._storage() or self.config.get("address") or os.environ.get("RAY_ADDRESS", "")

    def python(self) -> str:
        """The interpreter of the job's driver and of its workers: both get it through the
        runtime env (``py_executable``), so the entrypoint never runs a different Python
        from the workers. Default: this very interpreter when the cluster is on this
        machine (a loopback address), else ``python`` as found on the nodes' PATH."""
        import os
        import sys
        from urllib.parse import urlparse

        chosen = self.config.get("python") or os.environ.get("ANYTUNE_RAY_PYTHON")
        if chosen:
            return str(chosen)
        address = self.config.get("address") or os.environ.get("RAY_ADDRESS", "")
        host = urlparse(address if "://" in address else f"x://{address}").hostname or ""
        return sys.executable if host in ("127.0.0.1", "localhost", "::1") else "python"

    def upload(self, path: Path, *, purpose: str) -> str:
        """To the storage when there is one (content-addressed: the same file twice is one
        object); else staged here, to travel with the job in Ray's working-dir upload."""
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        store = self._storage()
        if store is not None:
            dest = _storage.join(store, "files", f"{digest}.jsonl")
            with translating():
                _storage.put(path, dest)
            return dest
        from anytune.provider import state_dir as anytune_home

        staged = anytune_home() / "ray" / "files" / f"{digest}.jsonl"
        staged.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, staged)
        return f"local:{staged}"

    # --- jobs -------------------------------------------------------------------------------
    def create(self, request: CreateRequest) -> JobSnapshot:
        """Submit the Ray job; with a key already used, the existing job comes back."""
        if request.method not in ("sft", "dpo"):
            raise UnsupportedError(PROVIDER, f"method {request.method!r}")
        opts = dict(request.options)
        self.check_create(
            request.model, request.method, now=datetime.now(timezone.utc),
            hyperparameters=request.hyperparameters, options=opts,
        )
        key = request.idempotency_key or f"once-{secrets.token_hex(8)}"
        job_id = submission_id(key)
        existing = self._find(job_id)
        if existing is not None:
            return existing
        client = self._connect()
        with tempfile.TemporaryDirectory(prefix="anytune-ray-submit-") as tmp:
            workdir = Path(tmp)
            spec = build_spec(request, job_id, workdir, self._storage())
            (workdir / "spec.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
            metadata = {str(k): str(v) for k, v in request.metadata.items()}
            metadata.update(
                {
                    TAG: "1",
                    "anytune_idempotency_key": key,
                    "anytune_model": request.model,
                    "anytune_result": _storage.join(
                        spec["job_root"], "model" if opts.get("full") else "adapter"
                    ),
                }
            )
            with translating():
                client.submit_job(
                    entrypoint=entrypoint(self.python()),
                    submission_id=job_id,
                    runtime_env=runtime_env(workdir, self.python(), opts.get("runtime_env")),
                    metadata=metadata,
                    # The driver only waits on the trainer: it holds no CPU of its own, so
                    # the workers get every core they ask for.
                    entrypoint_num_cpus=0,
                )
        return self.get(job_id)

    def _find(self, job_id: str) -> JobSnapshot | None:
        try:
            return self.get(job_id)
        except NotFoundError:
            return None

    def find_by_idempotency_key(self, key: str, *, limit: int = 50) -> JobSnapshot | None:
        """The job of ``key`` is the Ray job named after it: one lookup, no scan."""
        return self._find(submission_id(key))

    def _info(self, job_id: str) -> Any:
        client = self._connect()
        with translating():
            return client.get_job_info(job_id)

    def _log(self, job_id: str) -> _logs.Parsed:
        client = self._connect()
        with translating():
            return _logs.parse(client.get_job_logs(job_id))

    def _snapshot(self, info: Any, *, cancelling: bool = False) -> JobSnapshot:
        return snapshot_from(info, lambda: self._log(info.submission_id), cancelling=cancelling)

    def get(self, job_id: str) -> JobSnapshot:
        """The Ray job's status, as anytune's."""
        info = self._info(job_id)
        if (info.metadata or {}).get(TAG) != "1":
            raise NotFoundError(
                f"Ray job {job_id!r} was not submitted by anytune", provider=PROVIDER, status_code=404
            )
        return self._snapshot(info)

    def list(self, *, limit: int = 20) -> builtins.list[JobSnapshot]:
        """This provider's Ray jobs on the cluster, newest first."""
        client = self._connect()
        with translating():
            jobs = [j for j in client.list_jobs() if (j.metadata or {}).get(TAG) == "1" and j.submission_id]
        jobs.sort(key=lambda j: j.start_time or 0, reverse=True)
        return [self._snapshot(j) for j in jobs[:limit]]

    def cancel(self, job_id: str) -> JobSnapshot:
        """``stop_job``: Ray ends the driver (SIGTERM, then SIGKILL) and with it the workers;
        checkpoints already on the storage stay."""
        import time

        client = self._connect()
        for _ in range(20):
            info = self._info(job_id)
            if status_of(info).terminal:
                return self._snapshot(info)
            with translating():
                if client.stop_job(job_id):
                    break
            # False: the job's supervisor actor does not exist yet (the job was just
            # submitted); ask again until it does or the job ended.
            time.sleep(0.5)
        return self._snapshot(self._info(job_id), cancelling=True)

    def events(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """The Ray job's status changes and the events its log records, oldest first."""
        return events_from(self._info(job_id), self._log(job_id), limit=limit)

    def metrics(self, job_id: str) -> builtins.list[Metric]:
        """The rows rank 0 logged at each step, oldest first (the last of each step after
        a restart from a checkpoint)."""
        return metrics_from(self._log(job_id))

    def checkpoints(self, job_id: str) -> builtins.list[Checkpoint]:
        """The checkpoints Ray Train persisted to the storage, oldest first."""
        return checkpoints_from(self._log(job_id))

    def close(self) -> None:
        """Drop the client (it holds no connection between requests)."""
        self._client = None

    @classmethod
    def emulator(
        cls,
        *,
        port: int = 0,
        job_seconds: float = 30.0,
        faults: str = "",
        api_key: str | None = None,
    ) -> Emulator:
        """``anytune sandbox ray``: a real single-machine Ray cluster on 127.0.0.1 (not an
        emulator: Ray is free to run here). ``port`` is the dashboard's."""
        if faults or api_key:
            raise UnsupportedError(PROVIDER, "sandbox --faults/--api-key", "it is a real Ray cluster")
        from anytune_ray.emulator import LocalCluster

        return LocalCluster(dashboard_port=port)
