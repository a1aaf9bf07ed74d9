"""I/O-free translation between anytune's types and Vertex AI tuning jobs.

Choices documented here (docs/design.md is silent on them):

* **Adapter size.** ``LoRA(r=...)`` becomes Vertex's ``adapterSize`` (``ADAPTER_SIZE_ONE``
  ... ``ADAPTER_SIZE_SIXTEEN``); a size the model does not accept is refused before any
  upload. Vertex chooses alpha, dropout and target modules itself, so a ``LoRA`` with other
  values than the defaults for those is refused rather than silently ignored.
* **Learning rate.** ``learning_rate_multiplier`` is sent as ``learningRateMultiplier``;
  an absolute ``learning_rate`` as ``learningRate`` (supervised tuning only: preference
  tuning takes only the multiplier). ``batch_size`` is supervised-only too.
* **Idempotency key.** Stored as the job label ``anytune_idempotency_key``. Label values
  may hold only lowercase letters, digits, ``_`` and ``-``, at most 63 characters, so a
  key outside that alphabet is stored as ``h-`` + 61 hex digits of its SHA-256
  (:func:`label_value`); lookups compare the encoded form.
* **Status.** ``JOB_STATE_QUEUED``/``PENDING``/``PAUSED`` -> queued (paused says so in the
  message), ``RUNNING``/``UPDATING`` -> running, ``CANCELLING`` -> cancelling,
  ``EXPIRED`` -> failed, ``PARTIALLY_SUCCEEDED`` -> succeeded (with a message). Unknown
  future states map to running with the raw state in the message.
* **Events.** Vertex has no events endpoint: :func:`events_from` derives them from the
  job's own timestamps, dataset statistics, checkpoints and error.
* **Seed.** Vertex has no seed; ``seed`` only orders ``validation_split``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import datetime, timezone
from typing import Any

from anytune.errors import ConfigurationError, UnsupportedError, malformed_answer
from anytune.provider import (
    Checkpoint,
    CreateRequest,
    JobError,
    JobEvent,
    JobResult,
    JobSnapshot,
    JobStatus,
    LoRA,
)
from anytune.provider import as_dict as _as_dict

__all__ = [
    "ADAPTER_SIZES",
    "IDEMPOTENCY_LABEL",
    "STATUS_MAP",
    "as_dict",
    "checkpoints_from",
    "events_from",
    "label_value",
    "snapshot_from",
    "tune_arguments",
]

IDEMPOTENCY_LABEL = "anytune_idempotency_key"
#: LoRA rank -> Vertex's adapter size enum (google-genai ``types.AdapterSize``).
ADAPTER_SIZES = {
    1: "ADAPTER_SIZE_ONE",
    2: "ADAPTER_SIZE_TWO",
    4: "ADAPTER_SIZE_FOUR",
    8: "ADAPTER_SIZE_EIGHT",
    16: "ADAPTER_SIZE_SIXTEEN",
    32: "ADAPTER_SIZE_THIRTY_TWO",
}
STATUS_MAP: dict[str, JobStatus] = {
    "JOB_STATE_QUEUED": JobStatus.QUEUED,
    "JOB_STATE_PENDING": JobStatus.QUEUED,
    "JOB_STATE_PAUSED": JobStatus.QUEUED,
    "JOB_STATE_RUNNING": JobStatus.RUNNING,
    "JOB_STATE_UPDATING": JobStatus.RUNNING,
    "JOB_STATE_CANCELLING": JobStatus.CANCELLING,
    "JOB_STATE_SUCCEEDED": JobStatus.SUCCEEDED,
    "JOB_STATE_PARTIALLY_SUCCEEDED": JobStatus.SUCCEEDED,
    "JOB_STATE_FAILED": JobStatus.FAILED,
    "JOB_STATE_EXPIRED": JobStatus.FAILED,
    "JOB_STATE_CANCELLED": JobStatus.CANCELLED,
}
_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_DEFAULT_LORA = LoRA()

#: Malformed answers become a typed ``ProviderError`` (``anytune.errors.malformed_answer``).
_strict = functools.partial(malformed_answer, "vertex")


def label_value(value: str) -> str:
    """``value`` as a valid label value: itself when allowed, else ``h-`` + its hash."""
    if _LABEL_VALUE.fullmatch(value):
        return value
    return "h-" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:61]


def _labels(request: CreateRequest) -> dict[str, str]:
    metadata = dict(request.metadata)
    if request.idempotency_key:
        metadata[IDEMPOTENCY_LABEL] = request.idempotency_key
    labels: dict[str, str] = {}
    for key, value in metadata.items():
        if not _LABEL_KEY.fullmatch(key):
            raise ConfigurationError(
                f"metadata key {key!r} cannot be a Vertex label (lowercase letters, digits, _ and -, "
                "starting with a letter, at most 63 characters)"
            )
        labels[key] = label_value(str(value))
    if len(labels) > 64:
        raise ConfigurationError("Vertex accepts at most 64 labels per job")
    return labels


def adapter_size(lora: LoRA, allowed: tuple[int, ...] | None, model: str) -> str:
    """The adapter-size enum for ``lora.r``; refuses what Vertex cannot do."""
    if (lora.alpha, lora.dropout, lora.target_modules) != (
        _DEFAULT_LORA.alpha, _DEFAULT_LORA.dropout, _DEFAULT_LORA.target_modules
    ):
        raise UnsupportedError(
            "vertex", "LoRA alpha, dropout or target_modules",
            "Vertex chooses them itself; set only LoRA(r=...), which becomes the adapter size",
        )
    sizes = allowed if allowed is not None else tuple(ADAPTER_SIZES)
    if lora.r not in sizes or lora.r not in ADAPTER_SIZES:
        raise UnsupportedError(
            "vertex", f"LoRA r={lora.r} on {model}",
            f"Vertex adapter sizes for this model are {', '.join(map(str, sizes))}",
        )
    return ADAPTER_SIZES[lora.r]


def tune_arguments(request: CreateRequest, allowed_sizes: tuple[int, ...] | None) -> dict[str, Any]:
    """Keyword arguments for ``client.tunings.tune`` (``config`` as a plain dict)."""
    hp = request.hyperparameters
    dpo = request.method == "dpo"
    if hp.warmup_ratio is not None:
        raise UnsupportedError("vertex", "warmup_ratio", "Vertex does not expose a warmup setting")
    if hp.beta is not None and not dpo:
        raise ConfigurationError("beta is DPO's setting; use it with method='dpo'")
    if hp.learning_rate is not None and hp.learning_rate_multiplier is not None:
        raise ConfigurationError("give learning_rate or learning_rate_multiplier, not both")
    if dpo and hp.learning_rate is not None:
        raise UnsupportedError("vertex", "learning_rate with method='dpo'",
                               "preference tuning takes learning_rate_multiplier only")
    if dpo and hp.batch_size is not None:
        raise UnsupportedError(
            "vertex", "batch_size with method='dpo'", "preference tuning has no batch size"
        )
    config: dict[str, Any] = {"method": "PREFERENCE_TUNING" if dpo else "SUPERVISED_FINE_TUNING"}
    if hp.epochs is not None:
        config["epoch_count"] = hp.epochs
    if hp.learning_rate_multiplier is not None:
        config["learning_rate_multiplier"] = hp.learning_rate_multiplier
    if hp.learning_rate is not None:
        config["learning_rate"] = hp.learning_rate
    if hp.batch_size is not None:
        config["batch_size"] = hp.batch_size
    if hp.beta is not None:
        config["beta"] = hp.beta
    if hp.lora is not None:
        config["adapter_size"] = adapter_size(hp.lora, allowed_sizes, request.model)
    if request.suffix:
        config["tuned_model_display_name"] = request.suffix
    if request.validation_file:
        config["validation_dataset"] = {"gcs_uri": request.validation_file}
    labels = _labels(request)
    if labels:
        config["labels"] = labels
    return {
        "base_model": request.model,
        "training_dataset": {"gcs_uri": request.training_file},
        "config": config,
    }


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain snake_case dict from a google-genai model (pydantic) or a dict."""
    return _as_dict(obj, exclude_none=True)


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        stamp = value
    else:
        text = str(value).replace("Z", "+00:00")
        # RFC 3339 may carry nanoseconds; datetime keeps microseconds.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _spec(d: dict[str, Any]) -> dict[str, Any]:
    spec = d.get("supervised_tuning_spec") or d.get("preference_optimization_spec") or {}
    return spec if isinstance(spec, dict) else {}


