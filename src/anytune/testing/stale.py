"""Stored state is checked, not trusted: the behaviours every cloud provider must show
against its own emulator (issue 15 §2-3), as a base class like the conformance suite.

Subclass :class:`StoredStateSuite`, set ``provider`` and ``model``; the suite starts the
provider's emulator itself (``running_emulator``), twice where a test needs a second
sandbox or the same sandbox restarted (a sandbox keeps its state in memory: restarted on
the same port, it is the same endpoint and has forgotten every job and file).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from anytune import Hyperparameters, Job, ReusedJobWarning
from anytune._registry import provider_class
from anytune._store import JobStore
from anytune.testing._emulators import running_emulator, write_chat_examples

__all__ = ["StoredStateSuite"]


class StoredStateSuite:
    """Base class of a provider's stored-state tests (see the module docstring)."""

    provider: ClassVar[str] = ""
    model: ClassVar[str] = ""
    hyperparameters: ClassVar[Hyperparameters] = Hyperparameters(epochs=1)
    #: Keyword arguments of the provider's emulator.
    emulator_kwargs: ClassVar[dict[str, Any]] = {"job_seconds": 30.0}

    @pytest.fixture(autouse=True)
    def _isolated_home(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "anytune-home"))
        monkeypatch.delenv("ANYTUNE_PROFILE", raising=False)
        monkeypatch.delenv("ANYTUNE_PROVIDER", raising=False)
        monkeypatch.chdir(tmp_path)

    @pytest.fixture
    def training_file(self, tmp_path: Path) -> Path:
        return write_chat_examples(tmp_path / "train.jsonl", 12)

    @contextmanager
    def sandbox(self, monkeypatch: pytest.MonkeyPatch, port: int = 0) -> Iterator[Any]:
        """The provider's emulator, its variables set for the block."""
        with running_emulator(self.provider, port=port, **self.emulator_kwargs) as emu:
            with monkeypatch.context() as m:
                for key, value in emu.env.items():
                    m.setenv(key, value)
                yield emu

    def create(self, data: Path, **kwargs: Any) -> Job:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReusedJobWarning)
            return Job.create(provider=self.provider, model=self.model, training_file=data,
                              hyperparameters=self.hyperparameters, progress=False, **kwargs)

    # --- the behaviours -------------------------------------------------------------------
    def test_a_job_is_never_reused_against_another_endpoint(
        self, monkeypatch: pytest.MonkeyPatch, training_file: Path
    ) -> None:
        with self.sandbox(monkeypatch):
            first = self.create(training_file)
            assert self.create(training_file).reused  # the same spec, the same endpoint
        with self.sandbox(monkeypatch) as second_sandbox:  # another sandbox, another endpoint
            second = self.create(training_file)
            assert not second.reused
            assert Job.get(second.id).id == second.id  # made here, not a stale row
            assert second_sandbox.requests.get("create") == 1
        assert JobStore().get(first.id) is not None  # the first job's row is untouched

    def test_a_job_the_provider_forgot_is_replaced_and_listed_stale(
        self, monkeypatch: pytest.MonkeyPatch, training_file: Path
    ) -> None:
        with self.sandbox(monkeypatch) as sandbox:
            first = self.create(training_file)
            port = sandbox.port
        with self.sandbox(monkeypatch, port=port) as restarted:  # same endpoint, memory gone
            second = self.create(training_file)
            assert not second.reused and restarted.requests.get("create") == 1
            assert Job.get(second.id).status is second.status
            listed = Job.list(provider=self.provider, limit=50)
            stale = [j for j in listed if j.error is not None and j.error.code == "stale"]
            # the first job's row (renamed "<id>#stale<n>" if the new job took its id)
            assert len(stale) == 1 and stale[0].id.startswith(first.id)
            assert second.id in [j.id for j in listed]
            again = self.create(training_file)  # the new job is the one reused now
            assert again.reused and again.id == second.id

    def test_a_vanished_upload_is_uploaded_again(
        self, monkeypatch: pytest.MonkeyPatch, training_file: Path
    ) -> None:
        with self.sandbox(monkeypatch) as sandbox:
            self.create(training_file, suffix="first")
            port = sandbox.port
        with self.sandbox(monkeypatch, port=port) as restarted:  # the file is gone with it
            job = self.create(training_file, suffix="second")
            assert restarted.requests.get("upload", 0) >= 1
            assert job.status.value != "failed"

    def test_a_file_gone_at_create_time_is_uploaded_again_once(
        self, monkeypatch: pytest.MonkeyPatch, training_file: Path
    ) -> None:
        with self.sandbox(monkeypatch) as sandbox:
            self.create(training_file, suffix="first")
            port = sandbox.port
        # The check still sees the file (it vanished between the check and the create):
        # the provider refuses the create, and the file is uploaded again once.
        monkeypatch.setattr(provider_class(self.provider), "upload_exists",
                            _exists_once_then_ask(provider_class(self.provider).upload_exists))
        with self.sandbox(monkeypatch, port=port) as restarted:
            job = self.create(training_file, suffix="second")
            assert restarted.requests.get("upload", 0) >= 1
            assert job.status.value != "failed"
            assert Job.get(job.id).id == job.id


def _exists_once_then_ask(real: Any) -> Any:
    answered: list[bool] = []

    def upload_exists(self: Any, file_ref: str) -> bool:
        if not answered:
            answered.append(True)
            return True
        return bool(real(self, file_ref))

    return upload_exists
