"""Fixtures of the Together provider's tests: a running emulator and a provider pointed
at it through the official SDK. Every exchange the emulators serve during the session is
recorded and, at the end, validated against Together's OpenAPI spec (``together_spec``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anytune_together import TogetherProvider
from anytune_together.emulator import RECORD_ENV, TogetherEmulator
from together_helpers import TEST_KEY


@pytest.fixture(scope="session", autouse=True)
def _environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Loopback without proxies and the exchange recorder."""
    saved = {k: os.environ.get(k) for k in ("NO_PROXY", "no_proxy", RECORD_ENV, "ANYTUNE_CACHE_DIR")}
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    # A refreshed catalog in the user cache must not change what these tests see.
    os.environ["ANYTUNE_CACHE_DIR"] = str(tmp_path_factory.mktemp("anytune-cache"))
    # One record file per test process, shared by every provider's suite: each checks
    # only its own emulator's exchanges, so none is lost when suites share a worker.
    record = tmp_path_factory.getbasetemp() / "exchanges.jsonl"
    os.environ[RECORD_ENV] = str(record)
    yield record
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session", autouse=True)
def _exchanges_follow_the_spec(_environment: Path) -> Iterator[None]:
    """After the session: every recorded exchange must follow Together's spec."""
    yield
    from together_spec import SPEC_PATH, TOGETHER_SPEC

    assert SPEC_PATH.is_file(), f"Together's spec is missing: {SPEC_PATH}"
    if not _environment.is_file():
        return
    unique = TOGETHER_SPEC.validate_file(_environment, provider="together")
    assert not unique, f"{len(unique)} exchange(s) break Together's spec:\n" + "\n".join(unique[:40])


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[TogetherEmulator]:
    """A running emulator; ``@pytest.mark.emulator(job_seconds=..., faults=...)`` tunes it."""
    marker = request.node.get_closest_marker("emulator")
    kwargs: dict[str, Any] = {
        "job_seconds": 1.0, "api_key": TEST_KEY, "slow_seconds": 2.0, "retry_after": 0.05,
    }
    if marker is not None:
        kwargs.update(marker.kwargs)
    emu = TogetherEmulator(**kwargs)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def provider(emulator: TogetherEmulator) -> Iterator[TogetherProvider]:
    """A provider on the emulator through the official SDK."""
    p = TogetherProvider(api_key=TEST_KEY, base_url=emulator.env["TOGETHER_BASE_URL"], timeout=1.0)
    yield p
    p.close()


@pytest.fixture
def env(emulator: TogetherEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TogetherEmulator:
    """The emulator's variables in the environment and an isolated job store."""
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "home"))
    for var in ("ANYTUNE_PROVIDER", "ANYTUNE_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    return emulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator(**kwargs): arguments of the Together emulator fixture")
