"""Helpers of the ray provider's tests: one loopback Ray cluster shared by every test of
the run (and by pytest-xdist workers: the first starts it, the last stops it), the tiny
model of the local provider's tests, and the format-learning check."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from anytune_local import _tiny
from anytune_local._tiny import FORMAT_PATTERN, build_tiny_model

# The same place as the local provider's tests: the model is built once per machine.
_BUILDER = hashlib.sha256(Path(_tiny.__file__).read_bytes()).hexdigest()[:10]
TINY_MODEL = Path(tempfile.gettempdir()) / f"anytune-local-tests-{os.getuid()}" / f"tiny-{_BUILDER}"
#: Two CPUs: this machine has two cores, shared with others; every test job fits in them.
CLUSTER_CPUS = 2
_SHARED = Path(tempfile.gettempdir()) / f"anytune-ray-tests-{os.getuid()}"


def ensure_tiny_model() -> Path:
    """Build :data:`TINY_MODEL` unless it exists (file lock: safe under pytest-xdist)."""
    TINY_MODEL.parent.mkdir(parents=True, exist_ok=True)
    with open(TINY_MODEL.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (TINY_MODEL / "model.safetensors").exists():
            build_tiny_model(TINY_MODEL)
    return TINY_MODEL


@contextmanager
def _locked() -> Iterator[Path]:
    _SHARED.mkdir(parents=True, exist_ok=True)
    with open(_SHARED / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield _SHARED / "cluster.json"


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


#: The process group (``ray start``'s pid) of the cluster this test process uses.
CLUSTER: dict[str, int] = {}


def foreign_sockets(root: int, *, listen_ok: tuple[int, ...] = ()) -> list[str]:
    """Every TCP socket of the cluster's processes that listens on, or talks to, an
    address other than loopback (``ip:port`` pairs, with the process name); listening
    sockets on the ports in ``listen_ok`` are left out."""
    import ipaddress

    import psutil
    from anytune_ray.emulator import cluster_processes

    found = []
    for pid in cluster_processes(root):
        try:
            proc = psutil.Process(pid)
            conns = proc.net_connections(kind="inet")
            name = proc.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for c in conns:
            if c.status == psutil.CONN_LISTEN and c.laddr.port in listen_ok:
                continue
            for addr in (c.laddr, c.raddr):
                if addr and not ipaddress.ip_address(addr.ip.removeprefix("::ffff:")).is_loopback:
                    found.append(f"{name}[{pid}] {c.status} {c.laddr} -> {c.raddr or '-'}")
    return found


@contextmanager
def shared_cluster() -> Iterator[dict[str, str]]:
    """The tests' Ray cluster (``LocalCluster`` on 127.0.0.1), started by the first
    process that needs it and stopped by the last one; yields its environment."""
    from anytune_ray.emulator import LocalCluster

    me = os.getpid()
    with _locked() as info_path:
        info = json.loads(info_path.read_text()) if info_path.exists() else None
        if info is None or not _alive(info["pgid"]):
            cluster = LocalCluster(num_cpus=CLUSTER_CPUS)
            cluster.start()
            assert cluster.proc is not None
            info = {"pgid": cluster.proc.pid, "env": cluster.env, "temp_dir": cluster.temp_dir, "users": []}
        info["users"] = [*info["users"], me]
        info_path.write_text(json.dumps(info))
    CLUSTER["pgid"] = info["pgid"]
    try:
        yield info["env"]
    finally:
        with _locked() as info_path:
            info = json.loads(info_path.read_text())
            info["users"] = [u for u in info["users"] if u != me and _pid_alive(u)]
            if info["users"]:
                info_path.write_text(json.dumps(info))
            else:
                info_path.unlink()
                stop_cluster(info["pgid"])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_cluster(pgid: int, timeout: float = 10.0) -> None:
    """End the cluster started as ``pgid`` (every process of it, none other)."""
    from anytune_ray.emulator import stop_processes

    stop_processes(pgid, timeout=timeout)
    try:
        os.waitpid(pgid, os.WNOHANG)
    except ChildProcessError:
        pass


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


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop_unfinished(keep: tuple[str, ...] = ()) -> None:
    """Stop every unfinished anytune job on the cluster (but ``keep``), so no test leaves
    a job training in the background of the next one."""
    from anytune_ray._client import connect

    client = connect(None)
    for job in client.list_jobs():
        if (job.metadata or {}).get("anytune_provider") != "1" or job.submission_id in keep:
            continue
        if not job.status.is_terminal():
            client.stop_job(job.submission_id)
