"""``TogetherProvider``: anytune's provider SPI on the official ``together`` SDK.

Request building and response mapping live in :mod:`._mapping` (no I/O), errors in
:mod:`._errors`, the catalog in :mod:`._catalog`; this module moves data between them
and the sync ``together.Together`` client; :mod:`._async` holds the async twins on
``together.AsyncTogether`` (only ``aupload``, file I/O, runs the sync one in a thread).

Retries: reads and uploads keep the SDK's own (bounded, honouring ``Retry-After``). An
upload repeated after a lost answer stores nothing twice: Together answers 409 with the
existing file for a checksum it already holds, and the SDK returns that file. ``create``
runs with ``max_retries=0``: the SDK would resend the POST after a dropped connection
and Together has no idempotency key, so the core recovers through
:meth:`find_by_idempotency_key` (the key's tag rides in the job's suffix).
"""

from __future__ import annotations

import builtins
import logging
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from anytune.errors import InvalidRequestError, MissingCredentialsError, NotFoundError, ProviderError
from anytune.provider import (
    Capability,
    ChatReply,
    Checkpoint,
    CreateRequest,
    Hyperparameters,
    JobEvent,
    JobSnapshot,
    Limits,
    Metric,
    ModelInfo,
    Provider,
)
from anytune_together import _catalog
from anytune_together._async import AsyncTwins
from anytune_together._chat import chat_params, check_serverless, inference_price, reply_from
from anytune_together._create import (
    accepted_estimate,
    creating,
    estimate_kwargs,
    prepared_params,
    wandb_options,
    with_estimate,
    with_lora_settings,
)
from anytune_together._errors import translating
from anytune_together._mapping import (
    CREATE_OPTIONS,
    TAG_METADATA_KEY,
    checkpoint_from,
    event_from,
    idempotency_tag,
    metrics_from,
    snapshot_from,
)

if TYPE_CHECKING:
    from anytune.provider import TrackingContext
    from anytune_together.emulator import TogetherEmulator

__all__ = ["TogetherProvider"]

log = logging.getLogger("anytune.together")
DEFAULT_BASE_URL = "https://api.together.ai"


