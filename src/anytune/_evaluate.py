"""``job.evaluate``: the tuned and the baseline model answer held-out prompts; scorers grade.

The work per sample is a flow (:mod:`anytune._flow`) written once: ask each model (with
retries on rate limits, server errors and dropped connections, honouring Retry-After),
then ask the judge where a judge scorer is used. The sync job runs these flows in a
thread pool, the async job with ``asyncio.gather`` under a semaphore; ``concurrency``
bounds both. Before any request, the cost of the run is estimated from the prompts'
size, ``max_tokens`` and the provider's inference prices, and ``max_cost_usd`` refuses
a run that could cost more.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anytune._chat import ChatReply, ChatTarget, chat_target
from anytune._errors import (
    BudgetExceededError,
    ConfigurationError,
    DatasetError,
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from anytune._eval_report import EvalReport, ModelResult
from anytune._flow import Flow, Sleep, call
from anytune._polling import Backoff
from anytune._scorers import JUDGE_PROMPT, Scorer, make_scorer, parse_verdict
from anytune.provider import Provider

if TYPE_CHECKING:
    from anytune._jobbase import _JobBase

__all__ = ["EvalPlan", "Sample", "load_samples", "plan_evaluation"]

_RETRYABLE = (RateLimitError, ServerError, ProviderConnectionError, ProviderTimeoutError)
_BACKOFF = Backoff(initial=1.0, cap=30.0)


@dataclass(frozen=True)
class Sample:
    """One held-out prompt: the conversation up to the answer, and the reference answer."""

    index: int
    messages: list[dict[str, Any]]
    reference: str | None

    @property
    def question(self) -> str:
        """The last user turn (what a judge is shown as the question)."""
        users = [m["content"] for m in self.messages if m["role"] == "user"]
        return str(users[-1]) if users else ""


def load_samples(data: Any) -> list[Sample]:
    """Prompts and reference answers from ``data`` in any accepted format: the reference is
    the last assistant turn (the preferred one for preference records); the prompt is what
    comes before it. A record with no assistant turn is a prompt without a reference."""
    from anytune.data import iter_items, parse_record

    samples: list[Sample] = []
    problems = []
    for line, value, problem in iter_items(data):
        if problem is not None:
            problems.append(problem)
            continue
        issues: list[Any] = []
        ex = parse_record(value, issues)
        if ex is None:
            from anytune._types import Problem

            problems.extend(
                Problem(code=code, message=msg, line=line)
                for code, _f, msg, level in issues if level == "error"
            )
            continue
        msgs = list(ex.messages)
        reference = None
        if ex.kind == "preference" and ex.chosen:
            reference = ex.chosen[-1].content
        elif msgs and msgs[-1].role == "assistant":
            reference = msgs.pop().content
        prompt = [{"role": m.role, "content": m.content or ""} for m in msgs]
        if not prompt:
            continue
        samples.append(Sample(len(samples), prompt, reference))
    if problems:
        raise DatasetError("the evaluation data has records that cannot be read", problems)
    if not samples:
        raise DatasetError("the evaluation data has no prompts")
    return samples


@dataclass
class _Answer:
    target: str
    text: str | None
    usage: tuple[int, int]
    error: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    #: Tokens of each judge's verdict on this answer (input, output), for its cost.
    judged: dict[str, tuple[int, int]] = field(default_factory=dict)


def _ask(
    provider: Provider,
    target: ChatTarget,
    messages: list[dict[str, Any]],
    params: dict[str, Any],
    retries: int,
) -> Flow[ChatReply]:
    """One chat call with retries on errors that say nothing was answered."""
    rng = random.Random()
    for attempt in range(retries + 1):
        try:
            return (yield from call(provider.chat, provider.achat, target.model, messages,
                                    base_model=target.base_model, **params))
        except _RETRYABLE as exc:
            if attempt == retries:
                raise
            yield Sleep(_BACKOFF.retry_delay(attempt, exc, rng))
    raise AssertionError("unreachable")


@dataclass
class EvalPlan:
    """Everything an evaluation run needs, resolved and priced before any request."""

    job: _JobBase
    samples: list[Sample]
    scorers: list[Scorer]
    targets: list[ChatTarget]
    params: dict[str, Any]
    retries: int
    judges: dict[str, tuple[Provider, ChatTarget]]
    estimate_usd: float | None
    source: str

    def sample_flow(self, sample: Sample) -> Flow[list[_Answer]]:
        """Ask every target model about one sample and score the answers."""
        answers = []
        for target in self.targets:
            try:
                reply = yield from _ask(
                    self.job._provider, target, sample.messages, self.params, self.retries
                )
            except _RETRYABLE as exc:  # still failing after the retries: a failed sample
                answers.append(_Answer(target.label, None, (0, 0), error=f"{type(exc).__name__}: {exc}"))
                continue
            ans = _Answer(target.label, reply.text, (reply.prompt_tokens, reply.completion_tokens))
            for scorer in self.scorers:
                if scorer.fn is not None:
                    ans.scores[scorer.name] = scorer.fn(reply.text, sample.reference, sample)
                    continue
                judge_provider, judge_target = self.judges[scorer.name]
                prompt = JUDGE_PROMPT.format(
                    question=sample.question, reference=sample.reference or "(none)", answer=reply.text
                )
                verdict = yield from _ask(
                    judge_provider,
                    judge_target,
                    [{"role": "user", "content": prompt}],
                    {"max_tokens": 32, "temperature": 0},
                    self.retries,
                )
                ans.scores[scorer.name] = parse_verdict(verdict.text) or 0.0
                ans.judged[scorer.name] = (verdict.prompt_tokens, verdict.completion_tokens)
            answers.append(ans)
        return answers

    def _judge_cost(self, results: Sequence[list[_Answer]]) -> float | None:
        """What the judges' verdicts cost (``None`` where a judge's price is unknown)."""
        total = 0.0
        for name, (provider, target) in self.judges.items():
            price = provider.inference_price(target.model)
            if price is None:
                return None
            used = [a.judged[name] for per in results for a in per if name in a.judged]
            total += sum(i * price[0] + o * price[1] for i, o in used) / 1e6
        return total

    def report(self, results: Sequence[list[_Answer]], seconds: float) -> EvalReport:
        """Summarise per target model and scorer (score, 95 % interval, tokens, cost)."""
        models: dict[str, ModelResult] = {}
        for target in self.targets:
            rows = [a for per in results for a in per if a.target == target.label]
            price = self.job._provider.inference_price(target.model, base_model=target.base_model)
            pin = sum(a.usage[0] for a in rows)
            pout = sum(a.usage[1] for a in rows)
            models[target.label] = ModelResult(
                model=target.model,
                scores={s.name: [a.scores.get(s.name, 0.0) for a in rows] for s in self.scorers},
                prompt_tokens=pin,
                completion_tokens=pout,
                cost_usd=None if price is None else (pin * price[0] + pout * price[1]) / 1e6,
                errors=[a.error for a in rows if a.error],
                answers=[a.text for a in rows],
            )
        tuned = models[self.targets[0].label]
        baseline = models[self.targets[1].label] if len(self.targets) > 1 else None
        return EvalReport(
            job=self.job.id,
            provider=self.job.provider,
            base_model=self.job.model,
            scorers=[s.name for s in self.scorers],
            samples=len(self.samples),
            tuned=tuned,
            baseline=baseline,
            tuning_cost_usd=_tuning_cost(self.job),
            judge_cost_usd=self._judge_cost(results),
            seconds=seconds,
            estimate_usd=self.estimate_usd,
            source=self.source,
            references=[s.reference for s in self.samples],
        )


def _tuning_cost(job: _JobBase) -> float | None:
    actual = getattr(job, "actual", None)  # what the provider billed, where it says
    cost = getattr(actual, "cost_usd", None)
    if cost is not None:
        return float(cost)
    return job.estimate.cost_usd if job.estimate is not None else None


def _approx_tokens(messages: list[dict[str, Any]]) -> int:
    # ~4 characters a token for English (OpenAI's rule of thumb) plus per-message framing;
    # an estimate only, shown as such, and only used against max_cost_usd.
    return sum(len(str(m.get("content") or "")) for m in messages) // 4 + 4 * len(messages) + 3


def plan_evaluation(
    job: _JobBase,
    data: Any,
    *,
    scorers: Sequence[str | Scorer],
    baseline: str | None,
    max_tokens: int,
    temperature: float,
    retries: int,
    max_cost_usd: float | None,
    target: ChatTarget | None = None,
    limit: int | None = None,
) -> EvalPlan:
    """Resolve data, scorers and models, and price the run; raise before any request when
    something is wrong or the estimate is over ``max_cost_usd``."""
    from anytune._holdout import find_holdout

    if data is None:
        held = find_holdout(job.id, job.provider)
        if held is None:
            raise ConfigurationError(
                f"job {job.id} has no held-out data: pass data=... (CLI: --data FILE), or create "
                "the job with holdout=0.15 to keep a share of the records out of training"
            )
        data, source = held, "holdout"
    else:
        source = str(data) if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__") else "records"
    samples = load_samples(data)
    if limit is not None:
        samples = samples[:limit]
    if not scorers:
        raise ConfigurationError("evaluate needs at least one scorer, e.g. scorers=['json']")
    made = [make_scorer(s) for s in scorers]
    targets = [target or chat_target(job)]
    if baseline == "base":
        targets.append(ChatTarget(job.model, None, "base"))
    elif baseline:
        targets.append(ChatTarget(baseline, None, "baseline"))
    judges = {}
    for s in made:
        if s.judge is not None:
            name, model = s.judge
            p = job._provider
            if name is not None and name != job.provider:
                from anytune._config import load_profile
                from anytune._resolve import open_provider

                p = open_provider(name, {}, load_profile())
            judges[s.name] = (p, ChatTarget(model, None, "judge"))
    params = {"max_tokens": max_tokens, "temperature": temperature}
    estimate = _estimate(job._provider, samples, targets, judges, max_tokens)
    if max_cost_usd is not None:
        if estimate is None:
            raise ConfigurationError(
                f"max_cost_usd was given but {job.provider} has no inference price for these models; "
                "drop max_cost_usd or evaluate fewer samples"
            )
        if estimate > max_cost_usd:
            raise BudgetExceededError(estimate, max_cost_usd)
    return EvalPlan(job, samples, made, targets, params, retries, judges, estimate, source)


def _estimate(
    provider: Provider,
    samples: list[Sample],
    targets: list[ChatTarget],
    judges: dict[str, tuple[Provider, ChatTarget]],
    max_tokens: int,
) -> float | None:
    """The most the run can cost: every answer as long as ``max_tokens``."""
    total = 0.0
    prompt_tokens = sum(_approx_tokens(s.messages) for s in samples)
    for t in targets:
        price = provider.inference_price(t.model, base_model=t.base_model)
        if price is None:
            return None
        total += (prompt_tokens * price[0] + len(samples) * max_tokens * price[1]) / 1e6
    for jp, jt in judges.values():
        price = jp.inference_price(jt.model)
        if price is None:
            return None
        judge_in = prompt_tokens + len(samples) * (max_tokens + len(JUDGE_PROMPT) // 4)
        total += len(targets) * (judge_in * price[0] + len(samples) * 32 * price[1]) / 1e6
    return total


def run_sync_plan(plan: EvalPlan, concurrency: int) -> EvalReport:
    """Run every sample's flow in a thread pool of ``concurrency`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    from anytune._flow import run_sync

    start = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="anytune-eval")
    try:
        results = list(pool.map(lambda s: run_sync(plan.sample_flow(s)), plan.samples))
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # stop at the first error that is not a retry
        raise
    pool.shutdown()
    return plan.report(results, time.monotonic() - start)


