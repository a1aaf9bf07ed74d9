"""The preflight pass behind ``anytune.validate``/``estimate``/``convert``/``prepare``:
what to check for a provider and model (``Plan``), running the one scan, the rules on the
whole dataset, and the estimate from its counts. No network, no credentials: providers
are only asked their catalog hooks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from anytune._errors import ConfigurationError, DatasetError
from anytune._types import Estimate, Hyperparameters, Problem
from anytune.data._engine import ScanConfig, ScanResult, scan
from anytune.data._writers import data_format
from anytune.provider import Limits, Provider

__all__ = [
    "MAX_PROBLEMS",
    "Plan",
    "dataset_rules",
    "estimate_from",
    "make_plan",
    "resolve_provider",
    "run_scan",
]

#: At most this many errors (and as many warnings) are kept; the rest are counted.
MAX_PROBLEMS = 1000


def resolve_provider(provider: str | Provider | None) -> Provider | None:
    """A provider instance from a name (built without credentials) or as given."""
    if provider is None or isinstance(provider, Provider):
        return provider
    from anytune._registry import create_provider  # lazy: loads entry points

    built: Provider = create_provider(provider)
    return built


@dataclass
class Plan:
    """What one pass checks: the provider's limits, tokenizer and upload format."""

    provider: Provider | None
    model: str | None
    method: str
    limits: Limits
    tokenizer: str | None
    target: str | None
    #: The job's provider options (``full=True``, ...), for pricing.
    options: Mapping[str, Any] = field(default_factory=dict)


def make_plan(
    provider: str | Provider | None,
    model: str | None,
    method: str,
    options: Mapping[str, Any] | None = None,
) -> Plan:
    """The plan for ``provider``/``model``/``method``; format-only checks without a provider."""
    if method not in ("sft", "dpo"):
        raise ConfigurationError(f"method must be 'sft' or 'dpo', got {method!r}")
    p = resolve_provider(provider)
    if p is None:
        return Plan(None, model, method, Limits(), None, None)
    if not model:
        raise ConfigurationError(f"provider {p.name!r} needs a model to check the data against")
    unknown = set(options or ()) - p.create_options
    if unknown:  # as Job.create refuses them: a typo must not price the wrong job
        raise ConfigurationError(
            f"provider {p.name!r} has no option(s) {sorted(unknown)}; "
            f"it accepts {sorted(p.create_options)}"
        )
    limits = p.limits(model, method)
    target = data_format(limits.data_format).name  # the provider's own format, or the core's
    return Plan(p, model, method, limits, p.tokenizer(model), target, dict(options or {}))


# --- the pass ----------------------------------------------------------------------
def check_input(data: Any) -> None:
    """Raise :class:`DatasetError` for a missing file or a value that holds no records."""
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file():
            raise DatasetError(
                f"cannot read {path}",
                [Problem(code="file_not_found", message="no such file", file=str(path))],
            )
        return
    if isinstance(data, (bytes, dict)) or not hasattr(data, "__iter__"):
        raise DatasetError(
            "unsupported data",
            [
                Problem(
                    code="unsupported_input",
                    message=f"expected a path, a list of records, a datasets.Dataset or a "
                    f"pandas.DataFrame, got {type(data).__name__}",
                )
            ],
        )


def run_scan(
    data: Any,
    plan: Plan,
    *,
    write: Callable[[bytes], Any] | None = None,
    lossy: bool = False,
    target: str | None = None,
    purpose: str = "train",
) -> tuple[ScanResult, str]:
    """One pass; returns the result and the token counter's note ("" when exact)."""
    check_input(data)
    file = str(data) if isinstance(data, (str, os.PathLike)) else None
    counter = None
    if plan.tokenizer:
        from anytune.data._tokens import make_counter

        counter = make_counter(plan.tokenizer)
    cfg = ScanConfig(
        method=None if target else plan.method,
        target=target or plan.target,
        tokenizer=plan.tokenizer,
        max_tokens=plan.limits.max_tokens_per_example,
        tools=plan.limits.tools,
        write=write is not None,
        file=file,
        max_problems=MAX_PROBLEMS,
        lossy=lossy,
    )
    try:
        res = scan(data, cfg, sink=write, counter=counter)
    except OSError as exc:
        raise DatasetError(
            f"cannot read {file or 'the data'}", [Problem(code="unreadable", message=str(exc), file=file)]
        ) from exc
    dataset_rules(res, plan, file, purpose)
    return res, counter.note if counter else ""


