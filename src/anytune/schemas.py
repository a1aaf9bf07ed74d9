"""The JSON schema of every ``anytune ... --json`` document (docs/design.md §3), as pydantic models.

Each command prints one JSON document on stdout: its own (below, in :data:`OUTPUTS`) or,
when it fails, :class:`ErrorOutput` (``{"error": {"type", "message", ...}}``) with the
exit code saying which. :func:`json_schema` gives the schema a command's output follows
(both cases), ``anytune schema COMMAND`` prints it, and ``tests/test_json_schemas.py``
runs every command and validates what it printed, so the two cannot drift apart.

The documents are dumps of the public types (:class:`~anytune.Estimate`,
:class:`~anytune.JobEvent`, :class:`~anytune.Problem`, ...) where the CLI prints them as
they are; the models here describe the rest. Unknown keys are refused (``"additionalProperties":
false``) wherever the shape is anytune's own; free-form parts (a vendor's ``usage``, an
error's extra fields, the quickstart's summary) stay open.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from anytune._types import (
    Actual,
    Estimate,
    JobError,
    JobEvent,
    JobResult,
    JobStatus,
    Problem,
    _not_required,
)

__all__ = ["OUTPUTS", "ErrorOutput", "JobOutput", "json_schema", "validate_output"]


class _Doc(BaseModel):
    # Every key is always printed, ``null`` included: all are required.
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ErrorBody(BaseModel):
    """What went wrong: the error class and its message, plus the fields its class adds
    (``provider``, ``status_code``, ``errors`` of a DatasetError, ``field``, ...)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="The anytune error class (``InternalError`` for a bug).")
    message: str


class ErrorOutput(_Doc):
    """What every command prints with ``--json`` when it fails (exit code 1, 2 or 3)."""

    error: ErrorBody


class EstimateOutput(Estimate):
    """``anytune estimate``: the estimate (docs/design.md §3); its ``notes`` go to the human output."""

    model_config = ConfigDict(json_schema_extra=_not_required("notes"))


class JobOutput(_Doc):
    """``create``, ``get``, ``wait``, ``cancel``: the job (docs/design.md §3)."""

    id: str = Field(description='Provider-qualified: "together:ft-1a2b".')
    provider: str
    model: str
    status: JobStatus
    created_at: str | None
    result: JobResult | None
    error: JobError | None
    estimate: Estimate | None
    actual: Actual | None
    reused: bool


class EventsOutput(RootModel[list[JobEvent]]):
    """``anytune events``: the job's events, oldest first."""


class ListOutput(RootModel[list[JobOutput]]):
    """``anytune list``: recent jobs, the store merged with the providers' lists."""


class ValidateOutput(_Doc):
    """``anytune validate``: every problem with its location (docs/design.md §3)."""

    ok: bool
    records: int
    errors: list[Problem]
    warnings: list[Problem]
    input_format: str | None
    converted: bool | None
    conversions: list[str] | None


class ConvertOutput(_Doc):
    """``anytune convert``: what was written, skipped, and lost in the target format."""

    ok: bool
    target: str
    output: str | None
    records: int
    skipped: int
    errors: list[Problem]
    losses: list[Problem]
    warnings: list[Problem]


class PlotOutput(_Doc):
    """``anytune plot``: the PNG written and how many loss points it has."""

    job: str
    output: str
    points: int


class ModelRow(_Doc):
    """One tunable model of ``anytune models`` (docs/design.md §3)."""

    provider: str
    model: str
    methods: list[str]
    limits: dict[str, dict[str, Any]] = Field(description="Per method: max_tokens_per_example, ...")
    price_per_million_tokens: dict[str, float]
    price_source: str | None
    price_as_of: str | None
    retirement_date: str | None
    retired: bool
    refreshed_at: str | None
    limits_source: str | None
    limits_as_of: str | None
    listed_by_vendor: bool | None
    price_note: str | None
    notes: str | None


class ModelsOutput(RootModel[list[ModelRow]]):
    """``anytune models``: the catalog."""


class Finding(_Doc):
    """One thing the loss curves say."""

    code: str
    severity: Literal["warning", "info"]
    message: str
    rule: str
    step: int | None
    checkpoint: str | None


class Points(_Doc):
    train: int
    valid: int


class DoctorOutput(_Doc):
    """``anytune doctor``: findings on the loss curves, with the step to use."""

    job: str
    ok: bool
    points: Points
    findings: list[Finding]


