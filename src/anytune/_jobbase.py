"""State and flows shared by :class:`FineTuneJob` and :class:`AsyncFineTuneJob`.

Every operation is a flow (:mod:`anytune._flow`) written once here or in
:mod:`anytune._create`, run by ``run_sync`` or ``run_async`` in :mod:`anytune.job`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from anytune import _registry
from anytune import tracking as _tracking
from anytune._checks import InvalidOptionError, check_method, check_options, check_suffix
from anytune._config import Profile, load_profile, resolve_provider
from anytune._create import CreateOutcome, CreateSpec, create_flow
from anytune._errors import (
    ConfigurationError,
    JobFailedError,
    MissingCredentialsError,
    ReusedJobWarning,
    WaitTimeoutError,
)
from anytune._estimates import actual_of
from anytune._flow import Call, Clock, Flow
from anytune._log import logger, remember_secret, setup_logging
from anytune._polling import Backoff, WaitTimedOut, wait_flow
from anytune._store import STALE, JobRecord, JobStore
from anytune._types import (
    Actual,
    Estimate,
    Hyperparameters,
    JobError,
    JobResult,
    JobSnapshot,
    JobStatus,
)
from anytune.provider import Provider

__all__ = ["open_provider", "split_id"]

J = TypeVar("J", bound="_JobBase")

_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]*", re.IGNORECASE)
_HP_KEYS = {"epochs", "learning_rate", "batch_size", "learning_rate_multiplier", "beta", "warmup_ratio"}
_SPEC_KEYS = {"model", "method", "suffix", "seed", "max_cost_usd", "validation_split", "tracking",
              "holdout"}


def split_id(job_id: str, profile: Profile | None = None) -> tuple[str, str]:
    """``"together:ft-1"`` -> ``("together", "ft-1")``. A bare id uses the configured
    provider; without one, the error names the qualified id the user likely meant."""
    if not isinstance(job_id, str) or not job_id.strip():
        raise ConfigurationError(f"a job id is a non-empty string like 'openai:ftjob-...', got {job_id!r}")
    name, sep, native = job_id.partition(":")
    if sep and _PROVIDER_NAME.fullmatch(name):
        return _registry.canonical(name), native  # an unknown name: UnknownProviderError later
    try:
        return resolve_provider(None, profile or load_profile()), job_id
    except ConfigurationError:
        raise ConfigurationError(_bare_id_message(job_id)) from None


def _bare_id_message(job_id: str) -> str:
    # Commands that take a job id have no --provider: the id itself must say it.
    guesses = []
    for name in _registry.available():
        try:
            pattern = _registry.provider_class(name).job_id_pattern
        except ConfigurationError:
            continue
        if pattern and re.fullmatch(pattern, job_id):
            guesses.append(f"'{name}:{job_id}'")
    hint = f" Did you mean {' or '.join(guesses)}?" if guesses else ""
    return (
        f"job id {job_id!r} does not say which provider it belongs to: job ids are "
        f"PROVIDER:ID (as create and list print them).{hint} A bare id needs a default "
        "provider: set ANYTUNE_PROVIDER or provider in a profile of anytune.toml"
    )


def open_provider(name: str, settings: dict[str, Any], profile: Profile) -> Provider:
    """Provider ``name`` with settings: arguments first, then the profile's (only when the
    profile is for this provider). Reads no credentials."""
    cls = _registry.provider_class(name)
    merged = {}
    if _registry.canonical(str(profile.get("provider") or "")) == cls.name:
        merged.update({k: v for k, v in profile.values.items() if k in cls.settings})
    merged.update({k: v for k, v in settings.items() if v is not None})
    return cls(**merged)


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
        """The job as the CLI's ``--json`` prints it (DESIGN.md §3)."""
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
    def _set(self, snap: JobSnapshot) -> JobSnapshot:
        self._snapshot = snap
        store = self._store or JobStore()
        store.record(
            job_id=self.id, provider=self.provider, model=snap.model, status=snap.status.value,
            result_model=snap.result.model if snap.result else None,
            error=snap.error.to_dict() if snap.error else None,
        )
        return snap

    def _refresh_flow(self) -> Flow[JobSnapshot]:
        snap = yield Call(self._provider, "get", (self._snapshot.id,))
        return self._set(snap)

    def _cancel_flow(self) -> Flow[JobSnapshot]:
        self._provider.require("cancel")
        snap = yield Call(self._provider, "cancel", (self._snapshot.id,))
        return self._set(snap)

    def _read_flow(self, operation: str, **kwargs: Any) -> Flow[Any]:
        self._provider.require(operation)
        return (yield Call(self._provider, operation, (self._snapshot.id,), kwargs))

    def _wait_flow(
        self, timeout: float | None, clock: Clock, on_update: Callable[[JobSnapshot], None] | None,
        backoff: Backoff,
    ) -> Flow[JobSnapshot]:
        def poll() -> Call:
            return Call(self._provider, "get", (self._snapshot.id,))

        def update(snap: JobSnapshot) -> None:
            self._set(snap)
            if on_update is not None:
                on_update(snap)

        from anytune.tracking._hooks import tracked_wait

        try:
            return (yield from tracked_wait(self, wait_flow(
                poll, clock=clock, timeout=timeout, backoff=backoff, on_update=update)))
        except WaitTimedOut:
            raise WaitTimeoutError(self, timeout or 0.0) from None  # type: ignore[arg-type]


