"""A toolkit for writing a provider's emulator: a real HTTP server on 127.0.0.1.

Every cloud provider package ships an emulator of the part of its vendor's API that
anytune uses (docs/design.md §7). What differs between vendors is the routes, the state and
the shape of an error; the rest is here, written once:

- :class:`EmulatorServer`: binds 127.0.0.1, serves in a daemon thread, checks the API
  key, injects faults, records exchanges, and answers with :class:`Answer` objects.
- :class:`FaultPlan`: ``OPERATION:KIND[:COUNT],...``. Operations are :data:`OPERATIONS`
  (``*`` matches any); kinds are ``429`` (with ``Retry-After``), any other 4xx/5xx code
  (the request is refused, nothing happens), ``drop`` (the request is carried out, then
  the connection is closed without an answer) and ``slow`` (carried out, answered
  ``slow_seconds`` later, after the client has given up). COUNT defaults to 1.
- :class:`Router`: path templates such as ``/v1/files/{file_id}`` or
  ``/v1/{parent}/tuningJobs/{job}:cancel`` mapped to handlers and fault operations.

A subclass implements :meth:`EmulatorServer.route`, :meth:`EmulatorServer.error` and
:meth:`EmulatorServer.client_env`. Setting ``ANYTUNE_EMULATOR_RECORD`` to a file path
makes every emulator append each exchange (request and answer bodies) to it as JSON
lines, so a provider's tests can check them against the vendor's spec.

This module imports only the standard library: ``anytune sandbox`` runs it without pytest.
"""

from __future__ import annotations

import abc
import json
import os
import re
import secrets
import socket
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from anytune._emulator_chat import BASE_REPLY, TunedAnswers, count_tokens, text_of, user_text
from anytune._errors import ConfigurationError
from anytune._faults import OPERATIONS, Fault, FaultPlan, parse_faults
from anytune._multipart import loggable_request, parse_multipart

__all__ = [
    "BASE_REPLY",
    "OPERATIONS",
    "RECORD_ENV",
    "SLOW_ENV",
    "Answer",
    "ApiError",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "Handler",
    "Router",
    "TunedAnswers",
    "count_tokens",
    "new_id",
    "parse_faults",
    "parse_multipart",
    "text_of",
    "user_text",
]

