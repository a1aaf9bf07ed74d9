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
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from anytune._errors import (
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from anytune._flow import Blocking, Call, Flow, Sleep
from anytune._log import logger
from anytune._polling import TRANSIENT, Backoff
from anytune._progress import UploadProgress
from anytune._store import JobStore
from anytune._types import CreateRequest, Estimate, Hyperparameters, JobSnapshot
from anytune.provider import Provider

__all__ = ["DEDUPE_WINDOW_S", "CreateSpec", "create_flow", "spec_hash"]

#: Without an explicit key, the same spec and data within this many seconds is the same job.
DEDUPE_WINDOW_S = 600.0
#: Attempts at ``create`` when each failure proves that no job was made.
MAX_CREATE_ATTEMPTS = 4
#: Attempts at each read inside ``create`` (the reuse lookup, the key search, the upload
#: check) through 429/5xx/timeouts/dropped connections: about half a minute of backoff.
MAX_READ_ATTEMPTS = 8
METADATA_KEY = "anytune_idempotency_key"
_CREATE_BACKOFF = Backoff(initial=1.0, cap=30.0)


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_budget(estimate: Estimate | None, max_cost_usd: float | None) -> None:
    from anytune._preflight import check_budget

    if max_cost_usd is not None and estimate is None:
        raise ConfigurationError(
            "max_cost_usd was given but the data is a provider file id, which cannot be "
            "priced before upload; drop max_cost_usd or pass local data"
        )
    if estimate is not None:
        check_budget(estimate, max_cost_usd)


def _read(
    provider: Provider, method: str, args: tuple[Any, ...] = (), *, backoff: Backoff | None = None
) -> Flow[Any]:
    """One provider read inside ``create``, riding out 429/5xx/timeouts/dropped
    connections with the wait loop's backoff (``Retry-After`` is a floor)."""
    backoff = backoff or _CREATE_BACKOFF
    rng = random.Random()
    for attempt in range(MAX_READ_ATTEMPTS):
        try:
            return (yield Call(provider, method, args))
        except TRANSIENT as exc:
            if attempt == MAX_READ_ATTEMPTS - 1:
                raise
            logger.info("%s: %s failed (%s); retrying", provider.name, method, type(exc).__name__)
            retry_after = getattr(exc, "retry_after", None) or 0.0
            yield Sleep(max(retry_after, backoff.delay(attempt, rng)))
    raise AssertionError("unreachable")  # pragma: no cover


def _upload(
    provider: Provider, store: JobStore, path: Path, purpose: str, progress: bool = False,
    reused: set[str] | None = None,
) -> Flow[str]:
    digest = _sha256(path)
    scope = provider.scope()
    cached = store.find_upload(provider=provider.name, scope=scope, sha256=digest, purpose=purpose)
    if cached is not None:
        # The file may be gone (deleted, a bucket lifecycle rule, a restarted sandbox):
        # ask the provider where it can answer cheaply, and upload again if it is missing.
        exists = yield from _read(provider, "upload_exists", (cached,))
        if exists:
            logger.info("%s: reusing uploaded file %s for %s", provider.name, cached, path.name)
            if reused is not None:
                reused.add(cached)
            return cached
        logger.warning("%s: uploaded file %s is gone; uploading %s again", provider.name, cached,
                       path.name)
        store.forget_upload(provider=provider.name, scope=scope, file_ref=cached)
    bar = UploadProgress(f"{purpose} data ({path.stat().st_size:,} bytes)", enabled=progress)
    provider.upload_progress = bar.update if bar.enabled else None
    try:
        ref: str = yield Call(provider, "upload", (path,), {"purpose": purpose})
    finally:
        provider.upload_progress = None
        bar.close()
    store.record_upload(
        provider=provider.name, scope=scope, sha256=digest, purpose=purpose, file_ref=ref
    )
    return ref


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
    with tempfile.TemporaryDirectory(prefix="anytune-") as tmp:
        return (yield from _create_in(spec, Path(tmp), provider=provider, store=store,
                                      now=now, backoff=backoff or _CREATE_BACKOFF))


def _create_in(
    spec: CreateSpec,
    workdir: Path,
    *,
    provider: Provider,
    store: JobStore,
    now: datetime | None,
    backoff: Backoff,
) -> Flow[CreateOutcome]:
    from anytune import _preflight  # readers and tokenizers: loaded on first create

    provider.check_create(
        spec.model,
        spec.method,
        now=now or datetime.now(timezone.utc),
        hyperparameters=spec.hyperparameters,
        options=spec.options,
    )
    from anytune import catalog  # retired model refused here; age and listing said once

    for notice in catalog.check_model(provider, spec.model, spec.method, now=now,
                                      allow_retired=spec.allow_retired):
        logger.warning("%s: %s", provider.name, notice)
    provider.require(spec.method)
    if spec.validation_file is not None or spec.validation_split is not None:
        provider.require("validation_file")
    if spec.hyperparameters.lora is not None:
        provider.require("lora")

    train_ref = valid_ref = None
    train_path = valid_path = held_path = None
    estimate: Estimate | None = None
    training_data = spec.training_file
    if spec.holdout is not None:
        if _preflight.is_file_reference(spec.training_file):
            raise ConfigurationError(
                "holdout needs the training data itself, not a provider file id: pass a path or records"
            )
        from anytune._holdout import split_holdout

        training_data, held_path, _ = yield Blocking(
            split_holdout, (spec.training_file, spec.holdout, spec.seed, workdir / "holdout"))
    if _preflight.is_file_reference(spec.training_file):
        train_ref = spec.training_file
        data_hashes = [f"ref:{train_ref}"]
    else:
        prepared = yield Blocking(
            _preflight.prepare,
            (training_data,),
            dict(provider=provider, model=spec.model, method=spec.method,
                 hyperparameters=spec.hyperparameters, options=spec.options, workdir=workdir,
                 purpose="train"),
        )
        train_path, estimate = prepared.path, prepared.estimate
        data_hashes = [prepared.sha256]
    if spec.validation_file is not None:
        if _preflight.is_file_reference(spec.validation_file):
            valid_ref = spec.validation_file
            data_hashes.append(f"ref:{valid_ref}")
        else:
            vprep = yield Blocking(
                _preflight.prepare,
                (spec.validation_file,),
                dict(provider=provider, model=spec.model, method=spec.method,
                     hyperparameters=spec.hyperparameters, options=spec.options,
                     workdir=workdir, purpose="validation"),
            )
            valid_path = vprep.path
            data_hashes.append(vprep.sha256)
    _check_budget(estimate, spec.max_cost_usd)

    digest = spec_hash(provider.name, spec, data_hashes)
    scope = provider.scope()
    while True:  # once more for each stored job the provider no longer knows
        key = spec.idempotency_key
        if key is None:
            recent = store.recent_by_spec(provider.name, digest, within=DEDUPE_WINDOW_S, scope=scope)
            if recent is not None:
                key = recent.idempotency_key  # the same job asked again moments later
            else:
                key = "auto-" + hashlib.sha256(f"{digest}:{random.random()}".encode()).hexdigest()[:24]
        row, fresh = store.claim(
            provider=provider.name, model=spec.model, spec_hash=digest, idempotency_key=key,
            estimate=estimate.to_dict() if estimate else None, scope=scope,
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
                snap = yield from _read(provider, "get", (native,), backoff=backoff)
            except NotFoundError:
                # Stored, but the provider forgot it (a restarted sandbox, a reset account):
                # never hand it back; mark the row and make a new job.
                logger.warning("%s: stored job %s is not found at the provider; creating a new "
                               "job", provider.name, row.id)
                store.mark_stale(row.id)
                continue
            return CreateOutcome(snap, row.id, estimate, reused=True, reused_age_s=age,
                                 reused_by=reused_by)
        # A previous create with this key never confirmed: did it make a job?
        found = yield from _read(provider, "find_by_idempotency_key", (key,), backoff=backoff)
        if found is not None:
            qid = f"{provider.name}:{found.id}"
            store.confirm(provider=provider.name, idempotency_key=key, job_id=qid,
                          status=found.status.value, scope=scope)
            if held_path is not None:
                from anytune._holdout import store_holdout

                store_holdout(held_path, provider.name, key)
            return CreateOutcome(found, qid, estimate, reused=True, reused_age_s=age,
                                 reused_by=reused_by)
        break

    reused_files: set[str] = set()
    try:
        if spec.validation_split is not None and train_path is not None:
            train_path, valid_path = yield Blocking(_split, (train_path, spec.validation_split, spec.seed))
        if train_path is not None:
            train_ref = yield from _upload(provider, store, train_path, "train", spec.progress,
                                           reused_files)
        if valid_path is not None:
            valid_ref = yield from _upload(provider, store, valid_path, "validation", spec.progress,
                                           reused_files)
    except BaseException:
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
        from anytune.tracking._hooks import native_request

        request, tracked_natively = native_request(provider, spec, request, estimate, data_hashes)
    try:
        snap = yield from _create_with_recovery(provider, store, request, key, backoff, scope)
    except (NotFoundError, InvalidRequestError):
        # Refused, so certainly no job. If a reused file vanished between the check and
        # the create, upload it again once and retry; anything else is the user's to see.
        gone = yield from _vanished(provider, reused_files)
        if not gone:
            raise
        store.claim(provider=provider.name, model=spec.model, spec_hash=digest,
                    idempotency_key=key, estimate=estimate.to_dict() if estimate else None,
                    scope=scope)
        try:
            for ref in gone:
                store.forget_upload(provider=provider.name, scope=scope, file_ref=ref)
            if train_path is not None and train_ref in gone:
                train_ref = yield from _upload(provider, store, train_path, "train", spec.progress)
            if valid_path is not None and valid_ref in gone:
                valid_ref = yield from _upload(provider, store, valid_path, "validation", spec.progress)
        except BaseException:
            store.release(provider=provider.name, idempotency_key=key, scope=scope)
            raise
        request = request.model_copy(update={"training_file": train_ref, "validation_file": valid_ref})
        snap = yield from _create_with_recovery(provider, store, request, key, backoff, scope)
    qid = f"{provider.name}:{snap.id}"
    if held_path is not None:
        from anytune._holdout import store_holdout

        store_holdout(held_path, provider.name, key)
    store.confirm(provider=provider.name, idempotency_key=key, job_id=qid, status=snap.status.value,
                  scope=scope)
    return CreateOutcome(snap, qid, estimate, data_hashes=data_hashes,
                         tracked_natively=tracked_natively)


def _vanished(provider: Provider, refs: set[str]) -> Flow[list[str]]:
    """The reused files the provider no longer has."""
    gone = []
    for ref in sorted(refs):
        if not (yield from _read(provider, "upload_exists", (ref,))):
            gone.append(ref)
    return gone


def _create_with_recovery(
    provider: Provider, store: JobStore, request: CreateRequest, key: str, backoff: Backoff,
    scope: str | None = None,
) -> Flow[JobSnapshot]:
    rng = random.Random()
    last: Exception | None = None
    found: JobSnapshot | None
    for attempt in range(MAX_CREATE_ATTEMPTS):
        if attempt:
            retry_after = getattr(last, "retry_after", None) or 0.0
            yield Sleep(max(retry_after, backoff.delay(attempt - 1, rng)))
        try:
            created: JobSnapshot = yield Call(provider, "create", (request,))
            return created
        except RateLimitError as exc:  # refused: certainly no job
            last = exc
        except ProviderConnectionError as exc:
            last = exc
            if exc.request_sent is False:
                continue
            found = yield from _read(provider, "find_by_idempotency_key", (key,), backoff=backoff)
            if found is not None:
                return found
        except (ProviderTimeoutError, ServerError) as exc:
            last = exc
            found = yield from _read(provider, "find_by_idempotency_key", (key,), backoff=backoff)
            if found is not None:
                return found
        except BaseException:
            store.release(provider=provider.name, idempotency_key=key, scope=scope)
            raise
        logger.warning("%s: create failed (%s); no job was made, retrying", provider.name, last)
    store.release(provider=provider.name, idempotency_key=key, scope=scope)
    assert last is not None
    raise last

