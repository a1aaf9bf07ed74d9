"""Test support for provider packages: the conformance suite and emulator helpers.

A provider package proves it behaves like every other provider by subclassing
:class:`ProviderConformance` in its tests::

    from anytune.testing import ProviderConformance, running_emulator

    class TestAcmeConformance(ProviderConformance):
        provider = "acme"
        model = "acme-small"

        @pytest.fixture
        def provider_env(self, monkeypatch):
            with running_emulator("acme", job_seconds=2) as emu:
                for k, v in emu.env.items():
                    monkeypatch.setenv(k, v)
                yield {}

Recorded emulator exchanges are checked against the vendor's OpenAPI document with
:class:`OpenAPIExchanges`; :class:`SpecAnswers` serves every answer the vendor's spec
allows to the provider's SDK (:mod:`anytune.testing.answers` draws them) and expects a
correct result or a typed error; :class:`CanaryCLI` proves a credential leaks into no
output, log or file.

Importing this module imports pytest; the rest of anytune never imports it.
"""

from anytune.testing._emulators import running_emulator, write_chat_examples
from anytune.testing._offline import require_tiktoken
from anytune.testing.canary import CanaryCLI
from anytune.testing.conformance import ProviderConformance
from anytune.testing.faults import FaultMatrix
from anytune.testing.openapi import OpenAPIExchanges
from anytune.testing.spec_answers import SpecAnswers

__all__ = [
    "CanaryCLI",
    "FaultMatrix",
    "OpenAPIExchanges",
    "ProviderConformance",
    "SpecAnswers",
    "require_tiktoken",
    "running_emulator",
    "write_chat_examples",
]
