"""Stored jobs and uploads are checked, not trusted (issue 15 §2-3), on Vertex's emulator
through the official SDK: the shared :class:`anytune.testing.stale.StoredStateSuite`."""

from __future__ import annotations

from vertex_helpers import MODEL

from anytune.testing.stale import StoredStateSuite


class TestVertexStoredState(StoredStateSuite):
    provider = "vertex"
    model = MODEL
