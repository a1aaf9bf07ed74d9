"""The one wait loop of every provider: exponential backoff with jitter, honouring the
provider's suggested interval and ``Retry-After``, riding out transient errors.

Written as a flow (:mod:`anytune._flow`), so sync and async waits are the same code and
tests drive it on a fake clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from anytune._errors import (
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from anytune._flow import Clock, Flow, Sleep
from anytune._types import JobSnapshot

__all__ = ["TRANSIENT", "Backoff", "WaitTimedOut", "wait_flow"]

#: Errors a poll survives: the job is fine, the read failed.
TRANSIENT = (RateLimitError, ServerError, ProviderConnectionError, ProviderTimeoutError)


@dataclass(frozen=True)
class Backoff:
    """The one backoff policy of anytune: the wait loop, create's recovery reads, the
    providers' read retries and upload retries all wait by it.

    Delay before attempt ``attempt`` (0-based): ``initial * factor**attempt`` capped at
    ``cap``, times a random factor in ``[1 - jitter, 1 + jitter]`` so that many waiters do
    not poll in lockstep. After a failure, :meth:`retry_delay` also honours the server's
    ``Retry-After`` (the error's ``retry_after``) as a floor, up to ``max_retry_after``
    seconds: the bound the ``openai`` SDK uses, ``MAX_RETRY_AFTER_DELAY = 2 * 60`` in
    ``openai/_constants.py`` (openai 3.57.0, read 2026-11-29), so that a server asking for
    an hour cannot hang a caller that asked for retries."""

    initial: float = 2.0
    factor: float = 1.5
    cap: float = 60.0
    jitter: float = 0.2
    max_retry_after: float = 120.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt``."""
        rng = rng or _RNG
        base = min(self.cap, self.initial * self.factor ** min(attempt, 64))
        return min(self.cap, base * rng.uniform(1 - self.jitter, 1 + self.jitter))

    def retry_delay(
        self, attempt: int, error: BaseException | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based) before the next: the
        computed delay, or the ``retry_after`` that ``error`` carries when that is longer
        (capped at ``max_retry_after``)."""
        retry_after = getattr(error, "retry_after", None) or 0.0
        return max(min(float(retry_after), self.max_retry_after), self.delay(attempt, rng))


_RNG = random.Random()


class WaitTimedOut(Exception):
    """Raised by :func:`wait_flow` when ``timeout`` passed; carries the last snapshot."""

    def __init__(self, last: JobSnapshot | None) -> None:
        self.last = last
        super().__init__("wait timed out")


def wait_flow(
    poll: Callable[[], Flow[JobSnapshot]],
    *,
    clock: Clock,
    timeout: float | None = None,
    backoff: Backoff = Backoff(),
    rng: random.Random | None = None,
    on_update: Callable[[JobSnapshot], None] | None = None,
    max_consecutive_errors: int = 30,
) -> Flow[JobSnapshot]:
    """Poll until the job is terminal; return the terminal snapshot. ``poll`` makes the
    flow of one read (``call(provider.get, provider.aget, job_id)``).

    The backoff restarts whenever the status changes, so a job that starts running is
    followed closely again. A provider's ``poll_interval`` replaces the computed delay; a
    ``Retry-After`` on a transient error is a floor. Raises :class:`WaitTimedOut` after
    ``timeout`` seconds (one last poll is made at the deadline), and re-raises a transient
    error only after ``max_consecutive_errors`` in a row.
    """
    rng = rng or random.Random()
    start = clock.now()
    attempt = 0
    errors = 0
    last: JobSnapshot | None = None
    while True:
        try:
            snap = yield from poll()
        except TRANSIENT as exc:
            errors += 1
            if errors >= max_consecutive_errors:
                raise
            delay = backoff.retry_delay(attempt, exc, rng)
            attempt += 1
        else:
            errors = 0
            if last is not None and (snap.status != last.status or snap.progress != last.progress):
                attempt = 0
            last = snap
            if on_update is not None:
                on_update(snap)
            if snap.status.terminal:
                return snap
            if snap.poll_interval is not None:
                delay = min(backoff.cap, max(0.0, snap.poll_interval))
            else:
                delay = backoff.delay(attempt, rng)
            attempt += 1
        if timeout is not None:
            remaining = timeout - (clock.now() - start)
            if remaining <= 0:
                raise WaitTimedOut(last)
            delay = min(delay, remaining)
        yield Sleep(delay)