RECORD_ENV = "ANYTUNE_EMULATOR_RECORD"
SLOW_ENV = "ANYTUNE_EMULATOR_SLOW_SECONDS"
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, n: int = 24) -> str:
    """A random id such as ``ftjob-...`` or ``file-...``."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(n))


@dataclass
class Answer:
    """An HTTP answer: JSON (``json``) or raw bytes (``raw``)."""

    status: int
    json: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised by a handler for an error answer; ``body`` is already in the vendor's shape."""

    def __init__(self, status: int, body: Any, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


#: A route handler: ``(path params, query string, body bytes, request headers)``.
Handler = Callable[[dict[str, str], str, bytes, Any], Answer]


# --- routing and bodies ---------------------------------------------------------------------
class Router:
    """Method + path template -> (fault operation, handler). A ``{name}`` segment matches
    one path segment (shortest first, so ``{job}:cancel`` stops before the colon)."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []

    def add(self, method: str, template: str, operation: str, handler: Handler) -> None:
        """Serve ``method template`` with ``handler``; faults target it as ``operation``."""
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+?)", re.escape(template))
        self._routes.append((method.upper(), re.compile(f"^{pattern}$"), operation, handler))

    def match(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
        """(operation, handler, path params); no handler when nothing matches."""
        for m, pattern, operation, handler in self._routes:
            found = pattern.match(path)
            if found and m == method:
                return operation, handler, found.groupdict()
        return "", None, {}


def loopback_no_proxy() -> dict[str, str]:
    """``NO_PROXY``/``no_proxy`` with loopback added: the SDKs honour ``HTTP_PROXY`` even
    for 127.0.0.1."""
    current = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    hosts = [h for h in current.split(",") if h.strip()]
    hosts += [h for h in ("127.0.0.1", "localhost") if h not in hosts]
    joined = ",".join(hosts)
    return {"NO_PROXY": joined, "no_proxy": joined}


# --- the server -----------------------------------------------------------------------------
class EmulatorServer(abc.ABC):
    """Base of every emulator. ``start()`` serves in a background thread; ``env`` then
    holds :meth:`client_env` plus a ``NO_PROXY`` that keeps proxies away from loopback.

    ``api_key=None`` accepts any non-empty key; a given key makes every other key a 401.
    ``slow_seconds`` is how late a ``slow`` fault answers (default
    ``ANYTUNE_EMULATOR_SLOW_SECONDS``, else 5 s: set the client's timeout below it);
    ``retry_after`` is the ``Retry-After`` of a 429."""

    #: The provider this emulates; every recorded exchange carries it, so one record
    #: file can hold several emulators' exchanges and each is checked against its spec.
    provider: ClassVar[str] = ""
    #: The name of the serving thread (shows in thread dumps).
    thread_name: ClassVar[str] = "anytune-emulator"
    #: The header carrying a per-answer request id, as the vendor names it.
    request_id_header: ClassVar[str] = "x-request-id"
    #: Fault operations this emulator understands.
    operations: ClassVar[frozenset[str]] = OPERATIONS

    def __init__(
        self,
        *,
        port: int = 0,
        faults: str = "",
        api_key: str | None = None,
        slow_seconds: float | None = None,
        retry_after: float = 1.0,
    ) -> None:
        self.port = port
        self.api_key = api_key
        try:
            self.faults = FaultPlan(faults, self.operations)
        except ValueError as exc:  # the CLI's --faults: a usage error, not a crash
            raise ConfigurationError(f"faults: {exc}") from None
        if slow_seconds is None:
            try:
                slow_seconds = float(os.environ.get(SLOW_ENV) or 5.0)
            except ValueError:
                raise ConfigurationError(f"{SLOW_ENV} must be a number of seconds") from None
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.env: dict[str, str] = {}
        #: Requests received per operation (faulted ones included).
        self.requests: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._record_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} url={self.url!r}>"

    # --- for subclasses -------------------------------------------------------------------------
    @abc.abstractmethod
    def route(self, method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
        """(fault operation, handler, path params) for a request; ``None`` handler: 404."""

    @abc.abstractmethod
    def error(self, status: int, message: str, *, reason: str) -> Answer:
        """An error answer in the vendor's shape. ``reason`` is ``unauthenticated``,
        ``not_found``, ``rate_limited`` or ``fault``."""

    def client_env(self) -> dict[str, str]:
        """The variables a client needs to reach this emulator (base URL, key, ...)."""
        return {}

    def authorized(self, headers: Any) -> bool:
        """Whether the request carries an acceptable ``Authorization: Bearer`` key."""
        header = headers.get("Authorization", "")
        key = header[7:] if header.startswith("Bearer ") else ""
        return bool(key) if self.api_key is None else key == self.api_key

    # --- life cycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str | None:
        """``http://127.0.0.1:PORT`` once started."""
        return f"http://127.0.0.1:{self.port}" if self._server else None

    def add_fault(self, spec: str) -> None:
        """Inject faults (``OPERATION:KIND[:COUNT],...``) from now on (the fault matrix)."""
        self.faults.add(spec)

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
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        self.env = {**self.client_env(), **loopback_no_proxy()}

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- used by the request handler ------------------------------------------------------------
    def count(self, operation: str) -> None:
        """Count one request of ``operation``."""
        with self._record_lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1

    def record(self, exchange: dict[str, Any]) -> None:
        """Append ``exchange`` to the ``ANYTUNE_EMULATOR_RECORD`` file, if set."""
        path = os.environ.get(RECORD_ENV)
        if not path:
            return
        line = json.dumps(exchange, default=str)
        with self._record_lock, open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def handle(self, method: str, target: str, body: bytes, headers: Any) -> tuple[Answer, Fault | None]:
        """Answer one request (no I/O): auth, routing, faults, the handler. The fault is
        returned so the transport can drop or delay the answer."""
        path, _, query = target.partition("?")
        operation, handler, params = self.route(method, path)
        exchange: dict[str, Any] = {
            "provider": self.provider,
            "method": method,
            "path": path,
            "query": query,
            "content_type": headers.get("Content-Type", ""),
            "operation": operation,
        }
        fault = None
        if not self.authorized(headers):
            answer = self.error(401, "Invalid or missing API key.", reason="unauthenticated")
        elif handler is None:
            answer = self.error(404, f"Invalid URL ({method} {path})", reason="not_found")
        else:
            self.count(operation)
            fault = self.faults.take(operation)
            if fault is not None and fault.status == 429:
                answer = self.error(429, "Rate limit reached (emulated).", reason="rate_limited")
                answer.headers["Retry-After"] = f"{self.retry_after:g}"
            elif fault is not None and fault.status is not None:
                answer = self.error(fault.status, f"Emulated HTTP {fault.status} fault.", reason="fault")
            else:
                try:
                    answer = handler(params, query, body, headers)
                except ApiError as exc:
                    answer = Answer(exc.status, exc.body, headers=exc.headers)
        if os.environ.get(RECORD_ENV):
            exchange.update(
                request=loggable_request(body, exchange["content_type"]),
                status=answer.status,
                response=answer.json,
                dropped=fault is not None and fault.kind == "drop",
            )
            self.record(exchange)
        return answer, fault


def _handler_for(emulator: EmulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        emu = emulator

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emu: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the sandbox print what matters themselves

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

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

    def _serve(self, method: str) -> None:
        body = self._read_body()
        answer, fault = self.emu.handle(method, self.path, body, self.headers)
        if fault is not None and fault.kind == "drop":
            self._drop()
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(self.emu.slow_seconds)
        self._send(answer)

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
            self.send_header(self.emu.request_id_header, new_id("req_", 32))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a slow fault): nothing to do
