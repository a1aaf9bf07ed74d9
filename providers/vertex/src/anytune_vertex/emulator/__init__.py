"""A local emulator of Vertex AI's ``tuningJobs`` API and Cloud Storage's upload API
(``anytune sandbox vertex``), kept apart from the provider code users run: nothing outside
this package imports it except the provider's ``emulator()`` hook (lazily) and the tests.

Modules: :mod:`.server` (the HTTP server, token, faults), :mod:`.routes` (tuningJobs and
GCS paths), :mod:`.state` (objects and jobs over the clock) and :mod:`.chat`
(``generateContent``).
"""

from anytune_vertex.emulator.server import (
    DEFAULT_BUCKET,
    DEFAULT_PROJECT,
    DEFAULT_TOKEN,
    RECORD_ENV,
    VertexEmulator,
)

__all__ = ["DEFAULT_BUCKET", "DEFAULT_PROJECT", "DEFAULT_TOKEN", "RECORD_ENV", "VertexEmulator"]
