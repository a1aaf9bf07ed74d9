"""How the worker process is started: one process, or ``accelerate launch`` on several GPUs.

Kept free of torch so that ``create`` stays cheap on machines without a GPU, and so the
command construction is testable on any machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from anytune.errors import UnsupportedError

__all__ = ["cuda_available", "gpu_count", "resolve_devices", "worker_command"]


def gpu_count() -> int:
    """The number of CUDA GPUs this process may use.

    Imports torch only where a GPU may exist: on a Linux machine without the NVIDIA driver
    the answer is 0 at no cost."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return 0
    if sys.platform.startswith("linux") and not Path("/proc/driver/nvidia").exists():
        return 0
    import torch

    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def cuda_available() -> bool:
    """Whether at least one CUDA GPU is usable."""
    return gpu_count() > 0


def resolve_devices(devices: Any, available: int) -> tuple[int, dict[str, str]]:
    """Turn the ``devices`` option into (number of GPU processes, extra environment).

    ``"auto"`` (default) uses every visible GPU, or the CPU when there is none; ``"cpu"``
    forces the CPU; an int ``N`` uses the first N GPUs; ``"0,2"`` (or a list) picks GPUs."""
    if devices is None or devices == "auto":
        return available, {}
    if devices == "cpu":
        return 0, {"CUDA_VISIBLE_DEVICES": ""}
    if isinstance(devices, bool):
        raise UnsupportedError("local", f"devices={devices!r}", 'use "auto", "cpu", N or "0,1"')
    if isinstance(devices, int):
        ids = list(range(devices))
    elif isinstance(devices, (list, tuple)):
        ids = [int(d) for d in devices]
    elif isinstance(devices, str) and all(p.strip().isdigit() for p in devices.split(",")):
        ids = [int(p) for p in devices.split(",")]
    else:
        raise UnsupportedError("local", f"devices={devices!r}", 'use "auto", "cpu", N or "0,1"')
    if not ids or max(ids) >= available:
        raise UnsupportedError("local", f"devices={devices!r}", f"this machine has {available} CUDA GPU(s)")
    return len(ids), {"CUDA_VISIBLE_DEVICES": ",".join(str(i) for i in ids)}


def worker_command(
    folder: Path,
    *,
    processes: int,
    fsdp: bool = False,
    mixed_precision: str = "no",
    python: str | None = None,
) -> list[str]:
    """The argv that runs the worker for the job in ``folder``.

    One process: ``python -m anytune_local._worker FOLDER``. More than one GPU: the same
    module under ``accelerate launch`` (DDP, or FSDP with ``fsdp=True``), never a
    home-made launcher."""
    python = python or sys.executable
    worker = ["-m", "anytune_local._worker", str(folder)]
    if processes <= 1:
        return [python, *worker]
    cmd = [
        python,
        "-m",
        "accelerate.commands.launch",
        *("--num_processes", str(processes)),
        *("--num_machines", "1"),
        *("--mixed_precision", mixed_precision),
        # Port 0 lets torch.distributed pick a free port, so two jobs can run side by side.
        *("--main_process_port", "0"),
    ]
    if fsdp:
        cmd += [
            "--use_fsdp",
            "--fsdp_version",
            "2",
            "--fsdp_auto_wrap_policy",
            "TRANSFORMER_BASED_WRAP",
            # A full state dict at save time: the adapter and checkpoints load anywhere.
            "--fsdp_state_dict_type",
            "FULL_STATE_DICT",
            "--fsdp_cpu_ram_efficient_loading",
            "true",
            "--fsdp_reshard_after_forward",
            "true",
        ]
    else:
        cmd += ["--multi_gpu"]
    return [*cmd, *worker]
