"""I/O-free translation between anytune's types and OpenAI's JSON, shared by the sync
and async clients (and by nothing else: no network here).

Choices documented here:

* **Learning rate.** OpenAI takes ``learning_rate_multiplier`` and does not publish the
  base rate it multiplies. ``Hyperparameters.learning_rate_multiplier`` is sent as is.
  An absolute ``learning_rate`` is converted with the fixed convention
  ``multiplier = learning_rate / 1e-4`` (:data:`REFERENCE_LEARNING_RATE`), which maps the
  usual adapter rates 1e-5..2e-4 onto 0.1..2, the range OpenAI's own "auto" picks from.
  Giving both is an error.
* **Status.** ``validating_files`` -> validating; ``paused`` -> queued: a paused job
  makes no progress and waits to be resumed, which is what "queued" tells a caller (it
  is not terminal, so ``wait`` keeps waiting); the snapshot's ``message`` says "paused".
  An unknown future status maps to running, with the raw status in ``message``.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import math
from datetime import datetime, timezone
from typing import Any

from anytune.errors import ConfigurationError, ProviderError, UnsupportedError, malformed_answer
from anytune.provider import (
    Checkpoint,
    CreateRequest,
    JobError,
    JobEvent,
    JobResult,
    JobSnapshot,
    JobStatus,
    Metric,
    as_dict,
)

__all__ = [
    "IDEMPOTENCY_METADATA_KEY",
    "INTEGRATIONS_OPTION",
    "PAGE",
    "REFERENCE_LEARNING_RATE",
    "STATUS_MAP",
    "as_dict",
    "checkpoint_from",
    "create_params",
    "event_from",
    "metrics_from_events",
    "oldest_first",
    "page_items",
    "page_kwargs",
    "parse_result_file",
    "snapshot_from",
    "wandb_integration",
]

REFERENCE_LEARNING_RATE = 1e-4
PAGE = 100  # OpenAI's largest page for jobs, events and checkpoints
IDEMPOTENCY_METADATA_KEY = "anytune_idempotency_key"
#: The ``CreateRequest.options`` key holding the job's ``integrations`` (OpenAI's W&B
#: integration), set only by ``OpenAIProvider.native_tracking``: not a user option.
INTEGRATIONS_OPTION = "integrations"

STATUS_MAP: dict[str, JobStatus] = {
    "validating_files": JobStatus.VALIDATING,
    "queued": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
    "paused": JobStatus.QUEUED,
}


#: Malformed answers become a typed ``ProviderError`` (``anytune.errors.malformed_answer``).
_strict = functools.partial(malformed_answer, "openai")


def _ts(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


def wandb_integration(project: str, *, name: str | None, entity: str | None,
                      tags: list[str]) -> dict[str, Any]:
    """One item of ``integrations``: OpenAI's W&B integration (OpenAPI
    ``CreateFineTuningJobRequest.integrations``: ``type`` "wandb" and ``wandb`` with the
    required ``project`` and optional ``name``, ``entity``, ``tags``; spec checked
    2026-11-29). OpenAI logs with the W&B key the user registered in the OpenAI
    organisation's settings, so no key goes into the request."""
    wandb: dict[str, Any] = {"project": project}
    if name:
        wandb["name"] = name
    if entity:
        wandb["entity"] = entity
    if tags:
        wandb["tags"] = tags
    return {"type": "wandb", "wandb": wandb}


