"""A local emulator of OpenAI's fine-tuning API: a real HTTP server on 127.0.0.1.

It serves the paths anytune uses (``/v1/files``, ``/v1/uploads``,
``/v1/fine_tuning/jobs`` and their sub-paths), checks the API key, validates requests
as OpenAI does, moves jobs through OpenAI's statuses over ``job_seconds`` and injects
faults (:mod:`anytune.emulator`). Users run it with ``anytune sandbox openai``; tests
point the official ``openai`` SDK at it through :attr:`OpenAIEmulator.env`.

Setting ``ANYTUNE_EMULATOR_RECORD`` to a file path makes every emulator append each
exchange (request and answer bodies) to it as JSON lines; the test suite validates them
against OpenAI's OpenAPI spec.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from anytune.emulator import RECORD_ENV, Answer, EmulatorServer, Handler
from anytune_openai.emulator.models import VendorModels
from anytune_openai.emulator.routes import route
from anytune_openai.emulator.state import ApiError, State

__all__ = ["DEFAULT_API_KEY", "RECORD_ENV", "OpenAIEmulator"]

DEFAULT_API_KEY = "sk-anytune-emulator"
_ERROR_TYPES = {
    "unauthenticated": ("invalid_request_error", "invalid_api_key"),
    "not_found": ("invalid_request_error", None),
    "rate_limited": ("requests", "rate_limit_exceeded"),
}


class OpenAIEmulator(EmulatorServer):
    """The emulator. ``start()`` serves in a background thread; ``env`` then holds
    ``OPENAI_BASE_URL``, ``OPENAI_API_KEY`` and a ``NO_PROXY`` that keeps proxies away
    from loopback.

    ``api_key=None`` accepts any key (and advertises :data:`DEFAULT_API_KEY`); a given
    key makes every other key a 401. ``slow_seconds`` is how late a ``slow`` fault
    answers (default ``ANYTUNE_EMULATOR_SLOW_SECONDS``, else 5 s: set the client's
    timeout below it); ``retry_after`` the ``Retry-After`` of a 429. ``clock`` is
    injectable."""

    provider = "openai"
    thread_name = "openai-emulator"

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
    ) -> None:
        super().__init__(
            port=port, faults=faults, api_key=api_key, slow_seconds=slow_seconds, retry_after=retry_after
        )
        self.state = State(job_seconds, clock)
        #: The models this emulated account reaches (``GET /v1/models``): ``add``/``remove``.
        self.vendor = VendorModels()

    @property
    def base_url(self) -> str | None:
        """``http://127.0.0.1:PORT/v1`` once started."""
        return f"{self.url}/v1" if self.url else None

    @property
    def counts(self) -> dict[str, int]:
        """Objects created so far: ``jobs_created``, ``files_created``, ``uploads_created``."""
        with self.state.lock:
            return dict(self.state.counts)

    def route(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
        listing = self.vendor.route(method, path)
        if listing is not None:
            return listing
        operation, handler, params = route(method, path)
        return operation, (functools.partial(handler, self.state) if handler else None), params

    def client_env(self) -> dict[str, str]:
        return {"OPENAI_BASE_URL": f"{self.url}/v1", "OPENAI_API_KEY": self.api_key or DEFAULT_API_KEY}

    def error(self, status: int, message: str, *, reason: str) -> Answer:
        if reason == "unauthenticated":  # the message never repeats the key it was given
            message = (
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
        default = ("server_error", None) if status >= 500 else ("invalid_request_error", None)
        kind, code = _ERROR_TYPES.get(reason, default)
        return Answer(status, ApiError(status, message, code=code, type=kind).body)

    def __enter__(self) -> OpenAIEmulator:
        self.start()
        return self