def _billable_tokens(d: dict[str, Any]) -> int | None:
    stats = d.get("tuning_data_stats") or {}
    for kind in ("supervised_tuning_data_stats", "preference_optimization_data_stats"):
        inner = stats.get(kind) or {}
        count = inner.get("total_billable_token_count")
        if count is not None:
            return int(count)
    return None


@_strict("tuning job")
def snapshot_from(job: Any) -> JobSnapshot:
    """A :class:`JobSnapshot` from a google-genai ``TuningJob`` (or its dict)."""
    d = as_dict(job)
    raw_state = str(d.get("state") or "")
    status = STATUS_MAP.get(raw_state, JobStatus.RUNNING)
    message = None
    if raw_state == "JOB_STATE_PAUSED":
        message = "paused on Vertex AI; resume it there to continue"
    elif raw_state == "JOB_STATE_PARTIALLY_SUCCEEDED":
        message = "Vertex reports the job partially succeeded"
    elif raw_state not in STATUS_MAP:
        message = f"unknown Vertex state {raw_state!r}"
    error = None
    err = d.get("error")
    if status is JobStatus.FAILED and isinstance(err, dict):
        code = err.get("code")
        error = JobError(
            message=str(err.get("message") or raw_state), code=None if code is None else str(code)
        )
    result = None
    tuned = d.get("tuned_model") or {}
    if status is JobStatus.SUCCEEDED and (tuned.get("endpoint") or tuned.get("model")):
        tokens = _billable_tokens(d)
        epochs = (_spec(d).get("hyper_parameters") or {}).get("epoch_count")
        trained = tokens * int(epochs) if tokens is not None and epochs else None
        result = JobResult(model=str(tuned.get("endpoint") or tuned.get("model")), trained_tokens=trained)
    labels = d.get("labels") or {}
    return JobSnapshot(
        id=str(d["name"]),
        status=status,
        model=str(d.get("base_model") or (d.get("pre_tuned_model") or {}).get("base_model") or ""),
        created_at=_time(d.get("create_time")),
        finished_at=_time(d.get("end_time")),
        result=result,
        error=error,
        message=message,
        metadata={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        raw=d,
    )


@_strict("tuning job")
def checkpoints_from(job: Any) -> list[Checkpoint]:
    """The tuned model's checkpoints, by step."""
    d = as_dict(job)
    out = [
        Checkpoint(
            id=str(c.get("checkpoint_id") or ""),
            step=int(c["step"]) if c.get("step") is not None else None,
            model=str(c.get("endpoint") or ""),
            metrics={"epoch": float(c["epoch"])} if c.get("epoch") is not None else {},
        )
        for c in (d.get("tuned_model") or {}).get("checkpoints") or []
    ]
    return sorted(out, key=lambda c: c.step or 0)


@_strict("tuning job")
def events_from(job: Any) -> list[JobEvent]:
    """Events derived from the job (Vertex has no events endpoint), oldest first."""
    d = as_dict(job)
    snap = snapshot_from(d)
    events: list[JobEvent] = []
    created = _time(d.get("create_time"))
    if created:
        events.append(JobEvent(created_at=created, message=f"tuning job created for {snap.model}",
                               type="created"))
    started = _time(d.get("start_time"))
    if started:
        events.append(JobEvent(created_at=started, message="tuning started", type="started"))
        tokens = _billable_tokens(d)
        if tokens is not None:
            events.append(JobEvent(created_at=started,
                                   message=f"training data: {tokens} billable tokens per epoch",
                                   type="dataset", data={"billable_tokens": tokens}))
    ended = _time(d.get("end_time"))
    if ended and snap.status.terminal:
        if snap.status is JobStatus.SUCCEEDED and snap.result:
            text, level = f"tuning succeeded: {snap.result.model}", "info"
        elif snap.status is JobStatus.FAILED:
            text, level = f"tuning failed: {snap.error.message if snap.error else 'no reason given'}", "error"
        else:
            text, level = "tuning cancelled", "warning"
        events.append(JobEvent(created_at=ended, message=text, level=level, type=snap.status.value))
    return sorted(events, key=lambda e: e.created_at)