def create_params(request: CreateRequest) -> dict[str, Any]:
    """Keyword arguments for ``client.fine_tuning.jobs.create`` built from ``request``."""
    hp = request.hyperparameters
    if hp.lora is not None:
        raise UnsupportedError("openai", "LoRA settings", "OpenAI chooses how it tunes; leave lora=None")
    if hp.warmup_ratio is not None:
        raise UnsupportedError("openai", "warmup_ratio", "OpenAI does not expose a warmup setting")
    if hp.beta is not None and request.method != "dpo":
        raise ConfigurationError("beta is DPO's setting; use it with method='dpo'")
    if hp.learning_rate is not None and hp.learning_rate_multiplier is not None:
        raise ConfigurationError("give learning_rate or learning_rate_multiplier, not both")

    method_hp: dict[str, Any] = {}
    if hp.epochs is not None:
        method_hp["n_epochs"] = hp.epochs
    if hp.batch_size is not None:
        method_hp["batch_size"] = hp.batch_size
    if hp.learning_rate_multiplier is not None:
        method_hp["learning_rate_multiplier"] = hp.learning_rate_multiplier
    elif hp.learning_rate is not None:
        method_hp["learning_rate_multiplier"] = hp.learning_rate / REFERENCE_LEARNING_RATE
    if hp.beta is not None:
        method_hp["beta"] = hp.beta

    kind = "dpo" if request.method == "dpo" else "supervised"
    params: dict[str, Any] = {
        "model": request.model,
        "training_file": request.training_file,
        "method": {"type": kind, kind: {"hyperparameters": method_hp}},
    }
    if request.validation_file:
        params["validation_file"] = request.validation_file
    if request.suffix:
        params["suffix"] = request.suffix
    if request.seed is not None:
        params["seed"] = request.seed
    if request.options.get(INTEGRATIONS_OPTION):  # set by OpenAIProvider.native_tracking
        params["integrations"] = list(request.options[INTEGRATIONS_OPTION])
    metadata = {str(k): str(v) for k, v in request.metadata.items()}
    if request.idempotency_key:
        metadata[IDEMPOTENCY_METADATA_KEY] = request.idempotency_key
    if len(metadata) > 16:
        raise ConfigurationError("OpenAI accepts at most 16 metadata pairs per job")
    if metadata:
        params["metadata"] = metadata
    return params


@_strict("fine-tuning job")
def snapshot_from(job: Any) -> JobSnapshot:
    """A :class:`JobSnapshot` from an OpenAI ``fine_tuning.job`` object."""
    d = as_dict(job)
    raw_status = str(d.get("status") or "")
    status = STATUS_MAP.get(raw_status, JobStatus.RUNNING)
    message = None
    if raw_status == "paused":
        message = "paused on OpenAI; resume it there to continue"
    elif raw_status not in STATUS_MAP:
        message = f"unknown OpenAI status {raw_status!r}"
    elif status in (JobStatus.QUEUED, JobStatus.RUNNING) and d.get("estimated_finish"):
        try:
            finish = _ts(d["estimated_finish"])
            message = f"OpenAI estimates it finishes at {finish:%Y-%m-%d %H:%M} UTC"
        except (TypeError, ValueError, OverflowError, OSError):
            pass  # a hint only: a malformed one must not fail the whole snapshot
    err = d.get("error")
    error = None
    if status is JobStatus.FAILED and isinstance(err, dict) and (err.get("message") or err.get("code")):
        error = JobError(message=str(err.get("message") or ""), code=err.get("code"), param=err.get("param"))
    result = None
    if status is JobStatus.SUCCEEDED and d.get("fine_tuned_model"):
        result = JobResult(model=str(d["fine_tuned_model"]), trained_tokens=d.get("trained_tokens"))
    metadata = d.get("metadata") or {}
    if not isinstance(metadata, dict):
        metadata = {}
    return JobSnapshot(
        id=str(d["id"]),
        status=status,
        model=str(d.get("model") or ""),
        created_at=_ts(d.get("created_at")),
        finished_at=_ts(d.get("finished_at")),
        result=result,
        error=error,
        message=message,
        metadata={str(k): str(v) for k, v in metadata.items()},
        raw=d,
    )


