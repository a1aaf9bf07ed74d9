"""The reliability fault matrix (``anytune.testing.FaultMatrix``) for Vertex, through the
public API and the official SDKs against the emulator. Faults on ``upload`` hit the Cloud
Storage upload route; ``events`` are derived from the job, so their faults land nowhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from anytune_vertex import VertexEmulator
from vertex_helpers import MODEL, TOKEN

from anytune.testing import FaultMatrix


class TestVertexFaultMatrix(FaultMatrix):
    provider = "vertex"
    model = MODEL

    @pytest.fixture
    def emulator(
        self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[VertexEmulator]:
        seconds = 4.0 if self.fault_operation(request) == "cancel" else 0.5
        emu = VertexEmulator(job_seconds=seconds, api_key=TOKEN, slow_seconds=1.2, retry_after=0.05)
        emu.start()
        for key, value in emu.env.items():
            monkeypatch.setenv(key, value)
        yield emu
        emu.stop()
