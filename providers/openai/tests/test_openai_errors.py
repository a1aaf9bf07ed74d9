"""Error mapping: every ``openai`` exception class, every status code the emulator can
answer, retry hints and request ids carried, secrets never shown."""

from __future__ import annotations

import inspect
import socket
from pathlib import Path

import httpx2
import openai
import pytest
from anytune_openai import OpenAIProvider
from anytune_openai._errors import map_error, translating
from anytune_openai.emulator import OpenAIEmulator
from openai_helpers import MODEL, TEST_KEY

from anytune.errors import (
    AnytuneError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
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

_REQUEST = httpx2.Request("GET", "https://api.openai.com/v1/fine_tuning/jobs")


def _response(status: int, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, headers=headers or {}, request=_REQUEST)


def _instance(cls: type[BaseException]) -> BaseException:
    """An instance of any SDK exception class, built from its own signature."""
    if issubclass(cls, openai.APITimeoutError):
        return cls(request=_REQUEST)  # type: ignore[call-arg]
    if issubclass(cls, openai.APIConnectionError):
        return cls(request=_REQUEST)  # type: ignore[call-arg]
    if issubclass(cls, openai.APIStatusError):
        status = getattr(cls, "status_code", 500)
        status = status if isinstance(status, int) else 500
        if "message" in inspect.signature(cls.__init__).parameters:
            return cls("boom", response=_response(status), body=None)  # type: ignore[call-arg]
        return cls(response=_response(status), body=None)  # type: ignore[call-arg]
    if issubclass(cls, openai.APIResponseValidationError):
        return cls(response=_response(200), body=None)  # type: ignore[call-arg]
    if issubclass(cls, openai.APIError):
        return cls("boom", _REQUEST, body=None)  # type: ignore[call-arg]
    try:
        return cls("boom")
    except TypeError:
        return cls.__new__(cls)


def _sdk_exception_classes() -> list[type[BaseException]]:
    import openai._exceptions as exc_module

    found = set()
    for module in (openai, exc_module):
        for value in list(vars(module).values()):
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and (value.__module__.startswith("openai"))
            ):
                found.add(value)
    return sorted(found, key=lambda c: c.__name__)


def test_every_openai_exception_class_is_mapped() -> None:
    classes = _sdk_exception_classes()
    assert len(classes) >= 15  # the SDK's whole tree, not an empty scan
    for cls in classes:
        mapped = map_error(_instance(cls))
        assert isinstance(mapped, ProviderError), cls
        assert mapped.provider == "openai"
        # and the context manager turns it into an anytune error
        if issubclass(cls, (openai.OpenAIError, openai.InvalidWebhookSignatureError)):
            with pytest.raises(AnytuneError), translating():
                raise _instance(cls)


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (openai.BadRequestError, InvalidRequestError),
        (openai.AuthenticationError, AuthenticationError),
        (openai.PermissionDeniedError, PermissionDeniedError),
        (openai.NotFoundError, NotFoundError),
        (openai.ConflictError, ConflictError),
        (openai.UnprocessableEntityError, InvalidRequestError),
        (openai.RateLimitError, RateLimitError),
        (openai.InternalServerError, ServerError),
        (openai.APITimeoutError, ProviderTimeoutError),
        (openai.APIConnectionError, ProviderConnectionError),
    ],
)
def test_sdk_classes_map_to_the_hierarchy(cls: type[BaseException], expected: type[Exception]) -> None:
    assert type(map_error(_instance(cls))) is expected


def test_retry_after_is_read_in_both_forms() -> None:
    assert retry_after_seconds(httpx2.Headers({"retry-after": "3"})) == 3.0
    assert retry_after_seconds(httpx2.Headers({"retry-after-ms": "250"})) == 0.25
    assert retry_after_seconds(httpx2.Headers({"retry-after": "soon"})) is None


def test_secrets_are_scrubbed_from_messages() -> None:
    body = {
        "message": "Incorrect API key provided: sk-live-abcdef1234. Also sk-proj-xyz987.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    err = map_error(openai.BadRequestError("x", response=_response(400), body=body), secrets=("abcdef1234",))
    assert "abcdef1234" not in str(err) and "xyz987" not in str(err)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (403, PermissionDeniedError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (404, NotFoundError),
    ],
)
def test_status_codes_from_the_emulator(
    emulator: OpenAIEmulator, status: int, expected: type[Exception], chat_file: Path
) -> None:
    p = OpenAIProvider(api_key=TEST_KEY, base_url=emulator.env["OPENAI_BASE_URL"], max_retries=0)
    emulator.faults.add(f"list:{status}")
    with pytest.raises(expected) as info:
        p.list()
    err = info.value
    assert err.status_code == status  # type: ignore[attr-defined]
    assert err.request_id and err.request_id.startswith("req_")  # type: ignore[attr-defined]
    if status == 429:
        assert err.retry_after == pytest.approx(0.05)  # type: ignore[attr-defined]
    assert p.list() == []  # the fault was used up


def test_400_names_the_parameter(provider: OpenAIProvider, chat_file: Path) -> None:
    file_id = provider.upload(chat_file, purpose="train")
    with pytest.raises(InvalidRequestError) as info:
        provider.create(CreateRequest(model="gpt-9-unknown", training_file=file_id))
    assert info.value.status_code == 400 and "model_not_available" in str(info.value)
    with pytest.raises(InvalidRequestError, match="invalid_file"):
        provider.create(CreateRequest(model=MODEL, training_file="file-doesnotexist"))


def test_401_says_which_credential_and_never_its_value(emulator: OpenAIEmulator) -> None:
    wrong = "sk-wrong-but-secret-987654321"
    p = OpenAIProvider(api_key=wrong, base_url=emulator.env["OPENAI_BASE_URL"])
    with pytest.raises(AuthenticationError) as info:
        p.get("ftjob-x")
    text = f"{info.value} {info.value!r} {info.value.to_dict()}"
    assert "OPENAI_API_KEY" in text and wrong not in text and "987654321" not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_404_for_an_unknown_job(provider: OpenAIProvider) -> None:
    with pytest.raises(NotFoundError) as info:
        provider.get("ftjob-doesnotexist000")
    assert info.value.provider == "openai"


def test_unreachable_endpoint_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    p = OpenAIProvider(api_key=TEST_KEY, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(ProviderConnectionError):
        p.list()


@pytest.mark.emulator(slow_seconds=1.5)
def test_slow_answer_is_a_timeout(emulator: OpenAIEmulator) -> None:
    p = OpenAIProvider(api_key=TEST_KEY, base_url=emulator.env["OPENAI_BASE_URL"], timeout=0.3, max_retries=0)
    emulator.faults.add("get:slow")
    with pytest.raises(ProviderTimeoutError):
        p.get("ftjob-x")


def test_reads_ride_out_transient_faults_with_sdk_retries(emulator: OpenAIEmulator) -> None:
    p = OpenAIProvider(api_key=TEST_KEY, base_url=emulator.env["OPENAI_BASE_URL"], max_retries=2)
    emulator.faults.add("list:503,list:429")
    assert p.list() == []
    assert emulator.requests["list"] == 3
