"""The reliability fault matrix for OpenAI, through the public API: for each operation
and each fault kind, a user's ``Job.create`` + ``wait`` (or ``cancel``, ``events``,
``list``) ends in success or a typed anytune error, with never two jobs for one
``create`` nor a file stored twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anytune_openai._emulator import OpenAIEmulator
from openai_helpers import MODEL, TEST_KEY, write_chat

from anytune import AnytuneError, Hyperparameters, Job, JobStatus

OPERATIONS = ["upload", "create", "get", "list", "cancel", "events"]
KINDS = ["429", "500", "503", "drop", "slow"]


@pytest.fixture
def emu(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[OpenAIEmulator]:
    # Jobs long enough that a cancel, retried after a fault, still finds them running.
    seconds = 4.0 if request.node.callspec.params["operation"] == "cancel" else 0.5
    emulator = OpenAIEmulator(job_seconds=seconds, api_key=TEST_KEY, slow_seconds=1.2, retry_after=0.05)
    emulator.start()
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "home"))
    for var in ("ANYTUNE_PROVIDER", "ANYTUNE_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    yield emulator
    emulator.stop()


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_fault_matrix(emu: OpenAIEmulator, tmp_path: Path, operation: str, kind: str) -> None:
    data = write_chat(tmp_path / "data.jsonl", 12, tag=f" {operation}-{kind}")
    emu.faults.add(f"{operation}:{kind}")
    outcome = "success"
    try:
        job = Job.create(
            provider="openai",
            model=MODEL,
            training_file=data,
            timeout=0.6,
            hyperparameters=Hyperparameters(epochs=1),
        )
        if operation == "cancel":
            job.cancel()
            job.wait(timeout=30, progress=False)
            assert job.status is JobStatus.CANCELLED
        else:
            job.wait(timeout=30, progress=False)
            assert job.status is JobStatus.SUCCEEDED, job.error
            if operation == "events":
                assert job.events()
            if operation == "list":
                assert job.id in [j.id for j in Job.list(provider="openai")]
    except AnytuneError as exc:  # a clear, typed error is an acceptable end
        outcome = type(exc).__name__
    assert emu.counts["jobs_created"] <= 1, f"{operation}:{kind} made two jobs ({outcome})"
    assert emu.counts["files_created"] <= 1, f"{operation}:{kind} stored the file twice"
    if operation not in ("upload", "create"):
        assert outcome == "success", f"{operation}:{kind} should be ridden out, got {outcome}"