class TogetherProvider(AsyncTwins, Provider):
    """Fine-tuning on Together AI (``provider="together"``).

    Settings: ``api_key`` (else ``TOGETHER_API_KEY``), ``base_url`` (else
    ``TOGETHER_BASE_URL``, else Together's), ``timeout`` (seconds per request) and
    ``max_retries`` (the SDK's retries for reads and uploads). Options of ``Job.create``:
    ``full=True`` for full fine-tuning (LoRA otherwise) and Together's own knobs listed in
    :data:`~anytune_together._mapping.CREATE_OPTIONS` (``n_checkpoints``, ``n_evals``...)."""

    name: ClassVar[str] = "together"
    # Together fine-tune ids: "ft-" + a UUID-like tail (API reference, fine-tunes, 2026-11).
    job_id_pattern: ClassVar[str | None] = r"ft-[A-Za-z0-9-]+"
    capabilities: ClassVar[Capability] = (
        Capability.SFT
        | Capability.DPO
        | Capability.LORA
        | Capability.FULL
        | Capability.VALIDATION_FILE
        | Capability.LIST
        | Capability.CANCEL
        | Capability.EVENTS
        | Capability.METRICS
        | Capability.CHECKPOINTS
    )
    settings: ClassVar[frozenset[str]] = frozenset({"api_key", "base_url", "timeout", "max_retries"})
    create_options: ClassVar[frozenset[str]] = CREATE_OPTIONS
    closed_catalog: ClassVar[bool] = True
    secret_names: ClassVar[frozenset[str]] = frozenset({"api_key", "wandb_api_key"})

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._sync: Any = None
        self._async: Any = None
        self._async_loop: Any = None

    # --- clients (credentials are read here, on the first network call) ----------------
    def _key(self) -> str:
        return str(self.config.get("api_key") or os.environ.get("TOGETHER_API_KEY") or "")

    def _secrets(self) -> tuple[str, ...]:
        key = self._key()
        return (key,) if key else ()

    def _client_kwargs(self) -> dict[str, Any]:
        key = self._key()
        if not key:
            raise MissingCredentialsError("together", env_var="TOGETHER_API_KEY", argument="api_key")
        kwargs: dict[str, Any] = {"api_key": key, "base_url": self.scope()}
        for name in ("timeout", "max_retries"):
            if self.config.get(name) is not None:
                kwargs[name] = self.config[name]
        return kwargs

    def client(self) -> Any:
        """The sync ``together.Together`` client (created on first use)."""
        if self._sync is None:
            import together

            self._sync = together.Together(**self._client_kwargs())
        return self._sync

    def async_client(self) -> Any:
        """The ``together.AsyncTogether`` client of the running event loop (created on
        first use; a new loop gets a new client, as its connections belong to one loop)."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self._async is None or self._async_loop is not loop:
            import together

            self._async = together.AsyncTogether(**self._client_kwargs())
            self._async_loop = loop
        return self._async

    def scope(self) -> str:
        """The API endpoint files and jobs belong to (never the key)."""
        return str(self.config.get("base_url") or os.environ.get("TOGETHER_BASE_URL") or DEFAULT_BASE_URL)

    def upload_exists(self, file_ref: str) -> bool:
        """Whether Together still stores the file (``GET /v1/files/{id}``; 404: gone)."""
        try:
            with translating(self._secrets()):
                self.client().files.retrieve(file_ref)
        except NotFoundError:
            return False
        return True

    @classmethod
    def emulator(
        cls,
        *,
        port: int = 0,
        job_seconds: float = 30.0,
        faults: str = "",
        api_key: str | None = None,
        **options: Any,
    ) -> TogetherEmulator:
        """A local emulator of Together's fine-tuning API (``anytune sandbox together``).
        ``options`` go to :class:`TogetherEmulator` (``slow_seconds``, ``retry_after``,
        ``clock``), for test harnesses."""
        from anytune_together.emulator import TogetherEmulator

        return TogetherEmulator(port=port, job_seconds=job_seconds, faults=faults, api_key=api_key, **options)

    # --- preflight ------------------------------------------------------------------------
    def catalog(self) -> builtins.list[ModelInfo]:
        return _catalog.models()

    def model_info(self, model: str) -> ModelInfo | None:
        """The catalog entry; for a model neither list knows but whose size its name gives,
        an entry priced by Together's size band (``listed=False``, ``price_note`` says so)."""
        found = super().model_info(model)
        if found is not None or _catalog.size_from_name(model) is None:
            return found
        data = _catalog.catalog_data()
        prices = {k: v for k, v in (
            ("sft", _catalog.price_per_million(model, "sft", "lora")),
            ("dpo", _catalog.price_per_million(model, "dpo", "lora")),
        ) if v is not None}
        return ModelInfo(
            provider=self.name, model=model, methods=("sft", "dpo"), price_per_million_tokens=prices,
            price_source=data["price_source"], price_as_of=data["price_as_of"], listed=False,
            price_note=_catalog.price_note(model),
        )

    def fetch_catalog(self) -> dict[str, Any] | None:
        """Together's list of tunable models (``GET /v1/fine-tunes/models/supported``, which
        the SDK has no method for: asked through its raw client) and each model's limits
        (``client.fine_tuning.model_limits``: context length per method, LoRA ranks, batch
        sizes, whether full training is offered)."""
        from concurrent.futures import ThreadPoolExecutor

        client = self.client()
        with translating(self._secrets()):
            listed = client.get("/v1/fine-tunes/models/supported", cast_to=object)
        names = [str(n) for n in (listed or {}).get("models", [])]

        def limits_of(name: str) -> dict[str, Any] | None:
            try:
                with translating(self._secrets()):
                    answer = client.fine_tuning.model_limits(model_name=name)
            except ProviderError as exc:  # one model's limits missing: keep the model, say so
                log.warning("together: no limits for %s (%s)", name, exc)
                return None
            return dict(answer.to_dict())

        # One request per model: a few at a time keeps a 100-model refresh to seconds.
        with ThreadPoolExecutor(max_workers=8) as pool:
            limits = list(pool.map(limits_of, names))
        return {
            "source": f"GET {self.scope()}/v1/fine-tunes/models/supported and /v1/fine-tunes/models/limits",
            "models": [{"model": n, "limits": lim} for n, lim in zip(names, limits, strict=True)],
        }

    def limits(self, model: str, method: str) -> Limits:
        data = _catalog.catalog_data()
        info = self.model_info(model)
        return Limits(
            min_examples=data["min_examples"],
            max_file_bytes=data["max_file_bytes"],
            max_tokens_per_example=info.max_tokens(method) if info else None,
            data_format="together",
            source=data["limits_source"],
            # Unlisted models are let through: Together itself is the judge.
            tools=bool((_catalog.entry(model) or {}).get("tools", True)),
        )

    def tokenizer(self, model: str) -> str:
        return _catalog.tokenizer(model)

    def default_epochs(self, model: str, records: int) -> int:
        """Together's ``n_epochs`` default (the SDK's and the API's): 1."""
        return 1

    def price_usd(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hyperparameters: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> float | None:
        """Tokens x the rate of the model's size band for LoRA (what runs by default) or,
        with the create option ``full=True``, full fine-tuning. No minimum charge, as
        Together's FAQ says."""
        per_million = _catalog.price_per_million(model, method, _training_type(options))
        if per_million is None:
            return None
        minimum = float(_catalog.catalog_data()["minimum_charge_usd"])
        return max(per_million * trained_tokens / 1_000_000, minimum)

    def estimate_notes(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hyperparameters: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> builtins.list[str]:
        kind = _training_type(options)
        priced_as = "full fine-tuning" if kind == "full" else "LoRA"
        priced = _catalog.price_per_million(model, method, kind) is not None
        notes = [f"priced as {priced_as}; no minimum charge (Together's FAQ)"] if priced else []
        full = _catalog.price_per_million(model, method, "full")
        if kind == "lora" and full is not None and hyperparameters.lora is None:
            notes.append(f"full fine-tuning (full=True) would cost ${full * trained_tokens / 1_000_000:.4f}")
        notes.append("Together's estimate-price endpoint gives its own figure once the file is uploaded")
        return notes

    def check_create(
        self,
        model: str,
        method: str,
        *,
        now: datetime,
        hyperparameters: Hyperparameters | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        _catalog.check_create(model, method, full=_training_type(options) == "full")

    # --- network ----------------------------------------------------------------------------
    def upload(self, path: Path, *, purpose: str) -> str:
        """Upload ``path`` as a ``fine-tune`` file, through the SDK's local file check."""
        report = self.upload_progress
        kwargs: dict[str, Any] = {}
        if report is not None:  # the SDK reports bytes sent as FileUploadProgress
            kwargs["progress_callback"] = lambda p: report(p.uploaded_bytes, p.total_bytes)
        with translating(self._secrets()):
            created = self.client().files.upload(file=Path(path), purpose="fine-tune", check=True, **kwargs)
        return str(created.id)

    def vendor_estimate(self, request: CreateRequest) -> dict[str, Any] | None:
        """Together's own estimate (``POST /fine-tunes/estimate-price``) for ``request``'s
        uploaded file, or ``None`` when Together cannot estimate it (yet)."""
        kwargs = estimate_kwargs(request)
        with translating(self._secrets()):
            return accepted_estimate(self.client().fine_tuning.estimate_price(**kwargs))

    def native_tracking(
        self, tracker: str, request: CreateRequest, context: TrackingContext
    ) -> CreateRequest | None:
        """W&B: Together logs the job to W&B itself when its create carries a W&B key
        (``wandb_api_key``, from ``WANDB_API_KEY``), project and run name. Without a key
        in the environment, or for other trackers: none (anytune syncs them)."""
        return wandb_options(tracker, request, context)

    def create(self, request: CreateRequest) -> JobSnapshot:
        params = prepared_params(request)
        estimate = None
        try:
            estimate = self.vendor_estimate(request)
        except ProviderError as exc:  # "when reachable": the job does not depend on it
            log.info("together: estimate-price unavailable (%s)", type(exc).__name__)
        with translating(self._secrets()):  # the limits the SDK would fetch, read once here
            limits = self.client().fine_tuning.model_limits(model_name=request.model)
        params = with_lora_settings(params, limits, request.model)
        with creating(self._secrets(), request):  # redacts the job's W&B key too
            job = self.client().with_options(max_retries=0).fine_tuning.create(
                **params, model_limits=limits)
        return with_estimate(snapshot_from(job), estimate)

    def get(self, job_id: str) -> JobSnapshot:
        with translating(self._secrets()):
            return snapshot_from(self.client().fine_tuning.retrieve(job_id))

    def list(self, *, limit: int = 20) -> builtins.list[JobSnapshot]:
        """Recent jobs, newest first (Together lists them all in one page)."""
        with translating(self._secrets()):
            page = self.client().fine_tuning.list()
        snaps = [snapshot_from(j) for j in page.data or []]
        snaps.sort(key=lambda s: s.created_at.timestamp() if s.created_at else 0.0, reverse=True)
        return snaps[:limit]

    def cancel(self, job_id: str) -> JobSnapshot:
        """Cancel the job. Idempotent: a job that already ended is returned as it ended."""
        try:
            with translating(self._secrets()):
                return snapshot_from(self.client().fine_tuning.cancel(job_id))
        except InvalidRequestError:
            snap = self.get(job_id)
            if snap.status.terminal:
                return snap
            raise

    def events(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """The latest ``limit`` events, oldest first."""
        with translating(self._secrets()):
            page = self.client().fine_tuning.list_events(job_id)
        events = sorted((event_from(e) for e in page.data or []), key=lambda e: e.created_at)
        return events[-limit:] if limit else []

    def checkpoints(self, job_id: str) -> builtins.list[Checkpoint]:
        with translating(self._secrets()):
            page = self.client().fine_tuning.list_checkpoints(job_id)
        return sorted((checkpoint_from(job_id, c) for c in page.data or []), key=lambda c: c.step or 0)

    def metrics(self, job_id: str) -> builtins.list[Metric]:
        with translating(self._secrets()):
            answer = self.client().fine_tuning.list_metrics(job_id)
        return metrics_from(list(answer.metrics or []))

    def download(self, job_id: str, output_dir: Path, *, checkpoint: str | None = None) -> Path:
        """Download the tuned weights and unpack them into ``output_dir``: the LoRA adapter
        by default (``checkpoint="merged"`` for the merged model); a full fine-tune's model.
        See :mod:`anytune_together._download` for the route and the archive format."""
        from anytune_together._download import download_weights

        with translating(self._secrets()):
            return download_weights(self.client(), job_id, Path(output_dir), checkpoint=checkpoint)

    def find_by_idempotency_key(self, key: str, *, limit: int = 50) -> JobSnapshot | None:
        """The job whose suffix carries ``key``'s tag (Together stores no metadata)."""
        tag = idempotency_tag(key)
        for snap in self.list(limit=limit):
            if snap.metadata.get(TAG_METADATA_KEY) == tag:
                return snap
        return None

    def chat(
        self, model: str, messages: builtins.list[dict[str, Any]], *, base_model: str | None = None,
        **params: Any,
    ) -> ChatReply:
        """Chat completions with the job's output model (serverless LoRA) or a base model."""
        check_serverless(model, base_model)
        with translating(self._secrets()):
            resp = self.client().chat.completions.create(**chat_params(model, messages, params))
        return reply_from(resp)

    async def achat(
        self, model: str, messages: builtins.list[dict[str, Any]], *, base_model: str | None = None,
        **params: Any,
    ) -> ChatReply:
        """Async twin of :meth:`chat` on ``AsyncTogether``."""
        check_serverless(model, base_model)
        with translating(self._secrets()):
            resp = await self.async_client().chat.completions.create(**chat_params(model, messages, params))
        return reply_from(resp)

    def inference_price(self, model: str, *, base_model: str | None = None) -> tuple[float, float] | None:
        """From ``inference.json``: serverless LoRA is billed at the base model's rate."""
        return inference_price(model, base_model)

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None


def _training_type(options: Mapping[str, Any] | None) -> str:
    """``"full"`` when the job asks for full fine-tuning (``full=True``), else ``"lora"``."""
    return "full" if (options or {}).get("full") else "lora"
