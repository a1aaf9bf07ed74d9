"""I/O-free translation between anytune's types and Together's JSON (no network here).

Choices documented here (README has the user-facing version):

* **Training type.** ``hyperparameters.lora`` given -> LoRA with those settings;
  ``lora=None`` -> Together's default, LoRA (its API's default), priced as LoRA; the
  create option ``full=True`` asks for full fine-tuning.
* **Idempotency key.** Together stores no free-form metadata on a job. What it stores
  and lists back is the ``suffix``; anytune appends ``-at<10 hex of sha256(key)>`` to it
  (:func:`idempotency_tag`) and recovers a lost ``create`` by that tag. The tuned model's
  name therefore carries the tag.
* **Status.** pending/queued -> queued; running/compressing/uploading -> running;
  cancel_requested -> cancelling; completed -> succeeded; error/user_error -> failed;
  cancelled -> cancelled. An unknown future status maps to running, said in ``message``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import datetime, timezone
from typing import Any

from anytune.errors import ConfigurationError, malformed_answer
from anytune.provider import (
    Checkpoint,
    CreateRequest,
    JobError,
    JobEvent,
    JobResult,
    JobSnapshot,
    JobStatus,
    Metric,
)
from anytune.provider import as_dict as _as_dict

__all__ = [
    "CREATE_OPTIONS",
    "IDEMPOTENCY_METADATA_KEY",
    "MAX_SUFFIX",
    "STATUS_MAP",
    "as_dict",
    "checkpoint_from",
    "create_params",
    "event_from",
    "idempotency_tag",
    "latest_events",
    "metrics_from",
    "snapshot_from",
]

IDEMPOTENCY_METADATA_KEY = "anytune_idempotency_key"
TAG_METADATA_KEY = "anytune_idempotency_tag"
MAX_SUFFIX = 40  # Together: "Up to 40 character suffix" (SDK fine_tuning.create docstring)
_TAG = re.compile(r"(?:^|-)(at[0-9a-f]{10})$")

#: Per-job options of ``Job.create(provider="together", ...)`` passed to Together as is.
CREATE_OPTIONS = frozenset(
    {
        "full", "n_checkpoints", "n_evals", "packing", "max_seq_length", "lr_scheduler_type",
        "min_lr_ratio", "max_grad_norm", "weight_decay", "train_on_inputs", "rpo_alpha",
        "simpo_gamma", "dpo_normalize_logratios_by_length", "from_checkpoint",
        "wandb_api_key", "wandb_base_url", "wandb_project_name", "wandb_name", "wandb_entity",
    }
)

STATUS_MAP: dict[str, JobStatus] = {
    "pending": JobStatus.QUEUED,
    "queued": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "compressing": JobStatus.RUNNING,
    "uploading": JobStatus.RUNNING,
    "cancel_requested": JobStatus.CANCELLING,
    "cancelled": JobStatus.CANCELLED,
    "error": JobStatus.FAILED,
    "user_error": JobStatus.FAILED,
    "completed": JobStatus.SUCCEEDED,
}

#: Malformed answers become a typed ``ProviderError`` (``anytune.errors.malformed_answer``).
_strict = functools.partial(malformed_answer, "together")


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain dict from an SDK model (pydantic) or a dict, without ``None`` fields."""
    return _as_dict(obj, exclude_none=True)


def _ts(value: Any) -> datetime | None:
    """Together's timestamps are ISO 8601 strings (``...Z``); epoch numbers are accepted too."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def idempotency_tag(key: str) -> str:
    """The suffix tag that stands for ``key`` on Together (``at`` + 10 hex digits)."""
    return "at" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def tagged_suffix(suffix: str | None, key: str | None) -> str | None:
    """The suffix sent to Together: the user's, then the idempotency tag."""
    if not key:
        return suffix
    tag = idempotency_tag(key)
    if not suffix:
        return tag
    room = MAX_SUFFIX - len(tag) - 1
    if len(suffix) > room:
        raise ConfigurationError(
            f"suffix {suffix!r} is too long: Together allows {MAX_SUFFIX} characters and anytune "
            f"appends a {len(tag) + 1}-character idempotency tag, so keep it to {room}"
        )
    return f"{suffix}-{tag}"


def create_params(request: CreateRequest) -> dict[str, Any]:
    """Keyword arguments for ``client.fine_tuning.create`` built from ``request``."""
    hp = request.hyperparameters
    opts = dict(request.options)
    full = bool(opts.pop("full", False))
    if full and hp.lora is not None:
        raise ConfigurationError("together: full=True contradicts hyperparameters.lora")
    if hp.learning_rate_multiplier is not None:
        raise ConfigurationError("together takes an absolute learning_rate, not learning_rate_multiplier")
    if hp.beta is not None and request.method != "dpo":
        raise ConfigurationError("beta is DPO's setting; use it with method='dpo'")
    unknown = set(opts) - CREATE_OPTIONS
    if unknown:
        raise ConfigurationError(f"together: unknown option(s) {sorted(unknown)}")
    params: dict[str, Any] = {
        "model": request.model,
        "training_file": request.training_file,
        "training_method": request.method,
        "lora": not full,
    }
    if hp.epochs is not None:
        params["n_epochs"] = hp.epochs
    if hp.batch_size is not None:
        params["batch_size"] = hp.batch_size
    if hp.learning_rate is not None:
        params["learning_rate"] = hp.learning_rate
    if hp.warmup_ratio is not None:
        params["warmup_ratio"] = hp.warmup_ratio
    if hp.beta is not None:
        params["dpo_beta"] = hp.beta
    if hp.lora is not None:
        if not isinstance(hp.lora.target_modules, str):
            raise ConfigurationError("together takes lora target_modules as one string (e.g. 'all-linear')")
        params.update(
            lora_r=hp.lora.r,
            lora_alpha=hp.lora.alpha,
            lora_dropout=hp.lora.dropout,
            lora_trainable_modules=hp.lora.target_modules,
        )
    if request.validation_file:
        params["validation_file"] = request.validation_file
        params.setdefault("n_evals", 1)  # a validation file is only used when evals run
    if request.seed is not None:
        params["random_seed"] = request.seed
    suffix = tagged_suffix(request.suffix, request.idempotency_key)
    if suffix:
        params["suffix"] = suffix
    params.update(opts)
    if request.method == "sft":
        # anytune uploads conversational records, for which Together's "auto" masks the
        # inputs; saying False states that outright (and the spec's schema refuses "auto").
        params.setdefault("train_on_inputs", False)
    return params


