"""As a user runs it: ``anytune sandbox openai`` in one process, ``anytune create ...
--wait`` in another, with only the printed ``export`` lines to connect them."""

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
from openai_helpers import write_chat

ANYTUNE = Path(sys.executable).parent / "anytune"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ANYTUNE.exists(), reason="the anytune script is not installed"),
]
KEY = "sk-sandbox-cli-test-5551234"


def _read_exports(proc: subprocess.Popen[str], timeout: float = 30.0) -> dict[str, str]:
    env: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while not {"OPENAI_BASE_URL", "OPENAI_API_KEY", "no_proxy"} <= env.keys():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise AssertionError(f"sandbox printed no exports; got {env}")
        line = proc.stdout.readline()
        assert line.startswith("export "), line
        key, _, value = line[len("export ") :].strip().partition("=")
        env[key] = value
    return env


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict[str, str]]:
    proc = subprocess.Popen(
        [str(ANYTUNE), "sandbox", "openai", "--job-seconds", "2", "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        yield _read_exports(proc)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as a user stops it
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ANYTUNE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_create_and_wait_against_the_sandbox(sandbox: dict[str, str], tmp_path: Path) -> None:
    assert sandbox["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
    assert sandbox["OPENAI_API_KEY"] == KEY
    data = write_chat(tmp_path / "data.jsonl", 12)
    env = {**os.environ, **sandbox, "ANYTUNE_HOME": str(tmp_path / "home")}
    for var in ("ANYTUNE_PROVIDER", "ANYTUNE_PROFILE", "ANYTUNE_LOG"):
        env.pop(var, None)
    run = _run(
        [
            "create",
            str(data),
            "--provider",
            "openai",
            "--model",
            "gpt-4.1-mini-2025-04-14",
            "--wait",
            "--json",
        ],
        env,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    job = json.loads(run.stdout)
    assert job["status"] == "succeeded" and job["provider"] == "openai"
    assert job["id"].startswith("openai:ftjob-")
    assert job["result"]["model"].startswith("ft:gpt-4.1-mini-2025-04-14:")
    # The estimate made before upload and the tokens the (emulated) provider billed agree.
    assert job["estimate"]["trained_tokens"] == job["result"]["trained_tokens"]
    assert KEY not in run.stdout + run.stderr
    # And the job is known afterwards, from another process.
    got = _run(["get", job["id"], "--json"], env, tmp_path)
    assert got.returncode == 0 and json.loads(got.stdout)["status"] == "succeeded"


def test_wrong_key_is_an_auth_error_naming_the_variable(sandbox: dict[str, str], tmp_path: Path) -> None:
    data = write_chat(tmp_path / "data.jsonl", 12)
    wrong = "sk-not-the-sandbox-key-000111"
    env = {**os.environ, **sandbox, "OPENAI_API_KEY": wrong, "ANYTUNE_HOME": str(tmp_path / "h")}
    run = _run(
        ["create", str(data), "--provider", "openai", "--model", "gpt-4.1-mini-2025-04-14"], env, tmp_path
    )
    assert run.returncode == 3
    assert "OPENAI_API_KEY" in run.stdout + run.stderr
    assert wrong not in run.stdout + run.stderr


def test_a_retired_model_fails_before_anything_is_sent(tmp_path: Path) -> None:
    # gpt-3.5-turbo-0125 was retired on 2026-10-23: the refusal needs no key, no network.
    data = write_chat(tmp_path / "data.jsonl", 12)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["ANYTUNE_HOME"] = str(tmp_path / "home")
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing listens there
    run = _run(["create", str(data), "--provider", "openai", "--model", "gpt-3.5-turbo-0125"], env, tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode == 2, out
    assert "2026-10-23" in out and 'provider="together"' in out and "gpt-4.1-mini" in out


def test_estimate_equals_billed_tokens_for_dpo_and_real_data(sandbox: dict[str, str], tmp_path: Path) -> None:
    from openai_helpers import DATA, write_preference

    env = {**os.environ, **sandbox, "ANYTUNE_HOME": str(tmp_path / "home")}
    drone = DATA / "chat_sft" / "openai_cookbook_drone_training.jsonl"
    cases = [
        (write_preference(tmp_path / "pref.jsonl"), "gpt-4.1-mini-2025-04-14", "dpo"),
        (drone, "gpt-4o-mini-2024-07-18", "sft"),
    ]
    for data, model, method in cases:
        run = _run(
            [
                "create",
                str(data),
                "--provider",
                "openai",
                "--model",
                model,
                "--method",
                method,
                "--wait",
                "--json",
            ],
            env,
            tmp_path,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        job = json.loads(run.stdout)
        assert job["status"] == "succeeded"
        assert job["estimate"]["trained_tokens"] == job["result"]["trained_tokens"], data.name
