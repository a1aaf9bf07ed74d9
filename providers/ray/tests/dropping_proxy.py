"""A loopback HTTP proxy that carries a request out and drops the answer: the failure
after which a client cannot know whether its ``create`` made a job."""

from __future__ import annotations

import socket
import threading
from typing import Any


def _read_message(sock: socket.socket, buf: bytes) -> tuple[bytes, bytes] | None:
    """One HTTP/1.1 message (headers + Content-Length body) from ``sock``; returns it and
    whatever came after it, or ``None`` when the peer closed."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


class DroppingProxy:
    """Forwards to ``upstream`` (``host:port``); the first ``drops`` requests whose start
    line begins with ``match`` reach the upstream, but their answers are dropped."""

    def __init__(self, upstream: str, *, match: bytes = b"POST /api/jobs/ ", drops: int = 1) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.match = match
        self.drops = drops
        self.dropped = 0
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with client, socket.create_connection(self.upstream) as up:
            buf = b""
            while True:
                got = _read_message(client, buf)
                if got is None:
                    return
                request, buf = got
                up.sendall(request)
                answer = _read_message(up, b"")
                if answer is None:
                    return
                if request.startswith(self.match) and self.dropped < self.drops:
                    self.dropped += 1
                    return  # carried out upstream; the client never hears back
                client.sendall(answer[0])

    def close(self, *_: Any) -> None:
        self._stop = True
        self.server.close()
