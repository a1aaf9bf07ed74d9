"""Fixtures of the ray provider's tests: a Ray cluster on 127.0.0.1 for the whole run,
storage that every worker reads (a folder: they all run on this machine), the tiny model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_helpers import ensure_tiny_model, shared_cluster, stop_unfinished


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[dict[str, str]]:
    """The environment of the shared loopback cluster (``RAY_ADDRESS``), set for the run."""
    with shared_cluster() as env:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield env
        finally:
            stop_unfinished()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """The tiny Llama chat model of the local provider's tests (built once)."""
    return ensure_tiny_model()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated ``ANYTUNE_HOME``."""
    path = tmp_path / "anytune-home"
    monkeypatch.setenv("ANYTUNE_HOME", str(path))
    monkeypatch.delenv("ANYTUNE_PROFILE", raising=False)
    monkeypatch.delenv("ANYTUNE_PROVIDER", raising=False)
    return path
