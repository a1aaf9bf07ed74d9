"""The provider SPI: what a provider package implements to plug into anytune.

A provider is a class registered in the entry-point group ``anytune.providers``::

    [project.entry-points."anytune.providers"]
    acme = "anytune_acme:AcmeProvider"

Built-in providers register exactly like that. The core only ever talks to this
interface, so it never branches on a provider's name.

Construction must be cheap and must not read credentials or touch the network:
preflight (``validate``/``estimate``) builds providers too, and the budget guard must
run before any credential is read. Read credentials lazily on the first network call
and raise :class:`~anytune.MissingCredentialsError` naming the variable and argument.

Every network method has an async twin (``acreate`` for ``create``, ...). The default
twins run the sync method in a worker thread, so a provider is complete with the sync
methods alone; one with a native async client overrides the twins.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from anytune._chat import ChatReply
from anytune._errors import UnsupportedError
from anytune._provider_async import ThreadedTwins
from anytune._provider_types import OPERATION_CAPABILITY, Capability, Emulator, Limits
from anytune._types import (
    Checkpoint,
    CreateRequest,
    Hyperparameters,
    JobError,
    JobEvent,
    JobResult,
    JobSnapshot,
    JobStatus,
    LoRA,
    Metric,
    ModelInfo,
    Problem,
)

if TYPE_CHECKING:
    from anytune._config import anytune_home as state_dir
    from anytune._polling import Backoff
    from anytune._sdk import SDKProvider
    from anytune._sdk_helpers import Pager, as_dict, status_error, vendor_message
    from anytune._serve import ServeCommand, vllm_command
    from anytune.data._writers import DataFormat
    from anytune.tracking._hooks import TrackingContext

__all__ = [
    "Backoff",
    "Capability",
    "ChatReply",
    "Checkpoint",
    "CreateRequest",
    "Emulator",
    "Hyperparameters",
    "JobError",
    "JobEvent",
    "JobResult",
    "JobSnapshot",
    "JobStatus",
    "Limits",
    "LoRA",
    "Metric",
    "ModelInfo",
    "Pager",
    "Problem",
    "Provider",
    "SDKProvider",
    "ServeCommand",
    "TrackingContext",
    "as_dict",
    "state_dir",
    "status_error",
    "vendor_message",
    "vllm_command",
]

# Loaded on first use: the tracking hooks and serving helpers pull in more of the core
# than a provider's import needs.
_LAZY = {
    "ServeCommand": ("anytune._serve", "ServeCommand"),
    "vllm_command": ("anytune._serve", "vllm_command"),
    "TrackingContext": ("anytune.tracking._hooks", "TrackingContext"),
    "state_dir": ("anytune._config", "anytune_home"),
    # The base of providers on a vendor SDK, and the one backoff policy (issue 12).
    "SDKProvider": ("anytune._sdk", "SDKProvider"),
    "as_dict": ("anytune._sdk_helpers", "as_dict"),
    "Pager": ("anytune._sdk_helpers", "Pager"),
    "status_error": ("anytune._sdk_helpers", "status_error"),
    "vendor_message": ("anytune._sdk_helpers", "vendor_message"),
    "Backoff": ("anytune._polling", "Backoff"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'anytune.provider' has no attribute {name!r}")


class Provider(ThreadedTwins):
    """Base class of every provider. Subclasses set the class variables and override
    the network methods they support; the defaults raise :class:`UnsupportedError`."""

    #: The name users pass as ``provider=``; also the entry-point name.
    name: ClassVar[str] = ""
    #: What this provider can do.
    capabilities: ClassVar[Capability] = Capability.SFT
    #: Keyword arguments of ``Job.create`` that configure the client (credentials,
    #: endpoints); they come from arguments, environment or the profile file.
    settings: ClassVar[frozenset[str]] = frozenset()
    #: Keyword arguments of ``Job.create`` that are passed per job in
    #: ``CreateRequest.options`` (e.g. ``quantization`` for local). Anything else is a
    #: ``ConfigurationError`` before any work is done.
    create_options: ClassVar[frozenset[str]] = frozenset()
    #: Whether :meth:`catalog` is the vendor's whole list of tunable models (cloud
    #: providers), so that a model outside it deserves a warning; ``False`` where any
    #: model the user has can be trained (local).
    closed_catalog: ClassVar[bool] = False
    #: Names among ``settings`` and ``create_options`` whose values are secrets (API keys,
    #: tokens, a W&B key): the core redacts those values from every log record that
    #: passes through anytune's handler (the vendor SDKs' own included) and from errors.
    secret_names: ClassVar[frozenset[str]] = frozenset({"api_key"})

    # --- the vendor's knowledge: the core keeps no vendor table --------------------------
    #: Regular expressions of the vendor's credential shapes (``r"\b(sk-)[A-Za-z0-9_\-*]{4,}"``),
    #: redacted from every log record and error even when this process never held the key
    #: (a vendor echoes a refused key back). Group 1, if any, is kept: ``sk-[REDACTED]``.
    secret_patterns: ClassVar[tuple[str, ...]] = ()
    #: Headers and request-body fields through which the vendor's SDK sends credentials
    #: (``"x-goog-api-key"``, ``"wandb_key"``), redacted from the SDK's debug log; the core
    #: knows the generic ones (``authorization``, ``api_key``, ``client_secret``, ...).
    secret_fields: ClassVar[tuple[str, ...]] = ()
    #: Loggers of the vendor's SDK and of the HTTP library it uses (``"openai"``,
    #: ``"httpx"``): ``ANYTUNE_LOG`` routes them through anytune's redacting handler.
    loggers: ClassVar[tuple[str, ...]] = ()
    #: Upload formats this provider adds (:class:`anytune.data.DataFormat`): its
    #: ``Limits.data_format`` may name one, and ``anytune convert --to NAME`` writes it.
    #: The core's own are ``openai`` and ``alpaca``.
    data_formats: ClassVar[tuple[DataFormat, ...]] = ()

    @classmethod
    def quickstart(cls) -> dict[str, Any]:
        """``anytune quickstart --provider NAME``: a short real run that shows this provider
        working, progress on stderr; returns the summary ``--json`` prints. The default
        raises :class:`UnsupportedError`: a provider that offers one overrides it."""
        raise UnsupportedError(cls.name, "quickstart")

    def __init__(self, **settings: Any) -> None:
        unknown = set(settings) - set(self.settings)
        if unknown:
            from anytune._errors import ConfigurationError

            raise ConfigurationError(
                f"provider {self.name!r} got unknown setting(s) {sorted(unknown)}; "
                f"it accepts {sorted(self.settings)}"
            )
        self.config: dict[str, Any] = {k: v for k, v in settings.items() if v is not None}
        from anytune._log import note_providers, remember_secret

        remember_secret(*(v for k, v in self.config.items() if k in self.secret_names))
        note_providers()
        #: Set by the core while it uploads with progress shown (``Job.create(progress=True)``,
        #: the CLI on a terminal): a provider that can tell how far an upload got calls it
        #: with (bytes sent, bytes in all). Optional; ``None`` otherwise.
        self.upload_progress: Callable[[int, int], None] | None = None

    def __repr__(self) -> str:
        # Settings may hold secrets: never show their values.
        return f"<{type(self).__name__} provider={self.name!r}>"

    @classmethod
    def emulator(
        cls,
        *,
        port: int = 0,
        job_seconds: float = 30.0,
        faults: str = "",
        api_key: str | None = None,
    ) -> Emulator:
        """A local emulator of this provider's API, for ``anytune sandbox`` and tests.
        ``faults`` is ``OPERATION:KIND[:COUNT],...`` (docs/design.md §7)."""
        raise UnsupportedError(cls.name, "sandbox")

    # --- capability checks -------------------------------------------------------------
    def supports(self, operation: str) -> bool:
        """Whether this provider supports ``operation`` (a key of ``OPERATION_CAPABILITY``)."""
        return bool(self.capabilities & OPERATION_CAPABILITY[operation])

    def require(self, operation: str) -> None:
        """Raise :class:`UnsupportedError` unless ``operation`` is supported."""
        if not self.supports(operation):
            raise UnsupportedError(self.name, operation)

    # --- preflight: no network, no credentials ----------------------------------------
    def catalog(self) -> builtins.list[ModelInfo]:
        """The tunable models, with prices from the provider's data file."""
        return []

    def model_info(self, model: str) -> ModelInfo | None:
        """The catalog entry for ``model``, or ``None`` when it is not listed."""
        return next((m for m in self.catalog() if m.model == model), None)

    def limits(self, model: str, method: str) -> Limits:
        """The dataset rules for this model and method."""
        info = self.model_info(model)
        return Limits(max_tokens_per_example=info.max_tokens(method) if info else None)

    def tokenizer(self, model: str) -> str:
        """How preflight counts tokens for ``model``: ``"tiktoken:<encoding>"``,
        ``"hf:<local path or cached id>"``, or ``"approx"`` (a documented estimate,
        reported as ``exact_tokens: false``)."""
        return "approx"

    def default_epochs(self, model: str, records: int) -> int:
        """Epochs the provider runs when the user gives none."""
        return 3

    def price_usd(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hyperparameters: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> float | None:
        """The cost of training ``trained_tokens``, from the catalog's price table; ``None``
        when the catalog has no price (local runs cost nothing: they return 0.0).
        ``options`` are the job's provider options (e.g. ``full=True``, which some
        providers price differently from LoRA)."""
        info = self.model_info(model)
        if info is None:
            return None
        per_million = info.price_per_million_tokens.get(method)
        return None if per_million is None else per_million * trained_tokens / 1_000_000

    def estimate_notes(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hyperparameters: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> builtins.list[str]:
        """Extra lines for ``estimate()`` (not for ``create``), e.g. how long a local run
        would take. May take a few seconds; must not need network or credentials."""
        return []

    def check_create(
        self,
        model: str,
        method: str,
        *,
        now: datetime,
        hyperparameters: Hyperparameters | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Raise before anything is uploaded if this job cannot be created (a retired
        model, a shutdown date passed, a method the model lacks, a hyperparameter or
        option the model refuses). ``now`` is injectable; the core always passes the
        job's ``hyperparameters`` and provider ``options``."""

    # --- job ids ------------------------------------------------------------------------
    #: A regular expression that this provider's native job ids match (``"ftjob-.+"``), so
    #: that ``anytune get ftjob-...`` without ``openai:`` can say which provider it likely
    #: means. ``None``: no recognisable shape.
    job_id_pattern: ClassVar[str | None] = None

    def qualify_job_id(self, job_id: str) -> str:
        """The full native id for a short form a user may type (Vertex expands a numeric
        tuning-job id with the configured project and location). May read settings and
        credentials; the default returns ``job_id`` unchanged."""
        return job_id

    def fetch_catalog(self) -> dict[str, Any] | None:
        """Ask the vendor which models are tunable now (network; reads credentials).

        Returns the document :func:`anytune.refresh_catalog` stores in the user cache (with
        the fetch time added): ``{"source": "<route asked>", "models": [{"model": ...}, ...]}``,
        each entry holding what the vendor said about that model; the provider's
        :meth:`catalog` reads it back. ``None`` (the default): the vendor publishes no such
        list, and the packaged table stays the only source."""
        return None

    # --- network: sync ------------------------------------------------------------------
    def upload(self, path: Path, *, purpose: str) -> str:
        """Upload a prepared file; return the provider's file reference."""
        raise UnsupportedError(self.name, "upload")

    def create(self, request: CreateRequest) -> JobSnapshot:
        """Start a job. Must not retry on its own after the request may have been sent:
        the core recovers through :meth:`find_by_idempotency_key` instead."""
        raise UnsupportedError(self.name, "create")

    def get(self, job_id: str) -> JobSnapshot:
        """The job's current state."""
        raise UnsupportedError(self.name, "get")

    def list(self, *, limit: int = 20) -> builtins.list[JobSnapshot]:
        """Recent jobs, newest first."""
        raise UnsupportedError(self.name, "list")

    def cancel(self, job_id: str) -> JobSnapshot:
        """Ask the provider to stop the job."""
        raise UnsupportedError(self.name, "cancel")

    def events(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """The job's events, oldest first."""
        raise UnsupportedError(self.name, "events")

    def metrics(self, job_id: str) -> builtins.list[Metric]:
        """Training metrics by step, oldest first."""
        raise UnsupportedError(self.name, "metrics")

    def checkpoints(self, job_id: str) -> builtins.list[Checkpoint]:
        """Saved checkpoints, oldest first."""
        raise UnsupportedError(self.name, "checkpoints")

    # --- after the job: weights on disk, serving (issue 14) ---------------------------------
    def download(self, job_id: str, output_dir: Path) -> Path:
        """Write the job's tuned weights (adapter or model, as the provider offers them)
        into ``output_dir``; return the folder that holds them."""
        raise UnsupportedError(self.name, "download")

    def export_merged(self, job_id: str, output_dir: Path) -> Path:
        """Write the adapter merged into its base model (safetensors + tokenizer) into
        ``output_dir``, loadable by transformers and vLLM; return ``output_dir``."""
        raise UnsupportedError(self.name, "export --merged")

    def serve_command(self, job_id: str, *, host: str = "127.0.0.1", port: int = 8000) -> ServeCommand:
        """The command that serves the tuned model behind an OpenAI-compatible API (see
        :func:`anytune._serve.vllm_command`). Pure: reads files at most, starts nothing."""
        raise UnsupportedError(self.name, "serve")

    def find_by_idempotency_key(self, key: str, *, limit: int = 50) -> JobSnapshot | None:
        """Find a job created with ``key`` among recent jobs (recovery after an ambiguous
        failure of ``create``). The default scans :meth:`list` for ``metadata``."""
        if not self.supports("list"):
            return None
        for snap in self.list(limit=limit):
            if snap.metadata.get("anytune_idempotency_key") == key:
                return snap
        return None

    def upload_exists(self, file_ref: str) -> bool:
        """Whether a file uploaded earlier (``file_ref``, from :meth:`upload`) is still
        there, asked before the core reuses it for identical content. Override where the
        vendor offers a cheap check (a file retrieve, object metadata): answer ``False``
        only when the vendor says "not found". The default trusts the record (``True``);
        the core still uploads again once if ``create`` then refuses a missing file."""
        return True

    def native_tracking(
        self, tracker: str, request: CreateRequest, context: TrackingContext
    ) -> CreateRequest | None:
        """Switch on this provider's own integration with ``tracker`` (``"wandb"``,
        ``"mlflow"``, ``"tensorboard"``) for the job of ``request``: return the request
        with it switched on (e.g. OpenAI's ``integrations``), or ``None`` when there is
        none, and anytune then syncs the job into the tracker itself (while ``wait``
        runs, and with ``anytune sync``). ``context`` holds the run's project, entity,
        name and params. A secret it needs comes from the tracker's own environment
        variable, goes into the request only, and is never logged or stored."""
        return None

    def chat(
        self, model: str, messages: builtins.list[dict[str, Any]], *, base_model: str | None = None,
        **params: Any,
    ) -> ChatReply:
        """One chat request to ``model``: a tuned model (a job's ``result.model`` or a
        checkpoint's ``model``, with the job's ``base_model``) or a base model (then
        ``base_model`` is ``None``). ``params`` are OpenAI-style sampling settings
        (``max_tokens``, ``temperature``, ``seed``, ``top_p``) mapped to the vendor's names.
        Used by ``job.chat`` and ``job.evaluate``; must not retry on its own (the caller does)."""
        raise UnsupportedError(self.name, "chat")

    def inference_price(self, model: str, *, base_model: str | None = None) -> tuple[float, float] | None:
        """USD per million (input, output) tokens of a chat request to ``model`` (tuned when
        ``base_model`` is given), from the provider's data file; ``None`` when unknown.
        Used for the cost estimate of ``evaluate`` before anything runs."""
        return None

    def scope(self) -> str:
        """A non-secret name of the account or endpoint (base URL, project, location)
        that uploads and jobs belong to: a cached upload, or a job returned again for
        the same spec or key, is reused only within the same scope."""
        return ""

    def close(self) -> None:
        """Release clients and connections."""


def hyperparameters_or_default(hp: Hyperparameters | None) -> Hyperparameters:
    """``hp`` or an all-default :class:`Hyperparameters`."""
    return hp if hp is not None else Hyperparameters()
