"""Plain data types of the public API: statuses, hyperparameters, snapshots, events.

They are frozen dataclasses, not pydantic models, so that ``import anytune`` stays cheap
and providers can build them without a validation layer in the hot polling path.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "Actual",
    "Checkpoint",
    "CreateRequest",
    "Estimate",
    "Hyperparameters",
    "JobError",
    "JobEvent",
    "JobResult",
    "JobSnapshot",
    "JobStatus",
    "LoRA",
    "Method",
    "Metric",
    "ModelInfo",
    "Problem",
]

Method = Literal["sft", "dpo"]


class JobStatus(str, enum.Enum):
    """The normalised life cycle of a job, the same for every provider."""

    QUEUED = "queued"
    VALIDATING = "validating"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """True once the job can no longer change."""
        return self in _TERMINAL

    def __str__(self) -> str:
        return self.value


_TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


def _to_dict(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dict):
        return {str(k): _to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_dict(v) for v in obj]
    return obj


class _Dictable:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601 strings, enums as values)."""
        return _to_dict(self)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LoRA(_Dictable):
    """Low-rank adapter settings. Providers that only tune adapters map ``r`` to their own name."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | tuple[str, ...] = "all-linear"

    def __post_init__(self) -> None:
        from anytune._checks import check_lora  # the one place options are checked

        check_lora(self)


@dataclass(frozen=True)
class Hyperparameters(_Dictable):
    """Provider-neutral hyperparameters. ``None`` means "the provider's default".

    ``learning_rate`` is an absolute rate; OpenAI takes a multiplier instead, which its
    provider derives (documented there) unless ``learning_rate_multiplier`` is given.
    ``beta`` is DPO's KL weight. ``lora=None`` means the provider's own default adapter
    settings (Together, Vertex and local tune a LoRA adapter by default; OpenAI offers no
    choice). Full fine-tuning, where a provider offers it, is the ``full=True`` option of
    ``Job.create`` (and of ``estimate``, which prices it).
    """

    epochs: int | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    lora: LoRA | None = None
    learning_rate_multiplier: float | None = None
    beta: float | None = None
    warmup_ratio: float | None = None

    def __post_init__(self) -> None:
        from anytune._checks import check_hyperparameters  # the one place options are checked

        check_hyperparameters(self)


@dataclass(frozen=True)
class JobEvent(_Dictable):
    """One line of a job's history, as the provider reports it."""

    created_at: datetime
    message: str
    level: str = "info"
    type: str = "message"
    data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Metric(_Dictable):
    """Training metrics at one step. Absent values are ``None``."""

    step: int
    epoch: float | None = None
    train_loss: float | None = None
    valid_loss: float | None = None
    learning_rate: float | None = None
    token_accuracy: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Checkpoint(_Dictable):
    """A saved intermediate model."""

    id: str
    step: int | None
    model: str
    created_at: datetime | None = None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class JobResult(_Dictable):
    """What a succeeded job produced: a model id, or a local adapter directory.

    ``trained_tokens`` and ``cost_usd`` are what the provider reports (``None`` where it
    reports nothing); ``FineTuneJob.actual`` sets them next to the estimate."""

    model: str
    trained_tokens: int | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class Actual(_Dictable):
    """What a finished job trained and cost, as the provider reports it (``job.actual``).

    ``cost_source`` says where ``cost_usd`` comes from: ``"provider"`` when the provider
    bills a figure (Together's ``total_price``), ``"estimate rate"`` when the provider
    reports only tokens and the cost is those tokens at the launch estimate's price per
    token, ``None`` when no cost is known. ``vs_estimate`` is ``actual / estimated`` trained
    tokens - 1 (``-0.07`` is 7 % fewer tokens than estimated), ``None`` without estimate."""

    trained_tokens: int
    cost_usd: float | None = None
    cost_source: str | None = None
    vs_estimate: float | None = None


@dataclass(frozen=True)
class JobError(_Dictable):
    """Why a job failed, as the provider said it."""

    message: str
    code: str | None = None
    param: str | None = None


