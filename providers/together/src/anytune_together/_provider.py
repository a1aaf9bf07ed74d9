"""``TogetherProvider``: anytune's provider SPI on the official ``together`` SDK.

Request building and response mapping live in :mod:`._mapping` (no I/O), errors in
:mod:`._errors`, the catalog in :mod:`._catalog`; this module moves data between them
and the sync ``together.Together`` client; :mod:`._async` holds the async twins on
``together.AsyncTogether`` (only ``aupload``, file I/O, runs the sync one in a thread).
The plumbing (clients, secrets, close, idempotent cancel) is
:class:`~anytune.provider.SDKProvider`'s.

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

from anytune.errors import ProviderError
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
)
from anytune_together import _catalog, _errors
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
from anytune_together._format import TOGETHER_FORMAT
from anytune_together._mapping import (
    CREATE_OPTIONS,
    TAG_METADATA_KEY,
    checkpoint_from,
    idempotency_tag,
    latest_events,
    metrics_from,
    snapshot_from,
)

if TYPE_CHECKING:
    from anytune.provider import TrackingContext
    from anytune_together.emulator import TogetherEmulator

__all__ = ["TogetherProvider"]

log = logging.getLogger("anytune.together")
DEFAULT_BASE_URL = "https://api.together.ai"


class TogetherProvider(AsyncTwins):
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
    #: ``tgp_v1_`` keys: Together documents no key format; keys leaked in public code are
    #: ``tgp_v1_`` and 43 URL-safe base64 characters (seven seen, and a secret scanner's
    #: test list maps ``tgp_v1_`` to Together: public code search, 2026-11-30). The SDK
    #: sends the W&B key as ``wandb_key`` and logs request bodies through ``together`` and
    #: httpx at debug (together 3.1.1 ``_utils/_logs.py``).
    secret_patterns: ClassVar[tuple[str, ...]] = (r"\b(tgp_v1_)[A-Za-z0-9_\-\*]{4,}",)
    secret_fields: ClassVar[tuple[str, ...]] = ("wandb_key",)
    loggers: ClassVar[tuple[str, ...]] = ("together", "httpx", "httpcore")
    data_formats = (TOGETHER_FORMAT,)  # "together", written by _format.py
    api_key_env: ClassVar[str] = "TOGETHER_API_KEY"
    sdk_clients: ClassVar[tuple[str, str] | None] = ("together:Together", "together:AsyncTogether")

    # --- clients (credentials are read here, on the first network call) ----------------
    def client_kwargs(self) -> dict[str, Any]:
        """For ``together.Together`` and ``together.AsyncTogether`` (``sdk_clients``)."""
        return {"api_key": self.api_key(), "base_url": self.scope(), **self.given("timeout", "max_retries")}

    sdk_errors = staticmethod(_errors.sdk_errors)
    map_error = staticmethod(_errors.map_error)

    def scope(self) -> str:
        """The API endpoint files and jobs belong to (never the key)."""
        return str(self.config.get("base_url") or os.environ.get("TOGETHER_BASE_URL") or DEFAULT_BASE_URL)

    def fetch_upload(self, file_ref: str) -> bool:
        """``GET /v1/files/{id}`` (404: gone)."""
        self.client().files.retrieve(file_ref)
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
        with self.translating("fetch_catalog"):
            listed = client.get("/v1/fine-tunes/models/supported", cast_to=object)
        names = [str(n) for n in (listed or {}).get("models", [])]

        def limits_of(name: str) -> dict[str, Any] | None:
            try:
                with self.translating("fetch_catalog"):
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
        with self.translating("upload"):
            created = self.client().files.upload(file=Path(path), purpose="fine-tune", check=True, **kwargs)
        return str(created.id)

    def vendor_estimate(self, request: CreateRequest) -> dict[str, Any] | None:
        """Together's own estimate (``POST /fine-tunes/estimate-price``) for ``request``'s
        uploaded file, or ``None`` when Together cannot estimate it (yet)."""
        kwargs = estimate_kwargs(request)
        with self.translating("estimate"):
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
        with self.translating("create"):  # the limits the SDK would fetch, read once here
            limits = self.client().fine_tuning.model_limits(model_name=request.model)
        params = with_lora_settings(params, limits, request.model)
        with creating(self.secrets(), request):  # redacts the job's W&B key too
            job = self.client().with_options(max_retries=0).fine_tuning.create(
                **params, model_limits=limits)
        return with_estimate(snapshot_from(job), estimate)

    def get(self, job_id: str) -> JobSnapshot:
        with self.translating("get"):
            return snapshot_from(self.client().fine_tuning.retrieve(job_id))

    def list(self, *, limit: int = 20) -> builtins.list[JobSnapshot]:
        """Recent jobs, newest first (Together lists them all in one page)."""
        with self.translating("list"):
            page = self.client().fine_tuning.list()
        return self.newest_first((snapshot_from(j) for j in page.data or []), limit)

    def send_cancel(self, job_id: str) -> JobSnapshot:
        """``POST /fine-tunes/{id}/cancel`` (a 400 for an ended job: see ``SDKProvider.cancel``)."""
        return snapshot_from(self.client().fine_tuning.cancel(job_id))

    def events(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """The latest ``limit`` events, oldest first."""
        with self.translating("events"):
            page = self.client().fine_tuning.list_events(job_id)
        return latest_events(page, limit)

    def checkpoints(self, job_id: str) -> builtins.list[Checkpoint]:
        with self.translating("checkpoints"):
            page = self.client().fine_tuning.list_checkpoints(job_id)
        return sorted((checkpoint_from(job_id, c) for c in page.data or []), key=lambda c: c.step or 0)

    def metrics(self, job_id: str) -> builtins.list[Metric]:
        with self.translating("metrics"):
            answer = self.client().fine_tuning.list_metrics(job_id)
        return metrics_from(list(answer.metrics or []))

    def download(self, job_id: str, output_dir: Path, *, checkpoint: str | None = None) -> Path:
        """Download the tuned weights and unpack them into ``output_dir``: the LoRA adapter
        by default (``checkpoint="merged"`` for the merged model); a full fine-tune's model.
        See :mod:`anytune_together._download` for the route and the archive format."""
        from anytune_together._download import download_weights

        with self.translating("download"):
            return download_weights(self.client(), job_id, Path(output_dir), checkpoint=checkpoint)

    def holds_idempotency_key(self, snap: JobSnapshot, key: str) -> bool:
        """The job's suffix carries ``key``'s tag (Together stores no metadata)."""
        return snap.metadata.get(TAG_METADATA_KEY) == idempotency_tag(key)

    def chat(
        self, model: str, messages: builtins.list[dict[str, Any]], *, base_model: str | None = None,
        **params: Any,
    ) -> ChatReply:
        """Chat completions with the job's output model (serverless LoRA) or a base model."""
        check_serverless(model, base_model)
        with self.translating("chat"):
            resp = self.client().chat.completions.create(**chat_params(model, messages, params))
        return reply_from(resp)

    def inference_price(self, model: str, *, base_model: str | None = None) -> tuple[float, float] | None:
        """From ``inference.json``: serverless LoRA is billed at the base model's rate."""
        return inference_price(model, base_model)


def _training_type(options: Mapping[str, Any] | None) -> str:
    """``"full"`` when the job asks for full fine-tuning (``full=True``), else ``"lora"``."""
    return "full" if (options or {}).get("full") else "lora"
