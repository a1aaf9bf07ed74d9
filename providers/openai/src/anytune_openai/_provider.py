"""``OpenAIProvider``: anytune's provider SPI on the official ``openai`` SDK.

Request building and response mapping live in :mod:`._mapping` (no I/O), errors in
:mod:`._errors`; this module only moves data between them and the sync
(``openai.OpenAI``) or async (``openai.AsyncOpenAI``, :mod:`._async`) client. The
plumbing (clients, secrets, close, idempotent cancel, pagination) is
:class:`~anytune.provider.SDKProvider`'s.

Retries: reads and file parts keep the SDK's own (bounded, exponential with jitter,
honouring ``Retry-After``). ``create`` runs with ``max_retries=0``: the SDK would resend
the POST after a dropped connection and OpenAI has no idempotency key, so the core
recovers through :meth:`find_by_idempotency_key` instead.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

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
from anytune_openai import _catalog, _errors
from anytune_openai._async import AsyncTwins
from anytune_openai._chat import chat_params, inference_price, reply_from
from anytune_openai._mapping import (
    IDEMPOTENCY_METADATA_KEY,
    INTEGRATIONS_OPTION,
    PAGE,
    checkpoint_from,
    create_params,
    event_from,
    metrics_from_events,
    oldest_first,
    page_items,
    page_kwargs,
    parse_result_file,
    snapshot_from,
    wandb_integration,
)

if TYPE_CHECKING:
    from anytune.provider import TrackingContext
    from anytune_openai.emulator import OpenAIEmulator

__all__ = ["OpenAIProvider"]


class OpenAIProvider(AsyncTwins):
    """Fine-tuning on OpenAI (``provider="openai"``).

    Settings: ``api_key`` (else ``OPENAI_API_KEY``), ``base_url`` (else
    ``OPENAI_BASE_URL``, else OpenAI's), ``organization``, ``timeout`` (seconds per
    request) and ``max_retries`` (the SDK's retries for reads and uploads)."""

    name: ClassVar[str] = "openai"
    # OpenAI job ids: "ftjob-" + letters and digits (API reference, fine_tuning.jobs, 2026-11).
    job_id_pattern: ClassVar[str | None] = r"ftjob-[A-Za-z0-9]+"
    capabilities: ClassVar[Capability] = (
        Capability.SFT
        | Capability.DPO
        | Capability.VALIDATION_FILE
        | Capability.LIST
        | Capability.CANCEL
        | Capability.EVENTS
        | Capability.METRICS
        | Capability.CHECKPOINTS
    )
    settings: ClassVar[frozenset[str]] = frozenset(
        {"api_key", "base_url", "organization", "timeout", "max_retries"}
    )
    api_key_env: ClassVar[str] = "OPENAI_API_KEY"
    sdk_clients: ClassVar[tuple[str, str] | None] = ("openai:OpenAI", "openai:AsyncOpenAI")

    #: Files above this size go through the Uploads API (OpenAI's Files API limit).
    closed_catalog: ClassVar[bool] = True
    #: Key shapes redacted even when unknown to this process: ``sk-`` keys (``sk-proj-``,
    #: and the masked ``sk-abc***xyz`` OpenAI echoes in a 401) and ``sess-`` session keys.
    #: (Carried over from the core's former table; the SDK logs through ``openai``/httpx.)
    secret_patterns: ClassVar[tuple[str, ...]] = (r"\b(sk-|sess-)[A-Za-z0-9_\-\*]{4,}",)
    loggers: ClassVar[tuple[str, ...]] = ("openai", "httpx", "httpcore")
    upload_threshold_bytes: int = _catalog.catalog_data()["files_api_max_bytes"]
    #: Size of each Uploads API part (OpenAI's maximum part size).
    upload_part_bytes: int = _catalog.catalog_data()["upload_part_bytes"]

    # --- clients (credentials are read here, on the first network call) ----------------
    def client_kwargs(self) -> dict[str, Any]:
        """For ``openai.OpenAI`` and ``openai.AsyncOpenAI`` (``sdk_clients``)."""
        return {"api_key": self.api_key(), **self.given("base_url", "organization", "timeout", "max_retries")}

    sdk_errors = staticmethod(_errors.sdk_errors)
    map_error = staticmethod(_errors.map_error)

    def scope(self) -> str:
        """The API endpoint (and organization, when one is set) that files and jobs
        belong to (never the key)."""
        base = str(self.config.get("base_url") or os.environ.get("OPENAI_BASE_URL")
                   or "https://api.openai.com/v1")
        org = self.config.get("organization")
        return f"{base} organization={org}" if org else base

    def fetch_upload(self, file_ref: str) -> bool:
        """``GET /files/{file_id}`` (404: gone)."""
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
    ) -> OpenAIEmulator:
        """A local emulator of OpenAI's fine-tuning API (``anytune sandbox openai``).
        ``options`` go to :class:`OpenAIEmulator` (``slow_seconds``, ``retry_after``,
        ``clock``), for test harnesses."""
        from anytune_openai.emulator import OpenAIEmulator

        return OpenAIEmulator(port=port, job_seconds=job_seconds, faults=faults, api_key=api_key, **options)

    # --- preflight ------------------------------------------------------------------------
    def catalog(self) -> list[ModelInfo]:
        return _catalog.models()

    def model_info(self, model: str) -> ModelInfo | None:
        """The catalog entry; a fine-tuned id (``ft:gpt-4.1-mini-2025-04-14:org::id``) is
        trained, limited and priced as its base model."""
        base = model[3:].split(":", 1)[0] if model.startswith("ft:") else model
        return next((m for m in self.catalog() if m.model == base), None)

    def fetch_catalog(self) -> dict[str, Any] | None:
        """Which models this account can still reach (``GET /v1/models``). OpenAI publishes
        no list of *tunable* models, so the packaged table stays the list of candidates and
        the answer only says which of them still exist here."""
        with self.translating("fetch_catalog"):
            page = self.client().models.list()
            ids = sorted(str(m.id) for m in page)
        return {"source": f"GET {self.scope()}/models", "models": [{"model": i} for i in ids]}

    def limits(self, model: str, method: str) -> Limits:
        data = _catalog.catalog_data()
        info = self.model_info(model)
        return Limits(
            min_examples=data["min_examples"],
            max_file_bytes=data["max_file_bytes"],
            max_tokens_per_example=info.max_tokens(method) if info else None,
            data_format="openai",
            source=data["limits_source"],
        )

    def tokenizer(self, model: str) -> str:
        return _catalog.tokenizer(model)

    def default_epochs(self, model: str, records: int) -> int:
        return _catalog.default_epochs(records)

    def estimate_notes(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hyperparameters: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> builtins.list[str]:
        """Who may still train on OpenAI (its 2026 wind-down of self-serve fine-tuning)."""
        data = _catalog.catalog_data()
        return [f"OpenAI accepts no new fine-tuning jobs from {data['training_shutdown']}; "
                f"{data['access_note']}"]

    def check_create(
        self,
        model: str,
        method: str,
        *,
        now: datetime,
        hyperparameters: Hyperparameters | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        _catalog.check_create(model, method, now=now)

    # --- network: sync ---------------------------------------------------------------------
    def upload(self, path: Path, *, purpose: str) -> str:
        """Upload ``path`` as a ``fine-tune`` file (training and validation data alike)."""
        from anytune_openai._upload import Uploader

        uploader = Uploader(
            self.client(),
            part_bytes=self.upload_part_bytes,
            threshold_bytes=self.upload_threshold_bytes,
            progress=self.upload_progress,
            secrets=self.secrets(),
        )
        return uploader.run(Path(path))

    def native_tracking(
        self, tracker: str, request: CreateRequest, context: TrackingContext
    ) -> CreateRequest | None:
        """W&B: OpenAI's own integration (``integrations`` with type ``wandb``), which
        streams the job's metrics to W&B with the key registered in the OpenAI
        organisation. Other trackers: none (anytune syncs them)."""
        if tracker != "wandb":
            return None
        item = wandb_integration(context.project, name=context.name, entity=context.entity,
                                 tags=["anytune"])
        current = list(request.options.get(INTEGRATIONS_OPTION) or [])
        options = {**request.options, INTEGRATIONS_OPTION: [*current, item]}
        return request.model_copy(update={"options": options})

    def create(self, request: CreateRequest) -> JobSnapshot:
        params = create_params(request)
        with self.translating("create"):
            job = self.client().with_options(max_retries=0).fine_tuning.jobs.create(**params)
        return snapshot_from(job)

    def get(self, job_id: str) -> JobSnapshot:
        with self.translating("get"):
            return snapshot_from(self.client().fine_tuning.jobs.retrieve(job_id))

    def list(self, *, limit: int = 20, metadata: dict[str, str] | None = None) -> list[JobSnapshot]:
        """Recent jobs, newest first (OpenAI's order), following ``after`` cursors."""
        jobs = self.client().fine_tuning.jobs
        with self.translating("list"):
            found = self.paginate(lambda after, n: page_items(jobs.list(**page_kwargs(after, n, metadata))),
                                  limit=limit, page_size=PAGE)
        return [snapshot_from(j) for j in found]

    def send_cancel(self, job_id: str) -> JobSnapshot:
        """``POST .../cancel``; OpenAI refuses a job that has ended with a 400, which
        ``cancel`` (the base's) turns into the ended job."""
        return snapshot_from(self.client().fine_tuning.jobs.cancel(job_id))

    def events(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """The latest ``limit`` events, oldest first (OpenAI pages them newest first)."""
        list_events = self.client().fine_tuning.jobs.list_events
        with self.translating("events"):
            raw = self.paginate(lambda after, n: page_items(list_events(job_id, **page_kwargs(after, n))),
                                limit=limit, page_size=PAGE)
        return oldest_first([event_from(e) for e in raw])

    def checkpoints(self, job_id: str) -> builtins.list[Checkpoint]:
        pages = self.client().fine_tuning.jobs.checkpoints
        with self.translating("checkpoints"):
            raw = self.paginate(lambda after, n: page_items(pages.list(job_id, **page_kwargs(after, n))),
                                limit=None, page_size=PAGE)
        return sorted((checkpoint_from(c) for c in raw), key=lambda c: c.step or 0)

    def metrics(self, job_id: str) -> builtins.list[Metric]:
        """From the result file once the job has one; from metrics events before."""
        snap = self.get(job_id)
        result_files = (snap.raw or {}).get("result_files") or []
        if result_files:
            with self.translating("metrics"):
                content = self.client().files.content(result_files[0]).read()
            return parse_result_file(content)
        return metrics_from_events(self.events(job_id, limit=10_000))

    def chat(
        self, model: str, messages: builtins.list[dict[str, Any]], *, base_model: str | None = None,
        **params: Any,
    ) -> ChatReply:
        """Chat completions with a tuned (``ft:...``) or base model."""
        with self.translating("chat"):
            resp = self.client().chat.completions.create(**chat_params(model, messages, params))
        return reply_from(resp)

    def inference_price(self, model: str, *, base_model: str | None = None) -> tuple[float, float] | None:
        """From ``inference_prices.json``; a tuned model is priced as OpenAI prices fine-tuned ones."""
        return inference_price(model, tuned=base_model is not None or model.startswith("ft:"))

    def idempotency_filter(self, key: str) -> dict[str, Any]:
        """OpenAI filters jobs by metadata; the base checks the key again."""
        return {"metadata": {IDEMPOTENCY_METADATA_KEY: key}}
