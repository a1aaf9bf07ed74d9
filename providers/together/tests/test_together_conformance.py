"""The shared conformance suite, run against the emulator through the official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from together_helpers import MODEL

from anytune.testing import ProviderConformance, running_emulator


class TestTogetherConformance(ProviderConformance):
    provider = "together"
    model = MODEL
    wait_timeout = 60.0
    missing_job_id = "ft-doesnotexist000000"

    @pytest.fixture
    def provider_env(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
        with running_emulator("together", job_seconds=2.0, api_key="tgp_v1_conformance-key") as emu:
            for key, value in emu.env.items():
                monkeypatch.setenv(key, value)
            yield {}
