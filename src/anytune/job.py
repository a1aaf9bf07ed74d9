"""``FineTuneJob`` (alias ``Job``) and ``AsyncFineTuneJob`` (alias ``AsyncJob``).

The two classes have the same methods; each method runs one shared flow from
:mod:`anytune._jobbase` with the sync or the async driver, so they behave identically.
"""

from __future__ import annotations

import builtins
import sys
from typing import TYPE_CHECKING, Any

from anytune._afterjob import diagnose_flow, weights_flow
from anytune._flow import Clock, SystemClock, run_async, run_sync
from anytune._jobbase import _create_job_flow, _get_flow, _JobBase, _list_flow
from anytune._polling import Backoff
from anytune._progress import ProgressDisplay
from anytune._types import Checkpoint, Hyperparameters, JobEvent, Metric

if TYPE_CHECKING:
    from pathlib import Path

    from anytune._doctor import Diagnosis
    from anytune._serve import ServeCommand

__all__ = ["AsyncFineTuneJob", "FineTuneJob"]

_DEFAULT_BACKOFF = Backoff()


def _interrupted(job_id: str) -> None:
    print(
        f"\nStopped waiting. Job {job_id} keeps running; resume with: anytune wait {job_id}",
        file=sys.stderr,
    )


class FineTuneJob(_JobBase):
    """A fine-tuning job on any provider. Create one with :meth:`create`, find one with
    :meth:`get` or :meth:`list`; ``Job`` is a short alias."""

    @classmethod
    def create(
        cls,
        *,
        provider: str | None = None,
        model: str | None = None,
        training_file: Any,
        validation_file: Any = None,
        validation_split: float | None = None,
        method: str | None = None,
        hyperparameters: Hyperparameters | None = None,
        suffix: str | None = None,
        seed: int | None = None,
        max_cost_usd: float | None = None,
        idempotency_key: str | None = None,
        progress: bool = True,
        **provider_options: Any,
    ) -> FineTuneJob:
        """Validate, price, upload and start a job (DESIGN.md §2).

        Nothing is uploaded or billed if the data is invalid (:class:`DatasetError`) or
        the estimate exceeds ``max_cost_usd`` (:class:`BudgetExceededError`). The same
        ``idempotency_key`` with the same spec returns the existing job, never a second.
        While the data uploads, a bar shows how far it got (on a terminal only, and where
        the provider reports it); ``progress=False`` turns it off, as for ``wait``.
        """
        kwargs = dict(
            training_file=training_file, validation_file=validation_file,
            validation_split=validation_split, method=method, hyperparameters=hyperparameters,
            suffix=suffix, seed=seed, max_cost_usd=max_cost_usd,
            idempotency_key=idempotency_key, progress=progress, **provider_options,
        )
        return run_sync(_create_job_flow(cls, provider, model, kwargs))

    @classmethod
    def get(cls, job_id: str, **settings: Any) -> FineTuneJob:
        """The job with this qualified id (``"openai:ftjob-..."``), fetched from its provider."""
        return run_sync(_get_flow(job_id, settings, cls))

    @classmethod
    def list(cls, provider: str | None = None, limit: int = 20) -> builtins.list[FineTuneJob]:
        """Recent jobs: the local job store merged with each provider's own list."""
        return run_sync(_list_flow(provider, limit, cls))

    def refresh(self) -> FineTuneJob:
        """Fetch the job's current state; returns ``self``."""
        run_sync(self._refresh_flow())
        return self

    def wait(
        self,
        timeout: float | None = None,
        progress: bool = True,
        *,
        clock: Clock | None = None,
        backoff: Backoff = _DEFAULT_BACKOFF,
    ) -> FineTuneJob:
        """Poll until the job ends (failed ones included) and return it.

        Backs off from ~2 s to 60 s, resetting when the status changes. ``timeout``
        raises :class:`WaitTimeoutError` (the job keeps running). Ctrl-C stops waiting,
        never the job. ``clock`` replaces real time (tests, simulations)."""
        display = ProgressDisplay(self.id, enabled=progress)
        try:
            run_sync(self._wait_flow(timeout, clock or SystemClock(), display.update, backoff), clock)
        except KeyboardInterrupt:
            display.close()
            _interrupted(self.id)
            raise
        finally:
            display.close()
        return self

    def cancel(self) -> FineTuneJob:
        """Ask the provider to stop the job; returns ``self`` with the new status."""
        run_sync(self._cancel_flow())
        return self

    def events(self, limit: int = 100) -> builtins.list[JobEvent]:
        """The job's events, oldest first."""
        return run_sync(self._read_flow("events", limit=limit))

    def metrics(self) -> builtins.list[Metric]:
        """Training metrics by step (train/validation loss, ...), oldest first."""
        return run_sync(self._read_flow("metrics"))

    def checkpoints(self) -> builtins.list[Checkpoint]:
        """Saved checkpoints, oldest first."""
        return run_sync(self._read_flow("checkpoints"))

    def diagnose(self) -> Diagnosis:
        """The findings of ``anytune doctor``: overfitting, divergence or NaN, a plateau,
        too few steps, each with its rule and the step/checkpoint to use."""
        return run_sync(diagnose_flow(self))

    def download(self, output_dir: str | Path) -> Path:
        """Write the tuned weights the provider offers into ``output_dir``; returns the folder."""
        return run_sync(weights_flow(self, "download", output_dir))

    def export_merged(self, output_dir: str | Path) -> Path:
        """Write the adapter merged into the base model (safetensors + tokenizer)."""
        return run_sync(weights_flow(self, "export_merged", output_dir))

    def serve_command(self, *, host: str = "127.0.0.1", port: int = 8000) -> ServeCommand:
        """The vLLM command that serves this job's adapter (``anytune serve`` runs it)."""
        return self._provider.serve_command(self._snapshot.id, host=host, port=port)

    def close(self) -> None:
        """Release the provider's connections. The job stays usable: a later call opens
        new ones. ``with Job.get(...) as job:`` closes on leaving the block."""
        self._provider.close()

    def __enter__(self) -> FineTuneJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncFineTuneJob(_JobBase):
    """The async twin of :class:`FineTuneJob`: the same methods, as coroutines.
    ``AsyncJob`` is a short alias."""

    @classmethod
    async def create(
        cls,
        *,
        provider: str | None = None,
        model: str | None = None,
        training_file: Any,
        validation_file: Any = None,
        validation_split: float | None = None,
        method: str | None = None,
        hyperparameters: Hyperparameters | None = None,
        suffix: str | None = None,
        seed: int | None = None,
        max_cost_usd: float | None = None,
        idempotency_key: str | None = None,
        progress: bool = True,
        **provider_options: Any,
    ) -> AsyncFineTuneJob:
        """Async twin of :meth:`FineTuneJob.create`."""
        kwargs = dict(
            training_file=training_file, validation_file=validation_file,
            validation_split=validation_split, method=method, hyperparameters=hyperparameters,
            suffix=suffix, seed=seed, max_cost_usd=max_cost_usd,
            idempotency_key=idempotency_key, progress=progress, **provider_options,
        )
        return await run_async(_create_job_flow(cls, provider, model, kwargs))

    @classmethod
    async def get(cls, job_id: str, **settings: Any) -> AsyncFineTuneJob:
        """Async twin of :meth:`FineTuneJob.get`."""
        return await run_async(_get_flow(job_id, settings, cls))

    @classmethod
    async def list(cls, provider: str | None = None, limit: int = 20) -> builtins.list[AsyncFineTuneJob]:
        """Async twin of :meth:`FineTuneJob.list`."""
        return await run_async(_list_flow(provider, limit, cls))

    async def refresh(self) -> AsyncFineTuneJob:
        """Async twin of :meth:`FineTuneJob.refresh`."""
        await run_async(self._refresh_flow())
        return self

    async def wait(
        self,
        timeout: float | None = None,
        progress: bool = True,
        *,
        clock: Clock | None = None,
        backoff: Backoff = _DEFAULT_BACKOFF,
    ) -> AsyncFineTuneJob:
        """Async twin of :meth:`FineTuneJob.wait`."""
        display = ProgressDisplay(self.id, enabled=progress)
        try:
            await run_async(
                self._wait_flow(timeout, clock or SystemClock(), display.update, backoff), clock
            )
        except KeyboardInterrupt:
            display.close()
            _interrupted(self.id)
            raise
        finally:
            display.close()
        return self

    async def cancel(self) -> AsyncFineTuneJob:
        """Async twin of :meth:`FineTuneJob.cancel`."""
        await run_async(self._cancel_flow())
        return self

    async def events(self, limit: int = 100) -> builtins.list[JobEvent]:
        """Async twin of :meth:`FineTuneJob.events`."""
        return await run_async(self._read_flow("events", limit=limit))

    async def metrics(self) -> builtins.list[Metric]:
        """Async twin of :meth:`FineTuneJob.metrics`."""
        return await run_async(self._read_flow("metrics"))

    async def checkpoints(self) -> builtins.list[Checkpoint]:
        """Async twin of :meth:`FineTuneJob.checkpoints`."""
        return await run_async(self._read_flow("checkpoints"))

    async def diagnose(self) -> Diagnosis:
        """Async twin of :meth:`FineTuneJob.diagnose`."""
        return await run_async(diagnose_flow(self))

    async def download(self, output_dir: str | Path) -> Path:
        """Async twin of :meth:`FineTuneJob.download`."""
        return await run_async(weights_flow(self, "download", output_dir))

    async def export_merged(self, output_dir: str | Path) -> Path:
        """Async twin of :meth:`FineTuneJob.export_merged`."""
        return await run_async(weights_flow(self, "export_merged", output_dir))

    async def aclose(self) -> None:
        """Release the provider's connections, the async client's included (do it before
        the event loop ends). The job stays usable. ``async with`` closes on leaving."""
        await self._provider.aclose()

    async def __aenter__(self) -> AsyncFineTuneJob:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
