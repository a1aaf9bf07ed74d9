"""``anytune sandbox``: prints the export lines a client needs, serves, and stops on
SIGTERM (background jobs ignore SIGINT) as well as Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sandbox_prints_exports_serves_and_stops(sig: signal.Signals) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "anytune", "sandbox", "openai", "--job-seconds", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        env = {}
        assert proc.stdout is not None
        while "OPENAI_API_KEY" not in env:
            line = proc.stdout.readline()
            assert line.startswith("export "), line
            key, _, value = line[len("export "):].strip().partition("=")
            env[key] = value
        import openai

        client = openai.OpenAI(api_key=env["OPENAI_API_KEY"], base_url=env["OPENAI_BASE_URL"])
        os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
        assert client.fine_tuning.jobs.list().data == []
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()
