"""The core's hooks into tracking: one call each from ``create`` and ``wait``.

* :func:`native_request` lets the provider switch on its vendor's own integration
  (:meth:`Provider.native_tracking`) and returns the trackers it took over;
* :func:`after_create_flow` records the job's params and starts its runs;
* :func:`tracked_wait` syncs the other trackers while ``wait`` polls and once at the end;
* :func:`sync_flow` is the one sync of a job, shared with ``anytune sync``.

A tracker that fails while a job is waited is logged and skipped: tracking must never
stop a wait or lose a job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anytune._flow import Flow, Sleep, blocking, call
from anytune._log import logger
from anytune._types import CreateRequest, Estimate, JobSnapshot, Metric
from anytune.tracking import get_tracker
from anytune.tracking._base import RunData
from anytune.tracking._record import JobTracking, is_secret_name, launch_params, load, save

if TYPE_CHECKING:
    from anytune._create import CreateSpec
    from anytune._jobbase import _JobBase
    from anytune.provider import Provider

__all__ = ["TrackingContext", "after_create_flow", "native_request", "sync_flow", "tracked_wait"]

#: While waiting, sync at least this often (besides every status change and the end).
SYNC_EVERY_S = 30.0


@dataclass(frozen=True)
class TrackingContext:
    """What a provider's native integration may use: the run's W&B-style project,
    entity and name (from ``WANDB_PROJECT``/``WANDB_ENTITY``, else ``anytune``), and the
    run's params (for a provider that logs from its own worker)."""

    project: str
    entity: str | None = None
    name: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def context(params: dict[str, str], name: str | None = None) -> TrackingContext:
    """The context for a job with ``params``, read from W&B's own variables."""
    return TrackingContext(
        project=os.environ.get("WANDB_PROJECT") or "anytune",
        entity=os.environ.get("WANDB_ENTITY") or None,
        name=name,
        params=params,
    )


def native_request(
    provider: Provider, spec: CreateSpec, request: CreateRequest, estimate: Estimate | None,
    data_hashes: list[str],
) -> tuple[CreateRequest, tuple[str, ...]]:
    """``request`` with the provider's own integrations switched on, and their names."""
    params = launch_params(
        provider=provider.name, model=spec.model, method=spec.method,
        hyperparameters=spec.hyperparameters, options=spec.options, estimate=estimate,
        data_hashes=data_hashes, suffix=spec.suffix, seed=spec.seed,
    )
    ctx = context(params, name=spec.suffix)
    native: list[str] = []
    for name in spec.tracking:
        changed = provider.native_tracking(name, request, ctx)
        if changed is not None:
            request = changed
            native.append(name)
    return request, tuple(native)


def after_create_flow(
    job: _JobBase, spec: CreateSpec, estimate: Estimate | None, data_hashes: list[str],
    native: Sequence[str],
) -> Flow[None]:
    """Record what the job was launched with (for syncs from any process), then start a
    run in each tracker the provider does not feed itself."""
    record = JobTracking(
        job_id=job.id, trackers=list(spec.tracking), native=list(native),
        params=launch_params(
            provider=job.provider, model=spec.model, method=spec.method,
            hyperparameters=spec.hyperparameters, options=spec.options, estimate=estimate,
            data_hashes=data_hashes, suffix=spec.suffix, seed=spec.seed,
        ),
        method=spec.method, hyperparameters=spec.hyperparameters.to_dict(),
        options={k: v for k, v in spec.options.items()
                 if isinstance(v, (str, int, float, bool)) and not is_secret_name(k)},
        estimate=estimate.to_dict() if estimate else None,
    )
    yield from blocking(save, record)  # a file write: off the event loop in async code
    synced = [n for n in spec.tracking if n not in native]
    if synced:
        yield from _safe_sync(job, synced, record)


def _synced_names(record: JobTracking | None) -> list[str]:
    if record is None:
        return []
    return [n for n in record.trackers if n not in record.native]