class ChatOutput(_Doc):
    """``anytune chat`` (docs/design.md §3)."""

    job: str
    model: str
    text: str
    usage: dict[str, Any] | None


class Score(_Doc):
    score: float | None = Field(description="In 0..1.")
    ci95: list[float | None] = Field(min_length=2, max_length=2)
    n: int


class BaselineScore(Score):
    model: str


class Tokens(_Doc):
    """Prompt plus completion tokens the evaluation spent on each model."""

    tuned: int
    baseline: int | None


class EvalRow(_Doc):
    """One job under one scorer (docs/design.md §3)."""

    job: str
    provider: str
    model: str
    scorer: str
    samples: int
    tuned: Score
    baseline: BaselineScore | None
    tuning_cost_usd: float | None
    eval_cost_usd: float | None
    seconds: float
    tokens: Tokens
    errors: int


class EvaluateJobsOutput(_Doc):
    """``anytune evaluate JOB_ID [JOB_ID ...]``."""

    jobs: list[EvalRow]


class CheckpointScore(BaselineScore):
    checkpoint: str
    step: int | None
    scorer: str


class EvaluateCheckpointsOutput(_Doc):
    """``anytune evaluate JOB_ID --checkpoints``: each checkpoint scored, and the best."""

    job: str
    checkpoints: list[CheckpointScore]
    best: str


class EvaluateOutput(RootModel[EvaluateJobsOutput | EvaluateCheckpointsOutput]):
    """``anytune evaluate``: jobs side by side, or one job's checkpoints."""


class ExportOutput(_Doc):
    """``anytune export``: the folder written (``merged`` or ``adapter``, as asked)."""

    model_config = ConfigDict(json_schema_extra=_not_required("merged", "adapter"))

    job: str
    merged: str | None = None
    adapter: str | None = None


class ServeOutput(_Doc):
    """``anytune serve``: printed once the server command is known, before it starts."""

    job: str
    argv: list[str]
    base_url: str
    model: str


class SyncedRun(_Doc):
    job: str
    status: JobStatus
    tracker: str
    run: str
    points: int


class SyncError(_Doc):
    job: str
    error: ErrorBody


class SyncOutput(_Doc):
    """``anytune sync``: one run per job and tracker, and the jobs that failed."""

    to: list[str]
    jobs: list[SyncedRun]
    errors: list[SyncError]


class SandboxOutput(_Doc):
    """``anytune sandbox``: printed once the emulator listens (then it serves until stopped)."""

    provider: str
    env: dict[str, str] = Field(description="The variables a client needs (base URL, fake key).")


class QuickstartOutput(RootModel[dict[str, Any]]):
    """``anytune quickstart``: the run's summary, as the local provider reports it."""


#: The success document of each command, by command name.
OUTPUTS: dict[str, type[BaseModel]] = {
    "validate": ValidateOutput,
    "estimate": EstimateOutput,
    "convert": ConvertOutput,
    "create": JobOutput,
    "get": JobOutput,
    "wait": JobOutput,
    "cancel": JobOutput,
    "events": EventsOutput,
    "list": ListOutput,
    "plot": PlotOutput,
    "sandbox": SandboxOutput,
    "quickstart": QuickstartOutput,
    "doctor": DoctorOutput,
    "chat": ChatOutput,
    "evaluate": EvaluateOutput,
    "models": ModelsOutput,
    "export": ExportOutput,
    "serve": ServeOutput,
    "sync": SyncOutput,
}


def json_schema(command: str) -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of ``anytune COMMAND --json``: its document or
    the error document."""
    try:
        model = OUTPUTS[command]
    except KeyError:
        from anytune._errors import ConfigurationError

        raise ConfigurationError(
            f"no command {command!r} prints --json; commands: {', '.join(sorted(OUTPUTS))}"
        ) from None
    union = RootModel[model | ErrorOutput]  # type: ignore[valid-type]
    schema = union.model_json_schema(mode="serialization")
    schema["title"] = f"anytune {command} --json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def validate_output(command: str, doc: Any) -> None:
    """Raise ``jsonschema.ValidationError`` when ``doc`` does not follow
    :func:`json_schema` (``jsonschema`` is a dev dependency: tests and tools use this)."""
    import jsonschema

    jsonschema.validate(doc, json_schema(command), cls=jsonschema.Draft202012Validator)
