"""Fixtures of the OpenAI provider's tests: a running emulator, a provider pointed at it
through the official SDK, small datasets, and a controllable clock.

Every request/answer the emulators serve during the session is recorded and, at the
end of the session, validated against OpenAI's OpenAPI spec (``openai_spec``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anytune_openai import OpenAIProvider
from anytune_openai.emulator import RECORD_ENV, OpenAIEmulator
from openai_helpers import TEST_KEY, FakeClock, write_chat


@pytest.fixture(scope="session", autouse=True)
def _environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Loopback without proxies, tiktoken loaded once, and the exchange recorder."""
    saved = {k: os.environ.get(k) for k in ("NO_PROXY", "no_proxy", RECORD_ENV, "ANYTUNE_CACHE_DIR")}
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    # A refreshed catalog in the user cache must not change what these tests see.
    os.environ["ANYTUNE_CACHE_DIR"] = str(tmp_path_factory.mktemp("anytune-cache"))
    # Load the encoding once up front, so that no emulator answer in a test with a short
    # client timeout is slowed by tiktoken's first load (about a second). tiktoken reads
    # TIKTOKEN_CACHE_DIR, else downloads into its own cache, where the emulator (which
    # never downloads) finds it too. Offline with neither, the emulator approximates and
    # the tests that need exact counts skip (``require_tiktoken``).
    try:
        import tiktoken

        tiktoken.get_encoding("o200k_base")
    except Exception:
        pass
    from anytune_openai.emulator.data import _encoder

    _encoder("o200k_base")
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
    """After the session: every recorded exchange must follow OpenAI's spec."""
    yield
    from openai_spec import OPENAI_SPEC, SPEC_PATH

    if not SPEC_PATH.is_file() or not _environment.is_file():
        return
    unique = OPENAI_SPEC.validate_file(_environment, provider="openai")
    assert not unique, f"{len(unique)} exchange(s) break OpenAI's spec:\n" + "\n".join(unique[:40])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[OpenAIEmulator]:
    """A running emulator; ``@pytest.mark.emulator(job_seconds=..., faults=...)`` tunes it."""
    marker = request.node.get_closest_marker("emulator")
    kwargs: dict[str, Any] = {
        "job_seconds": 1.0,
        "api_key": TEST_KEY,
        "slow_seconds": 2.0,
        "retry_after": 0.05,
    }
    if marker is not None:
        kwargs.update(marker.kwargs)
    if kwargs.pop("fake_clock", False):
        kwargs["clock"] = request.getfixturevalue("clock")
    emu = OpenAIEmulator(**kwargs)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def provider(emulator: OpenAIEmulator) -> Iterator[OpenAIProvider]:
    """A provider on the emulator through the official SDK (short timeout for slow faults)."""
    p = OpenAIProvider(api_key=TEST_KEY, base_url=emulator.env["OPENAI_BASE_URL"], timeout=1.0)
    yield p
    p.close()


@pytest.fixture
def chat_file(tmp_path: Path) -> Path:
    return write_chat(tmp_path / "train.jsonl")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator(**kwargs): arguments of the OpenAI emulator fixture")
