"""Helpers shared by the local provider's tests."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from anytune_local import _tiny
from anytune_local._tiny import FORMAT_PATTERN, build_tiny_model

#: Where the tests' tiny model lives: a fixed path, because the conformance suite names
#: its model in a class attribute. Built once per machine and per version of the builder.
_BUILDER = hashlib.sha256(Path(_tiny.__file__).read_bytes()).hexdigest()[:10]
TINY_MODEL = Path(tempfile.gettempdir()) / f"anytune-local-tests-{os.getuid()}" / f"tiny-{_BUILDER}"


def ensure_tiny_model() -> Path:
    """Build :data:`TINY_MODEL` unless it exists (safe under pytest-xdist: file lock)."""
    TINY_MODEL.parent.mkdir(parents=True, exist_ok=True)
    with open(TINY_MODEL.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (TINY_MODEL / "model.safetensors").exists():
            build_tiny_model(TINY_MODEL)
    return TINY_MODEL


def generate(model: Any, tokenizer: Any, messages: list[dict[str, str]]) -> str:
    """Greedy answer of ``model`` to ``messages``."""
    inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**inputs, max_new_tokens=24, do_sample=False)
    return str(tokenizer.decode(out[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True))


def in_format(text: str) -> bool:
    """Whether ``text`` is an answer in the trained JSON format."""
    return re.match(FORMAT_PATTERN, text.strip()) is not None


def job_folder(home: Path, job_id: str) -> Path:
    """The folder of a local job, from its qualified or native id."""
    return home / "local" / job_id.split(":", 1)[-1]


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def worker_pid(home: Path, job_id: str) -> int:
    """The pid of the job's worker process."""
    return int(json.loads((job_folder(home, job_id) / "pid.json").read_text())["pid"])


def stop_workers(home: Path, timeout: float = 15.0) -> None:
    """Cancel every unfinished job under ``home`` and make sure its worker is gone, so a
    test never leaves a process training in the background of the next one."""
    root = home / "local"
    pids = []
    for pid_file in root.glob("*/pid.json"):
        state = json.loads((pid_file.parent / "state.json").read_text())
        if state.get("status") not in ("succeeded", "failed", "cancelled"):
            (pid_file.parent / "cancel").touch()
        pids.append(json.loads(pid_file.read_text())["pid"])
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            except ChildProcessError:  # not our child: poll for its end
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
            time.sleep(0.1)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
