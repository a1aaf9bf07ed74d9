"""The data types of the public API: statuses, hyperparameters, snapshots, events.

They are frozen pydantic v2 models (issue 12): ``model_dump()``, ``model_dump_json()``
and ``model_json_schema()`` give the ``--json`` shapes, and ``to_dict()`` stays as the
JSON-ready dict it always was (datetimes as ISO 8601 strings, enums as values). They take
keyword arguments only. A value that does not fit is an
:class:`~anytune._checks.InvalidOptionError` (a :class:`ConfigurationError`) naming the
field, the value and what is allowed, never a bare ``pydantic.ValidationError``: the
mapping is :func:`anytune._checks.invalid_from_validation`, the one place options are
checked.

Importing this module imports pydantic (tens of milliseconds), so ``import anytune``
does not: the package loads these types on first attribute access (``anytune.__init__``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, model_validator

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

#: A datetime whose JSON form is ``datetime.isoformat()`` (``+00:00``, not pydantic's
#: ``Z``): the ``--json`` documents and the job store kept this form before pydantic.
When = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(), return_type=str, when_used="json")]


def _jsonable(value: Any) -> Any:
    # Free-form fields (event data, raw options) may hold what JSON lacks: said as text,
    # as ``json.dumps(default=str)`` in the CLI always did.
    return str(value)


class Model(BaseModel):
    """The base of every public type: frozen, keyword-only, unknown fields refused, and
    validation errors as :class:`~anytune._checks.InvalidOptionError`."""

    # Serialization schemas mark every field required: model_dump always writes them all.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True,
                              json_schema_serialization_defaults_required=True)

    def __init__(self, /, *args: Any, **data: Any) -> None:
        if args:  # a dataclass once: say what changed rather than pydantic's bare TypeError
            raise TypeError(f"{type(self).__name__}(...) takes keyword arguments only "
                            f"(got {len(args)} positional)")
        try:
            super().__init__(**data)
        except ValidationError as exc:
            from anytune._checks import invalid_from_validation

            raise invalid_from_validation(type(self).__name__, exc) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """As pydantic's, with the error as :class:`InvalidOptionError`."""
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            from anytune._checks import invalid_from_validation

            raise invalid_from_validation(cls.__name__, exc) from None

    @classmethod
    def model_validate_json(cls, json_data: Any, **kwargs: Any) -> Self:
        """As pydantic's, with the error as :class:`InvalidOptionError`."""
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as exc:
            from anytune._checks import invalid_from_validation

            raise invalid_from_validation(cls.__name__, exc) from None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601 strings, enums as values): a thin
        alias of ``model_dump(mode="json")`` kept for the code written against it."""
        return self.model_dump(mode="json", fallback=_jsonable)


class LoRA(Model):
    """Low-rank adapter settings. Providers that only tune adapters map ``r`` to their own name."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | tuple[str, ...] = "all-linear"

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> Any:
        from anytune._checks import check_lora  # the one place options are checked

        if isinstance(data, Mapping):
            check_lora(data)
        return data


class Hyperparameters(Model):
    """Provider-neutral hyperparameters. ``None`` means "the provider's default".

    ``learning_rate`` is an absolute rate; OpenAI takes a multiplier instead, which its
    provider derives (documented there) unless ``learning_rate_multiplier`` is given.
    ``beta`` is DPO's KL weight. ``lora=None`` means the provider's own default adapter
    settings (Together, Vertex and local tune a LoRA adapter by default; OpenAI offers no
    choice). Full fine-tuning, where a provider offers it, is the ``full=True`` option of
    ``Job.create`` (and of ``estimate``, which prices it). ``lora`` may also be given as
    a dict of :class:`LoRA`'s fields (as in a JSON document).
    """

    epochs: int | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    lora: LoRA | None = None
    learning_rate_multiplier: float | None = None
    beta: float | None = None
    warmup_ratio: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> Any:
        from anytune._checks import check_hyperparameters  # the one place options are checked

        if isinstance(data, Mapping):
            check_hyperparameters(data)
        return data


