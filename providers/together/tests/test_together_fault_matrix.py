"""The reliability fault matrix (``anytune.testing.FaultMatrix``) for Together, through
the public API and the official SDK against the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from anytune_together.emulator import TogetherEmulator
from together_helpers import MODEL, TEST_KEY

from anytune.testing import FaultMatrix


class TestTogetherFaultMatrix(FaultMatrix):
    provider = "together"
    model = MODEL

    @pytest.fixture
    def emulator(
        self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[TogetherEmulator]:
        seconds = 4.0 if self.fault_operation(request) == "cancel" else 0.5
        emu = TogetherEmulator(job_seconds=seconds, api_key=TEST_KEY, slow_seconds=1.2, retry_after=0.05)
        emu.start()
        for key, value in emu.env.items():
            monkeypatch.setenv(key, value)
        yield emu
        emu.stop()
