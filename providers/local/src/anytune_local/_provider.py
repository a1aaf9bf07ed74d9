"""``LocalProvider``: fine-tuning on this machine as a detached job (docs/design.md §6).

``create`` writes a job folder and starts a worker process in its own session; every other
method reads that folder, so it works from any process, during the run and after. Nothing
here imports torch unless a GPU question must be answered (4-bit, several GPUs).
"""

from __future__ import annotations

import builtins
import os
import secrets
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from anytune.errors import NotFoundError
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
from anytune_local import _jobs
from anytune_local._create import resolve_model, start_job
from anytune_local._state import jobs_root

if TYPE_CHECKING:
    from anytune.provider import TrackingContext

__all__ = ["LocalProvider"]

#: Options of ``Job.create(provider="local", ...)``; documented in the package README.
CREATE_OPTIONS = frozenset(
    {
        "quantization",
        "devices",
        "fsdp",
        "full",
        "packing",
        "early_stopping_patience",
        "early_stopping_threshold",
        "max_seq_length",
        "merge",
        "trust_remote_code",
        "allow_pickle",
        "resume_from",
        "gradient_checkpointing",
        "gradient_accumulation_steps",
        "save_steps",
        "eval_steps",
        "save_total_limit",
        "logging_steps",
        "chat_template",
        "attn_implementation",
        "liger",
        "max_steps",
    }
)

