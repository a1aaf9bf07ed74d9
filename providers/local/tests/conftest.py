"""Fixtures of the local provider's tests: a tiny model built on this machine, an isolated
job store, and clean-up of any worker a test leaves running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_helpers import TINY_MODEL, ensure_tiny_model, stop_workers


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """A tiny random Llama chat model with a locally trained tokenizer (built once)."""
    return ensure_tiny_model()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated ``ANYTUNE_HOME``; workers still running at the end are stopped."""
    path = tmp_path / "anytune-home"
    monkeypatch.setenv("ANYTUNE_HOME", str(path))
    monkeypatch.delenv("ANYTUNE_PROFILE", raising=False)
    monkeypatch.delenv("ANYTUNE_PROVIDER", raising=False)
    yield path
    stop_workers(path)


__all__ = ["TINY_MODEL", "home", "tiny_model"]
