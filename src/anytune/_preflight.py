"""Preflight: validate, estimate and convert a dataset before anything is uploaded.

Everything here runs offline and reads no credential: providers are built only to ask
their catalog hooks (``limits``, ``tokenizer``, ``default_epochs``, ``price_usd``,
``model_info``). One pass over the data (``anytune.data._engine.scan``) reads, checks,
converts, counts tokens and hashes for duplicates, in parallel on large JSONL files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anytune._checks import InvalidOptionError, check_options
from anytune._errors import BudgetExceededError, ConfigurationError, DatasetError
from anytune._estimates import budget_figure, with_approximation
from anytune._types import Estimate, Hyperparameters, Problem
from anytune.data._conversions import conversions, input_format
from anytune.data._engine import ScanResult
from anytune.data._plan import Plan, estimate_from, make_plan, run_scan
from anytune.data._writers import data_format
from anytune.provider import Limits, Provider

__all__ = [
    "ConversionReport",
    "PreparedData",
    "ValidationReport",
    "affordable_epochs",
    "check_budget",
    "convert",
    "estimate",
    "is_file_reference",
    "preflight",
    "prepare",
    "validate",
]

_LOSS_CODES = frozenset({"not_expressible", "unknown_key"})


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating a dataset: every error and warning, with locations."""

    records: int
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: Records that passed every check (what would be uploaded).
    valid: int = 0
    #: Input formats seen, with their record counts (e.g. ``{"alpaca": 100}``).
    formats: dict[str, int] = field(default_factory=dict)
    file: str | None = None
    #: What is rewritten before upload (a BOM removed, a JSON array written as JSONL,
    #: Alpaca records in the provider's format); ``None`` without a provider.
    conversions: list[str] | None = None

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings do not block)."""
        return not self.errors

    @property
    def input_format(self) -> str | None:
        """The format most records are in (``openai_chat``, ``alpaca``, ...)."""
        return input_format(self.formats)

    @property
    def converted(self) -> bool | None:
        """Whether the file is rewritten before upload (``None`` without a provider)."""
        return None if self.conversions is None else bool(self.conversions)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of ``anytune validate`` (docs/design.md §3), plus the input
        format and what is rewritten before upload."""
        return {
            "ok": self.ok,
            "records": self.records,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
            "input_format": self.input_format,
            "converted": self.converted,
            "conversions": self.conversions,
        }


