"""The conformance suite: one set of behaviours every provider must show.

It drives only the public API, so passing it means a user can swap providers by changing
one string. Subclass :class:`ProviderConformance`, set ``provider`` and ``model``, and
override the ``provider_env`` fixture to start the emulator (cloud providers) or prepare
a tiny model (local). Class attributes tune the slow parts for each provider.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from anytune import (
    AsyncJob,
    ConfigurationError,
    Hyperparameters,
    Job,
    JobEvent,
    JobStatus,
    Metric,
    NotFoundError,
    UnsupportedError,
)
from anytune._registry import available, provider_class
from anytune.testing._emulators import write_chat_examples

__all__ = ["JOB_KEYS", "ProviderConformance"]

#: The keys of a job in ``--json`` output and ``to_dict()`` (docs/design.md §3).
JOB_KEYS = {"id", "provider", "model", "status", "created_at", "result", "error", "estimate",
            "actual", "reused"}


class ProviderConformance:
    """Base class of a provider's conformance tests (see the module docstring)."""

    provider: ClassVar[str] = ""
    model: ClassVar[str] = ""
    #: Hyperparameters of every job the suite creates: keep jobs short.
    hyperparameters: ClassVar[Hyperparameters] = Hyperparameters(epochs=1)
    #: Seconds a job may take to finish in ``wait``.
    wait_timeout: ClassVar[float] = 120.0
    #: A native job id that the provider certainly does not know.
    missing_job_id: ClassVar[str] = "ftjob-doesnotexist000"

    # --- fixtures a subclass may override ----------------------------------------------
    @pytest.fixture
    def provider_env(self) -> Iterator[dict[str, Any]]:
        """Prepare the provider (start its emulator, set env vars); yield extra
        keyword arguments for ``Job.create``."""
        yield {}

    @pytest.fixture
    def training_file(self, tmp_path: Path) -> Path:
        """A small valid chat dataset."""
        return write_chat_examples(tmp_path / "train.jsonl", 12)

    # --- fixtures of the suite ---------------------------------------------------------
    @pytest.fixture(autouse=True)
    def _isolated_home(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "anytune-home"))
        monkeypatch.delenv("ANYTUNE_PROFILE", raising=False)
        monkeypatch.delenv("ANYTUNE_PROVIDER", raising=False)
        monkeypatch.chdir(tmp_path)  # no stray anytune.toml from the working folder

    def _create(self, env: dict[str, Any], data: Any, **kwargs: Any) -> Job:
        return Job.create(
            provider=self.provider, model=self.model, training_file=data,
            hyperparameters=self.hyperparameters, **{**env, **kwargs},
        )

    @pytest.fixture
    def job(self, provider_env: dict[str, Any], training_file: Path) -> Job:
        """A job created on the provider, not yet waited for."""
        return self._create(provider_env, training_file)

    # --- the behaviours -----------------------------------------------------------------
    def test_registered_through_entry_point(self) -> None:
        assert self.provider in available()
        assert provider_class(self.provider).name == self.provider

    def test_create_returns_a_qualified_job(self, job: Job) -> None:
        assert job.id.startswith(f"{self.provider}:") and len(job.id) > len(self.provider) + 1
        assert job.provider == self.provider
        assert isinstance(job.status, JobStatus)
        assert isinstance(job.created_at, datetime)
        assert set(job.to_dict()) == JOB_KEYS
        json.dumps(job.to_dict())  # JSON-ready

    def test_get_finds_the_same_job(self, job: Job) -> None:
        again = Job.get(job.id)
        assert again.id == job.id
        assert again.provider == self.provider
        assert self.model in again.model or again.model in self.model

    def test_wait_reaches_success_with_a_model(self, job: Job) -> None:
        done = job.wait(timeout=self.wait_timeout, progress=False)
        assert done is job
        assert job.status is JobStatus.SUCCEEDED, job.error
        assert job.result is not None and job.result.model
        assert job.raise_for_status() is job
        # What the provider reported, next to the estimate (docs/design.md §3 "actual").
        if job.result.trained_tokens is not None:
            assert job.actual is not None and job.actual.trained_tokens == job.result.trained_tokens
            assert job.to_dict()["actual"]["trained_tokens"] == job.result.trained_tokens
        else:
            assert job.actual is None and job.to_dict()["actual"] is None

    def test_events_are_normalised(self, job: Job) -> None:
        job.wait(timeout=self.wait_timeout, progress=False)
        if not provider_class(self.provider)().supports("events"):
            with pytest.raises(UnsupportedError):
                job.events()
            return
        events = job.events()
        assert events and all(isinstance(e, JobEvent) for e in events)
        assert all(isinstance(e.created_at, datetime) and e.message for e in events)
        times = [e.created_at for e in events]
        assert times == sorted(times), "events must come oldest first"

    def test_metrics_are_normalised(self, job: Job) -> None:
        job.wait(timeout=self.wait_timeout, progress=False)
        if not provider_class(self.provider)().supports("metrics"):
            with pytest.raises(UnsupportedError):
                job.metrics()
            return
        metrics = job.metrics()
        assert metrics and all(isinstance(m, Metric) for m in metrics)
        steps = [m.step for m in metrics]
        assert steps == sorted(steps)
        assert any(m.train_loss is not None for m in metrics)

    def test_list_includes_the_job(self, job: Job) -> None:
        ids = [j.id for j in Job.list(provider=self.provider, limit=50)]
        assert job.id in ids

    def test_list_shows_the_job_from_the_store_alone(self, job: Job) -> None:
        ids = [j.id for j in Job.list(limit=50)]  # no provider named: the store says which
        assert job.id in ids

    def test_cancel_ends_cancelled(self, provider_env: dict[str, Any], training_file: Path) -> None:
        if not provider_class(self.provider)().supports("cancel"):
            pytest.skip("provider cannot cancel")
        job = self._create(provider_env, training_file, suffix="tocancel")
        job.cancel()
        assert job.status in (JobStatus.CANCELLING, JobStatus.CANCELLED)
        job.wait(timeout=self.wait_timeout, progress=False)
        assert job.status is JobStatus.CANCELLED
        from anytune import JobFailedError

        with pytest.raises(JobFailedError) as info:
            job.raise_for_status()
        assert info.value.job is job

    def test_unknown_job_is_not_found(self, provider_env: dict[str, Any]) -> None:
        with pytest.raises(NotFoundError) as info:
            Job.get(f"{self.provider}:{self.missing_job_id}")
        assert info.value.provider == self.provider

    def test_same_idempotency_key_gives_the_same_job(
        self, provider_env: dict[str, Any], training_file: Path
    ) -> None:
        first = self._create(provider_env, training_file, idempotency_key="conformance-key-1")
        second = self._create(provider_env, training_file, idempotency_key="conformance-key-1")
        assert second.id == first.id
        same = [j for j in Job.list(provider=self.provider, limit=100) if j.id == first.id]
        assert len(same) == 1

    def test_same_key_with_another_spec_is_refused(
        self, provider_env: dict[str, Any], training_file: Path
    ) -> None:
        self._create(provider_env, training_file, idempotency_key="conformance-key-2")
        with pytest.raises(ConfigurationError):
            self._create(provider_env, training_file, idempotency_key="conformance-key-2",
                         suffix="other")

    def test_async_twin_behaves_the_same(
        self, provider_env: dict[str, Any], training_file: Path
    ) -> None:
        async def run() -> tuple[AsyncJob, AsyncJob]:
            job = await AsyncJob.create(
                provider=self.provider, model=self.model, training_file=training_file,
                hyperparameters=self.hyperparameters, suffix="async", **provider_env,
            )
            await job.wait(timeout=self.wait_timeout, progress=False)
            return job, await AsyncJob.get(job.id)

        job, again = asyncio.run(run())
        assert job.status is JobStatus.SUCCEEDED
        assert again.id == job.id and again.status is JobStatus.SUCCEEDED
        assert set(job.to_dict()) == JOB_KEYS
        assert job.to_dict()["result"] == again.to_dict()["result"]

    def test_a_closed_job_stays_usable(self, job: Job) -> None:
        with Job.get(job.id) as again:
            assert again.refresh().id == job.id
        assert again.refresh().id == job.id  # closing released connections, not the job

        async def run() -> str:
            async with await AsyncJob.get(job.id) as ajob:
                await ajob.refresh()
            await ajob.refresh()
            await ajob.aclose()
            return ajob.id

        # Two event loops in a row: an async client bound to the first must not leak
        # into the second.
        assert asyncio.run(run()) == job.id and asyncio.run(run()) == job.id
