"""Stored jobs and uploads are checked, not trusted (issue 15 §2-3), on Together's emulator
through the official SDK: the shared :class:`anytune.testing.stale.StoredStateSuite`."""

from __future__ import annotations

from together_helpers import MODEL

from anytune.testing.stale import StoredStateSuite


class TestTogetherStoredState(StoredStateSuite):
    provider = "together"
    model = MODEL
