"""Fixtures of the Vertex provider's tests: a running emulator, a provider pointed at it
through the official google-genai and google-cloud-storage SDKs, and a clock.

Every exchange the emulators serve during the session is recorded and, at the end of the
session, checked against Vertex's protos (``vertex_spec``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anytune_vertex import VertexEmulator, VertexProvider
from anytune_vertex.emulator import RECORD_ENV
from vertex_helpers import TOKEN, FakeClock, write_chat

from anytune.provider import Backoff

_ENV_KEYS = ("NO_PROXY", "no_proxy", RECORD_ENV, "GOOGLE_APPLICATION_CREDENTIALS", "ANYTUNE_CACHE_DIR")


@pytest.fixture(scope="session", autouse=True)
def _environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Loopback without proxies, no stray ADC, and the exchange recorder."""
    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    # A refreshed catalog in the user cache must not change what these tests see.
    os.environ["ANYTUNE_CACHE_DIR"] = str(tmp_path_factory.mktemp("anytune-cache"))
    # A developer's own ADC must never be used (or refreshed over the network) by tests.
    os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = str(tmp_path_factory.mktemp("adc") / "none.json")
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
    """After the session: every recorded tuningJobs exchange must follow the protos."""
    yield
    from vertex_spec import PROTO_DIR, validate_exchange

    if not PROTO_DIR.is_dir() or not _environment.is_file():
        return
    problems: list[str] = []
    for line in _environment.read_text(encoding="utf-8").splitlines():
        exchange = json.loads(line)
        if exchange.get("provider") == "vertex":
            problems += validate_exchange(exchange)
    unique = sorted(set(problems))
    assert not unique, f"{len(unique)} exchange(s) break Vertex's protos:\n" + "\n".join(unique[:40])


@pytest.fixture(autouse=True)
def _no_vertex_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test states its own Google settings."""
    for key in ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_VERTEX_BASE_URL",
                "STORAGE_EMULATOR_HOST", "ANYTUNE_VERTEX_GCS_BUCKET", "ANYTUNE_VERTEX_ACCESS_TOKEN"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[VertexEmulator]:
    """A running emulator whose ``env`` is set; ``@pytest.mark.emulator(...)`` tunes it."""
    marker = request.node.get_closest_marker("emulator")
    kwargs: dict[str, Any] = {"job_seconds": 1.0, "api_key": TOKEN, "slow_seconds": 1.5, "retry_after": 0.05}
    if marker is not None:
        kwargs.update(marker.kwargs)
    if kwargs.pop("fake_clock", False):
        kwargs["clock"] = request.getfixturevalue("clock")
    emu = VertexEmulator(**kwargs)
    emu.start()
    for key, value in emu.env.items():
        monkeypatch.setenv(key, value)
    yield emu
    emu.stop()


@pytest.fixture
def provider(emulator: VertexEmulator) -> Iterator[VertexProvider]:
    """A provider on the emulator through the official SDKs (short timeout, fast retries)."""
    p = VertexProvider(timeout=1.0)
    p.read_backoff = Backoff(initial=0.01, cap=0.05)
    yield p
    p.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated job store and working folder."""
    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ANYTUNE_PROFILE", raising=False)
    monkeypatch.delenv("ANYTUNE_PROVIDER", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def chat_file(tmp_path: Path) -> Path:
    return write_chat(tmp_path / "train.jsonl")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator(**kwargs): arguments of the Vertex emulator fixture")
