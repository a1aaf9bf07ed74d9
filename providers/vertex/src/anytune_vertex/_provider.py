"""``VertexProvider``: anytune's provider SPI on ``google-genai`` (tuning jobs) and
``google-cloud-storage`` (the ``gs://`` upload).

Request building and response mapping live in :mod:`._mapping` (no I/O), policies the
sync methods share with their async twins (:mod:`._async`) in :mod:`._rules`, errors in
:mod:`._errors`, credentials and clients in :mod:`._clients`. The plumbing (clients per
event loop, close, idempotent cancel, read retries) is
:class:`~anytune.provider.SDKProvider`'s.

Retries: the google-genai client runs with its retries off (its default). Reads (get,
list, events, checkpoints, cancel's follow-up get) are retried by ``SDKProvider.retrying``
on 429, 5xx, timeouts and dropped connections, waiting by anytune's one ``Backoff``
policy and honouring ``Retry-After``. ``create`` is sent once:
Vertex has no idempotency key, so the core recovers through
:meth:`find_by_idempotency_key`, which looks for the job label. Uploads use
``ifGenerationMatch=0`` on an object named by the file's SHA-256, so the storage SDK's
own retries can never store the file twice.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from anytune.errors import ConflictError, InvalidRequestError
from anytune.provider import (
    Capability,
    ChatReply,
    Checkpoint,
    CreateRequest,
    Hyperparameters,
    JobEvent,
    JobSnapshot,
    Limits,
    ModelInfo,
)
from anytune_vertex import _catalog, _clients, _errors, _rules
from anytune_vertex._async import AsyncTwins
from anytune_vertex._format import VERTEX_FORMAT
from anytune_vertex._mapping import adapter_size, checkpoints_from, events_from, snapshot_from, tune_arguments

if TYPE_CHECKING:
    from anytune_vertex.emulator import VertexEmulator

__all__ = ["VertexProvider"]

#: Chunk size of resumable uploads (Cloud Storage wants a multiple of 256 KiB).
UPLOAD_CHUNK_BYTES = 8 << 20


class VertexProvider(AsyncTwins):
    """Gemini tuning on Vertex AI (``provider="vertex"``).

    Settings: ``project`` (else ``GOOGLE_CLOUD_PROJECT``, else the credentials' project),
    ``location`` (else ``GOOGLE_CLOUD_LOCATION``, else ``us-central1``), ``credentials``
    (a google-auth credentials object or a JSON key file; else
    ``ANYTUNE_VERTEX_ACCESS_TOKEN``, else Application Default Credentials), ``base_url``
    (else ``GOOGLE_VERTEX_BASE_URL``), ``gcs_bucket`` and ``gcs_prefix`` (where training
    data is uploaded; else ``ANYTUNE_VERTEX_GCS_BUCKET``), ``timeout`` (seconds per
    request) and ``max_retries`` (retries of reads, default 3)."""

    name: ClassVar[str] = "vertex"
    # A tuning job's resource name, or its numeric id alone (Vertex AI REST reference,
    # projects.locations.tuningJobs, 2026-11).
    job_id_pattern: ClassVar[str | None] = r"(projects/[^/]+/locations/[^/]+/tuningJobs/)?[0-9]+"
    capabilities: ClassVar[Capability] = (
        Capability.SFT
        | Capability.DPO
        | Capability.LORA
        | Capability.VALIDATION_FILE
        | Capability.LIST
        | Capability.CANCEL
        | Capability.EVENTS
        | Capability.CHECKPOINTS
    )
    settings: ClassVar[frozenset[str]] = frozenset(
        {"project", "location", "credentials", "base_url", "gcs_bucket", "gcs_prefix", "timeout",
         "max_retries"}
    )
    #: No listing API exists (``fetch_catalog`` stays ``None``), but the packaged table is
    #: Google's whole list of tunable models: anything else deserves a warning.
    closed_catalog: ClassVar[bool] = True
    #: google-genai sends an API key as ``x-goog-api-key`` (``_api_client.py``) and logs
    #: through ``google_genai``; Cloud Storage and google-auth log under ``google`` and urllib3.
    secret_fields: ClassVar[tuple[str, ...]] = ("x-goog-api-key",)
    loggers: ClassVar[tuple[str, ...]] = ("google_genai", "google", "httpx", "httpcore", "urllib3")
    data_formats = (VERTEX_FORMAT,)  # "vertex" (Gemini contents), written by _format.py
    #: Vertex refuses to cancel an ended (or cancelling) job with FAILED_PRECONDITION.
    cancel_refusals: ClassVar[tuple[type[BaseException], ...]] = (InvalidRequestError, ConflictError)

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._resolved: _clients.Resolved | None = None
        self._storage: Any = None

    # --- clients (credentials are read here, on the first network call) -----------------
    def _r(self) -> _clients.Resolved:
        if self._resolved is None:
            self._resolved = _clients.resolve(self.config)
        return self._resolved

    def secrets(self) -> tuple[str, ...]:
        return _clients.secrets(self.config)

    def make_client(self) -> Any:
        """A ``google.genai.Client`` for Vertex."""
        timeout = self.config.get("timeout")
        return _clients.genai_client(self._r(), float(timeout) if timeout is not None else None)

    def make_async_client(self) -> Any:
        """google-genai's async client (``Client.aio``), one per event loop."""
        return self.make_client().aio

    sdk_errors = staticmethod(_errors.SDK_ERRORS)
    map_error = staticmethod(_errors.map_error)

    def storage_client(self) -> Any:
        """The ``google.cloud.storage.Client`` (created on first use)."""
        if self._storage is None:
            self._storage = _clients.storage_client(self._r())
        return self._storage

    def scope(self) -> str:
        """Where jobs and uploads live (never a credential): the Vertex endpoint, project
        and location, and ``gs://bucket/prefix`` on the Cloud Storage endpoint. Read from
        settings and environment only: no credential is loaded for it."""
        location = (self.config.get("location") or os.environ.get("GOOGLE_CLOUD_LOCATION")
                    or _clients.DEFAULT_LOCATION)
        endpoint = (self.config.get("base_url") or os.environ.get(_clients.BASE_URL_ENV)
                    or f"https://{location}-aiplatform.googleapis.com")
        project = self.config.get("project") or os.environ.get("GOOGLE_CLOUD_PROJECT") or ""
        # google-cloud-storage's own variable for another endpoint (an emulator).
        storage = os.environ.get("STORAGE_EMULATOR_HOST") or "https://storage.googleapis.com"
        try:
            bucket = f"gs://{_clients.bucket_name(self.config)}/{self._prefix()}"
        except Exception:  # no bucket yet: upload() will say so
            bucket = ""
        return f"{endpoint} projects/{project}/locations/{location} {storage} {bucket}".rstrip()

    def fetch_upload(self, file_ref: str) -> bool:
        """Whether the object is still in Cloud Storage (its metadata; none: gone)."""
        if not file_ref.startswith("gs://") or "/" not in file_ref[5:]:
            return True  # not an object anytune uploaded: not ours to judge
        bucket, name = file_ref[5:].split("/", 1)
        blob = self.retrying("upload_exists", lambda: self.storage_client().bucket(bucket).get_blob(name))
        return blob is not None

    def _prefix(self) -> str:
        return str(self.config.get("gcs_prefix") or "anytune").strip("/")

    @classmethod
    def emulator(
        cls,
        *,
        port: int = 0,
        job_seconds: float = 30.0,
        faults: str = "",
        api_key: str | None = None,
        **options: Any,
    ) -> VertexEmulator:
        """A local emulator of the Vertex tuning and Cloud Storage APIs (``anytune sandbox
        vertex``). ``api_key`` is the bearer token it accepts. ``options`` go to
        :class:`VertexEmulator`."""
        from anytune_vertex.emulator import VertexEmulator

        return VertexEmulator(port=port, job_seconds=job_seconds, faults=faults, api_key=api_key, **options)

    # --- preflight ------------------------------------------------------------------------
    def catalog(self) -> list[ModelInfo]:
        return _catalog.models()

    def model_info(self, model: str) -> ModelInfo | None:
        base = _catalog.base_model(model)
        return next((m for m in self.catalog() if m.model == base), None)


    def limits(self, model: str, method: str) -> Limits:
        data = _catalog.catalog_data()
        info = self.model_info(model)
        return Limits(
            min_examples=data["min_examples"],
            max_examples=data["max_examples"],
            max_file_bytes=data["max_file_bytes"],
            max_tokens_per_example=info.max_tokens(method) if info else None,
            data_format="vertex",
            source=f"{data['limits_source']}; minimum: {data['min_examples_source']}",
        )

    def tokenizer(self, model: str) -> str:
        # Gemini's tokenizer is not available offline: a documented approximation.
        return "approx"

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
        notes = ["Vertex bills training tokens x epochs; tokens here are estimated (Gemini's "
                 "tokenizer is not available offline)"]
        if hyperparameters.epochs is None:
            notes.append("epochs: Vertex picks them from the dataset size and does not publish "
                         "its rule; pass epochs= for an exact figure")
        if method == "dpo":
            notes.append("Vertex bills preference tuning as each example's prompt tokens twice plus "
                         "its completion tokens")
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
        """Refuse, before any upload, a method the model lacks and an adapter size or LoRA
        setting Vertex cannot do for it (a retired model is the core's to refuse)."""
        _catalog.check_create(model, method, now=now)
        if hyperparameters is not None and hyperparameters.lora is not None:
            adapter_size(hyperparameters.lora, _catalog.adapter_sizes(model), model)

    # --- network ---------------------------------------------------------------------------------
    def upload(self, path: Path, *, purpose: str) -> str:
        """Store ``path`` as ``gs://<bucket>/<prefix>/<sha256>.jsonl``; returns that URI."""
        bucket = _clients.bucket_name(self.config)
        digest = hashlib.sha256()
        with Path(path).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        name = f"{self._prefix()}/{digest.hexdigest()}.jsonl"
        from google.api_core.exceptions import PreconditionFailed
        from google.cloud.storage.retry import DEFAULT_RETRY

        timeout = self.config.get("timeout")
        with self.translating("upload"):
            blob = self.storage_client().bucket(bucket).blob(name)
            try:
                # ifGenerationMatch=0: create only. A retried upload whose first attempt
                # landed answers 412, and the object (named by its content) is the file.
                size = Path(path).stat().st_size
                if size > UPLOAD_CHUNK_BYTES:
                    # Large files go in chunks of a resumable upload: a failed chunk is
                    # re-sent alone, and the progress bar moves chunk by chunk.
                    blob.chunk_size = UPLOAD_CHUNK_BYTES
                with Path(path).open("rb") as fh:
                    blob.upload_from_file(
                        _ReadProgress(fh, size, self.upload_progress), size=size,
                        content_type="application/jsonl", if_generation_match=0,
                        retry=DEFAULT_RETRY, timeout=float(timeout) if timeout is not None else 60.0,
                    )
            except PreconditionFailed:
                pass
        return f"gs://{bucket}/{name}"

    def create(self, request: CreateRequest) -> JobSnapshot:
        """Start a tuning job; sent once (see the module docstring)."""
        kwargs = tune_arguments(request, _catalog.adapter_sizes(request.model))
        with self.translating("create"), warnings.catch_warnings():
            # tunings.tune is marked experimental in google-genai; the warning is noise here.
            warnings.simplefilter("ignore")
            job = self.client().tunings.tune(**kwargs)
        return snapshot_from(job)

    def qualify_job_id(self, job_id: str) -> str:
        """A numeric tuning-job id (as the console shows it) is expanded to its resource
        name with the configured project and location; a full name is kept as given."""
        if job_id.isdigit():
            r = self._r()
            return f"projects/{r.project}/locations/{r.location}/tuningJobs/{job_id}"
        return job_id

    def _get_raw(self, job_id: str) -> Any:
        return self.retrying("get", lambda: self.client().tunings.get(name=job_id))

    def get(self, job_id: str) -> JobSnapshot:
        return snapshot_from(self._get_raw(job_id))

    def list(self, *, limit: int = 20) -> builtins.list[JobSnapshot]:
        """Recent jobs, newest first."""

        def fetch() -> builtins.list[Any]:
            out: builtins.list[Any] = []
            try:
                for job in self.client().tunings.list(config=_rules.list_config(limit)):
                    out.append(job)
                    if len(out) >= limit:
                        break
            except IndexError:
                pass  # google-genai's pager on an empty page that still has a next token: the end
            return out

        return self.newest_first((snapshot_from(j) for j in self.retrying("list", fetch)), limit)

    def send_cancel(self, job_id: str) -> None:
        """Ask Vertex to cancel; it answers nothing, so the base reads the job again."""
        self.retrying("cancel", lambda: self.client().tunings.cancel(name=job_id))

    def events(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """Events derived from the job (Vertex has none of its own), oldest first."""
        return events_from(self._get_raw(job_id))[-limit:]

    def checkpoints(self, job_id: str) -> builtins.list[Checkpoint]:
        return checkpoints_from(self._get_raw(job_id))

    def chat(
        self, model: str, messages: builtins.list[dict[str, Any]], *, base_model: str | None = None,
        **params: Any,
    ) -> ChatReply:
        """``generateContent`` on the tuned model's endpoint, or on a base Gemini model."""
        from anytune_vertex._chat import generate_kwargs, reply_from

        kwargs = generate_kwargs(model, messages, params)
        answer = self.retrying("chat", lambda: self.client().models.generate_content(**kwargs))
        return reply_from(model, answer)

    def holds_idempotency_key(self, snap: JobSnapshot, key: str) -> bool:
        """The job's ``anytune_idempotency_key`` label holds ``key`` (as encoded)."""
        return _rules.holds_key(snap, key)

    def close(self) -> None:
        super().close()
        self._storage = None


class _ReadProgress:
    """A file that reports how far the Cloud Storage client has read it (what it has sent:
    the client streams as it reads). Position comes from ``tell()``, so a retried part
    that seeks back is reported where it really is."""

    def __init__(self, fh: Any, size: int, report: Callable[[int, int], None] | None) -> None:
        self._fh, self._size, self._report = fh, size, report

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._fh.read(n)
        if self._report is not None:
            self._report(self._fh.tell(), self._size)
        return data

    def __getattr__(self, name: str) -> Any:  # seek, tell, name, ...: the real file's
        return getattr(self._fh, name)