class JobEvent(Model):
    """One line of a job's history, as the provider reports it."""

    created_at: When
    message: str
    level: str = "info"
    type: str = "message"
    data: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class Metric(Model):
    """Training metrics at one step. Absent values are ``None``."""

    step: int
    epoch: float | None = None
    train_loss: float | None = None
    valid_loss: float | None = None
    learning_rate: float | None = None
    token_accuracy: float | None = None
    extra: dict[str, float] = Field(default_factory=dict)


class Checkpoint(Model):
    """A saved intermediate model."""

    id: str
    step: int | None
    model: str
    created_at: When | None = None
    metrics: dict[str, float] = Field(default_factory=dict)


class JobResult(Model):
    """What a succeeded job produced: a model id, or a local adapter directory.

    ``trained_tokens`` and ``cost_usd`` are what the provider reports (``None`` where it
    reports nothing); ``FineTuneJob.actual`` sets them next to the estimate."""

    model: str
    trained_tokens: int | None = None
    cost_usd: float | None = None


class Actual(Model):
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


class JobError(Model):
    """Why a job failed, as the provider said it."""

    message: str
    code: str | None = None
    param: str | None = None


def _not_required(*names: str) -> Any:
    """A ``json_schema_extra`` hook: ``names`` may be absent from the document."""

    def hook(schema: dict[str, Any]) -> None:
        schema["required"] = [n for n in schema.get("required", []) if n not in names]

    return hook


class Problem(Model):
    """One problem in a dataset: where it is and what is wrong, with a stable ``code``."""

    model_config = ConfigDict(json_schema_extra=_not_required("element"))

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
        """The JSON shape (docs/design.md §3); ``element`` only where it is set."""
        out = super().to_dict()
        if self.element is None:
            del out["element"]
        return out

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None)
        if self.element is not None:
            where += f" [{self.element}]"
        loc = f"{where.strip()} " if where else ""
        fld = f"{self.field}: " if self.field else ""
        return f"{loc}{fld}{self.message} [{self.code}]"


class Estimate(Model):
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


class ModelInfo(Model):
    """One tunable model in a provider's catalog (prices come from a data file)."""

    provider: str
    model: str
    methods: tuple[str, ...] = ("sft",)
    max_tokens_per_example: int | None = None
    price_per_million_tokens: dict[str, float] = Field(default_factory=dict)
    price_source: str | None = None
    price_as_of: str | None = None
    training_shutdown: str | None = None
    notes: str | None = None
    #: Dataset limits per method (``{"sft": {"max_tokens_per_example": 131072}, "dpo": ...}``):
    #: a vendor may allow shorter examples for DPO than for SFT.
    limits: dict[str, dict[str, Any]] = Field(default_factory=dict)
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


class JobSnapshot(Model):
    """A provider's view of a job at one moment; the provider fills it from its own object.

    ``id`` is the provider's own id (not qualified). ``metadata`` carries what anytune
    stored on the provider's side (the idempotency key) so a lost ``create`` can be found.
    ``poll_interval`` lets a provider suggest how long to wait before the next refresh.
    ``raw`` is the provider's own object: kept as is, never validated, dumped or compared.
    """

    id: str
    status: JobStatus
    model: str
    created_at: When | None = None
    finished_at: When | None = None
    result: JobResult | None = None
    error: JobError | None = None
    progress: float | None = None
    message: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    poll_interval: float | None = None
    raw: Any = Field(default=None, repr=False, exclude=True)

    def __eq__(self, other: object) -> bool:
        # As the dataclass compared: every field but ``raw`` (a vendor object).
        if not isinstance(other, JobSnapshot):
            return NotImplemented
        mine = {k: v for k, v in self.__dict__.items() if k != "raw"}
        return mine == {k: v for k, v in other.__dict__.items() if k != "raw"}

    __hash__ = None  # type: ignore[assignment]  # metadata is a dict: never hashable


class CreateRequest(Model):
    """What the core hands a provider's ``create``: data already prepared and uploaded."""

    model: str
    training_file: str
    method: Method = "sft"
    validation_file: str | None = None
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    suffix: str | None = None
    seed: int | None = None
    idempotency_key: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