@_strict("fine-tuning job")
def snapshot_from(job: Any) -> JobSnapshot:
    """A :class:`JobSnapshot` from a Together fine-tune object (full or truncated)."""
    d = as_dict(job)
    raw_status = str(d.get("status") or "")
    status = STATUS_MAP.get(raw_status, JobStatus.RUNNING)
    message = None
    if raw_status not in STATUS_MAP:
        message = f"unknown Together status {raw_status!r}"
    elif raw_status != status.value:
        message = f"Together status: {raw_status}"
    error = None
    if status is JobStatus.FAILED:
        events = [e for e in d.get("events") or [] if isinstance(e, dict) and e.get("level") == "error"]
        text = str(events[-1].get("message")) if events else f"the job ended with status {raw_status}"
        error = JobError(message=text, code=raw_status)
    result = None
    output = d.get("output_name") or d.get("model_output_name")
    if status is JobStatus.SUCCEEDED and output:
        # token_count and total_price: what Together bills (its pricing page's rule);
        # total_price is in nanodollars, as Together's SDK reads it (together 3.1.1,
        # lib/utils/tools.py: finetune_price_to_dollars = price / 1_000_000_000).
        price = d.get("total_price")
        result = JobResult(model=str(output), trained_tokens=d.get("token_count"),
                           cost_usd=None if price is None else float(price) / 1e9)
    progress = None
    prog = d.get("progress")
    if isinstance(prog, dict) and prog.get("estimate_available") and status is JobStatus.RUNNING:
        message = message or f"about {int(prog.get('seconds_remaining') or 0)} s to the next stage"
    metadata: dict[str, str] = {}
    found = _TAG.search(str(d.get("suffix") or ""))
    if found:
        metadata[TAG_METADATA_KEY] = found.group(1)
    updated = _ts(d.get("updated_at"))
    return JobSnapshot(
        id=str(d["id"]),
        status=status,
        model=str(d.get("model") or ""),
        created_at=_ts(d.get("created_at")),
        finished_at=updated if status.terminal else None,
        result=result,
        error=error,
        progress=progress,
        message=message,
        metadata=metadata,
        raw=d,
    )


@_strict("job event")
def event_from(event: Any) -> JobEvent:
    """A :class:`JobEvent` from a ``fine-tune-event``."""
    d = as_dict(event)
    keys = ("step", "token_count", "total_steps", "checkpoint_path", "model_path")
    data = {k: d[k] for k in keys if d.get(k)}
    return JobEvent(
        created_at=_ts(d.get("created_at")) or datetime.fromtimestamp(0, tz=timezone.utc),
        message=str(d.get("message") or d.get("type") or ""),
        level=str(d.get("level") or "info"),
        type=str(d.get("type") or "message"),
        data=data,
        id=d.get("hash") or None,
    )


def latest_events(page: Any, limit: int) -> list[JobEvent]:
    """The latest ``limit`` events of a ``list_events`` answer, oldest first."""
    events = sorted((event_from(e) for e in page.data or []), key=lambda e: e.created_at)
    return events[-limit:] if limit else []


@_strict("checkpoint")
def checkpoint_from(job_id: str, ckpt: Any) -> Checkpoint:
    """A :class:`Checkpoint`; its ``model`` is what ``from_checkpoint`` accepts
    (``<job id>:<step>``)."""
    d = as_dict(ckpt)
    step = int(d["step"])
    return Checkpoint(
        id=f"{job_id}:{step}",
        step=step,
        model=f"{job_id}:{step}",
        created_at=_ts(d.get("created_at")),
        metrics={},
    )


_METRIC_FIELDS = {
    "train/loss": "train_loss",
    "eval/loss": "valid_loss",
    "train/learning_rate": "learning_rate",
    "train/epoch": "epoch",
}


def metrics_from(rows: list[dict[str, float]]) -> list[Metric]:
    """Metrics from ``GET /fine-tunes/{id}/metrics`` rows (flat dicts keyed ``train/loss``...)."""
    by_step: dict[int, Metric] = {}
    for row in rows:
        step = row.get("train/global_step", row.get("eval/global_step"))
        if step is None:
            continue
        fields: dict[str, Any] = {}
        extra: dict[str, float] = {}
        for key, value in row.items():
            if key.endswith("global_step") or isinstance(value, bool):
                continue
            if key in _METRIC_FIELDS:
                fields[_METRIC_FIELDS[key]] = float(value)
            else:
                extra[key] = float(value)
        previous = by_step.get(int(step))
        if previous is not None:  # train and eval rows of one step: merge them
            fields = {**{k: v for k, v in previous.to_dict().items() if k in _METRIC_FIELDS.values()
                         and v is not None}, **fields}
            extra = {**previous.extra, **extra}
        by_step[int(step)] = Metric(step=int(step), extra=extra, **fields)
    return [by_step[s] for s in sorted(by_step)]
