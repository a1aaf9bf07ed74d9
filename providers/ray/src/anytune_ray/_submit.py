"""What a Ray job is made of: its spec (``spec.json`` in the working dir), its entrypoint
and its runtime env. Pure construction, no network."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from anytune_local._data import check_file

from anytune.errors import ConfigurationError, NotFoundError, UnsupportedError
from anytune.provider import CreateRequest, Hyperparameters
from anytune_ray import _storage
from anytune_ray._client import PROVIDER

__all__ = ["build_spec", "check_options", "entrypoint", "runtime_env"]


def check_options(opts: dict[str, Any], hyperparameters: Hyperparameters | None) -> None:
    """Refuse options that cannot run (before anything is uploaded or submitted)."""
    for key in ("workers", "max_failures"):
        value = opts.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigurationError(f"ray: {key} must be a whole number, got {value!r}")
    if opts.get("workers") == 0:
        raise ConfigurationError("ray: workers must be at least 1")
    for key in ("gpus_per_worker", "cpus_per_worker"):
        value = opts.get(key)
        bad = isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
        if value is not None and bad:
            raise ConfigurationError(f"ray: {key} must be a number >= 0, got {value!r}")
    if opts.get("quantization") not in (None, "4bit"):
        raise UnsupportedError(PROVIDER, f"quantization={opts['quantization']!r}", 'only "4bit"')
    if opts.get("quantization") == "4bit" and not opts.get("gpus_per_worker"):
        raise UnsupportedError(
            PROVIDER, "quantization='4bit'", "QLoRA needs CUDA GPUs: pass gpus_per_worker=1"
        )
    if opts.get("quantization") == "4bit" and opts.get("full"):
        raise UnsupportedError(PROVIDER, "full fine-tuning of a 4-bit model", "use LoRA (QLoRA)")
    if hyperparameters is not None and hyperparameters.lora is not None and opts.get("full"):
        raise ConfigurationError("ray: full=True contradicts hyperparameters.lora")


def build_spec(request: CreateRequest, job_id: str, workdir: Path, storage: str | None) -> dict[str, Any]:
    """The job's spec (``spec.json`` in the working dir); data without storage is
    copied into the working dir, with ``workdir:`` references to it."""
    import os

    store = storage or str(Path("~/ray_results").expanduser())
    files: dict[str, str | None] = {}
    for key, ref, name in (
        ("training_file", request.training_file, "train.jsonl"),
        ("validation_file", request.validation_file, "validation.jsonl"),
    ):
        if ref is None:
            files[key] = None
            continue
        local = Path(ref.removeprefix("local:")).expanduser()
        if ref.startswith("local:") or (not _storage.is_url(ref) and local.is_file()):
            if not local.is_file():
                raise NotFoundError(f"no staged file {ref!r}", provider=PROVIDER, status_code=404)
            check_file(local, request.method)
            shutil.copyfile(local, workdir / name)
            files[key] = f"workdir:{name}"
        else:
            files[key] = ref
    return {
        "id": job_id,
        "model": request.model,
        "method": request.method,
        **files,
        "hyperparameters": request.hyperparameters.to_dict(),
        "seed": request.seed,
        "suffix": request.suffix,
        "options": {k: v for k, v in request.options.items() if k != "runtime_env"},
        "storage": store,
        "job_root": _storage.join(store, job_id),
        "resume_checkpoint": None,
        "submitted_by": os.environ.get("USER", ""),
    }


def entrypoint(python: str) -> str:
    """The driver's command, run by ``python``: the runtime env's ``py_executable`` too
    (Ray's own pattern for ``uv run``), never a bare ``python`` picked off the PATH."""
    return f"{python} -m anytune_ray._driver spec.json" if " " in python else shlex.join(
        [python, "-m", "anytune_ray._driver", "spec.json"]
    )


def runtime_env(workdir: Path, python: str, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """The job's runtime env: the working dir (spec and small data), the interpreter of
    the driver and the workers, and the environment variables they share."""
    env: dict[str, Any] = {
        "working_dir": str(workdir),
        "py_executable": python,
        "env_vars": {
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            # Record lines of different workers look alike: Ray must not fold them together.
            "RAY_DEDUP_LOGS": "0",
        },
    }
    for k, v in (extra or {}).items():
        if k == "env_vars":
            env["env_vars"].update(v)
        else:
            env[k] = v
    return env
