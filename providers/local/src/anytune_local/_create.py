"""What ``LocalProvider.create`` does before the worker runs: find the model on disk,
refuse options that cannot run here, and write the job folder (spec, state, first event)
that the detached worker and every later read work from. Nothing here imports torch
unless a GPU question must be answered (4-bit)."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from anytune.errors import ConfigurationError, NotFoundError, UnsupportedError
from anytune.provider import CreateRequest
from anytune_local import _jobs, _launch
from anytune_local._data import check_file
from anytune_local._state import append_jsonl, jobs_root, now_iso, write_json

__all__ = ["check_options", "resolve_model", "staged_file", "start_job"]


def resolve_model(model: str) -> Path:
    """The local folder of ``model``: a path, or a model id already in the Hugging Face
    cache. Never downloads; a missing model is a :class:`NotFoundError` saying what to do."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise NotFoundError(
                f"{path} has no config.json: not a model folder", provider="local", status_code=404
            )
        return path.resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:  # huggingface_hub raises several classes for "not cached"
        raise NotFoundError(
            f"model {model!r} is neither a local folder nor in the Hugging Face cache "
            f"({type(exc).__name__}). The local provider never downloads during a job: run "
            f"`hf download {model}` first, or pass the path of a model folder",
            provider="local",
            status_code=404,
        ) from None


def staged_file(ref: str) -> Path:
    """The file ``upload`` staged as ``ref`` (or a path given directly)."""
    staged = jobs_root() / "_files" / f"{ref}.jsonl"
    if staged.exists():
        return staged
    if Path(ref).expanduser().is_file():
        return Path(ref).expanduser().resolve()
    raise NotFoundError(f"no staged file {ref!r}", provider="local", status_code=404)


def check_options(request: CreateRequest, opts: dict[str, Any]) -> tuple[int, dict[str, str]]:
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
    template = opts.get("chat_template")
    if template is not None and not Path(template).expanduser().is_file():
        raise ConfigurationError(f"local: chat_template {template!r} is not a file")
    gpus = 0 if opts.get("devices") == "cpu" else _launch.gpu_count()
    processes, env = _launch.resolve_devices(opts.get("devices"), gpus)
    if opts.get("quantization") == "4bit":
        if processes == 0:
            raise UnsupportedError(
                "local", "quantization='4bit'", "QLoRA needs a CUDA GPU and none is available"
            )
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise UnsupportedError(
                "local",
                "quantization='4bit'",
                "install bitsandbytes: pip install 'anytune-local[qlora]'",
            ) from None
    return processes, env


def start_job(request: CreateRequest) -> str:
    """Check ``request``, write its job folder and start the detached worker; the job id."""
    opts = dict(request.options)
    if request.method not in ("sft", "dpo"):
        raise UnsupportedError("local", f"method {request.method!r}")
    processes, env = check_options(request, opts)
    model_path = resolve_model(request.model)
    resume = _jobs.resume_checkpoint(opts["resume_from"]) if opts.get("resume_from") else None
    train_src = staged_file(request.training_file)
    check_file(train_src, request.method)
    val_src = staged_file(request.validation_file) if request.validation_file else None
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
        "id": job_id,
        "folder": str(folder),
        "model": request.model,
        "model_path": str(model_path),
        "method": request.method,
        "training_file": str(folder / "train.jsonl"),
        "validation_file": str(folder / "validation.jsonl") if val_src else None,
        "hyperparameters": request.hyperparameters.to_dict(),
        "seed": request.seed,
        "suffix": request.suffix,
        "metadata": metadata,
        "options": opts,
        "resume_checkpoint": resume,
        "processes": processes,
        "created_at": now_iso(),
    }
    write_json(folder / "spec.json", spec)
    write_json(folder / "state.json", {"status": "queued", "message": "starting the worker"})
    append_jsonl(
        folder / "events.jsonl",
        {
            "created_at": now_iso(),
            "message": f"job created: {request.method} on {request.model}"
            + (f", resuming from {resume}" if resume else ""),
            "level": "info",
            "type": "created",
            "data": {},
        },
    )
    cmd = _launch.worker_command(
        folder,
        processes=processes,
        fsdp=bool(opts.get("fsdp")),
        mixed_precision="bf16" if processes and opts.get("quantization") != "4bit" else "no",
    )
    _jobs.start_worker(job_id, folder, cmd, env)
    return job_id
