"""What tracking needs to know about a job beyond its provider's answer: the params it was
launched with and the trackers it asked for, kept next to the job store.

One small JSON file per job (``<anytune home>/tracking/<key>.json``, written atomically)
so that ``Job.get(...).wait()`` and ``anytune sync`` in another process log the same
params. Nothing secret is kept: options whose name says key, token, secret or password
are left out.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anytune._types import Estimate, Hyperparameters, LoRA
from anytune.tracking._base import run_key

__all__ = ["JobTracking", "is_secret_name", "launch_params", "load", "save"]

_SECRET_WORDS = ("key", "token", "secret", "password", "credential")


def is_secret_name(name: str) -> bool:
    """Whether an option's name says it holds a secret (``wandb_api_key``, ...)."""
    low = name.lower()
    return any(word in low for word in _SECRET_WORDS)


@dataclass
class JobTracking:
    """The tracking record of one job."""

    job_id: str
    trackers: list[str] = field(default_factory=list)
    #: Trackers the provider's own integration feeds (the core does not sync those).
    native: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    estimate: dict[str, Any] | None = None

    def hp(self) -> Hyperparameters:
        """The job's hyperparameters as the type ``price_usd`` takes."""
        values = dict(self.hyperparameters)
        lora = values.pop("lora", None)
        if isinstance(lora, dict) and isinstance(lora.get("target_modules"), list):
            lora["target_modules"] = tuple(lora["target_modules"])
        try:
            return Hyperparameters(**values, lora=LoRA(**lora) if lora else None)
        except (TypeError, ValueError):
            return Hyperparameters()


def _folder() -> Path:
    from anytune._config import anytune_home

    folder = anytune_home() / "tracking"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def save(record: JobTracking) -> None:
    """Write ``record`` atomically."""
    path = _folder() / f"{run_key(record.job_id)}.json"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record.__dict__, fh, indent=1, default=str)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(job_id: str) -> JobTracking | None:
    """The record of ``job_id``, or ``None`` for a job created elsewhere or before."""
    path = _folder() / f"{run_key(job_id)}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    names = set(JobTracking.__dataclass_fields__)
    return JobTracking(**{k: v for k, v in doc.items() if k in names})


def _flat(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif value is not None:
        out[prefix] = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def launch_params(
    *,
    provider: str,
    model: str,
    method: str,
    hyperparameters: Hyperparameters,
    options: dict[str, Any],
    estimate: Estimate | None,
    data_hashes: list[str],
    suffix: str | None = None,
    seed: int | None = None,
) -> dict[str, str]:
    """The run's params: provider, base model, method, hyperparameters, data hashes, the
    estimate and the job's non-secret provider options, flattened to strings."""
    out: dict[str, str] = {"provider": provider, "base_model": model, "method": method}
    _flat("hp", hyperparameters.to_dict(), out)
    if suffix:
        out["suffix"] = suffix
    if seed is not None:
        out["seed"] = str(seed)
    for i, digest in enumerate(data_hashes):
        out["data_sha256" if i == 0 else "validation_sha256"] = digest
    if estimate is not None:
        for name in ("records", "tokens_per_epoch", "epochs", "trained_tokens", "cost_usd",
                     "exact_tokens", "price_as_of"):
            value = getattr(estimate, name)
            if value is not None:
                out[f"estimate.{name}"] = str(value)
    _flat("option", {k: v for k, v in options.items() if not is_secret_name(k)}, out)
    # MLflow caps a param value at 6000 characters; nothing here should come near.
    return {k: v[:500] for k, v in out.items()}
