"""The ``create`` flow: preflight, budget guard, idempotency, uploads, create, recovery.

Order matters and is the point of this module:
1. everything that can fail without the network fails first (model retired, method
   unsupported, bad data, over budget) — before credentials are read or bytes uploaded;
2. the idempotency key is recorded in the job store *before* the provider is asked, so a
   crash in between leaves a pending row that the next run recovers;
3. ``create`` is never re-sent blindly: after an ambiguous failure the provider's recent
   jobs are searched for the key, and only a proven absence allows another attempt.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from anytune._create_calls import CREATE_BACKOFF, create_with_recovery, read, upload, vanished
from anytune._errors import ConfigurationError, InvalidRequestError, NotFoundError
from anytune._flow import Flow, blocking, imported
from anytune._log import logger
from anytune._polling import Backoff
from anytune._store import JobStore
from anytune._types import CreateRequest, Estimate, Hyperparameters, JobSnapshot
from anytune.provider import Provider

__all__ = ["DEDUPE_WINDOW_S", "CreateSpec", "create_flow", "spec_hash"]

#: Without an explicit key, the same spec and data within this many seconds is the same job.
DEDUPE_WINDOW_S = 600.0
METADATA_KEY = "anytune_idempotency_key"
#: The backoff of every retried call inside ``create`` (a test seam: tests make it fast).
_CREATE_BACKOFF = CREATE_BACKOFF


@dataclass
class CreateSpec:
    """Everything ``Job.create`` was asked for, after configuration was resolved."""

    model: str
    training_file: Any
    method: str = "sft"
    validation_file: Any = None
    validation_split: float | None = None
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    suffix: str | None = None
    seed: int | None = None
    max_cost_usd: float | None = None
    idempotency_key: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: Share of records kept out of training for ``evaluate`` (see :mod:`anytune._holdout`).
    holdout: float | None = None
    #: Draw a bar while uploading (not part of what makes two jobs the same).
    progress: bool = False
    #: Send the job even when the catalog says the model is past its retirement date.
    allow_retired: bool = False
    #: Experiment trackers of the job (``anytune.tracking``; not part of what makes two
    #: jobs the same).
    tracking: tuple[str, ...] = ()


@dataclass
class CreateOutcome:
    """What the flow returns: the provider's snapshot, the qualified id and the estimate."""

    snapshot: JobSnapshot
    qualified_id: str
    estimate: Estimate | None
    reused: bool = False
    #: When ``reused``: seconds since anytune created that job, and what matched it
    #: (``"spec"``: the same spec within the window; ``"key"``: the idempotency key).
    reused_age_s: float | None = None
    reused_by: str | None = None
    #: The data's sha256 (training, then validation) and the trackers the provider's own
    #: integration feeds, for tracking (``anytune.tracking``).
    data_hashes: list[str] = field(default_factory=list)
    tracked_natively: tuple[str, ...] = ()


def spec_hash(provider: str, spec: CreateSpec, data_hashes: list[str]) -> str:
    """A stable hash of what makes two creates "the same job"."""
    doc = {
        "provider": provider,
        "model": spec.model,
        "method": spec.method,
        "hyperparameters": spec.hyperparameters.to_dict(),
        "suffix": spec.suffix,
        "seed": spec.seed,
        "validation_split": spec.validation_split,
        "options": {k: repr(v) for k, v in sorted(spec.options.items())},
        "data": data_hashes,
    }
    if spec.holdout is not None:  # only when set: hashes of jobs made before it stay the same
        doc["holdout"] = spec.holdout
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _split(path: Path, fraction: float, seed: int | None) -> tuple[Path, Path]:
    """Split a prepared JSONL file into train and validation files, reproducibly."""
    if not 0.0 < fraction < 1.0:
        raise ConfigurationError(f"validation_split must be between 0 and 1, got {fraction}")
    lines = path.read_bytes().splitlines(keepends=True)
    order = list(range(len(lines)))
    random.Random(seed if seed is not None else 0).shuffle(order)
    n_valid = max(1, round(len(lines) * fraction))
    valid_idx = set(order[:n_valid])
    train = path.with_name("train.split.jsonl")
    valid = path.with_name("validation.split.jsonl")
    train.write_bytes(b"".join(line for i, line in enumerate(lines) if i not in valid_idx))
    valid.write_bytes(b"".join(line for i, line in enumerate(lines) if i in valid_idx))
    return train, valid


def _check_budget(estimate: Estimate | None, max_cost_usd: float | None) -> None:
    from anytune._preflight import check_budget

    if max_cost_usd is not None and estimate is None:
        raise ConfigurationError(
            "max_cost_usd was given but the data is a provider file id, which cannot be "
            "priced before upload; drop max_cost_usd or pass local data"
        )
    if estimate is not None:
        check_budget(estimate, max_cost_usd)


