"""Sans-I/O flows: the job logic is written once, as generators, and run by a sync or an
async driver.

A flow yields *actions* (call a provider method, sleep, run blocking work) and receives
their results (or has their exceptions thrown into it). ``run_sync`` performs actions
with the provider's sync methods and ``time.sleep``; ``run_async`` with the ``a``-prefixed
twins and ``asyncio.sleep``. So ``FineTuneJob`` and ``AsyncFineTuneJob`` cannot drift
apart: they share every branch of the logic, and only these two loops differ.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from anytune._log import logger
from anytune.provider import Provider

__all__ = ["Blocking", "Call", "Clock", "Flow", "Sleep", "SystemClock", "run_async", "run_sync"]

T = TypeVar("T")


@dataclass
class Call:
    """Call ``provider.<method>(*args, **kwargs)`` (or its ``a<method>`` twin)."""

    provider: Provider
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sleep:
    """Wait ``seconds`` on the driver's clock."""

    seconds: float


@dataclass
class Blocking:
    """Run CPU or file work; the async driver runs it in a worker thread."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


Action = Call | Sleep | Blocking
Flow = Generator[Action, Any, T]


class Clock(Protocol):
    """Time as the drivers see it; tests pass a fake one to run hours in microseconds."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: monotonic time, real sleeps."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        import asyncio  # not at module level: asyncio costs ~30 ms of import time

        await asyncio.sleep(seconds)


def typed(action: Call, exc: Exception) -> Exception:
    """``exc`` from a provider call as the user may see it: an :class:`AnytuneError`,
    and a :class:`ProviderError` naming the provider and the operation. Anything else (a
    vendor SDK's own exception, a ``TypeError`` from an answer the mapping did not expect)
    becomes a ``ProviderError`` here, the one place every provider call passes through."""
    from anytune._errors import AnytuneError, ProviderError

    if isinstance(exc, ProviderError):
        if exc.operation is None:
            exc.operation = action.method
        return exc
    if isinstance(exc, AnytuneError):
        return exc
    logger.debug("%s.%s raised %s: made a ProviderError", action.provider.name, action.method,
                 type(exc).__name__)
    return ProviderError(f"{action.method} failed on an unexpected answer ({type(exc).__name__}: {exc})",
                         provider=action.provider.name, operation=action.method)


def _perform_sync(action: Action, clock: Clock) -> Any:
    if isinstance(action, Call):
        logger.debug("call %s.%s", action.provider.name, action.method)
        try:
            return getattr(action.provider, action.method)(*action.args, **action.kwargs)
        except Exception as exc:
            err = typed(action, exc)
            if err is exc:
                raise
            raise err from exc
    if isinstance(action, Sleep):
        return clock.sleep(action.seconds)
    return action.fn(*action.args, **action.kwargs)


async def _perform_async(action: Action, clock: Clock) -> Any:
    import asyncio

    if isinstance(action, Call):
        logger.debug("call %s.a%s", action.provider.name, action.method)
        try:
            return await getattr(action.provider, "a" + action.method)(*action.args, **action.kwargs)
        except Exception as exc:
            err = typed(action, exc)
            if err is exc:
                raise
            raise err from exc
    if isinstance(action, Sleep):
        return await clock.asleep(action.seconds)
    return await asyncio.to_thread(functools.partial(action.fn, *action.args, **action.kwargs))


def run_sync(flow: Flow[T], clock: Clock | None = None) -> T:
    """Drive ``flow`` to completion with blocking calls; return its value."""
    clock = clock or SystemClock()
    try:
        action = next(flow)
        while True:
            try:
                result = _perform_sync(action, clock)
            except Exception as exc:  # handed to the flow, which decides
                action = flow.throw(exc)
            else:
                action = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        flow.close()


async def run_async(flow: Flow[T], clock: Clock | None = None) -> T:
    """Drive ``flow`` to completion with coroutines; return its value."""
    clock = clock or SystemClock()
    try:
        action = next(flow)
        while True:
            try:
                result = await _perform_async(action, clock)
            except Exception as exc:
                action = flow.throw(exc)
            else:
                action = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        flow.close()
