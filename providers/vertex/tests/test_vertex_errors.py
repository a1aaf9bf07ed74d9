# mypy: disallow-untyped-calls=False
"""Error mapping: every exception class of the Google SDKs and their transports, every
status code the emulator can answer, retry hints, credentials never shown."""

from __future__ import annotations

import inspect
import socket
from pathlib import Path
from typing import Any

import google.api_core.exceptions as core
import google.auth.exceptions as auth
import google.resumable_media.common as media
import httpx
import httpx2
import pytest
import requests
from anytune_vertex import VertexEmulator, VertexProvider
from anytune_vertex._errors import map_error, translating
from google.genai import errors as genai_errors
from vertex_helpers import MODEL, TOKEN

from anytune.errors import (
    AnytuneError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    MissingCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    retry_after_seconds,
)
from anytune.provider import CreateRequest


def _classes(*modules: Any, root: type[BaseException]) -> list[type[BaseException]]:
    found = {
        v for m in modules for v in vars(m).values()
        if inspect.isclass(v) and issubclass(v, root)
    }
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


def _instance(cls: type[BaseException]) -> BaseException:
    """An instance of any SDK exception class, built from its own signature."""
    if issubclass(cls, genai_errors.APIError):
        return cls(503, {"error": {"code": 503, "message": "boom", "status": "UNAVAILABLE"}})
    if issubclass(cls, media.InvalidResponse):
        return cls(requests.Response(), "boom")
    if issubclass(cls, media.DataCorruption):
        return cls(requests.Response(), "boom")
    if issubclass(cls, (httpx.HTTPError, httpx2.HTTPError)):
        try:
            return cls("boom")
        except TypeError:
            return cls("boom", request=None, response=None)  # type: ignore[call-arg]
    try:
        return cls("boom")
    except TypeError:
        return cls.__new__(cls)


ALL = (
    _classes(genai_errors, root=genai_errors.APIError)
    + _classes(core, root=core.GoogleAPIError)
    + _classes(auth, root=auth.GoogleAuthError)
    + _classes(media, root=Exception)
    + _classes(httpx, root=httpx.HTTPError)
    + _classes(httpx2, root=httpx2.HTTPError)
    + _classes(requests.exceptions, root=requests.exceptions.RequestException)
)


def test_every_sdk_exception_class_is_mapped() -> None:
    assert len(ALL) >= 80  # the SDKs' whole trees, not an empty scan
    for cls in ALL:
        exc = _instance(cls)
        mapped = map_error(exc)
        assert isinstance(mapped, AnytuneError), cls
        assert isinstance(mapped, (ProviderError, MissingCredentialsError)), cls
        with pytest.raises(AnytuneError), translating():
            raise exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (genai_errors.ClientError(400, {"error": {"message": "bad", "status": "INVALID_ARGUMENT"}}),
         InvalidRequestError),
        (genai_errors.ClientError(401, {}), AuthenticationError),
        (genai_errors.ClientError(403, {}), PermissionDeniedError),
        (genai_errors.ClientError(404, {}), NotFoundError),
        (genai_errors.ClientError(409, {}), ConflictError),
        (genai_errors.ClientError(429, {}), RateLimitError),
        (genai_errors.ServerError(500, {}), ServerError),
        (core.NotFound("x"), NotFoundError),
        (core.PreconditionFailed("x"), InvalidRequestError),
        (core.TooManyRequests("x"), RateLimitError),
        (core.ServiceUnavailable("x"), ServerError),
        (core.Forbidden("x"), PermissionDeniedError),
        (core.RetryError("x", None), ProviderTimeoutError),
        (auth.RefreshError("x"), AuthenticationError),
        (auth.DefaultCredentialsError("x"), MissingCredentialsError),
        (auth.TransportError("x"), ProviderConnectionError),
        (httpx.ReadTimeout("x"), ProviderTimeoutError),
        (httpx.ConnectError("x"), ProviderConnectionError),
        (httpx.RemoteProtocolError("x"), ProviderConnectionError),
        (requests.exceptions.ReadTimeout("x"), ProviderTimeoutError),
        (requests.exceptions.ConnectionError("x"), ProviderConnectionError),
    ],
)
def test_classes_and_codes_map_to_the_hierarchy(exc: BaseException, expected: type[Exception]) -> None:
    assert type(map_error(exc)) is expected


