"""Static checks run with the tests, so CI catches what review would: ruff on everything,
mypy --strict on the core and the provider packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*cmd: str) -> None:
    env = {**os.environ, "MYPYPATH": str(ROOT / "src")}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff() -> None:
    run(str(BIN / "ruff"), "check", "src", "tests", "providers", "bench", "examples")


@pytest.mark.slow
def test_mypy_strict() -> None:
    run(str(BIN / "mypy"), "src/anytune")
    # Every provider package, found as the Makefile finds them.
    run(str(BIN / "mypy"), *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("providers/*/src")))


def test_tests_read_nothing_outside_the_repository() -> None:
    # A clone alone must test itself: fixtures live in tests/data and providers/*/tests/spec
    # (see tests/data/README.md). Only tiktoken's cache may come from outside, through
    # TIKTOKEN_CACHE_DIR, which the Makefile and .ci/run set.
    # Spelled in pieces so that this list is not itself a reference to the folder.
    folder = "shar" + "ed"
    banned = (f"../{folder}", f"/work/{folder}", f"ANYTUNE_{folder.upper()}_DIR",
              f'"{folder}" / "data"', f'"{folder}" / "specs"')
    this = Path(__file__).resolve()
    offenders = [
        f"{path.relative_to(ROOT)}: {word}"
        for folder in (ROOT / "tests", *sorted(ROOT.glob("providers/*/tests")))
        for path in sorted(folder.rglob("*.py"))
        if path.resolve() != this
        for word in banned
        if word in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
