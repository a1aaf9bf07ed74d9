"""``anytune sandbox ray``: a single-machine Ray cluster bound to 127.0.0.1 only.

Ray picks the machine's interface address by default; here every address is loopback:
``--node-ip-address=127.0.0.1`` (GCS, raylet, object manager, workers), the dashboard and
its agent on 127.0.0.1, usage statistics off (they would be sent out), and torch's gloo
told to use the loopback interface. The cluster is ``ray start --head --block`` in its own
session with its own temp dir; ``stop`` ends that process group (its processes only,
never another cluster on the machine) and waits until they are gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

__all__ = ["LocalCluster", "cluster_processes", "free_port", "loopback_env", "stop_processes"]


def _parents() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every process, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        out[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return out


def cluster_processes(root: int) -> set[int]:
    """The processes of the cluster started as ``root`` (``ray start`` in its own
    session): its process group, and every descendant, since Ray puts each worker in a
    process group of its own."""
    table = _parents()
    found = {pid for pid, (_, pgid) in table.items() if pgid == root}
    found.add(root)
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _) in table.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return {pid for pid in found if pid in table}


def _signal(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_processes(root: int, *, timeout: float = 10.0) -> None:
    """End the cluster started as ``root``: SIGTERM to each of its processes (found
    before any dies, so none is missed once orphaned), SIGKILL to those left after
    ``timeout``. Never touches a process outside that cluster."""
    known = cluster_processes(root)
    _signal(known, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        known |= cluster_processes(root)
        alive = {p for p in known if Path(f"/proc/{p}").exists() and not _zombie(p)}
        if not alive:
            return
        time.sleep(0.2)
    _signal(known | cluster_processes(root), signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def loopback_env() -> dict[str, str]:
    """Environment that keeps Ray, its workers and torch.distributed on loopback."""
    return {
        # Ray replaces --node-ip-address=127.0.0.1 by the machine's address
        # (services.resolve_ip_for_localhost) unless clusters are off, as on macOS and
        # Windows: then the node address is loopback and Ray's servers bind to it.
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_USAGE_STATS_PROMPT_ENABLED": "0",
        "GLOO_SOCKET_IFNAME": "lo",
        "NCCL_SOCKET_IFNAME": "lo",
        "MASTER_ADDR": "127.0.0.1",
        "RAY_DEDUP_LOGS": "0",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


class LocalCluster:
    """A Ray head node on 127.0.0.1 with ``num_cpus`` CPUs and ``num_gpus`` GPUs; ``env`` holds
    ``RAY_ADDRESS`` (the dashboard URL the Jobs API needs) once started."""

    def __init__(self, *, num_cpus: int | None = None, num_gpus: int = 0, dashboard_port: int = 0) -> None:
        self.num_cpus = num_cpus or max(2, os.cpu_count() or 2)
        self.num_gpus = num_gpus
        self.dashboard_port = dashboard_port or free_port()
        self.env: dict[str, str] = {}
        self.temp_dir = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:
        """Start the head node and wait until its Jobs API answers."""
        # A short path: Ray's unix sockets live under it and their paths are length-limited.
        self.temp_dir = tempfile.mkdtemp(prefix="rayat-", dir="/tmp" if os.path.isdir("/tmp") else None)
        ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
        cmd = [
            ray, "start", "--head", "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={free_port()}",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={self.dashboard_port}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            f"--ray-client-server-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
            f"--node-manager-port={free_port()}",
            f"--object-manager-port={free_port()}",
            f"--num-cpus={self.num_cpus}",
            f"--num-gpus={self.num_gpus}",
            "--include-dashboard=true",
            "--disable-usage-stats",
            f"--temp-dir={self.temp_dir}",
        ]
        self.log = open(Path(self.temp_dir) / "ray-start.log", "ab")
        self.proc = subprocess.Popen(
            cmd,
            env={**os.environ, **loopback_env()},
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{self.dashboard_port}"
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"ray start exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{url}/api/version", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"no Ray dashboard at {url} after {timeout:g}s") from None
                time.sleep(0.5)
        self.env = {"RAY_ADDRESS": url}

    def pids(self) -> list[int]:
        """Every live process of this cluster."""
        return sorted(cluster_processes(self.proc.pid)) if self.proc is not None else []

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every process of this cluster, and only those."""
        if self.proc is None:
            return
        stop_processes(self.proc.pid, timeout=timeout)
        self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)
        self.proc = None

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
