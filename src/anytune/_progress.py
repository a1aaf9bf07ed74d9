"""The progress display of ``wait``: a live status line when stdout is a terminal,
plain status lines on stderr otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from anytune._types import JobSnapshot

__all__ = ["ProgressDisplay", "UploadProgress"]


#: Not on a terminal, a status line is printed at least this often (seconds).
PLAIN_EVERY_S = 60.0


class ProgressDisplay:
    """Shows status, elapsed time, the latest message and progress.

    On a terminal: one live line, redrawn. Elsewhere (a log, a pipe, a notebook, CI):
    plain lines on stderr, one on every change (status, progress, message) and at least
    one a minute, so a long wait is visibly alive; stdout stays clean for results.
    Silent when disabled. ``now`` is the clock that times it (``wait``'s clock)."""

    def __init__(self, job_id: str, *, enabled: bool = True,
                 now: Callable[[], float] | None = None) -> None:
        self.job_id = job_id
        self._now = now or time.monotonic
        self.enabled = enabled and sys.stdout.isatty()
        self.plain = enabled and not self.enabled
        self._start = self._now()
        self._live: Any = None
        self._last_key: tuple[Any, ...] | None = None
        self._last_at = 0.0

    def _line(self, snap: JobSnapshot) -> str:
        elapsed = int(self._now() - self._start)
        parts = [f"{self.job_id}", f"{snap.status.value}", f"{elapsed // 60}m{elapsed % 60:02d}s"]
        if snap.progress is not None:
            parts.append(f"{snap.progress:.0%}")
        if snap.message:
            parts.append(snap.message[:80])
        return " · ".join(parts)

    def _render(self, snap: JobSnapshot) -> Any:
        from rich.text import Text

        return Text(self._line(snap))  # Text: vendor messages are never read as markup

    def update(self, snap: JobSnapshot) -> None:
        """Redraw with the newest snapshot (or print a line, off a terminal)."""
        if self.plain:
            key = (snap.status, None if snap.progress is None else round(snap.progress, 2), snap.message)
            now = self._now()
            if key != self._last_key or now - self._last_at >= PLAIN_EVERY_S:
                print(self._line(snap), file=sys.stderr, flush=True)
                self._last_key, self._last_at = key, now
            return
        if not self.enabled:
            return
        if self._live is None:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._render(snap), console=Console(), transient=False,
                              refresh_per_second=2)
            self._live.start(refresh=True)
        else:
            self._live.update(self._render(snap), refresh=True)  # polls are seconds apart

    def close(self) -> None:
        """Stop redrawing, leaving the last line on screen."""
        if self._live is not None:
            self._live.stop()
            self._live = None


class UploadProgress:
    """A byte bar for one upload, when stdout is a terminal; silent otherwise. The
    provider calls :meth:`update` from whichever thread uploads."""

    def __init__(self, name: str, *, enabled: bool = True) -> None:
        self.name = name
        self.enabled = enabled and sys.stdout.isatty()
        self._bar: Any = None
        self._task: Any = None

    def update(self, sent: int, total: int) -> None:
        """Show ``sent`` of ``total`` bytes."""
        if not self.enabled:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TransferSpeedColumn,
            )

            # The terminal test was ours (``enabled``); rich's own console (a process-wide
            # one, judged once from the environment) must not overrule it.
            self._bar = Progress(TextColumn(f"uploading {self.name}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), transient=False,
                                 console=Console(file=sys.stdout, force_terminal=True))
            self._bar.start()
            self._task = self._bar.add_task("upload", total=total)
        self._bar.update(self._task, completed=sent, total=total)

    def close(self) -> None:
        """Stop drawing, leaving the finished bar on screen."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