def create_flow(
    spec: CreateSpec,
    *,
    provider: Provider,
    store: JobStore,
    now: datetime | None = None,
    backoff: Backoff | None = None,
) -> Flow[CreateOutcome]:
    """The whole of ``Job.create`` as a flow (see the module docstring)."""
    # The converted upload files are a full copy of the dataset: gone once the job exists.
    tmp = yield from blocking(tempfile.mkdtemp, prefix="anytune-")
    try:
        outcome = yield from _create_in(spec, Path(tmp), provider=provider, store=store,
                                        now=now, backoff=backoff or _CREATE_BACKOFF)
    except Exception:
        yield from blocking(shutil.rmtree, tmp, ignore_errors=True)
        raise
    except BaseException:  # closed or interrupted: no action can run now
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    yield from blocking(shutil.rmtree, tmp, ignore_errors=True)
    return outcome


def _precheck(spec: CreateSpec, provider: Provider, now: datetime | None) -> None:
    """What refuses a create before any data is read: the provider's rules, the catalog
    (a retired model; age and listing notices are logged once), the capabilities asked
    for. It reads catalog files and imports the readers: a blocking action."""
    from anytune import _preflight  # noqa: F401  (readers and tokenizers: loaded on first create)

    provider.check_create(
        spec.model,
        spec.method,
        now=now or datetime.now(timezone.utc),
        hyperparameters=spec.hyperparameters,
        options=spec.options,
    )
    from anytune import catalog

    for notice in catalog.check_model(provider, spec.model, spec.method, now=now,
                                      allow_retired=spec.allow_retired):
        logger.warning("%s: %s", provider.name, notice)
    provider.require(spec.method)
    if spec.validation_file is not None or spec.validation_split is not None:
        provider.require("validation_file")
    if spec.hyperparameters.lora is not None:
        provider.require("lora")


