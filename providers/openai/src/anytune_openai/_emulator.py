"""A local emulator of OpenAI's fine-tuning API: a real HTTP server on 127.0.0.1.

It serves the paths anytune uses (``/v1/files``, ``/v1/uploads``,
``/v1/fine_tuning/jobs`` and their sub-paths), checks the API key, validates requests
as OpenAI does, moves jobs through OpenAI's statuses over ``job_seconds`` and injects
faults (:mod:`._emulator_faults`). Users run it with ``anytune sandbox openai``; tests
point the official ``openai`` SDK at it through :attr:`OpenAIEmulator.env`.

Setting ``ANYTUNE_EMULATOR_RECORD`` to a file path makes every emulator append each
exchange (request and answer bodies) to it as JSON lines; the test suite validates them
against OpenAI's OpenAPI spec.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from anytune._errors import ConfigurationError
from anytune_openai._emulator_faults import FaultPlan
from anytune_openai._emulator_routes import Answer, route
from anytune_openai._emulator_state import ApiError, State, new_id

__all__ = ["DEFAULT_API_KEY", "OpenAIEmulator"]

DEFAULT_API_KEY = "sk-anytune-emulator"
RECORD_ENV = "ANYTUNE_EMULATOR_RECORD"
SLOW_ENV = "ANYTUNE_EMULATOR_SLOW_SECONDS"


class OpenAIEmulator:
    """The emulator. ``start()`` serves in a background thread; ``env`` then holds
    ``OPENAI_BASE_URL``, ``OPENAI_API_KEY`` and a ``NO_PROXY`` that keeps proxies away
    from loopback.

    ``api_key=None`` accepts any key (and advertises :data:`DEFAULT_API_KEY`); a given
    key makes every other key a 401. ``slow_seconds`` is how late a ``slow`` fault
    answers (default ``ANYTUNE_EMULATOR_SLOW_SECONDS``, else 5 s: set the client's
    timeout below it); ``retry_after`` the ``Retry-After`` of a 429. ``clock`` is
    injectable."""

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
        self.port = port
        self.api_key = api_key
        try:
            self.faults = FaultPlan(faults)
        except ValueError as exc:  # the CLI's --faults: a usage error, not a crash
            raise ConfigurationError(f"faults: {exc}") from None
        if slow_seconds is None:
            try:
                slow_seconds = float(os.environ.get(SLOW_ENV) or 5.0)
            except ValueError:
                raise ConfigurationError(f"{SLOW_ENV} must be a number of seconds") from None
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.state = State(job_seconds, clock)
        self.env: dict[str, str] = {}
        self.requests: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._record_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<OpenAIEmulator url={self.base_url!r}>"

    def add_fault(self, spec: str) -> None:
        """Inject faults (``OPERATION:KIND[:COUNT],...``) from now on (the fault matrix)."""
        self.faults.add(spec)

    @property
    def base_url(self) -> str | None:
        """``http://127.0.0.1:PORT/v1`` once started."""
        return f"http://127.0.0.1:{self.port}/v1" if self._server else None

    @property
    def counts(self) -> dict[str, int]:
        """Objects created so far: ``jobs_created``, ``files_created``, ``uploads_created``."""
        with self.state.lock:
            return dict(self.state.counts)

    def start(self) -> None:
        """Bind 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            return
        try:
            server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        except OSError as exc:  # e.g. --port already taken: a usage error, not a crash
            raise ConfigurationError(
                f"cannot listen on 127.0.0.1:{self.port}: {exc.strerror or exc}"
            ) from None
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        # A short poll interval: stop() waits for the serving loop to notice, and tests
        # start and stop hundreds of emulators.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="openai-emulator",
            daemon=True,
        )
        self._thread.start()
        no_proxy = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
        hosts_list = [h for h in no_proxy.split(",") if h.strip()]
        hosts_list += [h for h in ("127.0.0.1", "localhost") if h not in hosts_list]
        hosts = ",".join(hosts_list)
        self.env = {
            "OPENAI_BASE_URL": f"http://127.0.0.1:{self.port}/v1",
            "OPENAI_API_KEY": self.api_key or DEFAULT_API_KEY,
            "NO_PROXY": hosts,
            "no_proxy": hosts,
        }

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OpenAIEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- used by the handler ------------------------------------------------------------
    def count(self, operation: str) -> None:
        with self._record_lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1

    def record(self, exchange: dict[str, Any]) -> None:
        path = os.environ.get(RECORD_ENV)
        if not path:
            return
        line = json.dumps(exchange, default=str)
        with self._record_lock, open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def _error(status: int, message: str, *, type: str, code: str | None = None) -> Answer:
    return Answer(status, ApiError(status, message, code=code, type=type).body)


def _handler_for(emulator: OpenAIEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        emu = emulator

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emu: OpenAIEmulator

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the sandbox print what matters themselves

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        key = header[7:] if header.startswith("Bearer ") else ""
        if self.emu.api_key is None:
            return bool(key)
        return key == self.emu.api_key

    def _serve(self, method: str) -> None:
        body = self._read_body()
        path, _, query = self.path.partition("?")
        operation, handler, params = route(method, path)
        exchange: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": query,
            "content_type": self.headers.get("Content-Type", ""),
            "operation": operation,
        }
        fault = None
        if not self._authorized():
            # The message never repeats the key it was given.
            answer = _error(
                401,
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                type="invalid_request_error",
                code="invalid_api_key",
            )
        elif handler is None:
            answer = _error(404, f"Invalid URL ({method} {path})", type="invalid_request_error")
        else:
            self.emu.count(operation)
            fault = self.emu.faults.take(operation)
            if fault is not None and fault.status is not None:
                answer = self._fault_answer(fault.status)
            else:
                try:
                    answer = handler(self.emu.state, params, query, body, self.headers)
                except ApiError as exc:
                    answer = Answer(exc.status, exc.body)
        if os.environ.get(RECORD_ENV):
            exchange.update(
                request=_loggable_request(body, exchange["content_type"]),
                status=answer.status,
                response=answer.json,
            )
        if fault is not None and fault.kind == "drop":
            exchange["dropped"] = True
            self.emu.record(exchange)
            self._drop()
            return
        self.emu.record(exchange)
        if fault is not None and fault.kind == "slow":
            time.sleep(self.emu.slow_seconds)
        self._send(answer)

    def _fault_answer(self, status: int) -> Answer:
        if status == 429:
            answer = _error(
                429,
                "Rate limit reached for requests (emulated).",
                type="requests",
                code="rate_limit_exceeded",
            )
            answer.headers["Retry-After"] = f"{self.emu.retry_after:g}"
            return answer
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return _error(status, f"Emulated HTTP {status} fault.", type=kind)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, answer: Answer) -> None:
        payload = answer.raw if answer.raw is not None else json.dumps(answer.json).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-request-id", new_id("req_", 32))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a slow fault): nothing to do


def _loggable_request(body: bytes, content_type: str) -> Any:
    if content_type.startswith("application/json") and body:
        try:
            return json.loads(body)
        except ValueError:
            return None
    if content_type.startswith("multipart/form-data"):
        from anytune_openai._emulator_routes import parse_multipart

        fields = parse_multipart(body, content_type)
        return {
            k: (v if isinstance(v, str) else "<binary>")
            for k, v in fields.items()
            if not k.endswith(".filename")
        }
    return None
