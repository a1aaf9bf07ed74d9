"""A local emulator of Together's fine-tuning API (``anytune sandbox together``), kept
apart from the provider code users run: nothing outside this package imports it except
the provider's ``emulator()`` hook (lazily) and the tests.

Modules: :mod:`.server` (the HTTP server, keys, faults, presigned uploads), :mod:`.routes`
(the paths the ``together`` SDK calls), :mod:`.state` (files and jobs over the clock),
:mod:`.catalog` (the models "Together" tunes and their limits) and :mod:`.chat`
(``POST /v1/chat/completions``).
"""

from anytune_together.emulator.server import DEFAULT_API_KEY, RECORD_ENV, TogetherEmulator

__all__ = ["DEFAULT_API_KEY", "RECORD_ENV", "TogetherEmulator"]
