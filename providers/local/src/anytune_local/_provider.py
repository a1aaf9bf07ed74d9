"""``LocalProvider``: fine-tuning on this machine as a detached job (DESIGN.md §6).

``create`` writes a job folder and starts a worker process in its own session; every other
method reads that folder, so it works from any process, during the run and after. Nothing
here imports torch unless a GPU question must be answered (4-bit, several GPUs).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from anytune._errors import ConfigurationError, NotFoundError, UnsupportedError
from anytune._types import (
    Checkpoint,
    CreateRequest,
    Hyperparameters,
    JobError,
    JobEvent,
    JobResult,
    JobSnapshot,
    JobStatus,
    Metric,
    ModelInfo,
)
from anytune.provider import Capability, Limits, Provider
from anytune_local import _launch
from anytune_local._data import check_file
from anytune_local._state import (
    HEARTBEAT_STALE_S,
    append_jsonl,
    heartbeat_age,
    jobs_root,
    now_iso,
    pid_alive,
    read_json,
    read_jsonl,
    tail,
    write_json,
)

__all__ = ["LocalProvider"]

#: Options of ``Job.create(provider="local", ...)``; documented in the package README.
CREATE_OPTIONS = frozenset({
    "quantization", "devices", "fsdp", "full", "packing",
    "early_stopping_patience", "early_stopping_threshold", "max_seq_length", "merge",
    "trust_remote_code", "allow_pickle", "resume_from", "gradient_checkpointing",
    "gradient_accumulation_steps", "save_steps", "eval_steps", "save_total_limit",
    "logging_steps", "chat_template", "attn_implementation", "liger",
})  # fmt: skip

#: A worker that has not written its pid this long after ``create`` never started.
_START_GRACE_S = 30.0
#: Popen objects of workers this process started, so finished ones are reaped (a zombie
#: would otherwise look alive to ``kill(pid, 0)``).
_CHILDREN: dict[str, subprocess.Popen[bytes]] = {}


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def resolve_model(model: str) -> Path:
    """The local folder of ``model``: a path, or a model id already in the Hugging Face
    cache. Never downloads; a missing model is a :class:`NotFoundError` saying what to do."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise NotFoundError(f"{path} has no config.json: not a model folder",
                                provider="local", status_code=404)  # fmt: skip
        return path.resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:  # huggingface_hub raises several classes for "not cached"
        raise NotFoundError(
            f"model {model!r} is neither a local folder nor in the Hugging Face cache "
            f"({type(exc).__name__}). The local provider never downloads during a job: run "
            f"`huggingface-cli download {model}` first, or pass the path of a model folder",
            provider="local", status_code=404,
        ) from None  # fmt: skip


