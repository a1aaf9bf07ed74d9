"""After a local job: copy its adapter, merge it into the base model, or serve it with vLLM.

torch, transformers and peft are imported inside :func:`export_merged` only: the provider
module stays cheap to import (``anytune list`` loads it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from anytune.errors import ConfigurationError, UnsupportedError
from anytune.provider import ServeCommand, vllm_command
from anytune_local import _jobs
from anytune_local._state import read_json

__all__ = ["adapter_of", "copy_adapter", "export_merged", "serve_command"]


def adapter_of(job_id: str, operation: str) -> tuple[dict[str, Any], Path]:
    """The job's spec and its LoRA adapter folder; a clear error when there is none."""
    folder, state = _jobs.load_state(job_id)
    spec = read_json(folder / "spec.json", {}) or {}
    result = state.get("result") if state.get("status") in ("succeeded", "cancelled") else None
    if not result or not Path(result["model"]).is_dir():
        raise UnsupportedError(
            "local", operation,
            f"job {job_id} has no saved model yet (status {state.get('status', 'queued')}); "
            f"wait for it: anytune wait local:{job_id}",
        )
    model = Path(result["model"])
    if not (model / "adapter_config.json").exists():
        raise UnsupportedError(
            "local", operation,
            f"job {job_id} was a full fine-tune: {model} is already the whole model, no adapter",
        )
    return spec, model


def _fresh(out: Path) -> Path:
    out = out.expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigurationError(f"{out} exists and is not an empty folder: choose a new one")
    return out


def copy_adapter(job_id: str, out: Path) -> Path:
    """Copy the job's adapter folder (safetensors, config, tokenizer) to ``out``."""
    _, adapter = adapter_of(job_id, "download")
    out = _fresh(out)
    shutil.copytree(adapter, out, dirs_exist_ok=True)
    return out


def export_merged(job_id: str, out: Path) -> Path:
    """Merge the adapter into a full-precision copy of the base model (peft's
    ``merge_and_unload``) and save it with the tokenizer to ``out`` as safetensors.

    Written to ``OUT.partial`` first and renamed, so a failure leaves no half model."""
    spec, adapter = adapter_of(job_id, "export --merged")
    out = _fresh(out)
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    trust = bool((spec.get("options") or {}).get("trust_remote_code"))
    # Never merge into 4-bit weights (QLoRA): the base is loaded unquantized here.
    base = AutoModelForCausalLM.from_pretrained(
        spec["model_path"], dtype="auto", local_files_only=True, trust_remote_code=trust
    )
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    merged.save_pretrained(str(partial), safe_serialization=True)
    AutoTokenizer.from_pretrained(str(adapter), trust_remote_code=trust).save_pretrained(str(partial))
    if out.exists():
        out.rmdir()  # checked empty above
    partial.rename(out)
    return out


def serve_command(job_id: str, *, host: str, port: int) -> ServeCommand:
    """``vllm serve`` for the base model with this job's adapter, named ``anytune-<id>``."""
    spec, adapter = adapter_of(job_id, "serve")
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    return vllm_command(
        spec["model_path"], adapter, name=f"anytune-{job_id}", host=host, port=port,
        lora_rank=config.get("r"),
    )
