"""``anytune sandbox ray``: a Ray cluster on 127.0.0.1 only, announced with an
``export RAY_ADDRESS=...`` line, and gone (every process of it) once the sandbox ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from anytune_ray.emulator import cluster_processes
from ray_helpers import foreign_sockets, wait_for

pytestmark = pytest.mark.slow


def test_sandbox_starts_a_loopback_cluster_and_stops_it_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "anytune", "sandbox", "ray"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("export RAY_ADDRESS=http://127.0.0.1:"), line
        address = line.strip().split("=", 1)[1]
        with urllib.request.urlopen(f"{address}/api/version", timeout=10) as answer:
            assert json.loads(answer.read())["ray_version"]
        head = wait_for(lambda: [p for p in cluster_processes(proc.pid) if p != proc.pid], 30,
                        "the cluster's processes")
        assert foreign_sockets(proc.pid) == [], "every Ray process listens and talks on loopback only"
        processes = cluster_processes(proc.pid)
        assert len(head) >= 3  # gcs_server, raylet, dashboard at least
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in processes):
        time.sleep(0.2)
    left = [p for p in processes if os.path.exists(f"/proc/{p}")
            and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
    assert left == [], "the sandbox left Ray processes running"
