"""Acme passes anytune's conformance suite: every behaviour a user relies on when they
swap providers, through the public API, against Acme's emulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from anytune.testing import ProviderConformance, running_emulator


class TestAcmeConformance(ProviderConformance):
    provider = "acme"
    model = "acme-1b"
    wait_timeout = 30.0
    missing_job_id = "acme-doesnotexist"

    @pytest.fixture
    def provider_env(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
        with running_emulator("acme", job_seconds=1.0, api_key="acme-test-key") as emulator:
            for name, value in emulator.env.items():
                monkeypatch.setenv(name, value)
            yield {}
