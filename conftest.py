"""Settings for every test of the repository (tests/ and providers/*/tests)."""

from __future__ import annotations

import signal

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Tests send Ctrl-C (SIGINT) to the CLI and to Python scripts they start, as a user at a
    # terminal would. A suite started in the background of a non-interactive shell (`make
    # test &`, nohup, some CI runners) inherits SIGINT *ignored*, and so would every process
    # it starts: Python keeps an ignored SIGINT ignored, and those tests would wait for an
    # interrupt that never comes. A handler in this process is reset to the default in a
    # child at exec, so each child starts as it would from a terminal.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