def build_run(job: _JobBase, record: JobTracking | None, metrics: list[Metric]) -> RunData:
    """The run of ``job`` as trackers take it (params from its record, when there is one)."""
    snap: JobSnapshot = job._snapshot
    params = dict(record.params) if record else {"provider": job.provider, "base_model": job.model}
    tags = {
        "anytune.job_id": job.id,
        "anytune.provider": job.provider,
        "anytune.provider_job_id": snap.id,
        "anytune.status": snap.status.value,
    }
    if snap.result is not None:
        tags["anytune.result_model"] = snap.result.model
    if snap.error is not None:
        tags["anytune.error"] = snap.error.message[:500]
    final: dict[str, float] = {}
    estimate = job.estimate
    est_cost = estimate.cost_usd if estimate is not None else None
    if est_cost is None and record and record.estimate:
        est_cost = record.estimate.get("cost_usd")
    if est_cost is not None:
        final["estimated_cost_usd"] = float(est_cost)
    trained = snap.result.trained_tokens if snap.result else None
    cost = est_cost
    actual = job.actual  # the provider's billed cost, or its tokens at the estimate's rate
    if actual is not None and actual.cost_usd is not None:
        final["trained_tokens"] = float(actual.trained_tokens)
        cost = actual.cost_usd
    elif trained:  # no estimate kept with the job: price the reported tokens here
        final["trained_tokens"] = float(trained)
        method = (record.method if record else None) or "sft"
        try:
            priced = job._provider.price_usd(
                job.model, method, trained, record.hp() if record else _default_hp(),
                options=record.options if record else None,
            )
        except Exception as exc:  # a catalog without this model: keep the estimate
            logger.debug("tracking: cannot price %s: %s", job.id, exc)
            priced = None
        cost = priced if priced is not None else cost
    if cost is not None:
        final["cost_usd"] = float(cost)
    return RunData(
        job_id=job.id, provider=job.provider, status=snap.status, params=params, tags=tags,
        metrics=list(metrics), final=final,
        started_at=snap.created_at.timestamp() if snap.created_at else None,
        finished_at=snap.finished_at.timestamp() if snap.finished_at else None,
    )


def _default_hp() -> Any:
    from anytune._types import Hyperparameters

    return Hyperparameters()


def _sync_all(names: Sequence[str], run: RunData) -> list[dict[str, Any]]:
    out = []
    for name in names:
        tracker = get_tracker(name)
        where = tracker.sync(run)
        out.append({"tracker": name, "run": where, "points": len(run.metrics)})
    return out


def sync_flow(
    job: _JobBase, names: Sequence[str], record: JobTracking | None = None
) -> Flow[list[dict[str, Any]]]:
    """Sync ``job`` into each tracker in ``names``: fetch its metrics (where the provider
    reports them), build its run, and upsert it. Errors propagate."""
    if record is None:
        record = yield from blocking(load, job.id)
    metrics: list[Metric] = []
    p = job._provider
    if p.supports("metrics"):
        metrics = yield from call(p.metrics, p.ametrics, job._snapshot.id)
    # Pricing may read the catalog, and trackers write files or databases: a worker thread's.
    run = yield from blocking(build_run, job, record, metrics)
    return (yield from blocking(_sync_all, list(names), run))


def _safe_sync(job: _JobBase, names: Sequence[str], record: JobTracking | None = None) -> Flow[None]:
    try:
        yield from sync_flow(job, names, record)
    except Exception as exc:  # never let a tracker stop a wait: say so and go on
        logger.warning("tracking: could not sync %s to %s: %s", job.id, ", ".join(names), exc)


def tracked_wait(job: _JobBase, inner: Flow[JobSnapshot]) -> Flow[JobSnapshot]:
    """Run the wait flow ``inner``, syncing the job's trackers before a sleep when its
    status changed or ``SYNC_EVERY_S`` passed, and once when it ends."""
    record = yield from blocking(load, job.id)
    names = _synced_names(record)
    if not names:
        return (yield from inner)
    last_status = None
    last_sync = time.monotonic()
    try:
        action = next(inner)
        while True:
            if isinstance(action, Sleep) and (
                job.status != last_status or time.monotonic() - last_sync >= SYNC_EVERY_S
            ):
                last_status, last_sync = job.status, time.monotonic()
                yield from _safe_sync(job, names, record)
            try:
                result = yield action
            except GeneratorExit:
                inner.close()
                raise
            except BaseException as exc:
                action = inner.throw(exc)
            else:
                action = inner.send(result)
    except StopIteration as stop:
        snap: JobSnapshot = stop.value
    yield from _safe_sync(job, names, record)
    return snap
