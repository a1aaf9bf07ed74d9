"""A local emulator of Together's fine-tuning API: a real HTTP server on 127.0.0.1.

It serves the paths the official ``together`` SDK calls (:mod:`.routes`),
checks the API key, moves jobs through Together's statuses over ``job_seconds``
(:mod:`.state`) and injects faults (:mod:`anytune.emulator`). Users run it with
``anytune sandbox together``; tests point the SDK at it through :attr:`env`.
Fault operations: upload, create, get, list, cancel, events, metrics, checkpoints, and
``estimate`` (the SDK's model-limits and estimate-price calls that precede a create).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from anytune.emulator import OPERATIONS, RECORD_ENV, Answer, EmulatorServer, Handler
from anytune_together.emulator.routes import UPLOAD_PREFIX, Routes, error_body
from anytune_together.emulator.state import State

__all__ = ["DEFAULT_API_KEY", "RECORD_ENV", "TogetherEmulator"]

DEFAULT_API_KEY = "tgp_v1_anytune-emulator"
_KINDS = {"unauthenticated": "invalid_api_key", "not_found": "not_found", "rate_limited": "rate_limit"}


class _PresignedHeaders:
    """Headers of a PUT to a presigned upload URL: the URL's token is its credential (as
    on Together's storage), so the server's key check is given the emulator's own key."""

    def __init__(self, headers: Any, key: str) -> None:
        self._headers = headers
        self._key = key

    def get(self, name: str, default: Any = None) -> Any:
        if name.lower() == "authorization":
            return f"Bearer {self._key}"
        return self._headers.get(name, default)


class TogetherEmulator(EmulatorServer):
    """The emulator. ``start()`` serves in a background thread; ``env`` then holds
    ``TOGETHER_BASE_URL``, ``TOGETHER_API_KEY`` and a ``NO_PROXY`` for loopback.

    ``api_key=None`` accepts any key (and advertises :data:`DEFAULT_API_KEY`); a given key
    makes every other key a 401. ``clock`` is injectable."""

    provider = "together"
    thread_name = "together-emulator"
    operations = OPERATIONS | {"estimate"}

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
        self.routes = Routes(self.state, lambda: self.url)
        #: The models this emulated Together tunes today: ``add``/``remove`` change them.
        self.vendor = self.routes.vendor

    @property
    def counts(self) -> dict[str, int]:
        """Objects created so far: ``jobs_created``, ``files_created``."""
        with self.state.lock:
            return dict(self.state.counts)

    def route(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
        return self.routes.router.match(method, path)

    def handle(self, method: str, target: str, body: bytes, headers: Any) -> Any:
        if method == "PUT" and target.startswith(UPLOAD_PREFIX):
            headers = _PresignedHeaders(headers, self.api_key or DEFAULT_API_KEY)
        return super().handle(method, target, body, headers)

    def client_env(self) -> dict[str, str]:
        return {"TOGETHER_BASE_URL": str(self.url), "TOGETHER_API_KEY": self.api_key or DEFAULT_API_KEY}

    def error(self, status: int, message: str, *, reason: str) -> Answer:
        if reason == "unauthenticated":  # never repeat the key it was given
            message = "Invalid API key provided. You can find your API key at https://api.together.ai/settings."
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return Answer(status, error_body(message, kind, _KINDS.get(reason)))

    def __enter__(self) -> TogetherEmulator:
        self.start()
        return self
