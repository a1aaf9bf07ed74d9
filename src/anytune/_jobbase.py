"""The job state shared by :class:`FineTuneJob` and :class:`AsyncFineTuneJob`: the
snapshot behind the public attributes, and the flows of every job operation.

Every operation is a flow (:mod:`anytune._flow`) written once here or in
:mod:`anytune._create`, run by ``run_sync`` or ``run_async`` in :mod:`anytune.job`. What
the arguments mean is the resolver's (:mod:`anytune._resolve`); the job store's reads and
writes are blocking actions, so an async job never holds the event loop on SQLite.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from anytune import _registry
from anytune._config import load_profile
from anytune._create import CreateOutcome, create_flow
from anytune._errors import JobFailedError, MissingCredentialsError, ReusedJobWarning, WaitTimeoutError
from anytune._estimates import actual_of
from anytune._flow import Clock, Flow, blocking, call, imported
from anytune._log import logger, setup_logging
from anytune._polling import Backoff, WaitTimedOut, wait_flow
from anytune._resolve import open_provider, resolve_create, split_id
from anytune._store import STALE, JobRecord, JobStore
from anytune._types import (
    Actual,
    Estimate,
    JobError,
    JobResult,
    JobSnapshot,
    JobStatus,
)
from anytune.provider import Provider

# open_provider and split_id are the resolver's, named here too for older imports.
__all__ = ["open_provider", "reuse_message", "split_id"]

J = TypeVar("J", bound="_JobBase")
P = ParamSpec("P")
T = TypeVar("T")


class _JobBase:
    """State and accessors shared by the sync and async job classes."""

    def __init__(
        self,
        provider: Provider,
        snapshot: JobSnapshot,
        *,
        estimate: Estimate | None = None,
        store: JobStore | None = None,
    ) -> None:
        self._provider = provider
        self._snapshot = snapshot
        self._store = store
        #: What was estimated at launch (from the job store for jobs found later).
        self.estimate = estimate
        #: True when ``create`` returned a job made earlier (the same key, or the same
        #: spec within 10 minutes, on the same endpoint) instead of a new one.
        self.reused = False
        #: Seconds since that earlier job was created, when ``reused``.
        self.reused_age_s: float | None = None
        self._reused_by: str | None = None

    # --- the snapshot, as public attributes -----------------------------------------------
    @property
    def id(self) -> str:
        """The provider-qualified id, e.g. ``"together:ft-1a2b"``."""
        return f"{self._provider.name}:{self._snapshot.id}"

    @property
    def provider(self) -> str:
        """The provider's name."""
        return self._provider.name

    @property
    def model(self) -> str:
        """The base model."""
        return self._snapshot.model

    @property
    def status(self) -> JobStatus:
        """Status as of the last refresh."""
        return self._snapshot.status

    @property
    def created_at(self) -> datetime | None:
        """When the provider created the job."""
        return self._snapshot.created_at

    @property
    def result(self) -> JobResult | None:
        """The tuned model (``result.model``) once the job succeeded."""
        return self._snapshot.result

    @property
    def error(self) -> JobError | None:
        """Why the job failed, when it did."""
        return self._snapshot.error

    @property
    def progress(self) -> float | None:
        """Fraction done (0-1) where the provider reports it."""
        return self._snapshot.progress

    @property
    def actual(self) -> Actual | None:
        """Trained tokens and cost as the provider reports them once the job is done,
        next to :attr:`estimate` (``None`` until the provider reports trained tokens)."""
        return actual_of(self._snapshot.result, self.estimate)

    @property
    def provider_raw(self) -> Any:
        """The provider's own job object, as last received."""
        return self._snapshot.raw

    def raise_for_status(self: J) -> J:
        """Raise :class:`JobFailedError` if the job failed or was cancelled; else ``self``."""
        if self.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise JobFailedError(self)  # type: ignore[arg-type]
        return self

    def to_dict(self) -> dict[str, Any]:
        """The job as the CLI's ``--json`` prints it (docs/design.md §3)."""
        return {
            "id": self.id,
            "provider": self.provider,
            "model": self.model,
            "status": self.status.value,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "result": self.result.to_dict() if self.result else None,
            "error": self.error.to_dict() if self.error else None,
            "estimate": self.estimate.to_dict() if self.estimate else None,
            "actual": actual.to_dict() if (actual := self.actual) else None,
            "reused": self.reused,
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.status.value} model={self.model!r}>"

    # --- flows shared by both classes -------------------------------------------------------
    def _record(self, snap: JobSnapshot) -> None:
        """Write ``snap`` to the job store (SQLite: a blocking function)."""
        if self._store is None:
            self._store = JobStore()
        self._store.record(
            job_id=self.id, provider=self.provider, model=snap.model, status=snap.status.value,
            result_model=snap.result.model if snap.result else None,
            error=snap.error.to_dict() if snap.error else None,
        )

    def _set(self, snap: JobSnapshot) -> Flow[JobSnapshot]:
        """Make ``snap`` the job's state and record it in the job store."""
        self._snapshot = snap
        yield from blocking(self._record, snap)
        return snap

    def _refresh_flow(self) -> Flow[JobSnapshot]:
        snap = yield from call(self._provider.get, self._provider.aget, self._snapshot.id)
        return (yield from self._set(snap))

    def _cancel_flow(self) -> Flow[JobSnapshot]:
        self._provider.require("cancel")
        snap = yield from call(self._provider.cancel, self._provider.acancel, self._snapshot.id)
        return (yield from self._set(snap))

    def _read_flow(
        self, method: Callable[Concatenate[str, P], T],
        amethod: Callable[Concatenate[str, P], Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs,
    ) -> Flow[T]:
        """A read of this job (``events``, ``metrics``, ``checkpoints``): ``method(job_id, ...)``."""
        self._provider.require(str(getattr(method, "__name__", "")))
        return (yield from call(method, amethod, self._snapshot.id, *args, **kwargs))

    def _wait_flow(
        self, timeout: float | None, clock: Clock, on_update: Callable[[JobSnapshot], None] | None,
        backoff: Backoff,
    ) -> Flow[JobSnapshot]:
        def poll() -> Flow[JobSnapshot]:  # each answer is recorded before wait_flow sees it
            snap = yield from call(self._provider.get, self._provider.aget, self._snapshot.id)
            return (yield from self._set(snap))

        yield from imported("anytune.tracking._hooks")
        from anytune.tracking._hooks import tracked_wait

        try:
            return (yield from tracked_wait(self, wait_flow(
                poll, clock=clock, timeout=timeout, backoff=backoff, on_update=on_update)))
        except WaitTimedOut:
            raise WaitTimeoutError(self, timeout or 0.0) from None  # type: ignore[arg-type]


def _estimate_from(rec: JobRecord | None) -> Estimate | None:
    """The estimate recorded with a job, if any (fields this version lacks are ignored)."""
    if rec is None or not rec.estimate:
        return None
    names = set(Estimate.model_fields)
    values = {k: v for k, v in rec.estimate.items() if k in names}
    values["notes"] = tuple(values.get("notes", ()))
    try:
        return Estimate(**values)
    except (TypeError, ValueError):  # a record from an incompatible version: show the job without it
        return None


def _record_to_snapshot(rec: JobRecord) -> JobSnapshot:
    native = rec.id.split(":", 1)[1] if not rec.pending else rec.id
    err = JobError(**rec.error) if rec.error else None
    if rec.stale:  # shown, never reused: the provider answered "not found" for it
        err = JobError(message=f"{rec.provider} no longer knows this job (it answered not found); "
                       "a later create made a new one", code=STALE)
    return JobSnapshot(
        id=native,
        status=JobStatus(rec.status) if rec.status else JobStatus.QUEUED,
        model=rec.model,
        created_at=datetime.fromtimestamp(rec.created_at).astimezone(),
        result=JobResult(model=rec.result_model) if rec.result_model else None,
        error=err,
    )


def _list_sources(provider: str | None, limit: int) -> tuple[JobStore, list[str], dict[str, Provider],
                                                          list[JobRecord]]:
    """The store, the providers to ask (opened) and the store's rows: one blocking step."""
    setup_logging()
    store = JobStore()
    profile = load_profile()
    provider = _registry.canonical(provider) if provider else provider
    names = [provider] if provider else sorted(set(store.providers()) | {
        _registry.canonical(str(n))
        for n in filter(None, [os.environ.get("ANYTUNE_PROVIDER"), profile.get("provider")])})
    rows = store.list(provider=provider, limit=limit)  # their providers are among names
    providers = {name: open_provider(name, {}, profile) for name in names}
    return store, names, providers, rows


def _list_flow(provider: str | None, limit: int, cls: type[J]) -> Flow[list[J]]:
    """Jobs from the store merged with each provider's own list, newest first."""
    store, names, providers, rows = yield from blocking(_list_sources, provider, limit)
    jobs: dict[str, J] = {}
    by_key: dict[tuple[str, str], str] = {}
    for name in names:
        p = providers[name]
        if not p.supports("list"):
            continue
        try:
            snaps = yield from call(p.list, p.alist, limit=limit)
        except MissingCredentialsError as exc:
            logger.info("list: skipping %s: %s", name, exc)
            continue
        for snap in snaps:
            job = cls(p, snap, store=store)
            jobs[job.id] = job
            key = snap.metadata.get("anytune_idempotency_key")
            if key:
                by_key[(name, key)] = job.id
    for rec in rows:
        if rec.pending:
            # A create whose answer never came back (a crash, a dropped connection): if the
            # provider lists a job with its key, the row is that job from now on.
            found = by_key.get((rec.provider, rec.idempotency_key))
            if found is not None:
                yield from blocking(store.confirm, provider=rec.provider,
                                    idempotency_key=rec.idempotency_key, job_id=found,
                                    status=jobs[found].status.value, scope=rec.scope)
                jobs[found].estimate = _estimate_from(rec)
            continue
        if rec.id in jobs:  # the provider's view is fresher; the estimate is only here
            jobs[rec.id].estimate = _estimate_from(rec)
            continue
        job = cls(providers[rec.provider], _record_to_snapshot(rec), store=store)
        job.estimate = _estimate_from(rec)
        jobs.setdefault(rec.id, job)
    ordered = sorted(jobs.values(), key=lambda j: j.created_at.timestamp() if j.created_at else 0,
                     reverse=True)
    return ordered[:limit]


def _open_job(job_id: str, settings: dict[str, Any]) -> tuple[Provider, str, JobStore]:
    """The provider, native id and store of ``Job.get(job_id)``: one blocking step."""
    setup_logging()
    profile = load_profile()
    name, native = split_id(job_id, profile)
    p = open_provider(name, settings, profile)
    return p, p.qualify_job_id(native), JobStore()  # e.g. Vertex's short numeric id, expanded


def _get_flow(job_id: str, settings: dict[str, Any], cls: type[J]) -> Flow[J]:
    p, native, store = yield from blocking(_open_job, job_id, settings)
    snap = yield from call(p.get, p.aget, native)
    job = cls(p, snap, store=store)
    rec = yield from blocking(store.get, job.id)
    job.estimate = _estimate_from(rec)
    yield from job._set(snap)
    return job


def _create_job_flow(cls: type[J], provider: str | None, model: str | None,
                     kwargs: dict[str, Any]) -> Flow[J]:
    p, spec = yield from blocking(resolve_create, provider, model, kwargs)
    store = yield from blocking(JobStore)
    outcome: CreateOutcome = yield from create_flow(spec, provider=p, store=store)
    estimate = outcome.estimate
    if estimate is None:
        estimate = _estimate_from((yield from blocking(store.get, outcome.qualified_id)))
    job = cls(p, outcome.snapshot, estimate=estimate, store=store)
    yield from job._set(outcome.snapshot)
    if outcome.reused:
        job.reused, job.reused_age_s = True, outcome.reused_age_s
        job._reused_by = outcome.reused_by
        warnings.warn(ReusedJobWarning(reuse_message(job, outcome.reused_by, cli=False)),
                      stacklevel=4)
    else:
        yield from imported("anytune.tracking._hooks")
        from anytune.tracking._hooks import after_create_flow

        yield from after_create_flow(job, spec, estimate, outcome.data_hashes, outcome.tracked_natively)
    return job


def reuse_message(job: _JobBase, reused_by: str | None, *, cli: bool) -> str:
    """The one line that says ``create`` returned an existing job (Python or CLI wording)."""
    age = f"{job.reused_age_s:.0f} s ago" if job.reused_age_s is not None else "earlier"
    if reused_by == "key":
        return (f"reusing job {job.id} created {age} with the same idempotency key; "
                "pass another key for a new job")
    how = "--idempotency-key" if cli else "idempotency_key="
    return (f"reusing job {job.id} created {age} with the same spec; "
            f"pass {how} or change the spec for a new job")
