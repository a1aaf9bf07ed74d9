"""Prove that async code does not block the event loop: :func:`run_watched` runs a
coroutine under asyncio's debug mode and reports what held the loop.

Two witnesses, because each alone misses something:

* asyncio's own slow-callback report: in debug mode, every callback or task step that
  runs longer than ``loop.slow_callback_duration`` is logged as ``Executing ... took N
  seconds``. It catches any blocking, but only blocking slow enough on this machine today;
* an audit hook (:func:`sys.addaudithook`) that records file and SQLite work (``open``,
  ``sqlite3.connect``, ``os.mkdir``, ``os.remove``, ...) done *on the loop's thread* under
  the folders being watched. It catches a disk write however fast the disk is.

A provider package can run its async twins under it::

    from anytune.testing.eventloop import run_watched

    job, report = run_watched(main(), watch=[tmp_path])
    assert report.clean, report
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["LoopReport", "run_watched"]

T = TypeVar("T")

#: Audit events of file and SQLite work, with the position of the path in their arguments.
_EVENTS = {
    "open": 0, "sqlite3.connect": 0, "os.mkdir": 0, "os.rmdir": 0, "os.remove": 0,
    "os.rename": 0, "os.chmod": 0, "os.listdir": 0, "os.scandir": 0, "os.truncate": 0,
    "shutil.rmtree": 0, "shutil.copyfile": 0, "shutil.move": 0,
}


@dataclass
class LoopReport:
    """What held the event loop during :func:`run_watched`."""

    #: asyncio's slow-callback messages (``Executing <Task ...> took 0.120 seconds``).
    slow_callbacks: list[str] = field(default_factory=list)
    #: File and SQLite work on the loop's thread, as ``"event path"``.
    blocking: list[str] = field(default_factory=list)
    #: The threshold the slow callbacks were judged against, in seconds.
    slow_callback_s: float = 0.0

    @property
    def clean(self) -> bool:
        """True when nothing held the loop."""
        return not self.slow_callbacks and not self.blocking


class _Recorder:
    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = tuple(str(Path(r).resolve()) for r in roots)
        self.thread: int | None = None
        self.found: list[str] = []

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if threading.get_ident() != self.thread:
            return
        try:
            path = args[_EVENTS[event]]
        except (IndexError, KeyError):
            return
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, (str, os.PathLike)):
            return  # a file descriptor: opened elsewhere
        text = os.path.abspath(os.fspath(path))
        if text.startswith(self.roots):
            self.found.append(f"{event} {text}")


_active: _Recorder | None = None
_installed = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    # Installed once per process (audit hooks cannot be removed): does nothing unless a
    # run_watched is in progress, and never raises into the audited code.
    rec = _active
    if rec is None or event not in _EVENTS:
        return
    try:
        rec.audit(event, args)
    except Exception:  # pragma: no cover - a hook must not break what it watches
        pass


class _SlowCallbacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Executing "):
            self.messages.append(message)


def run_watched(
    main: Coroutine[Any, Any, T], *, watch: Sequence[Path], slow_callback_s: float = 0.05
) -> tuple[T, LoopReport]:
    """Run ``main`` with ``asyncio.run(debug=True)`` and ``slow_callback_s`` as the loop's
    ``slow_callback_duration``; return its result and a :class:`LoopReport` of the slow
    callbacks and of the file or SQLite work under ``watch`` done on the loop's thread."""
    global _active, _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
    recorder = _Recorder(watch)
    handler = _SlowCallbacks()
    log = logging.getLogger("asyncio")
    old_level = log.level
    log.addHandler(handler)
    if log.getEffectiveLevel() > logging.WARNING:
        log.setLevel(logging.WARNING)

    async def watched() -> T:
        loop = asyncio.get_running_loop()
        # Start the default executor's threads first: they start lazily, one per
        # to_thread() finding none idle, and Thread.start() waits until the new thread
        # runs, which on a loaded machine takes tens of ms. That is asyncio's one-time
        # cost, not the watched code's, and a long-running program has paid it already.
        loop.slow_callback_duration = 10.0
        workers = min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default
        await asyncio.gather(*(asyncio.to_thread(time.sleep, 0.02) for _ in range(workers)))
        loop.slow_callback_duration = slow_callback_s
        recorder.thread = threading.get_ident()
        return await main

    _active = recorder
    try:
        result = asyncio.run(watched(), debug=True)
    finally:
        _active = None
        log.removeHandler(handler)
        log.setLevel(old_level)
    return result, LoopReport(handler.messages, recorder.found, slow_callback_s)
