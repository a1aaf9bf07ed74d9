"""A caller killed at each step of create/wait loses nothing: the job is in the store (or
provably never made), ``anytune list`` shows it, a rerun never makes a second one, and
``anytune wait ID`` resumes."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anytune.testing import write_chat_examples


def anytune(*args: str, faults: str = "", job_seconds: float = 1.0) -> subprocess.CompletedProcess[str]:
    Path("anytune.toml").write_text(
        f'[profiles.t]\nprovider = "fake"\nmodel = "fake-small"\nfaults = "{faults}"\n'
        f"job_seconds = {job_seconds}\n"
    )
    env = {**os.environ, "ANYTUNE_PROFILE": "t"}
    return subprocess.run([sys.executable, "-m", "anytune", *args, "--json"],
                          capture_output=True, text=True, env=env, timeout=120)


def provider_jobs() -> list[dict]:  # type: ignore[type-arg]
    return list(json.loads(Path(os.environ["ANYTUNE_FAKE_STATE"]).read_text())["jobs"].values())


@pytest.fixture
def data(isolated: Path) -> Path:
    return write_chat_examples(isolated / "train.jsonl")


@pytest.mark.parametrize("step", ["die_in_upload", "die_before_create", "die_after_create"])
def test_killed_during_create_then_rerun_gives_exactly_one_job(data: Path, step: str) -> None:
    crashed = anytune("create", str(data), "--idempotency-key", "k1", faults=step)
    assert crashed.returncode == 137
    listed = json.loads(anytune("list").stdout)
    made = provider_jobs()
    assert [j["id"] for j in listed] == [f"fake:{j['id']}" for j in made]

    rerun = anytune("create", str(data), "--idempotency-key", "k1")
    assert rerun.returncode == 0, rerun.stderr
    job = json.loads(rerun.stdout)
    assert len(provider_jobs()) == 1
    if step == "die_after_create":
        assert job["id"] == f"fake:{made[0]['id']}"  # recovered, not made again

    waited = anytune("wait", job["id"])
    assert waited.returncode == 0 and json.loads(waited.stdout)["status"] == "succeeded"


def test_killed_while_waiting_then_wait_resumes(data: Path) -> None:
    job = json.loads(anytune("create", str(data), job_seconds=4).stdout)
    Path("anytune.toml").write_text('[profiles.t]\nprovider = "fake"\njob_seconds = 4\n')
    proc = subprocess.Popen([sys.executable, "-m", "anytune", "wait", job["id"], "--json"],
                            env={**os.environ, "ANYTUNE_PROFILE": "t"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    listed = json.loads(anytune("list", job_seconds=4).stdout)
    assert [j["id"] for j in listed] == [job["id"]]
    resumed = anytune("wait", job["id"], job_seconds=4)
    assert resumed.returncode == 0 and json.loads(resumed.stdout)["status"] == "succeeded"


def test_ctrl_c_while_waiting_leaves_the_job_running(data: Path) -> None:
    job = json.loads(anytune("create", str(data), job_seconds=3600).stdout)
    proc = subprocess.Popen([sys.executable, "-m", "anytune", "wait", job["id"]],
                            env={**os.environ, "ANYTUNE_PROFILE": "t"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Ctrl-C once the wait is really waiting (its first status line), not after a fixed
    # sleep: on a loaded machine the interpreter may not even have started by then.
    assert proc.stderr is not None
    ready, _, _ = select.select([proc.stderr], [], [], 60)
    assert ready, "wait printed no status line within 60 s"
    first = proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, first + err
    assert f"anytune wait {job['id']}" in err
    status = json.loads(anytune("get", job["id"], job_seconds=3600).stdout)["status"]
    assert status in ("validating", "queued", "running")
