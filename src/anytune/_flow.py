"""Sans-I/O flows: the job logic is written once, as generators, and run by a sync or an
async driver.

A flow yields *actions* (call a provider method, sleep, run blocking work) and receives
their results (or has their exceptions thrown into it). ``run_sync`` performs actions
with the provider's sync methods and ``time.sleep``; ``run_async`` with the ``a``-prefixed
twins and ``asyncio.sleep``. So ``FineTuneJob`` and ``AsyncFineTuneJob`` cannot drift
apart: they share every branch of the logic, and only these two loops differ.

Flows build actions through :func:`call` and :func:`blocking`, never by hand: both take
the function itself (a bound provider method and its async twin; any callable), so mypy
checks the method's name, the arguments against its signature, and the result's type::

    snap = yield from call(provider.get, provider.aget, job_id)   # snap: JobSnapshot

Blocking work (SQLite, hashing, reading and writing files) goes through :func:`blocking`,
which the async driver runs in a worker thread: the event loop never waits on a disk.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, cast

from anytune._log import logger
from anytune.provider import Provider

__all__ = ["Blocking", "Call", "Clock", "Flow", "Sleep", "SystemClock", "blocking", "call",
           "imported", "run_async", "run_sync"]

T = TypeVar("T")
P = ParamSpec("P")


@dataclass
class Call(Generic[T]):
    """Call ``fn(*args, **kwargs)``, a provider's method, or its async twin ``afn`` under
    the async driver. Made by :func:`call`, which checks that the two belong together."""

    provider: Provider
    fn: Callable[..., T]
    afn: Callable[..., Awaitable[T]]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def operation(self) -> str:
        """The method's name (``"get"``), as errors and logs name the operation."""
        return str(getattr(self.fn, "__name__", "call"))


@dataclass
class Sleep:
    """Wait ``seconds`` on the driver's clock."""

    seconds: float


@dataclass
class Blocking(Generic[T]):
    """Run CPU or file work; the async driver runs it in a worker thread."""

    fn: Callable[..., T]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


Action = Call[Any] | Sleep | Blocking[Any]
Flow = Generator[Action, Any, T]


def call(
    method: Callable[P, T], amethod: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> Flow[T]:
    """A flow of one provider call: ``method`` (bound, e.g. ``provider.get``) under the sync
    driver, ``amethod`` (its twin, ``provider.aget``) under the async one; returns the
    result, typed as the method's. mypy checks that the two take the same arguments and
    return the same type; this checks, under either driver, that they are one provider's
    methods and (for the SPI's operations) ``x`` and ``ax``, so ``(get, acancel)`` fails
    under both drivers rather than behaving differently under one."""
    provider = getattr(method, "__self__", None)
    name = str(getattr(method, "__name__", ""))
    # Compared as bound methods, not by __name__: a twin made by a decorator or a factory
    # may carry another name and still be the provider's ``a<name>``.
    if (not isinstance(provider, Provider) or getattr(amethod, "__self__", None) is not provider
            or (hasattr(Provider, name) and getattr(provider, "a" + name, None) != amethod)):
        raise TypeError(f"call() takes a provider's method and its async twin, got {method!r}, {amethod!r}")
    result = yield Call(cast(Provider, provider), method, amethod, args, kwargs)
    return cast(T, result)


def blocking(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Flow[T]:
    """A flow of one blocking function call (SQLite, hashing, files); returns its result.
    The sync driver calls it in place, the async driver in a worker thread."""
    result = yield Blocking(fn, args, kwargs)
    return cast(T, result)


def imported(module: str) -> Flow[None]:
    """Make sure ``module`` is imported before a flow's lazy ``from module import ...``:
    a first import reads and compiles files, so it runs as a blocking action."""
    import sys

    if module not in sys.modules:
        import importlib

        yield from blocking(importlib.import_module, module)


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


def typed(action: Call[Any], exc: Exception) -> Exception:
    """``exc`` from a provider call as the user may see it: an :class:`AnytuneError`,
    and a :class:`ProviderError` naming the provider and the operation. Anything else (a
    vendor SDK's own exception, a ``TypeError`` from an answer the mapping did not expect)
    becomes a ``ProviderError`` here, the one place every provider call passes through."""
    from anytune._errors import AnytuneError, ProviderError

    if isinstance(exc, ProviderError):
        if exc.operation is None:
            exc.operation = action.operation
        return exc
    if isinstance(exc, AnytuneError):
        return exc
    logger.debug("%s.%s raised %s: made a ProviderError", action.provider.name, action.operation,
                 type(exc).__name__)
    return ProviderError(f"{action.operation} failed on an unexpected answer ({type(exc).__name__}: {exc})",
                         provider=action.provider.name, operation=action.operation)


def _perform_sync(action: Action, clock: Clock) -> Any:
    if isinstance(action, Call):
        logger.debug("call %s.%s", action.provider.name, action.operation)
        try:
            return action.fn(*action.args, **action.kwargs)
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
        logger.debug("call %s.a%s", action.provider.name, action.operation)
        try:
            return await action.afn(*action.args, **action.kwargs)
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