class LocalProvider(Provider):
    """LoRA, QLoRA and full fine-tuning with TRL on this machine, as a detached job."""

    name: ClassVar[str] = "local"
    capabilities: ClassVar[Capability] = (
        Capability.SFT | Capability.DPO | Capability.LORA | Capability.FULL
        | Capability.VALIDATION_FILE | Capability.LIST | Capability.CANCEL | Capability.EVENTS
        | Capability.METRICS | Capability.CHECKPOINTS | Capability.RESUME
    )  # fmt: skip
    create_options: ClassVar[frozenset[str]] = CREATE_OPTIONS

    # --- preflight ------------------------------------------------------------------------
    def limits(self, model: str, method: str) -> Limits:
        """OpenAI-format records; the length limit is the ``max_seq_length`` option."""
        return Limits(data_format="openai",
                      source="local: any size; examples longer than max_seq_length are truncated")  # fmt: skip

    def tokenizer(self, model: str) -> str:
        """The model's own tokenizer when the model is available locally."""
        try:
            return f"hf:{resolve_model(model)}"
        except NotFoundError:
            return "approx"

    def price_usd(self, model: str, method: str, trained_tokens: int,
                  hyperparameters: Hyperparameters) -> float:  # fmt: skip
        """Local runs cost no money."""
        return 0.0

    def catalog(self) -> list[ModelInfo]:
        """Causal language models in the local Hugging Face cache (no network)."""
        try:
            from huggingface_hub import scan_cache_dir

            repos = [r for r in scan_cache_dir().repos if r.repo_type == "model"]
        except Exception:  # no cache folder yet, or an unreadable one
            return []
        return [ModelInfo(provider="local", model=r.repo_id, methods=("sft", "dpo"),
                          price_per_million_tokens={"sft": 0.0, "dpo": 0.0},
                          notes="in the local Hugging Face cache") for r in repos]  # fmt: skip

    # --- files ----------------------------------------------------------------------------
    def upload(self, path: Path, *, purpose: str) -> str:
        """Stage a prepared JSONL file; returns ``file-<hex>`` for ``CreateRequest``."""
        staging = jobs_root() / "_files"
        staging.mkdir(exist_ok=True)
        ref = f"file-{secrets.token_hex(8)}"
        dest = staging / f"{ref}.jsonl"
        try:
            os.link(path, dest)  # same file system: no copy, and survives the original
        except OSError:
            shutil.copyfile(path, dest)
        return ref

    @staticmethod
    def _file(ref: str) -> Path:
        staged = jobs_root() / "_files" / f"{ref}.jsonl"
        if staged.exists():
            return staged
        if Path(ref).expanduser().is_file():
            return Path(ref).expanduser().resolve()
        raise NotFoundError(f"no staged file {ref!r}", provider="local", status_code=404)

    # --- jobs -----------------------------------------------------------------------------
    def _folder(self, job_id: str) -> Path:
        folder = jobs_root() / job_id
        if job_id.startswith(("_", ".")) or "/" in job_id or not (folder / "spec.json").exists():
            raise NotFoundError(f"no local job {job_id!r}", provider="local", status_code=404)
        return folder

    def _check_options(
        self, request: CreateRequest, opts: dict[str, Any]
    ) -> tuple[int, dict[str, str]]:
        """Refuse what cannot run, before the worker starts; return the number of GPU
        processes and the environment that selects the GPUs."""
        if opts.get("quantization") not in (None, "4bit"):
            raise UnsupportedError("local", f"quantization={opts['quantization']!r}", 'only "4bit"')
        if opts.get("quantization") == "4bit" and opts.get("full"):
            raise UnsupportedError("local", "full fine-tuning of a 4-bit model", "use LoRA (QLoRA)")
        if request.hyperparameters.lora is not None and opts.get("full"):
            raise ConfigurationError("local: full=True contradicts hyperparameters.lora")
        if opts.get("early_stopping_patience") is not None and not request.validation_file:
            raise ConfigurationError(
                "local: early_stopping_patience needs validation data "
                "(validation_file=... or validation_split=...)"
            )
        gpus = 0 if opts.get("devices") == "cpu" else _launch.gpu_count()
        processes, env = _launch.resolve_devices(opts.get("devices"), gpus)
        if opts.get("quantization") == "4bit":
            if processes == 0:
                raise UnsupportedError("local", "quantization='4bit'",
                                       "QLoRA needs a CUDA GPU and none is available")  # fmt: skip
            try:
                import bitsandbytes  # noqa: F401
            except ImportError:
                raise UnsupportedError("local", "quantization='4bit'",
                                       "install bitsandbytes: pip install 'anytune-local[qlora]'") from None  # fmt: skip
        return processes, env

    def _resume_checkpoint(self, job_id: str) -> str:
        index = read_json(self._folder(job_id) / "checkpoints.json", []) or []
        existing = [c for c in index if Path(c["model"]).is_dir()]
        if not existing:
            raise UnsupportedError("local", f"resume_from={job_id!r}", "that job saved no checkpoint")
        return str(existing[-1]["model"])

    def create(self, request: CreateRequest) -> JobSnapshot:
        """Write the job folder and start the detached worker."""
        opts = dict(request.options)
        if request.method not in ("sft", "dpo"):
            raise UnsupportedError("local", f"method {request.method!r}")
        processes, env = self._check_options(request, opts)
        model_path = resolve_model(request.model)
        resume = self._resume_checkpoint(opts["resume_from"]) if opts.get("resume_from") else None
        train_src = self._file(request.training_file)
        check_file(train_src, request.method)
        val_src = self._file(request.validation_file) if request.validation_file else None
        if val_src is not None:
            check_file(val_src, request.method)

        job_id = secrets.token_hex(6)
        folder = jobs_root() / job_id
        folder.mkdir(mode=0o700)
        shutil.copyfile(train_src, folder / "train.jsonl")
        if val_src is not None:
            shutil.copyfile(val_src, folder / "validation.jsonl")
        metadata = dict(request.metadata)
        if request.idempotency_key:
            metadata["anytune_idempotency_key"] = request.idempotency_key
        spec = {
            "id": job_id, "folder": str(folder), "model": request.model,
            "model_path": str(model_path), "method": request.method,
            "training_file": str(folder / "train.jsonl"),
            "validation_file": str(folder / "validation.jsonl") if val_src else None,
            "hyperparameters": request.hyperparameters.to_dict(), "seed": request.seed,
            "suffix": request.suffix, "metadata": metadata, "options": opts,
            "resume_checkpoint": resume, "processes": processes, "created_at": now_iso(),
        }  # fmt: skip
        write_json(folder / "spec.json", spec)
        write_json(folder / "state.json", {"status": "queued", "message": "starting the worker"})
        append_jsonl(folder / "events.jsonl", {
            "created_at": now_iso(), "message": f"job created: {request.method} on {request.model}"
            + (f", resuming from {resume}" if resume else ""), "level": "info", "type": "created",
            "data": {}})  # fmt: skip
        self._start_worker(job_id, folder, opts, processes, env)
        return self.get(job_id)

    def _start_worker(
        self, job_id: str, folder: Path, opts: dict[str, Any], processes: int,
        env_extra: dict[str, str],
    ) -> None:  # fmt: skip
        cmd = _launch.worker_command(
            folder, processes=processes, fsdp=bool(opts.get("fsdp")),
            mixed_precision="bf16" if processes and opts.get("quantization") != "4bit" else "no",
        )  # fmt: skip
        env = {**os.environ, **env_extra, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip
        with (folder / "worker.log").open("ab") as log:
            proc = subprocess.Popen(
                cmd, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        _CHILDREN[job_id] = proc
        write_json(folder / "pid.json", {"pid": proc.pid, "command": cmd, "started_at": now_iso()})

    def _alive(self, job_id: str, folder: Path, state: dict[str, Any]) -> bool:
        proc = _CHILDREN.get(job_id)
        if proc is not None and proc.poll() is not None:
            _CHILDREN.pop(job_id, None)
            return False
        pid = (read_json(folder / "pid.json", {}) or {}).get("pid")
        if pid is None:  # create is between writing the folder and starting the worker
            spec = read_json(folder / "spec.json", {}) or {}
            created = _dt(spec.get("created_at"))
            return created is not None and time.time() - created.timestamp() < _START_GRACE_S
        if not pid_alive(pid):
            return False
        age = heartbeat_age(folder)
        return age is None or age < HEARTBEAT_STALE_S

    def _state(self, job_id: str) -> tuple[Path, dict[str, Any]]:
        folder = self._folder(job_id)
        state = read_json(folder / "state.json", {}) or {}
        if JobStatus(state.get("status", "queued")).terminal or self._alive(job_id, folder, state):
            return folder, state
        # The worker is gone without a final word; it may have written one just now.
        state = read_json(folder / "state.json", {}) or {}
        if JobStatus(state.get("status", "queued")).terminal:
            return folder, state
        last = tail(folder / "worker.log", 15)
        message = "the worker process died" + (f"; last log lines:\n{last}" if last else "")
        state.update(status="failed", phase="done", finished_at=now_iso(), message=message,
                     error={"message": message, "code": "worker_died"})  # fmt: skip
        write_json(folder / "state.json", state)
        append_jsonl(folder / "events.jsonl", {"created_at": now_iso(), "level": "error",
                     "type": "failed", "message": "the worker process died", "data": {}})  # fmt: skip
        return folder, state

    def get(self, job_id: str) -> JobSnapshot:
        """The job's state, from its folder; a dead worker is reported failed."""
        folder, state = self._state(job_id)
        spec = read_json(folder / "spec.json")
        status = JobStatus(state.get("status", "queued"))
        if not status.terminal and (folder / "cancel").exists():
            status = JobStatus.CANCELLING
        result = state.get("result") if status is JobStatus.SUCCEEDED else None
        err = state.get("error") if status is JobStatus.FAILED else None
        return JobSnapshot(
            id=job_id, status=status, model=spec["model"], created_at=_dt(spec["created_at"]),
            finished_at=_dt(state.get("finished_at")),
            result=JobResult(model=result["model"], trained_tokens=result.get("trained_tokens"))
            if result else None,
            error=JobError(message=err["message"], code=err.get("code")) if err else None,
            progress=state.get("progress"), message=state.get("message"),
            metadata=dict(spec.get("metadata") or {}), poll_interval=1.0,
            raw={"state": state, "folder": str(folder)},
        )  # fmt: skip

    def list(self, *, limit: int = 20) -> list[JobSnapshot]:
        """Local jobs, newest first."""
        specs = []
        for path in jobs_root().glob("*/spec.json"):
            if not path.parent.name.startswith(("_", ".")):
                specs.append((read_json(path, {}).get("created_at", ""), path.parent.name))
        specs.sort(reverse=True)
        return [self.get(job_id) for _, job_id in specs[:limit]]

    def cancel(self, job_id: str) -> JobSnapshot:
        """Ask the worker to stop at the next step boundary (it saves, then ends cancelled)."""
        folder, state = self._state(job_id)
        if not JobStatus(state.get("status", "queued")).terminal:
            (folder / "cancel").touch()
        return self.get(job_id)

    def events(self, job_id: str, *, limit: int = 100) -> list[JobEvent]:
        """The job's events, oldest first (the last ``limit``)."""
        folder, _ = self._state(job_id)
        rows = read_jsonl(folder / "events.jsonl")[-limit:] if limit else []
        return [JobEvent(created_at=datetime.fromisoformat(r["created_at"]), message=r["message"],
                         level=r.get("level", "info"), type=r.get("type", "message"),
                         data=r.get("data") or {}, id=f"{job_id}-{i}")
                for i, r in enumerate(rows)]  # fmt: skip

    def metrics(self, job_id: str) -> list[Metric]:
        """Training metrics by step, oldest first, while training and after."""
        folder, _ = self._state(job_id)
        fields = ("epoch", "train_loss", "valid_loss", "learning_rate", "token_accuracy")
        return [Metric(step=r["step"], extra=r.get("extra") or {}, **{k: r.get(k) for k in fields})
                for r in read_jsonl(folder / "metrics.jsonl")]  # fmt: skip

    def checkpoints(self, job_id: str) -> list[Checkpoint]:
        """Saved checkpoints that still exist, oldest first."""
        folder, _ = self._state(job_id)
        return [Checkpoint(id=c["id"], step=c["step"], model=c["model"],
                           created_at=_dt(c.get("created_at")), metrics=c.get("metrics") or {})
                for c in read_json(folder / "checkpoints.json", []) or []
                if Path(c["model"]).is_dir()]  # fmt: skip

    @classmethod
    def quickstart(cls, console: Any = None) -> Any:
        """``anytune quickstart``: a real LoRA run on a tiny local model (CPU, < 2 min)."""
        from anytune_local.quickstart import run

        return run(console=console)
