"""Stored jobs and uploads are checked, not trusted (issue 15 §2-3), on OpenAI's emulator
through the official SDK: the shared :class:`anytune.testing.stale.StoredStateSuite`."""

from __future__ import annotations

from openai_helpers import MODEL

from anytune.testing.stale import StoredStateSuite


class TestOpenAIStoredState(StoredStateSuite):
    provider = "openai"
    model = MODEL
