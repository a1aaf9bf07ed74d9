"""``anytune serve``: the vLLM command that serves a tuned adapter, built as pure data.

vLLM's OpenAI-compatible server takes LoRA adapters at start-up (checked 2026-11-29 against
https://docs.vllm.ai/en/latest/features/lora.html, "Serving LoRA Adapters", and the engine
arguments at https://docs.vllm.ai/en/v0.8.5/serving/engine_args.html)::

    vllm serve BASE --enable-lora --lora-modules NAME=ADAPTER_DIR --host H --port N

``--max-lora-rank`` defaults to 16 in vLLM and must be at least the adapter's rank, so it
is passed whenever the adapter's rank is known. Requests name the adapter as ``model``.
Building the command is separate from running it, so it is tested without vLLM or a GPU.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["INSTALL_HINT", "ServeCommand", "find_vllm", "vllm_command"]

#: What to do when vLLM is missing (it needs Linux and, for real use, a CUDA GPU).
INSTALL_HINT = (
    "vLLM is not installed: `pip install vllm` (Linux with a CUDA GPU; see "
    "https://docs.vllm.ai/en/latest/getting_started/installation/), then run this again"
)
#: vLLM's default ``--max-lora-rank``: adapters of a higher rank need the flag.
VLLM_DEFAULT_MAX_LORA_RANK = 16


@dataclass(frozen=True)
class ServeCommand:
    """A server command, where it will listen, and the model name clients send."""

    argv: list[str]
    base_url: str
    model: str

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"argv": list(self.argv), "base_url": self.base_url, "model": self.model}


def vllm_command(
    base_model: str | Path,
    adapter_dir: str | Path,
    *,
    name: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    lora_rank: int | None = None,
    executable: str = "vllm",
) -> ServeCommand:
    """The ``vllm serve`` command for ``adapter_dir`` over ``base_model``, served as ``name``."""
    if "=" in name or not name.strip():
        raise ValueError(f"adapter name {name!r} must be non-empty and contain no '='")
    argv = [
        executable, "serve", str(base_model),
        "--enable-lora",
        "--lora-modules", f"{name}={adapter_dir}",
        "--host", host,
        "--port", str(port),
    ]
    if lora_rank is not None:
        # Powers of two are what vLLM accepts; round up so any rank fits.
        rank = max(VLLM_DEFAULT_MAX_LORA_RANK, 1 << max(0, lora_rank - 1).bit_length())
        argv += ["--max-lora-rank", str(rank)]
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    return ServeCommand(argv=argv, base_url=f"http://{shown}:{port}/v1", model=name)


def find_vllm() -> str | None:
    """The ``vllm`` executable on ``PATH`` (next to this interpreter first), or ``None``."""
    import sys

    here = Path(sys.executable).parent / "vllm"
    return str(here) if here.exists() else shutil.which("vllm")
