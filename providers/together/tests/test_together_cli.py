"""The CLI as a user runs it: ``anytune models --provider together`` and the sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from together_helpers import MODEL

from anytune.testing import write_chat_examples

ANYTUNE = Path(sys.executable).parent / "anytune"


def _run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "anytune", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


def test_models_shows_prices_with_source_and_date() -> None:
    r = _run("models", "--provider", "together", "--json")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert MODEL in text and "together.ai/pricing" in text and "2025-10-01" in text
    assert "0.48" in text  # the LoRA SFT rate of the smallest band


@pytest.mark.slow
@pytest.mark.skipif(not ANYTUNE.exists(), reason="the anytune script is not installed")
def test_sandbox_smoke(tmp_path: Path) -> None:
    key = "tgp_v1_sandbox-cli-test"
    proc = subprocess.Popen([str(ANYTUNE), "sandbox", "together", "--job-seconds", "1", "--api-key", key],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        env: dict[str, str] = {}
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while not {"TOGETHER_BASE_URL", "TOGETHER_API_KEY"} <= env.keys():
            assert time.monotonic() < deadline and proc.poll() is None, f"no exports: {env}"
            line = proc.stdout.readline()
            if line.startswith("export "):
                name, _, value = line[len("export "):].strip().partition("=")
                env[name] = value.strip("'\"")
        assert env["TOGETHER_API_KEY"] == key
        data = write_chat_examples(tmp_path / "train.jsonl")
        r = _run("create", str(data), "-p", "together", "-m", MODEL, "--wait", "--json",
                 env={**env, "ANYTUNE_HOME": str(tmp_path / "home")}, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        job = json.loads(r.stdout)
        assert job["status"] == "succeeded" and job["result"]["model"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
