"""The shared conformance suite, run against the emulator through the official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openai_helpers import MODEL

from anytune.testing import ProviderConformance, running_emulator


class TestOpenAIConformance(ProviderConformance):
    provider = "openai"
    model = MODEL
    wait_timeout = 60.0

    @pytest.fixture
    def provider_env(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
        with running_emulator("openai", job_seconds=2.0, api_key="sk-conformance-key") as emu:
            for key, value in emu.env.items():
                monkeypatch.setenv(key, value)
            yield {}