@dataclass(frozen=True)
class ConversionReport:
    """What ``convert`` wrote, what it skipped, and what the target could not express."""

    target: str
    records: int
    skipped: int
    output: Path | None
    errors: list[Problem] = field(default_factory=list)
    losses: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: The converted records when no ``output`` path was given.
    data: list[dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        """True when every record was written and nothing was lost."""
        return not self.errors and not any(p.severity == "error" for p in self.losses)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of ``anytune convert``."""
        return {
            "ok": self.ok,
            "target": self.target,
            "output": str(self.output) if self.output else None,
            "records": self.records,
            "skipped": self.skipped,
            "errors": [p.to_dict() for p in self.errors],
            "losses": [p.to_dict() for p in self.losses],
            "warnings": [p.to_dict() for p in self.warnings],
        }


@dataclass(frozen=True)
class PreparedData:
    """A dataset converted to the provider's upload format, ready to upload."""

    path: Path
    sha256: str
    records: int
    estimate: Estimate | None
    report: ValidationReport


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def is_file_reference(data: Any) -> bool:
    """True when ``data`` is a provider file id (``file-abc123``) or a remote URI
    (``gs://bucket/train.jsonl``) rather than a local path or records."""
    if not isinstance(data, str):
        return False
    if _SCHEME.match(data):
        return True
    return not Path(data).exists() and "/" not in data and "\\" not in data and "." not in data


def _report(
    res: ScanResult, file: str | None, data: Any = None, plan: Plan | None = None
) -> ValidationReport:
    changes = None
    if plan is not None and plan.target is not None:
        codes = {p.code for p in res.warnings}
        changes = conversions(data, dict(res.formats), codes, plan.target)
    return ValidationReport(
        records=res.records,
        errors=list(res.errors),
        warnings=list(res.warnings),
        valid=res.valid,
        formats=dict(res.formats),
        file=file,
        conversions=changes,
    )


def _check_estimate_args(epochs: Any, hyperparameters: Any) -> None:
    # The same checks as Job.create: an estimate of -3 epochs is no estimate.
    check_options({"epochs": epochs})
    if hyperparameters is not None and not isinstance(hyperparameters, Hyperparameters):
        raise InvalidOptionError("hyperparameters", hyperparameters,
                                 "an anytune.Hyperparameters(...) or None")


# --- public functions --------------------------------------------------------------
def validate(
    data: Any, *, provider: str | Provider | None = None, model: str | None = None, method: str = "sft"
) -> ValidationReport:
    """Check ``data`` and return every problem found, in one pass.

    Without a provider, the records are checked against their own format and ``method``.
    With one, also against its rules for ``model``: token limit per example, minimum
    number of examples, file size, and what its upload format can express. Raises
    :class:`DatasetError` only when the input cannot be opened at all.
    """
    plan = make_plan(provider, model, method)
    res, _ = run_scan(data, plan)
    return _with_catalog_notices(_report(res, _file_of(data), data, plan), plan)


def _catalog_notices(plan: Plan) -> list[Any]:
    """What the catalog says about the plan's model (age, retirement, listing), once."""
    if plan.provider is None or not plan.model:
        return []
    from anytune.catalog import find_notices

    return find_notices(plan.provider, plan.model, plan.method)


def _with_catalog_notices(report: ValidationReport, plan: Plan) -> ValidationReport:
    extra = [Problem(code=n.code, message=n.message, severity="warning") for n in _catalog_notices(plan)]
    return dataclasses.replace(report, warnings=[*extra, *report.warnings]) if extra else report


def _estimate_notes(est: Estimate, plan: Plan) -> Estimate:
    """``est`` with the catalog's notices first and, when there is no price, the reason."""
    info = plan.provider.model_info(plan.model) if plan.provider and plan.model else None
    notes = [n.message for n in _catalog_notices(plan)]
    if info is not None and info.price_note:
        notes.append(info.price_note)
    elif est.cost_usd is None and plan.provider is not None:
        notes.append(f"no price: {plan.provider.name}'s catalog has no rate for {plan.model} ({plan.method})")
    if est.cost_usd is None:  # no catalog price was used: say none, never "None as of None"
        est = est.model_copy(update={"price_source": None, "price_as_of": None})
    return est.model_copy(update={"notes": (*notes, *est.notes)}) if notes else est


def _file_of(data: Any) -> str | None:
    """The file name reports use for ``data`` (``None`` for in-memory records)."""
    return str(data) if isinstance(data, (str, os.PathLike)) else None


def preflight(
    data: Any,
    *,
    provider: str | Provider,
    model: str,
    method: str = "sft",
    epochs: int | None = None,
    hyperparameters: Hyperparameters | None = None,
    **provider_options: Any,
) -> tuple[ValidationReport, Estimate]:
    """Validate and estimate in a single pass (``prepare`` does the same and also writes
    the upload file); ``bench/preflight.py`` measures this."""
    _check_estimate_args(epochs, hyperparameters)
    plan = make_plan(provider, model, method, provider_options)
    if plan.provider is None:
        raise ConfigurationError("an estimate needs a provider")
    res, note = run_scan(data, plan)
    est = estimate_from(res, plan, note, epochs, hyperparameters)
    est = with_approximation(_estimate_notes(est, plan), note)
    return _with_catalog_notices(_report(res, _file_of(data), data, plan), plan), est


def estimate(
    data: Any,
    *,
    provider: str | Provider,
    model: str,
    method: str = "sft",
    epochs: int | None = None,
    hyperparameters: Hyperparameters | None = None,
    **provider_options: Any,
) -> Estimate:
    """What training on ``data`` would process and cost, offline and without credentials.

    ``tokens_per_epoch`` sums each valid example's tokens, capped at the model's limit;
    ``epochs`` is ``epochs``, else ``hyperparameters.epochs``, else the provider's default
    for this dataset size; the price comes from the provider's catalog. Records with
    errors are left out and said so in ``notes``, followed by the provider's own
    ``estimate_notes`` when it has that hook (e.g. how long a local run would take).
    ``provider_options`` are those ``Job.create`` would take (e.g. ``full=True`` where
    full fine-tuning is priced apart from LoRA).
    """
    _check_estimate_args(epochs, hyperparameters)
    plan = make_plan(provider, model, method, provider_options)
    if plan.provider is None:
        raise ConfigurationError("an estimate needs a provider")
    res, note = run_scan(data, plan)
    est = estimate_from(res, plan, note, epochs, hyperparameters)
    est = with_approximation(_estimate_notes(est, plan), note)
    hook = getattr(plan.provider, "estimate_notes", None)
    if hook is not None:
        extra = hook(
            model, method, est.trained_tokens, hyperparameters or Hyperparameters(), options=plan.options
        )
        if extra:
            est = est.model_copy(update={"notes": (*est.notes, *extra)})
    return est


def convert(data: Any, *, to: str, output: str | os.PathLike[str] | None = None) -> ConversionReport:
    """Write ``data`` in the ``to`` format: the core's ``openai`` or ``alpaca``, or one an
    installed provider offers (``together``, ``vertex``, ...: ``anytune.data.data_formats()``).

    What the target cannot express is listed in ``losses`` (never dropped silently);
    records with errors are skipped and listed in ``errors``. Without ``output`` the
    converted records are returned in ``data``.
    """
    data_format(to)  # ConfigurationError naming the installed formats, before any work
    plan = Plan(None, None, "sft", Limits(), None, None)
    collected: list[bytes] = []
    out = Path(output) if output is not None else None
    tmp = out.with_name(out.name + ".part") if out else None
    fh = tmp.open("wb") if tmp else None
    try:
        res, _ = run_scan(
            data, plan, write=fh.write if fh else collected.append, lossy=True, target=to, purpose="convert"
        )
    except BaseException:
        if fh:
            fh.close()
            tmp.unlink(missing_ok=True)  # type: ignore[union-attr]
        raise
    if fh:
        fh.close()
        os.replace(tmp, out)  # type: ignore[arg-type]
    records = None
    if out is None:
        from anytune.data._readers import loads

        records = [loads(b) for b in collected]
    problems = res.errors + res.warnings
    return ConversionReport(
        target=to,
        records=res.valid,
        skipped=res.records - res.valid,
        output=out,
        errors=[p for p in res.errors if p.code not in _LOSS_CODES],
        losses=[p for p in problems if p.code in _LOSS_CODES],
        warnings=[p for p in res.warnings if p.code not in _LOSS_CODES],
        data=records,
    )


def prepare(
    data: Any,
    *,
    provider: Provider,
    model: str,
    method: str,
    hyperparameters: Hyperparameters,
    workdir: Path,
    purpose: str = "train",
    options: Mapping[str, Any] | None = None,
) -> PreparedData:
    """Read, validate, convert and price ``data`` for ``provider``; raise
    :class:`DatasetError` with every problem found. Writes one file in ``workdir``
    (``<purpose>.jsonl`` in the provider's upload format)."""
    plan = make_plan(provider, model, method, options)
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{purpose}.jsonl"
    tmp = workdir / f".{purpose}.jsonl.part"
    digest = hashlib.sha256()
    with tmp.open("wb") as fh:

        def sink(b: bytes) -> None:
            digest.update(b)
            fh.write(b)

        try:
            res, note = run_scan(data, plan, write=sink, purpose=purpose)
        except BaseException:
            fh.close()
            tmp.unlink(missing_ok=True)
            raise
    report = _report(res, _file_of(data))
    if not report.ok:
        tmp.unlink(missing_ok=True)
        name = _file_of(data) or "the data"
        raise DatasetError(f"{name} failed validation for {provider.name}/{model}", report.errors)
    os.replace(tmp, out)
    est = (with_approximation(estimate_from(res, plan, note, None, hyperparameters), note)
           if purpose == "train" else None)
    return PreparedData(path=out, sha256=digest.hexdigest(), records=res.valid, estimate=est, report=report)


# --- budget ------------------------------------------------------------------------
def check_budget(est: Estimate, max_cost_usd: float | None) -> None:
    """Raise :class:`BudgetExceededError` when ``est`` costs more than ``max_cost_usd``.

    Run before credentials are read or anything is uploaded. A budget with no known
    price cannot be enforced: that is a :class:`ConfigurationError`, not a silent pass.
    An approximate token count is checked with the measured margin of the
    approximation (:func:`anytune._estimates.budget_figure`), never passed as exact.
    """
    if max_cost_usd is None:
        return
    if est.cost_usd is None:
        raise ConfigurationError(
            f"max_cost_usd is set but {est.provider} has no price for {est.model} ({est.method}); "
            "the budget cannot be checked"
        )
    figure, why = budget_figure(est)
    if figure > max_cost_usd:
        raise BudgetExceededError(est.cost_usd, max_cost_usd, est, detail=why)


def affordable_epochs(est: Estimate, max_cost_usd: float) -> int:
    """The most epochs of this dataset that fit in ``max_cost_usd`` (0 when none does),
    assuming the price is linear in trained tokens, as every catalog price is."""
    if est.cost_usd is None:
        raise ConfigurationError(f"{est.provider} has no price for {est.model}")
    if est.cost_usd == 0:
        return 10**9
    per_epoch = budget_figure(est)[0] / est.epochs  # an approximate count: with its margin
    return int(max_cost_usd // per_epoch) if per_epoch > 0 else 0
