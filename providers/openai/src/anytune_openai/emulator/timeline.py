"""A job's events and checkpoints as of now, derived from the clock like its status.

Events are listed newest first and checkpoints too, as OpenAI lists them. Ids are stable
across reads (they are derived from the job id and the event's position), so ``after``
cursors work while a job keeps producing events.
"""

from __future__ import annotations

import hashlib
from typing import Any

from anytune_openai.emulator.data import loss_at
from anytune_openai.emulator.state import Job, State

__all__ = ["checkpoints", "events"]

_MAX_METRIC_EVENTS = 100  # a long job's per-step events are thinned to this many


def _stable_id(prefix: str, job: Job, key: str) -> str:
    return prefix + hashlib.sha256(f"{job.id}:{key}".encode()).hexdigest()[:24]


def _event(
    job: Job,
    key: str,
    at: int,
    message: str,
    *,
    level: str = "info",
    type: str = "message",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job.event",
        "id": _stable_id("ftevent-", job, key),
        "created_at": at,
        "level": level,
        "message": message,
        "type": type,
        "data": data or {},
    }


def _metric_steps(total: int, done: int) -> list[int]:
    stride = max(1, total // _MAX_METRIC_EVENTS)
    steps = list(range(stride, done + 1, stride))
    if done == total and total and (not steps or steps[-1] != total):
        steps.append(total)
    return steps


def events(state: State, job: Job) -> list[dict[str, Any]]:
    """Every event so far, newest first."""
    with state.lock:
        status, _ = state.phase(job)
        out = [_event(job, "created", int(job.created), "Created fine-tuning job")]
        out.append(
            _event(job, "validating", int(job.created), f"Validating training file: {job.training_file}")
        )
        if status == "validating_files":
            return out[::-1]
        if job.check.error and status == "failed":
            out.append(
                _event(
                    job,
                    "failed",
                    state._at(job, 0.1),
                    f"Training file validation failed: {job.check.error}",
                    level="error",
                )
            )
            return out[::-1]
        if job.cancelled_at is not None and job.cancelled_at - job.created < 0.1 * state.job_seconds:
            out.append(_event(job, "cancelled", int(job.cancelled_at), "Fine-tuning job cancelled"))
            return out[::-1]
        out.append(
            _event(job, "validated", state._at(job, 0.1), "Files validated, moving job to queued state")
        )
        if status == "queued":
            return out[::-1]
        started = job.cancelled_at is None or job.cancelled_at - job.created >= 0.2 * state.job_seconds
        if started:
            out.append(_event(job, "started", state._at(job, 0.2), "Fine-tuning job started"))
        done = state.steps_done(job) if started else 0
        seed = f"{job.id}:{job.seed}"
        for step in _metric_steps(job.total_steps, done):
            m = loss_at(seed, step, job.total_steps)
            data: dict[str, Any] = {
                "step": step,
                "train_loss": m["loss"],
                "train_mean_token_accuracy": m["accuracy"],
                "total_steps": job.total_steps,
            }
            text = f"Step {step}/{job.total_steps}: training loss={m['loss']:.4f}"
            if job.validation_file:
                v = loss_at(seed, step, job.total_steps, valid=True)
                data.update(valid_loss=v["loss"], valid_mean_token_accuracy=v["accuracy"])
                text += f", validation loss={v['loss']:.4f}"
            out.append(
                _event(job, f"step{step}", state.step_time(job, step), text, type="metrics", data=data)
            )
        for ckpt in checkpoints(state, job)[::-1]:
            out.append(
                _event(
                    job,
                    f"ckpt{ckpt['step_number']}",
                    ckpt["created_at"],
                    f"Checkpoint created at step {ckpt['step_number']}",
                )
            )
        if status == "cancelled" and job.cancelled_at is not None:
            out.append(_event(job, "cancelled", int(job.cancelled_at), "Fine-tuning job cancelled"))
        elif status == "succeeded":
            end = state._at(job, 1.0)
            out.append(_event(job, "model", end, f"New fine-tuned model created: {job.fine_tuned_model}"))
            out.append(
                _event(
                    job,
                    "usage",
                    end,
                    f"Usage policy evaluations completed, trained {job.check.tokens * job.epochs} tokens",
                )
            )
            out.append(_event(job, "done", end, "The job has successfully completed"))
        out.sort(key=lambda e: e["created_at"])  # stable: same-second events keep their order
        return out[::-1]


def checkpoints(state: State, job: Job) -> list[dict[str, Any]]:
    """Checkpoints at the end of each of the last three epochs reached, newest first."""
    with state.lock:
        done = state.steps_done(job)
        per_epoch = job.total_steps // max(job.epochs, 1)
        seed = f"{job.id}:{job.seed}"
        out = []
        for epoch in range(max(1, job.epochs - 2), job.epochs + 1):
            step = per_epoch * epoch
            if step == 0 or step > done:
                continue
            m = loss_at(seed, step, job.total_steps)
            metrics: dict[str, float] = {
                "step": float(step),
                "train_loss": m["loss"],
                "train_mean_token_accuracy": m["accuracy"],
            }
            if job.validation_file:
                v = loss_at(seed, step, job.total_steps, valid=True)
                metrics.update(
                    valid_loss=v["loss"],
                    valid_mean_token_accuracy=v["accuracy"],
                    full_valid_loss=v["loss"],
                    full_valid_mean_token_accuracy=v["accuracy"],
                )
            name = job.fine_tuned_model if epoch == job.epochs else f"{job.fine_tuned_model}:ckpt-step-{step}"
            out.append(
                {
                    "object": "fine_tuning.job.checkpoint",
                    "id": _stable_id("ftckpt-", job, str(step)),
                    "created_at": state.step_time(job, step),
                    "fine_tuned_model_checkpoint": name,
                    "fine_tuning_job_id": job.id,
                    "step_number": step,
                    "metrics": metrics,
                }
            )
        return out[::-1]