async def run_async_plan(plan: EvalPlan, concurrency: int) -> EvalReport:
    """Run every sample's flow as a task, at most ``concurrency`` at a time."""
    import asyncio

    from anytune._flow import run_async

    start = time.monotonic()
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(sample: Sample) -> list[_Answer]:
        async with sem:
            return await run_async(plan.sample_flow(sample))

    tasks = [asyncio.ensure_future(one(s)) for s in plan.samples]
    try:
        results = await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        raise
    return plan.report(results, time.monotonic() - start)


def checkpoint_plans(
    job: _JobBase,
    checkpoints: Sequence[Any],
    data: Any,
    *,
    scorers: Sequence[str | Scorer],
    max_tokens: int,
    retries: int,
    max_cost_usd: float | None,
    limit: int | None,
) -> list[tuple[str, int | None, EvalPlan]]:
    """One plan per checkpoint (and the final model when it is not a checkpoint), no
    baseline; ``max_cost_usd`` bounds them all together, before any request."""
    targets = [(c.id, c.step, ChatTarget(c.model, job.model, c.id)) for c in checkpoints]
    if job.result is not None and job.result.model not in {c.model for c in checkpoints}:
        targets.append(("final", None, ChatTarget(job.result.model, job.model, "final")))
    if not targets:
        raise ConfigurationError(f"job {job.id} exposes no checkpoints and no tuned model yet")
    plans = [
        (
            name,
            step,
            plan_evaluation(
                job,
                data,
                scorers=scorers,
                baseline=None,
                max_tokens=max_tokens,
                temperature=0.0,
                retries=retries,
                max_cost_usd=None,
                target=target,
                limit=limit,
            ),
        )
        for name, step, target in targets
    ]
    if max_cost_usd is not None:
        costs = [p.estimate_usd for _, _, p in plans]
        if any(c is None for c in costs):
            raise ConfigurationError(
                f"max_cost_usd was given but {job.provider} has no inference price for these models"
            )
        total = sum(c for c in costs if c is not None)
        if total > max_cost_usd:
            raise BudgetExceededError(total, max_cost_usd)
    return plans