@_strict("job event")
def event_from(event: Any) -> JobEvent:
    """A :class:`JobEvent` from a ``fine_tuning.job.event``."""
    d = as_dict(event)
    return JobEvent(
        created_at=_ts(d.get("created_at")) or datetime.fromtimestamp(0, tz=timezone.utc),
        message=str(d.get("message") or ""),
        level=str(d.get("level") or "info"),
        type=str(d.get("type") or "message"),
        data=dict(d["data"]) if isinstance(d.get("data"), dict) else {},
        id=d.get("id"),
    )


@_strict("checkpoint")
def checkpoint_from(ckpt: Any) -> Checkpoint:
    """A :class:`Checkpoint` from a ``fine_tuning.job.checkpoint``."""
    d = as_dict(ckpt)
    raw_metrics = d.get("metrics")
    raw_metrics = raw_metrics if isinstance(raw_metrics, dict) else {}
    metrics = {str(k): n for k, v in raw_metrics.items() if (n := _number(v)) is not None}
    return Checkpoint(
        id=str(d["id"]),
        step=d.get("step_number"),
        model=str(d.get("fine_tuned_model_checkpoint") or ""),
        created_at=_ts(d.get("created_at")),
        metrics=metrics,
    )


# Result-file columns -> Metric fields; every other numeric column goes to ``extra``.
_COLUMNS = {
    "train_loss": "train_loss",
    "valid_loss": "valid_loss",
    "train_mean_token_accuracy": "token_accuracy",
    "train_accuracy": "token_accuracy",  # the older name of the same column
    "learning_rate": "learning_rate",
    "epoch": "epoch",
}


def _number(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _metric(row: dict[str, Any]) -> Metric | None:
    step = _number(row.get("step"))
    if step is None:
        return None
    fields: dict[str, Any] = {}
    extra: dict[str, float] = {}
    for key, value in row.items():
        if key == "step" or key is None:
            continue
        number = _number(value)
        if number is None:
            continue
        if key in _COLUMNS:
            fields.setdefault(_COLUMNS[key], number)
        else:
            extra[str(key)] = number
    return Metric(step=int(step), extra=extra, **fields)


def parse_result_file(content: bytes | str) -> list[Metric]:
    """Metrics from a job's result file: a CSV (OpenAI serves it base64-encoded)."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    if not text.lstrip().startswith("step"):
        try:
            text = base64.b64decode(text.strip(), validate=False).decode("utf-8", "replace")
        except ValueError:
            return []
    try:
        metrics = [m for m in map(_metric, csv.DictReader(io.StringIO(text))) if m is not None]
    except csv.Error as exc:
        raise ProviderError(f"unreadable result file ({exc})", provider="openai") from None
    return sorted(metrics, key=lambda m: m.step)


def metrics_from_events(events: list[JobEvent]) -> list[Metric]:
    """Metrics from ``type == "metrics"`` events (available while the job still runs)."""
    by_step: dict[int, Metric] = {}
    for event in events:
        if event.type == "metrics" and isinstance(event.data, dict) and event.data:
            metric = _metric(event.data)
            if metric is not None:
                by_step[metric.step] = metric
    return [by_step[s] for s in sorted(by_step)]


def page_kwargs(after: str | None, limit: int, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for one page of a cursor-paginated list."""
    kwargs: dict[str, Any] = {"limit": max(1, limit)}
    if after:
        kwargs["after"] = after
    if metadata:
        kwargs["metadata"] = metadata
    return kwargs


def page_items(page: Any) -> tuple[list[Any], str | None]:
    """One page's items and the ``after`` cursor of the next (``None`` on the last page),
    for ``SDKProvider.paginate``."""
    data = list(page.data or [])
    return data, (str(data[-1].id) if page.has_more and data else None)


def oldest_first(events: list[JobEvent]) -> list[JobEvent]:
    """Events sorted oldest first."""
    # Stable on equal timestamps: OpenAI's pages are newest first, so reverse, then sort.
    return sorted(reversed(events), key=lambda e: e.created_at)
