"""A local emulator of OpenAI's fine-tuning API (``anytune sandbox openai``), kept apart
from the provider code users run: nothing outside this package imports it except the
provider's ``emulator()`` hook (lazily) and the tests.

Modules: :mod:`.server` (the HTTP server, keys, faults), :mod:`.routes` (one handler per
endpoint), :mod:`.state` (files, uploads, jobs), :mod:`.timeline` (events and checkpoints
derived from the clock), :mod:`.validate` (request checks), :mod:`.data` (training-data
checks, token counts, loss curve), :mod:`.models` (``GET /v1/models``) and :mod:`.chat`
(``POST /v1/chat/completions``).
"""

from anytune_openai.emulator.server import DEFAULT_API_KEY, RECORD_ENV, OpenAIEmulator

__all__ = ["DEFAULT_API_KEY", "RECORD_ENV", "OpenAIEmulator"]