def _resolve_create(
    provider: str | None, model: str | None, kwargs: dict[str, Any]
) -> tuple[Provider, CreateSpec]:
    """Apply configuration precedence and split keyword arguments between the provider's
    settings and its per-job options; unknown keywords fail here, before any work."""
    setup_logging()
    profile = load_profile(kwargs.pop("profile", None))
    name = resolve_provider(provider, profile)
    cls = _registry.provider_class(name)
    named = profile.get("provider")
    values = profile.values if named is None or _registry.canonical(str(named)) == name else {}
    extra = {k: v for k, v in values.items() if k not in _HP_KEYS | _SPEC_KEYS | {"provider"}}
    unknown = set(extra) - cls.settings - cls.create_options
    if unknown:
        raise ConfigurationError(
            f"{profile.path}: profile {profile.name!r} has key(s) {sorted(unknown)} that "
            f"provider {name!r} does not take"
        )
    merged = {**extra, **{k: v for k, v in kwargs.items() if v is not None}}
    remember_secret(*(v for k, v in merged.items() if k in cls.secret_names))
    settings = {k: v for k, v in merged.items() if k in cls.settings}
    options = {k: v for k, v in merged.items() if k in cls.create_options}
    bad = set(kwargs) - set(settings) - set(options) - _SPEC_KEYS - {
        "training_file", "validation_file", "hyperparameters", "idempotency_key", "progress",
        "allow_retired"}
    if bad:
        raise ConfigurationError(
            f"Job.create got unknown option(s) {sorted(bad)} for provider {name!r}; "
            f"it accepts {sorted(cls.settings | cls.create_options)}"
        )
    hp = kwargs.get("hyperparameters")
    if hp is not None and not isinstance(hp, Hyperparameters):
        raise InvalidOptionError("hyperparameters", hp, "an anytune.Hyperparameters(...) or None")
    if hp is None:
        hp_values = {k: values[k] for k in _HP_KEYS if k in values}
        try:
            hp = Hyperparameters(**hp_values) if hp_values else Hyperparameters()
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"{profile.path}: profile {profile.name!r}: {exc}") from None
    def pick(key: str) -> Any:  # an argument given as None falls back to the profile
        value = kwargs.get(key)
        return values.get(key) if value is None else value

    model = model or values.get("model")
    if not model:
        raise ConfigurationError("no model given: pass model=... (CLI: --model) or set it in a profile")
    max_cost = pick("max_cost_usd")
    check_options({"max_cost_usd": max_cost, "seed": pick("seed"),
                   "validation_split": pick("validation_split")})
    spec = CreateSpec(
        model=model,
        training_file=kwargs["training_file"],
        method=pick("method") or "sft",
        validation_file=kwargs.get("validation_file"),
        validation_split=pick("validation_split"),
        hyperparameters=hp,
        suffix=pick("suffix"),
        seed=pick("seed"),
        max_cost_usd=max_cost,
        idempotency_key=kwargs.get("idempotency_key"),
        options=options,
        holdout=pick("holdout"),
        progress=bool(kwargs.get("progress")),
        allow_retired=bool(kwargs.get("allow_retired")),
        tracking=_tracking.resolve_trackers(kwargs.get("tracking"), values.get("tracking")),
    )
    check_suffix(spec.suffix)
    check_method(spec.method)
    return open_provider(name, settings, profile), spec


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