@dataclass(frozen=True)
class Problem(_Dictable):
    """One problem in a dataset: where it is and what is wrong, with a stable ``code``."""

    code: str
    message: str
    line: int | None = None
    field: str | None = None
    file: str | None = None
    severity: Literal["error", "warning"] = "error"
    #: In a JSON-array file, the 0-based index of the element (as jq's ``.[n]``): a
    #: minified array has every element on line 1.
    element: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (DESIGN.md §3); ``element`` only where it is set."""
        out = _to_dict(self)
        if self.element is None:
            del out["element"]
        return out  # type: ignore[no-any-return]

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None)
        if self.element is not None:
            where += f" [{self.element}]"
        loc = f"{where.strip()} " if where else ""
        fld = f"{self.field}: " if self.field else ""
        return f"{loc}{fld}{self.message} [{self.code}]"


@dataclass(frozen=True)
class Estimate(_Dictable):
    """What a job would train and cost, computed without network or credentials.

    ``exact_tokens`` is False when the tokens were approximated (no tokenizer available
    offline); ``approximation`` then says why and how far off the figure may be (the
    margin that ``max_cost_usd`` is checked with), and is ``None`` for exact counts.
    """

    provider: str
    model: str
    method: str
    records: int
    tokens_per_epoch: int
    epochs: int
    trained_tokens: int
    cost_usd: float | None
    currency: str = "USD"
    exact_tokens: bool = True
    price_source: str | None = None
    price_as_of: str | None = None
    notes: tuple[str, ...] = ()
    approximation: str | None = None

    @property
    def budget_cost_usd(self) -> float | None:
        """The figure ``max_cost_usd`` is checked against: ``cost_usd``, raised by the
        measured worst under-count when the tokens are approximate."""
        if self.cost_usd is None:
            return None
        from anytune._estimates import budget_figure

        return budget_figure(self)[0]


@dataclass(frozen=True)
class ModelInfo(_Dictable):
    """One tunable model in a provider's catalog (prices come from a data file)."""

    provider: str
    model: str
    methods: tuple[str, ...] = ("sft",)
    max_tokens_per_example: int | None = None
    price_per_million_tokens: dict[str, float] = field(default_factory=dict)
    price_source: str | None = None
    price_as_of: str | None = None
    training_shutdown: str | None = None
    notes: str | None = None
    #: Dataset limits per method (``{"sft": {"max_tokens_per_example": 131072}, "dpo": ...}``):
    #: a vendor may allow shorter examples for DPO than for SFT.
    limits: dict[str, dict[str, Any]] = field(default_factory=dict)
    limits_source: str | None = None
    limits_as_of: str | None = None
    #: The last day the vendor accepts new tuning jobs on this model (``None``: none announced).
    retirement_date: str | None = None
    #: ``retirement_date`` has passed (computed when the catalog is read).
    retired: bool = False
    #: When the vendor's list this entry came from was fetched (``None``: packaged table only).
    refreshed_at: str | None = None
    #: Whether the last refreshed vendor list has this model (``None``: never refreshed).
    listed: bool | None = None
    #: Why ``price_per_million_tokens`` is empty, or how it was derived (e.g. a size band).
    price_note: str | None = None
    #: What to use instead once the model is retired (the vendor's successor, alternatives).
    retirement_note: str | None = None

    def max_tokens(self, method: str) -> int | None:
        """The per-example token limit for ``method`` (its own limit, else the model's)."""
        own = self.limits.get(method, {}).get("max_tokens_per_example")
        return int(own) if own is not None else self.max_tokens_per_example


@dataclass(frozen=True)
class JobSnapshot(_Dictable):
    """A provider's view of a job at one moment; the provider fills it from its own object.

    ``id`` is the provider's own id (not qualified). ``metadata`` carries what anytune
    stored on the provider's side (the idempotency key) so a lost ``create`` can be found.
    ``poll_interval`` lets a provider suggest how long to wait before the next refresh.
    """

    id: str
    status: JobStatus
    model: str
    created_at: datetime | None = None
    finished_at: datetime | None = None
    result: JobResult | None = None
    error: JobError | None = None
    progress: float | None = None
    message: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    poll_interval: float | None = None
    raw: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CreateRequest(_Dictable):
    """What the core hands a provider's ``create``: data already prepared and uploaded."""

    model: str
    training_file: str
    method: Method = "sft"
    validation_file: str | None = None
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    suffix: str | None = None
    seed: int | None = None
    idempotency_key: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