def test_connect_errors_say_the_request_was_never_sent() -> None:
    mapped = map_error(httpx.ConnectError("x"))
    assert isinstance(mapped, ProviderConnectionError) and mapped.request_sent is False
    dropped = map_error(httpx.RemoteProtocolError("x"))
    assert isinstance(dropped, ProviderConnectionError) and dropped.request_sent is None


def test_retry_after_is_read() -> None:
    assert retry_after_seconds(httpx.Headers({"retry-after": "3"})) == 3.0
    assert retry_after_seconds(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [(403, PermissionDeniedError), (409, ConflictError), (429, RateLimitError), (500, ServerError),
     (503, ServerError), (404, NotFoundError)],
)
def test_status_codes_from_the_emulator(
    emulator: VertexEmulator, status: int, expected: type[Exception]
) -> None:
    p = VertexProvider(max_retries=0)
    emulator.faults.add(f"list:{status}")
    with pytest.raises(expected) as info:
        p.list()
    assert info.value.status_code == status  # type: ignore[attr-defined]
    if status == 429:
        assert info.value.retry_after == pytest.approx(0.05)  # type: ignore[attr-defined]
    assert p.list() == []  # the fault was used up


def test_reads_ride_out_transient_faults(emulator: VertexEmulator, provider: VertexProvider) -> None:
    emulator.faults.add("list:503,list:429,list:drop")
    assert provider.list() == []
    assert emulator.requests["list"] == 4


def test_create_is_sent_once_even_on_a_5xx(emulator: VertexEmulator, provider: VertexProvider,
                                           chat_file: Path) -> None:
    uri = provider.upload(chat_file, purpose="train")
    emulator.faults.add("create:503")
    with pytest.raises(ServerError):
        provider.create(CreateRequest(model=MODEL, training_file=uri))
    assert emulator.requests["create"] == 1 and emulator.counts["jobs_created"] == 0


def test_400_carries_vertex_message(provider: VertexProvider, chat_file: Path) -> None:
    uri = provider.upload(chat_file, purpose="train")
    with pytest.raises(InvalidRequestError, match="not supported for tuning"):
        provider.create(CreateRequest(model="gemini-9-unknown", training_file=uri))
    with pytest.raises(InvalidRequestError, match="does not exist"):
        provider.create(CreateRequest(model=MODEL, training_file="gs://anytune-sandbox-bucket/missing.jsonl"))


def test_401_says_which_credential_and_never_its_value(emulator: VertexEmulator,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "ya29.wrong-but-secret-987654321"
    monkeypatch.setenv("ANYTUNE_VERTEX_ACCESS_TOKEN", wrong)
    p = VertexProvider()
    with pytest.raises(AuthenticationError) as info:
        p.get("projects/anytune-sandbox/locations/us-central1/tuningJobs/1")
    text = f"{info.value} {info.value!r} {info.value.to_dict()}"
    assert "ANYTUNE_VERTEX_ACCESS_TOKEN" in text and wrong not in text and "987654321" not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_unreachable_endpoint_is_a_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    monkeypatch.setenv("ANYTUNE_VERTEX_ACCESS_TOKEN", TOKEN)
    p = VertexProvider(project="p", base_url=f"http://127.0.0.1:{port}/", max_retries=0)
    with pytest.raises(ProviderConnectionError):
        p.list()


@pytest.mark.emulator(slow_seconds=1.0)
def test_slow_answer_is_a_timeout(emulator: VertexEmulator) -> None:
    p = VertexProvider(timeout=0.3, max_retries=0)
    emulator.faults.add("get:slow")
    with pytest.raises(ProviderTimeoutError):
        p.get("projects/anytune-sandbox/locations/us-central1/tuningJobs/1")