def _list_flow(provider: str | None, limit: int, cls: type[J]) -> Flow[list[J]]:
    """Jobs from the store merged with each provider's own list, newest first."""
    setup_logging()
    store = JobStore()
    profile = load_profile()
    provider = _registry.canonical(provider) if provider else provider
    names = [provider] if provider else sorted(set(store.providers()) | {
        _registry.canonical(str(n))
        for n in filter(None, [os.environ.get("ANYTUNE_PROVIDER"), profile.get("provider")])})
    jobs: dict[str, J] = {}
    providers: dict[str, Provider] = {}
    by_key: dict[tuple[str, str], str] = {}
    for name in names:
        p = providers[name] = open_provider(name, {}, profile)
        if not p.supports("list"):
            continue
        try:
            snaps = yield Call(p, "list", (), {"limit": limit})
        except MissingCredentialsError as exc:
            logger.info("list: skipping %s: %s", name, exc)
            continue
        for snap in snaps:
            job = cls(p, snap, store=store)
            jobs[job.id] = job
            key = snap.metadata.get("anytune_idempotency_key")
            if key:
                by_key[(name, key)] = job.id
    for rec in store.list(provider=provider, limit=limit):
        if rec.pending:
            # A create whose answer never came back (a crash, a dropped connection): if the
            # provider lists a job with its key, the row is that job from now on.
            found = by_key.get((rec.provider, rec.idempotency_key))
            if found is not None:
                store.confirm(provider=rec.provider, idempotency_key=rec.idempotency_key,
                              job_id=found, status=jobs[found].status.value, scope=rec.scope)
                jobs[found].estimate = _estimate_from(rec)
            continue
        if rec.id in jobs:  # the provider's view is fresher; the estimate is only here
            jobs[rec.id].estimate = _estimate_from(rec)
            continue
        p = providers.get(rec.provider) or open_provider(rec.provider, {}, profile)
        job = cls(p, _record_to_snapshot(rec), store=store)
        job.estimate = _estimate_from(rec)
        jobs.setdefault(rec.id, job)
    ordered = sorted(jobs.values(), key=lambda j: j.created_at.timestamp() if j.created_at else 0,
                     reverse=True)
    return ordered[:limit]


def _get_flow(job_id: str, settings: dict[str, Any], cls: type[J]) -> Flow[J]:
    setup_logging()
    profile = load_profile()
    name, native = split_id(job_id, profile)
    p = open_provider(name, settings, profile)
    native = p.qualify_job_id(native)  # e.g. Vertex's short numeric id, expanded
    store = JobStore()
    snap = yield Call(p, "get", (native,))
    job = cls(p, snap, store=store)
    rec = store.get(job.id)
    job.estimate = _estimate_from(rec)
    job._set(snap)
    return job


def _create_job_flow(cls: type[J], provider: str | None, model: str | None,
                     kwargs: dict[str, Any]) -> Flow[J]:
    p, spec = _resolve_create(provider, model, kwargs)
    store = JobStore()
    outcome: CreateOutcome = yield from create_flow(spec, provider=p, store=store)
    estimate = outcome.estimate or _estimate_from(store.get(outcome.qualified_id))
    job = cls(p, outcome.snapshot, estimate=estimate, store=store)
    job._set(outcome.snapshot)
    if outcome.reused:
        job.reused, job.reused_age_s = True, outcome.reused_age_s
        job._reused_by = outcome.reused_by
        warnings.warn(ReusedJobWarning(reuse_message(job, outcome.reused_by, cli=False)),
                      stacklevel=4)
    else:
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
