"""The one wait loop, on a fake clock: backoff schedule, timeouts, terminal states and
errors while polling. The same flow runs under the sync and the async driver."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from anytune import AuthenticationError, RateLimitError, ServerError
from anytune._flow import call, run_async, run_sync
from anytune._polling import Backoff, WaitTimedOut, wait_flow
from anytune._types import JobSnapshot, JobStatus
from anytune.provider import Provider


@dataclass
class FakeClock:
    t: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class ScriptedProvider(Provider):
    """Answers ``get`` from a function of the fake clock's time."""

    name = "scripted"

    def __init__(self, clock: FakeClock, answer: Callable[[float, int], JobSnapshot | Exception]):
        super().__init__()
        self.clock, self.answer, self.calls = clock, answer, 0

    def get(self, job_id: str) -> JobSnapshot:
        self.calls += 1
        out = self.answer(self.clock.t, self.calls)
        if isinstance(out, Exception):
            raise out
        return out


def snap(status: JobStatus, **kw: object) -> JobSnapshot:
    return JobSnapshot(id="j1", status=status, model="m", **kw)  # type: ignore[arg-type]


def finishes_at(t_end: float) -> Callable[[float, int], JobSnapshot]:
    return lambda t, n: snap(JobStatus.SUCCEEDED if t >= t_end else JobStatus.RUNNING)


def run(provider: ScriptedProvider, clock: FakeClock, mode: str = "sync", **kw: object) -> JobSnapshot:
    flow = wait_flow(lambda: call(provider.get, provider.aget, "j1"), clock=clock, rng=random.Random(7), **kw)  # type: ignore[arg-type]
    if mode == "sync":
        return run_sync(flow, clock)
    return asyncio.run(run_async(flow, clock))


def test_backoff_grows_from_two_seconds_to_the_cap_with_bounded_jitter() -> None:
    b = Backoff()
    rng = random.Random(1)
    delays = [b.delay(i, rng) for i in range(20)]
    assert 1.6 <= delays[0] <= 2.4
    assert all(d <= 60.0 for d in delays)
    assert delays[-1] >= 48.0  # capped region: 60 * (1 - 0.2)
    smooth = [Backoff(jitter=0).delay(i, rng) for i in range(6)]
    assert smooth == [2.0, 3.0, 4.5, 6.75, 10.125, 15.1875]


def test_one_hour_job_is_detected_within_a_minute_with_few_requests() -> None:
    clock = FakeClock()
    p = ScriptedProvider(clock, finishes_at(3600))
    done = run(p, clock)
    assert done.status is JobStatus.SUCCEEDED
    assert 3600 <= clock.t <= 3600 + 60 * 1.2
    assert p.calls < 90  # vs 1800 at a fixed 2 s interval


def test_backoff_restarts_when_the_status_changes() -> None:
    clock = FakeClock()
    p = ScriptedProvider(clock, lambda t, n: snap(
        JobStatus.QUEUED if t < 300 else JobStatus.RUNNING if t < 1000 else JobStatus.SUCCEEDED))
    run(p, clock)
    # the first sleep after the switch to running is short again
    times, t = [], 0.0
    for s in clock.sleeps:
        t += s
        times.append((t, s))
    after = [s for (t, s) in times if t > 300][1]
    assert after <= 2.4


def test_provider_suggested_interval_is_used() -> None:
    clock = FakeClock()
    p = ScriptedProvider(clock, lambda t, n: snap(
        JobStatus.SUCCEEDED if n >= 4 else JobStatus.RUNNING, poll_interval=5.0))
    run(p, clock)
    assert clock.sleeps == [5.0, 5.0, 5.0]


@pytest.mark.parametrize("final", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_every_terminal_status_ends_the_wait(final: JobStatus) -> None:
    clock = FakeClock()
    p = ScriptedProvider(clock, lambda t, n: snap(final if n == 3 else JobStatus.RUNNING))
    assert run(p, clock).status is final
    assert p.calls == 3


def test_timeout_raises_with_the_last_snapshot_after_a_last_poll_at_the_deadline() -> None:
    clock = FakeClock()
    p = ScriptedProvider(clock, lambda t, n: snap(JobStatus.RUNNING, progress=n / 1000))
    with pytest.raises(WaitTimedOut) as info:
        run(p, clock, timeout=100.0)
    assert clock.t == pytest.approx(100.0)
    assert info.value.last is not None and info.value.last.status is JobStatus.RUNNING


def test_transient_errors_are_ridden_out_honouring_retry_after() -> None:
    clock = FakeClock()

    def answer(t: float, n: int) -> JobSnapshot | Exception:
        if n == 1:
            return RateLimitError("slow down", provider="x", status_code=429, retry_after=30.0)
        if n == 2:
            return ServerError("boom", provider="x", status_code=503)
        return snap(JobStatus.SUCCEEDED)

    p = ScriptedProvider(clock, answer)
    assert run(p, clock).status is JobStatus.SUCCEEDED
    assert clock.sleeps[0] >= 30.0


def test_non_transient_errors_stop_the_wait() -> None:
    clock = FakeClock()
    p = ScriptedProvider(clock, lambda t, n: AuthenticationError("bad key", provider="x", status_code=401))
    with pytest.raises(AuthenticationError):
        run(p, clock)
    assert p.calls == 1


def test_a_provider_that_stays_down_fails_the_wait_eventually() -> None:
    clock = FakeClock()
    p = ScriptedProvider(clock, lambda t, n: ServerError("down", provider="x", status_code=500))
    with pytest.raises(ServerError):
        run(p, clock, max_consecutive_errors=5)
    assert p.calls == 5


def test_sync_and_async_drivers_make_the_same_requests_and_sleeps() -> None:
    results = []
    for mode in ("sync", "async"):
        clock = FakeClock()
        p = ScriptedProvider(clock, finishes_at(900))
        results.append((run(p, clock, mode).status, p.calls, clock.sleeps))
    assert results[0] == results[1]
