"""A canary access token through the official SDKs at debug log level (the SDKs and their
HTTP libraries log requests there): success and failure paths leave it in no output, log
or file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from anytune_vertex import VertexEmulator
from vertex_helpers import MODEL, write_chat

CANARY = "ya29.canary-vertex-9d2b7e51c0a34f18"
WRONG = "ya29.canary-wrong-4c1e8a7f3b2d6e90"

pytestmark = pytest.mark.slow


def test_canary_token_appears_nowhere(tmp_path: Path) -> None:
    emu = VertexEmulator(job_seconds=1.0, api_key=CANARY)
    emu.start()
    home = tmp_path / "home"
    outputs: list[str] = []

    def run(*args: str, token: str = CANARY) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **emu.env, "ANYTUNE_VERTEX_ACCESS_TOKEN": token, "ANYTUNE_LOG": "debug",
               "ANYTUNE_HOME": str(home)}
        r = subprocess.run([sys.executable, "-m", "anytune", *args], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=120)
        outputs.append(r.stdout + r.stderr)
        return r

    try:
        data = write_chat(tmp_path / "train.jsonl")
        created = run("create", str(data), "-p", "vertex", "-m", MODEL, "--epochs", "1", "--wait", "--json")
        assert created.returncode == 0, created.stderr
        job = json.loads(created.stdout)["id"]
        missing = "vertex:projects/anytune-sandbox/locations/us-central1/tuningJobs/404"
        # each command once, alternating plain and --json output (both render errors and jobs)
        for i, args in enumerate((["get", job], ["events", job], ["list"], ["cancel", job], ["get", missing],
                                  ["get", missing, "--json"], ["events", job, "--json"])):
            run(*args) if i % 2 == 0 or "--json" in args else run(*args, "--json")
        refused = run("get", job, "--json", token=WRONG)
        assert refused.returncode == 3
        assert json.loads(refused.stdout)["error"]["type"] == "AuthenticationError"
    finally:
        emu.stop()
    text = "\n".join(outputs)
    assert "DEBUG" in text and "127.0.0.1" in text  # the HTTP libraries were logging at debug
    for secret in (CANARY, WRONG):
        assert secret not in text
        leaked = [p for p in tmp_path.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
        assert leaked == []