class LocalProvider(Provider):
    """LoRA, QLoRA and full fine-tuning with TRL on this machine, as a detached job."""

    name: ClassVar[str] = "local"
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
        | Capability.RESUME
    )
    create_options: ClassVar[frozenset[str]] = CREATE_OPTIONS
    #: ``vllm_url``: a running vLLM server that ``chat``/``evaluate`` use instead of
    #: loading the model in this process (also ``ANYTUNE_VLLM_URL``).
    settings: ClassVar[frozenset[str]] = frozenset({"vllm_url"})

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._chat: Any = None

    # --- preflight ------------------------------------------------------------------------
    def limits(self, model: str, method: str) -> Limits:
        """OpenAI-format records; the length limit is the ``max_seq_length`` option."""
        return Limits(
            data_format="openai",
            source="local: any size; examples longer than max_seq_length are truncated",
        )

    def tokenizer(self, model: str) -> str:
        """The model's own tokenizer when the model is available locally."""
        try:
            return f"hf:{resolve_model(model)}"
        except NotFoundError:
            return "approx"

    def price_usd(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hyperparameters: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> float:
        """Local runs cost no money."""
        return 0.0

    def catalog(self) -> list[ModelInfo]:
        """Causal language models in the local Hugging Face cache (no network)."""
        try:
            from huggingface_hub import scan_cache_dir

            repos = [r for r in scan_cache_dir().repos if r.repo_type == "model"]
        except Exception:  # no cache folder yet, or an unreadable one
            return []
        return [
            ModelInfo(
                provider="local",
                model=r.repo_id,
                methods=("sft", "dpo"),
                price_per_million_tokens={"sft": 0.0, "dpo": 0.0},
                notes="in the local Hugging Face cache",
            )
            for r in repos
        ]

    def check_create(
        self,
        model: str,
        method: str,
        *,
        now: datetime,
        hyperparameters: Hyperparameters | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """A model that is neither a folder nor cached is refused before any upload."""
        resolve_model(model)

    def estimate_seconds(
        self,
        model: str,
        trained_tokens: int,
        *,
        max_seq_length: int = 1024,
        batch_size: int = 4,
        quantization: str | None = None,
        full: bool = False,
    ) -> float:
        """Seconds this machine needs to train ``trained_tokens`` (e.g. ``estimate(...)
        .trained_tokens``), from a short measured warm-up: loads the model in this process
        and times a few training steps of the planned shape (seconds on small models,
        a minute or more on large ones). Job start-up (about 5 s) is not included."""
        from anytune_local._warmup import measure_tokens_per_s

        rate = measure_tokens_per_s(
            str(resolve_model(model)),
            max_seq_length=max_seq_length,
            batch_size=batch_size,
            quantization=quantization,
            full=full,
        )
        return trained_tokens / rate

    def estimate_notes(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hyperparameters: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> builtins.list[str]:
        """How long the run would take here, from a measured warm-up of a few steps of the
        planned shape (``max_seq_length``, ``quantization`` and ``full`` options)."""
        opts = options or {}
        try:
            seconds = self.estimate_seconds(
                model,
                trained_tokens,
                batch_size=hyperparameters.batch_size or 4,
                max_seq_length=int(opts.get("max_seq_length") or 1024),
                quantization=opts.get("quantization"),
                full=bool(opts.get("full")),
            )
        except Exception as exc:  # an estimate must still come back: say why time is missing
            return [f"no time estimate: the warm-up failed ({type(exc).__name__}: {exc})"]
        minutes = seconds / 60
        shown = f"{seconds:.0f} s" if seconds < 120 else f"{minutes:.0f} min"
        return [f"about {shown} of training on this machine (measured warm-up; start-up not included)"]

    # --- files ----------------------------------------------------------------------------
    def upload(self, path: Path, *, purpose: str) -> str:
        """Stage a prepared JSONL file; returns ``file-<hex>`` for ``CreateRequest``."""
        staging = jobs_root() / "_files"
        staging.mkdir(exist_ok=True)
        ref = f"file-{secrets.token_hex(8)}"
        dest = staging / f"{ref}.jsonl"
        try:
            os.link(path, dest)  # same file system: no copy, and survives the original
        except OSError:
            shutil.copyfile(path, dest)
        return ref

    # --- jobs (the folder and worker: anytune_local._create) ------------------------------
    def create(self, request: CreateRequest) -> JobSnapshot:
        """Write the job folder and start the detached worker."""
        return self.get(start_job(request))

    def native_tracking(
        self, tracker: str, request: CreateRequest, context: TrackingContext
    ) -> CreateRequest | None:
        """Every tracker: the worker logs the run live as it trains (``_tracking``): W&B
        through TRL's ``report_to``, the others through anytune's tracker interface."""
        from anytune_local._tracking import OPTION

        current = dict(request.options.get(OPTION) or {})
        current["trackers"] = [*current.get("trackers", []), tracker]
        current.update(params=context.params, project=context.project)
        return request.model_copy(update={"options": {**request.options, OPTION: current}})

    def get(self, job_id: str) -> JobSnapshot:
        """The job's state, from its folder; a dead worker is reported failed."""
        return _jobs.snapshot(job_id)

    def list(self, *, limit: int = 20) -> builtins.list[JobSnapshot]:
        """Local jobs, newest first."""
        return [_jobs.snapshot(job_id) for job_id in _jobs.job_ids()[:limit]]

    def cancel(self, job_id: str) -> JobSnapshot:
        """Ask the worker to stop at the next step boundary (it saves, then ends cancelled)."""
        return _jobs.cancel(job_id)

    def events(self, job_id: str, *, limit: int = 100) -> builtins.list[JobEvent]:
        """The job's events, oldest first (the last ``limit``)."""
        return _jobs.events(job_id, limit=limit)

    def metrics(self, job_id: str) -> builtins.list[Metric]:
        """Training metrics by step, oldest first, while training and after."""
        return _jobs.metrics(job_id)

    def checkpoints(self, job_id: str) -> builtins.list[Checkpoint]:
        """Saved checkpoints that still exist, oldest first."""
        return _jobs.checkpoints(job_id)

    def chat(
        self, model: str, messages: builtins.list[dict[str, Any]], *, base_model: str | None = None,
        **params: Any,
    ) -> ChatReply:
        """The adapter over its base model (or a base model) in this process, or a vLLM server."""
        from anytune_local._chat import InProcessChat, vllm_chat

        url = self.config.get("vllm_url") or os.environ.get("ANYTUNE_VLLM_URL")
        if url:
            return vllm_chat(str(url), model, messages, params)
        if self._chat is None:
            self._chat = InProcessChat()
        chat: InProcessChat = self._chat
        return chat.chat(model, messages, params)

    def inference_price(self, model: str, *, base_model: str | None = None) -> tuple[float, float]:
        """Local inference costs no money."""
        return (0.0, 0.0)

    def close(self) -> None:
        """Unload the models ``chat`` loaded."""
        self._chat = None

    # --- after the job (issue 14): see anytune_local._export ------------------------------
    def download(self, job_id: str, output_dir: Path) -> Path:
        """Copy the job's adapter folder (safetensors, config, tokenizer) to ``output_dir``."""
        from anytune_local._export import copy_adapter

        return copy_adapter(job_id, output_dir)

    def export_merged(self, job_id: str, output_dir: Path) -> Path:
        """The adapter merged into the base model, saved as safetensors with the tokenizer."""
        from anytune_local._export import export_merged

        return export_merged(job_id, output_dir)

    def serve_command(self, job_id: str, *, host: str = "127.0.0.1", port: int = 8000) -> Any:
        """``vllm serve BASE --enable-lora --lora-modules anytune-<id>=ADAPTER ...``."""
        from anytune_local._export import serve_command

        return serve_command(job_id, host=host, port=port)

    @classmethod
    def quickstart(cls, console: Any = None) -> Any:
        """``anytune quickstart``: a real LoRA run on a tiny local model (CPU, < 2 min)."""
        from anytune_local.quickstart import run

        return run(console=console)
