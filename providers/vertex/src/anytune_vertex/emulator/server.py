"""A local emulator of the Vertex AI tuning API and the Cloud Storage upload API: one real
HTTP server on 127.0.0.1 serving both path families.

It serves what anytune uses through the official SDKs: google-genai's
``projects/*/locations/*/tuningJobs`` (create, get, list, ``:cancel``; v1 and v1beta1)
and google-cloud-storage's JSON API uploads (multipart and resumable) and object reads
(``STORAGE_EMULATOR_HOST``). It checks the bearer token, validates requests as Vertex
does, moves jobs through Vertex's ``JobState`` values over ``job_seconds``, reports
billable tokens x epochs, and injects faults (:mod:`anytune.emulator`). Users run it with
``anytune sandbox vertex``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from anytune.emulator import RECORD_ENV, Answer, EmulatorServer, Handler
from anytune_vertex._clients import ACCESS_TOKEN_ENV, BASE_URL_ENV, BUCKET_ENV
from anytune_vertex.emulator.routes import build_router
from anytune_vertex.emulator.state import State, error_body

__all__ = ["DEFAULT_BUCKET", "DEFAULT_PROJECT", "DEFAULT_TOKEN", "RECORD_ENV", "VertexEmulator"]

DEFAULT_TOKEN = "ya29.anytune-emulator-token"
DEFAULT_PROJECT = "anytune-sandbox"
DEFAULT_LOCATION = "us-central1"
DEFAULT_BUCKET = "anytune-sandbox-bucket"


class VertexEmulator(EmulatorServer):
    """The emulator. ``start()`` serves in a background thread; ``env`` then holds
    ``GOOGLE_CLOUD_PROJECT``, ``GOOGLE_CLOUD_LOCATION``, ``GOOGLE_VERTEX_BASE_URL``,
    ``STORAGE_EMULATOR_HOST``, ``ANYTUNE_VERTEX_GCS_BUCKET`` and
    ``ANYTUNE_VERTEX_ACCESS_TOKEN`` (a fake bearer token), plus ``NO_PROXY``.

    ``api_key`` is the bearer token to accept (``None``: any non-empty token, and
    :data:`DEFAULT_TOKEN` is advertised). ``buckets`` exist from the start (others are 404).
    ``slow_seconds``, ``retry_after`` and ``clock`` are for test harnesses."""

    provider = "vertex"
    thread_name = "vertex-emulator"

    def __init__(
        self,
        *,
        port: int = 0,
        job_seconds: float = 30.0,
        faults: str = "",
        api_key: str | None = None,
        slow_seconds: float | None = None,
        retry_after: float = 1.0,
        clock: Callable[[], float] = time.time,
        project: str = DEFAULT_PROJECT,
        location: str = DEFAULT_LOCATION,
        buckets: tuple[str, ...] = (DEFAULT_BUCKET,),
    ) -> None:
        super().__init__(
            port=port, faults=faults, api_key=api_key, slow_seconds=slow_seconds, retry_after=retry_after
        )
        self.project = project
        self.location = location
        self.bucket = buckets[0] if buckets else DEFAULT_BUCKET
        self.state = State(job_seconds, clock, buckets)
        self._router = build_router(self.state)

    @property
    def counts(self) -> dict[str, int]:
        """Objects created so far: ``jobs_created``, ``files_created``."""
        with self.state.lock:
            return dict(self.state.counts)

    def route(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
        return self._router.match(method, path)

    def error(self, status: int, message: str, *, reason: str) -> Answer:
        if reason == "unauthenticated":  # never repeats the token it was given
            message = ("Request had invalid authentication credentials. Expected OAuth 2 access "
                       "token, login cookie or other valid authentication credential.")
        return Answer(status, error_body(status, message))

    def client_env(self) -> dict[str, str]:
        return {
            "GOOGLE_CLOUD_PROJECT": self.project,
            "GOOGLE_CLOUD_LOCATION": self.location,
            BASE_URL_ENV: f"{self.url}/",
            "STORAGE_EMULATOR_HOST": f"{self.url}",
            BUCKET_ENV: self.bucket,
            ACCESS_TOKEN_ENV: self.api_key or DEFAULT_TOKEN,
        }

    def __enter__(self) -> VertexEmulator:
        self.start()
        return self
