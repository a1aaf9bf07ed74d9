"""The shared conformance suite, run against the emulator through the official SDKs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from vertex_helpers import MODEL

from anytune.testing import ProviderConformance, running_emulator


class TestVertexConformance(ProviderConformance):
    provider = "vertex"
    model = MODEL
    wait_timeout = 60.0
    missing_job_id = "projects/anytune-sandbox/locations/us-central1/tuningJobs/404"

    @pytest.fixture
    def provider_env(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
        with running_emulator("vertex", job_seconds=1.0, api_key="ya29.conformance-token") as emu:
            for key, value in emu.env.items():
                monkeypatch.setenv(key, value)
            yield {}
