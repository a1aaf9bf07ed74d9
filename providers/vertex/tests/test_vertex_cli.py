"""As a user runs it: ``anytune models --provider vertex``, and ``anytune sandbox vertex``
in one process with ``anytune create ... --wait`` in another, connected only by the
printed ``export`` lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from vertex_helpers import MODEL, write_chat

ANYTUNE = Path(sys.executable).parent / "anytune"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ANYTUNE.exists(), reason="the anytune script is not installed"),
]
TOKEN = "ya29.sandbox-cli-test-5551234"
NEEDED = {"GOOGLE_CLOUD_PROJECT", "GOOGLE_VERTEX_BASE_URL", "STORAGE_EMULATOR_HOST",
          "ANYTUNE_VERTEX_ACCESS_TOKEN", "ANYTUNE_VERTEX_GCS_BUCKET", "no_proxy"}


def test_models_lists_vertex_prices_and_sources() -> None:
    r = subprocess.run([str(ANYTUNE), "models", "--provider", "vertex", "--json"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    models = doc if isinstance(doc, list) else doc.get("models", doc)
    old = next(m for m in models if m["model"] == "gemini-2.5-flash")
    assert old["price_per_million_tokens"]["sft"] > 0
    assert "cloud.google.com" in old["price_source"] and old["price_as_of"]
    assert old["retired"] is True and old["retirement_date"] <= "2026-10-31"
    current = next(m for m in models if m["model"] == MODEL)
    assert current["retired"] is False and current["limits_source"] and current["limits_as_of"]
    # No verified tuning price: none is shown, and the row says why.
    assert current["price_per_million_tokens"] or current["price_note"]


def test_refresh_says_vertex_has_no_list_and_keeps_the_packaged_table(tmp_path: Path) -> None:
    env = {**os.environ, "ANYTUNE_CACHE_DIR": str(tmp_path / "cache")}
    r = subprocess.run([str(ANYTUNE), "models", "--refresh", "--provider", "vertex", "--json"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert "publishes no list of tunable models" in r.stderr and "packaged table" in r.stderr
    assert all(m["refreshed_at"] is None for m in json.loads(r.stdout))
    assert not (tmp_path / "cache" / "catalog" / "vertex.json").exists()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict[str, str]]:
    proc = subprocess.Popen(
        [str(ANYTUNE), "sandbox", "vertex", "--job-seconds", "2", "--api-key", TOKEN],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    env: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while not NEEDED <= env.keys():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError(f"sandbox printed no exports; got {env}")
            line = proc.stdout.readline()
            assert line.startswith("export "), line
            key, _, value = line[len("export "):].strip().partition("=")
            env[key] = value
        yield env
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_sandbox_serves_a_whole_job(sandbox: dict[str, str], tmp_path: Path) -> None:
    assert sandbox["ANYTUNE_VERTEX_ACCESS_TOKEN"] == TOKEN
    env = {**os.environ, **sandbox, "ANYTUNE_HOME": str(tmp_path / "home")}
    data = write_chat(tmp_path / "train.jsonl")
    r = subprocess.run([str(ANYTUNE), "create", str(data), "--provider", "vertex", "--model", MODEL,
                        "--epochs", "1", "--wait", "--json"], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    job = json.loads(r.stdout)
    assert job["status"] == "succeeded" and job["result"]["model"].startswith("projects/anytune-sandbox/")
    listed = subprocess.run([str(ANYTUNE), "list", "--provider", "vertex", "--json"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=60)
    assert job["id"] in listed.stdout
