"""The conformance suite run against the test double provider: proves the suite itself
works through the public API, and that a third-party provider plugs in unchanged."""

from __future__ import annotations

from anytune.testing import ProviderConformance


class TestFakeConformance(ProviderConformance):
    provider = "fake"
    model = "fake-small"
    wait_timeout = 30.0
