"""``FineTuneJob`` (alias ``Job``) and ``AsyncFineTuneJob`` (alias ``AsyncJob``).

The two classes have the same methods; each method runs one shared flow from
:mod:`anytune._jobbase` with the sync or the async driver, so they behave identically.
"""

from __future__ import annotations

import asyncio
import builtins
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from anytune._afterjob import diagnose_flow, weights_flow
from anytune._checks import check_options
from anytune._flow import Clock, SystemClock, run_async, run_sync
from anytune._jobbase import _create_job_flow, _get_flow, _JobBase, _list_flow
from anytune._polling import Backoff
from anytune._progress import ProgressDisplay
from anytune._types import Checkpoint, Hyperparameters, JobEvent, Metric

if TYPE_CHECKING:
    from pathlib import Path

    from anytune._chat import ChatReply
    from anytune._doctor import Diagnosis
    from anytune._eval_report import CheckpointReport, EvalReport
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
        holdout: float | None = None,
        tracking: str | list[str] | None = None,
        **provider_options: Any,
    ) -> FineTuneJob:
        """Validate, price, upload and start a job (docs/design.md §2).

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
            idempotency_key=idempotency_key, progress=progress, holdout=holdout, tracking=tracking,
            **provider_options,
        )
        return run_sync(_create_job_flow(cls, provider, model, kwargs))

    @classmethod
    def get(cls, job_id: str, **settings: Any) -> FineTuneJob:
        """The job with this qualified id (``"openai:ftjob-..."``), fetched from its provider."""
        return run_sync(_get_flow(job_id, settings, cls))

    @classmethod
    def list(cls, provider: str | None = None, limit: int = 20) -> builtins.list[FineTuneJob]:
        """Recent jobs: the local job store merged with each provider's own list."""
        check_options({"limit": limit})
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
        check_options({"timeout": timeout})
        clock = clock or SystemClock()
        display = ProgressDisplay(self.id, enabled=progress, now=clock.now)
        try:
            run_sync(self._wait_flow(timeout, clock, display.update, backoff), clock)
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
        return run_sync(self._read_flow(self._provider.events, self._provider.aevents, limit=limit))

    def metrics(self) -> builtins.list[Metric]:
        """Training metrics by step (train/validation loss, ...), oldest first."""
        return run_sync(self._read_flow(self._provider.metrics, self._provider.ametrics))

    def checkpoints(self) -> builtins.list[Checkpoint]:
        """Saved checkpoints, oldest first."""
        return run_sync(self._read_flow(self._provider.checkpoints, self._provider.acheckpoints))

    def chat(self, messages: Any, *, base: bool = False, **params: Any) -> ChatReply:
        """One chat request to the tuned model (``base=True``: to the base model).
        ``messages`` is a prompt string or a list of ``{"role", "content"}``; ``params``
        are ``max_tokens``, ``temperature``, ``top_p``, ``seed``, ``stop``."""
        from anytune._chat import chat_flow

        return run_sync(chat_flow(self, messages, base, params))

    def evaluate(
        self,
        data: Any = None,
        *,
        scorers: Sequence[str] = ("json",),
        baseline: str | None = "base",
        concurrency: int = 8,
        max_tokens: int = 256,
        temperature: float = 0.0,
        retries: int = 3,
        max_cost_usd: float | None = None,
        limit: int | None = None,
    ) -> EvalReport:
        """Score the tuned model against ``baseline`` (``"base"``: the job's base model;
        another model id; ``None``: none) on ``data`` (``None``: the job's held-out
        records). ``scorers``: exact, json, json-schema[:FILE], contains,
        module:function, judge:MODEL. Raises :class:`BudgetExceededError` before any
        request when the estimated cost is over ``max_cost_usd``."""
        from anytune._evaluate import plan_evaluation, run_sync_plan

        plan = plan_evaluation(self, data, scorers=scorers, baseline=baseline, max_tokens=max_tokens,
                               temperature=temperature, retries=retries, max_cost_usd=max_cost_usd,
                               limit=limit)
        return run_sync_plan(plan, concurrency)

    def evaluate_checkpoints(
        self, data: Any = None, *, scorers: Sequence[str] = ("json",), concurrency: int = 8,
        max_tokens: int = 256, retries: int = 3, max_cost_usd: float | None = None, limit: int | None = None,
    ) -> CheckpointReport:
        """Score every checkpoint the provider exposes (and the final model); ``.best``
        names the one to use."""
        from anytune._eval_report import CheckpointReport
        from anytune._evaluate import checkpoint_plans, run_sync_plan

        plans = checkpoint_plans(self, self.checkpoints(), data, scorers=scorers, max_tokens=max_tokens,
                                 retries=retries, max_cost_usd=max_cost_usd, limit=limit)
        return CheckpointReport(self.id, [(name, step, run_sync_plan(plan, concurrency))
                                          for name, step, plan in plans])

    def diagnose(self) -> Diagnosis:
        """The findings of ``anytune doctor``: overfitting, divergence or NaN, a plateau,
        too few steps, each with its rule and the step/checkpoint to use."""
        return run_sync(diagnose_flow(self))

    def download(self, output_dir: str | Path) -> Path:
        """Write the tuned weights the provider offers into ``output_dir``; returns the folder."""
        return run_sync(weights_flow(self, output_dir))

    def export_merged(self, output_dir: str | Path) -> Path:
        """Write the adapter merged into the base model (safetensors + tokenizer)."""
        return run_sync(weights_flow(self, output_dir, merged=True))

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
        holdout: float | None = None,
        tracking: str | list[str] | None = None,
        **provider_options: Any,
    ) -> AsyncFineTuneJob:
        """Async twin of :meth:`FineTuneJob.create`."""
        kwargs = dict(
            training_file=training_file, validation_file=validation_file,
            validation_split=validation_split, method=method, hyperparameters=hyperparameters,
            suffix=suffix, seed=seed, max_cost_usd=max_cost_usd,
            idempotency_key=idempotency_key, progress=progress, holdout=holdout, tracking=tracking,
            **provider_options,
        )
        return await run_async(_create_job_flow(cls, provider, model, kwargs))

    @classmethod
    async def get(cls, job_id: str, **settings: Any) -> AsyncFineTuneJob:
        """Async twin of :meth:`FineTuneJob.get`."""
        return await run_async(_get_flow(job_id, settings, cls))

    @classmethod
    async def list(cls, provider: str | None = None, limit: int = 20) -> builtins.list[AsyncFineTuneJob]:
        """Async twin of :meth:`FineTuneJob.list`."""
        check_options({"limit": limit})
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
        check_options({"timeout": timeout})
        clock = clock or SystemClock()
        display = ProgressDisplay(self.id, enabled=progress, now=clock.now)
        try:
            await run_async(self._wait_flow(timeout, clock, display.update, backoff), clock)
        except (KeyboardInterrupt, asyncio.CancelledError):
            # Under asyncio.run, Ctrl-C arrives as the task's cancellation: the same hint.
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
        return await run_async(self._read_flow(self._provider.events, self._provider.aevents, limit=limit))

    async def metrics(self) -> builtins.list[Metric]:
        """Async twin of :meth:`FineTuneJob.metrics`."""
        return await run_async(self._read_flow(self._provider.metrics, self._provider.ametrics))

    async def checkpoints(self) -> builtins.list[Checkpoint]:
        """Async twin of :meth:`FineTuneJob.checkpoints`."""
        return await run_async(self._read_flow(self._provider.checkpoints, self._provider.acheckpoints))

    async def chat(self, messages: Any, *, base: bool = False, **params: Any) -> ChatReply:
        """Async twin of :meth:`FineTuneJob.chat`."""
        from anytune._chat import chat_flow

        return await run_async(chat_flow(self, messages, base, params))

    async def evaluate(
        self,
        data: Any = None,
        *,
        scorers: Sequence[str] = ("json",),
        baseline: str | None = "base",
        concurrency: int = 8,
        max_tokens: int = 256,
        temperature: float = 0.0,
        retries: int = 3,
        max_cost_usd: float | None = None,
        limit: int | None = None,
    ) -> EvalReport:
        """Async twin of :meth:`FineTuneJob.evaluate`."""
        await asyncio.to_thread(importlib.import_module, "anytune._evaluate")  # off the loop
        from anytune._evaluate import plan_evaluation, run_async_plan

        plan = await asyncio.to_thread(
            plan_evaluation, self, data, scorers=scorers, baseline=baseline, max_tokens=max_tokens,
            temperature=temperature, retries=retries, max_cost_usd=max_cost_usd, limit=limit)
        return await run_async_plan(plan, concurrency)

    async def evaluate_checkpoints(
        self, data: Any = None, *, scorers: Sequence[str] = ("json",), concurrency: int = 8,
        max_tokens: int = 256, retries: int = 3, max_cost_usd: float | None = None, limit: int | None = None,
    ) -> CheckpointReport:
        """Async twin of :meth:`FineTuneJob.evaluate_checkpoints`."""
        await asyncio.to_thread(importlib.import_module, "anytune._evaluate")  # off the loop
        from anytune._eval_report import CheckpointReport
        from anytune._evaluate import checkpoint_plans, run_async_plan

        ckpts = await self.checkpoints()
        plans = await asyncio.to_thread(
            checkpoint_plans, self, ckpts, data, scorers=scorers, max_tokens=max_tokens,
            retries=retries, max_cost_usd=max_cost_usd, limit=limit)
        return CheckpointReport(self.id, [(name, step, await run_async_plan(plan, concurrency))
                                          for name, step, plan in plans])

    async def diagnose(self) -> Diagnosis:
        """Async twin of :meth:`FineTuneJob.diagnose`."""
        return await run_async(diagnose_flow(self))

    async def download(self, output_dir: str | Path) -> Path:
        """Async twin of :meth:`FineTuneJob.download`."""
        return await run_async(weights_flow(self, output_dir))

    async def export_merged(self, output_dir: str | Path) -> Path:
        """Async twin of :meth:`FineTuneJob.export_merged`."""
        return await run_async(weights_flow(self, output_dir, merged=True))

    async def aclose(self) -> None:
        """Release the provider's connections, the async client's included (do it before
        the event loop ends). The job stays usable. ``async with`` closes on leaving."""
        await self._provider.aclose()

    async def __aenter__(self) -> AsyncFineTuneJob:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