def _create_in(
    spec: CreateSpec,
    workdir: Path,
    *,
    provider: Provider,
    store: JobStore,
    now: datetime | None,
    backoff: Backoff,
) -> Flow[CreateOutcome]:
    yield from blocking(_precheck, spec, provider, now)
    from anytune import _preflight  # imported by _precheck: no I/O here

    train_ref = valid_ref = None
    train_path = valid_path = held_path = None
    estimate: Estimate | None = None
    training_data = spec.training_file
    if spec.holdout is not None:
        if _preflight.is_file_reference(spec.training_file):
            raise ConfigurationError(
                "holdout needs the training data itself, not a provider file id: pass a path or records"
            )
        yield from imported("anytune._holdout")
        from anytune._holdout import split_holdout

        training_data, held_path, _ = yield from blocking(
            split_holdout, spec.training_file, spec.holdout, spec.seed, workdir / "holdout")
    if _preflight.is_file_reference(spec.training_file):
        train_ref = spec.training_file
        data_hashes = [f"ref:{train_ref}"]
    else:
        prepared = yield from blocking(
            _preflight.prepare, training_data, provider=provider, model=spec.model,
            method=spec.method, hyperparameters=spec.hyperparameters, options=spec.options,
            workdir=workdir, purpose="train",
        )
        train_path, estimate = prepared.path, prepared.estimate
        data_hashes = [prepared.sha256]
    if spec.validation_file is not None:
        if _preflight.is_file_reference(spec.validation_file):
            valid_ref = spec.validation_file
            data_hashes.append(f"ref:{valid_ref}")
        else:
            vprep = yield from blocking(
                _preflight.prepare, spec.validation_file, provider=provider, model=spec.model,
                method=spec.method, hyperparameters=spec.hyperparameters, options=spec.options,
                workdir=workdir, purpose="validation",
            )
            valid_path = vprep.path
            data_hashes.append(vprep.sha256)
    _check_budget(estimate, spec.max_cost_usd)

    digest = spec_hash(provider.name, spec, data_hashes)
    scope = provider.scope()
    while True:  # once more for each stored job the provider no longer knows
        key = spec.idempotency_key
        if key is None:
            recent = yield from blocking(store.recent_by_spec, provider.name, digest,
                                         within=DEDUPE_WINDOW_S, scope=scope)
            if recent is not None:
                key = recent.idempotency_key  # the same job asked again moments later
            else:
                key = "auto-" + hashlib.sha256(f"{digest}:{random.random()}".encode()).hexdigest()[:24]
        row, fresh = yield from blocking(
            store.claim, provider=provider.name, model=spec.model, spec_hash=digest,
            idempotency_key=key, estimate=estimate.to_dict() if estimate else None, scope=scope,
        )
        if fresh:
            break
        if row.spec_hash and row.spec_hash != digest:
            raise ConfigurationError(
                f"idempotency key {key!r} was already used for a different job spec "
                f"({row.id}); use a new key"
            )
        reused_by = "key" if spec.idempotency_key is not None else "spec"
        age = max(0.0, time.time() - row.created_at)
        if not row.pending:
            native = row.id.split(":", 1)[1]
            try:
                snap = yield from read(backoff, provider.get, provider.aget, native)
            except NotFoundError:
                # Stored, but the provider forgot it (a restarted sandbox, a reset account):
                # never hand it back; mark the row and make a new job.
                logger.warning("%s: stored job %s is not found at the provider; creating a new "
                               "job", provider.name, row.id)
                yield from blocking(store.mark_stale, row.id)
                continue
            return CreateOutcome(snap, row.id, estimate, reused=True, reused_age_s=age,
                                 reused_by=reused_by)
        # A previous create with this key never confirmed: did it make a job?
        found = yield from read(backoff, provider.find_by_idempotency_key,
                                provider.afind_by_idempotency_key, key)
        if found is not None:
            qid = f"{provider.name}:{found.id}"
            yield from _confirm(store, provider, key, qid, found, scope, held_path)
            return CreateOutcome(found, qid, estimate, reused=True, reused_age_s=age,
                                 reused_by=reused_by)
        break

    reused_files: set[str] = set()
    try:
        if spec.validation_split is not None and train_path is not None:
            train_path, valid_path = yield from blocking(
                _split, train_path, spec.validation_split, spec.seed)
        if train_path is not None:
            train_ref = yield from upload(provider, store, train_path, "train", spec.progress,
                                          reused_files, backoff)
        if valid_path is not None:
            valid_ref = yield from upload(provider, store, valid_path, "validation", spec.progress,
                                          reused_files, backoff)
    except Exception:
        yield from blocking(store.release, provider=provider.name, idempotency_key=key, scope=scope)
        raise
    except BaseException:  # interrupted: no action can run now
        store.release(provider=provider.name, idempotency_key=key, scope=scope)
        raise
    assert train_ref is not None
    request = CreateRequest(
        model=spec.model, training_file=train_ref, method=spec.method,  # type: ignore[arg-type]
        validation_file=valid_ref, hyperparameters=spec.hyperparameters, suffix=spec.suffix,
        seed=spec.seed, idempotency_key=key, metadata={METADATA_KEY: key}, options=spec.options,
    )
    tracked_natively: tuple[str, ...] = ()
    if spec.tracking:
        yield from imported("anytune.tracking._hooks")
        from anytune.tracking._hooks import native_request

        request, tracked_natively = native_request(provider, spec, request, estimate, data_hashes)
    try:
        snap = yield from create_with_recovery(provider, store, request, key, backoff, scope)
    except (NotFoundError, InvalidRequestError):
        # Refused, so certainly no job. If a reused file vanished between the check and
        # the create, upload it again once and retry; anything else is the user's to see.
        gone = yield from vanished(provider, reused_files, backoff)
        if not gone:
            raise
        yield from blocking(
            store.claim, provider=provider.name, model=spec.model, spec_hash=digest,
            idempotency_key=key, estimate=estimate.to_dict() if estimate else None, scope=scope)
        try:
            for ref in gone:
                yield from blocking(store.forget_upload, provider=provider.name, scope=scope, file_ref=ref)
            if train_path is not None and train_ref in gone:
                train_ref = yield from upload(provider, store, train_path, "train", spec.progress,
                                              backoff=backoff)
            if valid_path is not None and valid_ref in gone:
                valid_ref = yield from upload(provider, store, valid_path, "validation", spec.progress,
                                              backoff=backoff)
        except Exception:
            yield from blocking(store.release, provider=provider.name, idempotency_key=key, scope=scope)
            raise
        except BaseException:
            store.release(provider=provider.name, idempotency_key=key, scope=scope)
            raise
        request = request.model_copy(update={"training_file": train_ref, "validation_file": valid_ref})
        snap = yield from create_with_recovery(provider, store, request, key, backoff, scope)
    qid = f"{provider.name}:{snap.id}"
    yield from _confirm(store, provider, key, qid, snap, scope, held_path)
    return CreateOutcome(snap, qid, estimate, data_hashes=data_hashes,
                         tracked_natively=tracked_natively)


def _confirm(store: JobStore, provider: Provider, key: str, qid: str, snap: JobSnapshot,
             scope: str, held_path: Path | None) -> Flow[None]:
    """The provider has the job: keep its held-out records and confirm its store row."""
    if held_path is not None:
        yield from imported("anytune._holdout")
        from anytune._holdout import store_holdout

        yield from blocking(store_holdout, held_path, provider.name, key)
    yield from blocking(store.confirm, provider=provider.name, idempotency_key=key, job_id=qid,
                        status=snap.status.value, scope=scope)