def dataset_rules(res: ScanResult, plan: Plan, file: str | None, purpose: str) -> None:
    """Rules on the whole dataset. Sources: [OAI-FT] OpenAI fine-tuning guide (at least
    10 examples; files up to 512 MB through the Files API) and each provider's
    ``Limits.source``; the numbers themselves come from ``provider.limits``."""
    lim = plan.limits
    name = plan.provider.name if plan.provider else ""
    cite = f" (source: {lim.source})" if lim.source else ""
    if res.records == 0:
        res.add(Problem(code="empty_dataset", message="the dataset has no records", file=file), MAX_PROBLEMS)
    elif purpose == "train" and plan.provider is not None and res.records < lim.min_examples:
        # Counted on records, not valid ones: when records have errors, those errors
        # are the thing to fix, and repeating them as "too few" adds nothing.
        res.add(
            Problem(
                code="too_few_examples",
                message=f"{res.records} example(s); {name} needs at least {lim.min_examples}{cite}",
                file=file,
            ),
            MAX_PROBLEMS,
        )
    if lim.max_examples is not None and res.valid > lim.max_examples:
        res.add(
            Problem(
                code="too_many_examples",
                message=f"{res.valid} examples; {name} accepts at most {lim.max_examples}{cite}",
                file=file,
            ),
            MAX_PROBLEMS,
        )
    if lim.max_file_bytes is not None and res.out_bytes > lim.max_file_bytes:
        res.add(
            Problem(
                code="file_too_large",
                message=f"the converted file is {res.out_bytes} bytes; {name} accepts at most "
                f"{lim.max_file_bytes}{cite}",
                file=file,
            ),
            MAX_PROBLEMS,
        )
    kinds: tuple[tuple[Literal["error", "warning"], int, list[Problem]], ...] = (
        ("error", res.n_errors, res.errors),
        ("warning", res.n_warnings, res.warnings),
    )
    for kind, total, kept in kinds:
        if total > len(kept):
            kept.append(
                Problem(
                    code="too_many_problems",
                    message=f"{total - len(kept)} more {kind}s not listed (the first {MAX_PROBLEMS} are)",
                    file=file,
                    severity=kind,
                )
            )


def estimate_from(
    res: ScanResult, plan: Plan, counter_note: str, epochs: int | None, hp: Hyperparameters | None
) -> Estimate:
    """The estimate from a scan's counts: capped tokens x epochs, priced by the provider."""
    p = plan.provider
    assert p is not None and plan.model is not None
    hp = hp or Hyperparameters()
    n_epochs = epochs or hp.epochs or p.default_epochs(plan.model, res.valid)
    trained = res.capped_tokens * n_epochs
    info = p.model_info(plan.model)
    notes: list[str] = []
    if counter_note:
        notes.append(counter_note)
    if plan.method == "dpo":
        notes.append("preference pairs counted as prompt + preferred and prompt + non-preferred sequences")
    if res.with_tools:
        notes.append(
            f"{res.with_tools} example(s) define tools; counted as their JSON text "
            "(the provider does not publish its rule)"
        )
    if res.capped_tokens < res.tokens:
        notes.append(
            f"{res.tokens - res.capped_tokens} tokens over the per-example limit are not billed (truncated)"
        )
    if res.records > res.valid:
        notes.append(
            f"{res.records - res.valid} record(s) with errors are not counted; run `anytune validate`"
        )
    cost = p.price_usd(plan.model, plan.method, trained, hp, options=plan.options)
    return Estimate(
        provider=p.name,
        model=plan.model,
        method=plan.method,
        records=res.valid,
        tokens_per_epoch=res.capped_tokens,
        epochs=n_epochs,
        trained_tokens=trained,
        cost_usd=None if cost is None else round(cost, 6),
        exact_tokens=not counter_note and (plan.tokenizer or "approx") != "approx",
        price_source=info.price_source if info else None,
        price_as_of=info.price_as_of if info else None,
        notes=tuple(notes),
    )
