"""The fault matrix every cloud provider's emulator is put through (reliability).

For each operation (upload, create, get, list, cancel, events) and each fault kind
(429 with Retry-After, 500, 503, drop: the request is carried out and the connection
closed without an answer, slow: the answer comes after the client's timeout), a user's
``Job.create`` + ``wait`` (or ``cancel``, ``events``, ``list``) must end in success or a
typed :class:`~anytune.AnytuneError`, never with two jobs for one ``create`` nor a file
stored twice. Faults on reads must be ridden out entirely.

A provider's tests subclass :class:`FaultMatrix` and override the ``emulator`` fixture.
The emulator must offer ``add_fault(spec)`` (``"OPERATION:KIND[:COUNT]"``) and
``counts`` with ``jobs_created`` and ``files_created``, besides the ``Emulator`` protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from anytune import AnytuneError, Hyperparameters, Job, JobStatus
from anytune.testing._emulators import write_chat_examples

__all__ = ["FAULT_KINDS", "FAULT_OPERATIONS", "FaultMatrix"]

FAULT_OPERATIONS = ("upload", "create", "get", "list", "cancel", "events")
FAULT_KINDS = ("429", "500", "503", "drop", "slow")


class FaultMatrix:
    """Base class of a provider's fault-matrix tests (see the module docstring)."""

    provider: ClassVar[str] = ""
    model: ClassVar[str] = ""
    #: The client timeout (a provider setting, seconds); ``slow`` answers come later.
    client_timeout: ClassVar[float] = 0.6
    #: Extra ``Job.create`` keyword arguments (provider settings or options).
    create_kwargs: ClassVar[dict[str, Any]] = {}

    @pytest.fixture
    def emulator(self, request: pytest.FixtureRequest) -> Iterator[Any]:
        """Start the provider's emulator with a ``slow`` delay above ``client_timeout``
        and short jobs (longer when ``fault_operation(request)`` is ``cancel``, so that a
        retried cancel still finds the job running); set its ``env``; yield it."""
        pytest.fail(f"{type(self).__name__} must override the emulator fixture")
        yield  # pragma: no cover

    @staticmethod
    def fault_operation(request: pytest.FixtureRequest) -> str:
        """The operation the current test injects a fault into."""
        return str(request.node.callspec.params["operation"])

    @pytest.fixture(autouse=True)
    def _isolated_home(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "anytune-home"))
        for var in ("ANYTUNE_PROVIDER", "ANYTUNE_PROFILE"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.chdir(tmp_path)

    @pytest.mark.slow
    @pytest.mark.parametrize("kind", FAULT_KINDS)
    @pytest.mark.parametrize("operation", FAULT_OPERATIONS)
    def test_fault(self, emulator: Any, tmp_path: Path, operation: str, kind: str) -> None:
        data = write_chat_examples(tmp_path / "data.jsonl", 12, tag=f" {operation}-{kind}")
        emulator.add_fault(f"{operation}:{kind}")
        outcome = "success"
        try:
            job = Job.create(
                provider=self.provider, model=self.model, training_file=data,
                timeout=self.client_timeout, hyperparameters=Hyperparameters(epochs=1),
                **self.create_kwargs,
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
                    assert job.id in [j.id for j in Job.list(provider=self.provider)]
        except AnytuneError as exc:  # a clear, typed error is an acceptable end
            outcome = type(exc).__name__
        counts = emulator.counts
        assert counts["jobs_created"] <= 1, f"{operation}:{kind} made two jobs ({outcome})"
        assert counts["files_created"] <= 1, f"{operation}:{kind} stored the file twice"
        if operation not in ("upload", "create"):
            assert outcome == "success", f"{operation}:{kind} should be ridden out, got {outcome}"
