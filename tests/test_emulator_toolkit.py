"""The emulator toolkit every provider's emulator is built on (``anytune.emulator``),
exercised over real HTTP on 127.0.0.1 with a minimal vendor."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anytune import ConfigurationError
from anytune.emulator import Answer, ApiError, EmulatorServer, Router, parse_faults, parse_multipart


class _Echo(EmulatorServer):
    """A vendor with one list route, one item route and one custom-verb route."""

    provider = "echo"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.router = Router()
        self.router.add("GET", "/v1/things", "list", lambda p, q, b, h: Answer(200, {"query": q}))
        self.router.add("GET", "/v1/things/{thing}", "get", self._get)
        cancel = "/v1/{parent}/things/{thing}:cancel"
        self.router.add("POST", cancel, "cancel", lambda p, q, b, h: Answer(200, p))

    def _get(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        if params["thing"] == "missing":
            raise ApiError(404, {"error": "no such thing"}, headers={"x-why": "missing"})
        return Answer(200, {"id": params["thing"]})

    def route(self, method: str, path: str) -> Any:
        return self.router.match(method, path)

    def error(self, status: int, message: str, *, reason: str) -> Answer:
        return Answer(status, {"error": {"message": message, "reason": reason}})

    def client_env(self) -> dict[str, str]:
        return {"ECHO_URL": f"{self.url}/v1"}


@pytest.fixture
def echo() -> Iterator[_Echo]:
    with _Echo(api_key="k-1", retry_after=0.25) as emu:
        yield emu


def _call(emu: _Echo, method: str, path: str, key: str = "k-1") -> tuple[int, Any, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {key}"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null"), resp.headers
    finally:
        conn.close()


def test_env_names_the_server_and_keeps_proxies_off_loopback(echo: _Echo) -> None:
    assert echo.env["ECHO_URL"] == f"http://127.0.0.1:{echo.port}/v1"
    assert "127.0.0.1" in echo.env["NO_PROXY"].split(",")


def test_routes_params_and_custom_verbs(echo: _Echo) -> None:
    assert _call(echo, "GET", "/v1/things/abc")[:2] == (200, {"id": "abc"})
    status, body, _ = _call(echo, "POST", "/v1/projects/things/t-9:cancel")
    assert (status, body) == (200, {"parent": "projects", "thing": "t-9"})
    assert _call(echo, "GET", "/v1/things?limit=2")[1] == {"query": "limit=2"}
    assert _call(echo, "DELETE", "/v1/things/abc")[0] == 404  # a known path, another method


def test_wrong_key_is_401_and_never_echoed(echo: _Echo) -> None:
    status, body, _ = _call(echo, "GET", "/v1/things/abc", key="sk-CANARY")
    assert status == 401 and body["error"]["reason"] == "unauthenticated"
    assert "CANARY" not in json.dumps(body)
    assert echo.requests == {}  # refused before it counts as an operation


def test_handler_errors_keep_status_body_and_headers(echo: _Echo) -> None:
    status, body, headers = _call(echo, "GET", "/v1/things/missing")
    assert (status, body, headers["x-why"]) == (404, {"error": "no such thing"}, "missing")


def test_faults_429_with_retry_after_then_5xx_then_normal(echo: _Echo) -> None:
    echo.add_fault("get:429,get:503")
    status, body, headers = _call(echo, "GET", "/v1/things/a")
    assert (status, body["error"]["reason"], headers["Retry-After"]) == (429, "rate_limited", "0.25")
    assert _call(echo, "GET", "/v1/things/a")[0] == 503
    assert _call(echo, "GET", "/v1/things/a")[0] == 200
    assert echo.requests["get"] == 3 and echo.faults.pending() == 0


def test_drop_closes_the_connection_after_the_request_was_handled(echo: _Echo) -> None:
    echo.add_fault("cancel:drop")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _call(echo, "POST", "/v1/p/things/t:cancel")
    assert echo.requests["cancel"] == 1


def test_bad_fault_specs_and_busy_ports_are_configuration_errors(echo: _Echo) -> None:
    with pytest.raises(ConfigurationError, match="unknown operation"):
        _Echo(faults="teleport:500")
    with pytest.raises(ConfigurationError, match="cannot listen"):
        _Echo(port=echo.port).start()
    assert [(f.operation, f.kind, f.remaining) for f in parse_faults("*:slow:2, upload:drop")] == [
        ("*", "slow", 2),
        ("upload", "drop", 1),
    ]
    for bad in ("get", "get:200", "get:500:0", "get:500:x"):
        with pytest.raises(ValueError):
            parse_faults(bad)


def test_multipart_fields_and_files() -> None:
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="file"; filename="t.jsonl"\r\n\r\n'
        b'{"a":1}\r\n--XX--\r\n'
    )
    fields = parse_multipart(body, "multipart/form-data; boundary=XX")
    assert fields == {"purpose": "fine-tune", "file": b'{"a":1}', "file.filename": "t.jsonl"}
    with pytest.raises(ValueError, match="boundary"):
        parse_multipart(body, "multipart/form-data")


def test_exchanges_are_recorded_with_their_provider(
    echo: _Echo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "exchanges.jsonl"
    monkeypatch.setenv("ANYTUNE_EMULATOR_RECORD", str(record))
    _call(echo, "GET", "/v1/things/abc?x=1")
    (line,) = record.read_text().splitlines()
    exchange = json.loads(line)
    assert exchange["provider"] == "echo" and exchange["path"] == "/v1/things/abc"
    assert (exchange["query"], exchange["status"], exchange["response"]) == ("x=1", 200, {"id": "abc"})
