"""Every ``together`` SDK exception class maps to a typed anytune error, by type and
status code; the emulator's refusals arrive as those errors through the real SDK."""

from __future__ import annotations

import inspect

import httpx
import pytest
import together
from anytune_together import TogetherProvider
from anytune_together._errors import map_error
from anytune_together.emulator import TogetherEmulator

from anytune import (
    AnytuneError,
    AuthenticationError,
    ConflictError,
    DatasetError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)

REQUEST = httpx.Request("GET", "http://127.0.0.1/v1/fine-tunes")
BY_STATUS = {400: InvalidRequestError, 401: AuthenticationError, 403: PermissionDeniedError,
             404: NotFoundError, 409: ConflictError, 422: InvalidRequestError, 429: RateLimitError,
             500: ServerError, 503: ServerError}


def _instance(cls: type) -> BaseException:
    if issubclass(cls, together.APIStatusError):
        code = getattr(cls, "status_code", None)
        status = code if isinstance(code, int) else 500
        response = httpx.Response(status, request=REQUEST, headers={"retry-after": "2"})
        return cls("boom", response=response, body={"error": {"message": "boom", "type": "x"}})
    if cls is together.APITimeoutError:
        return cls(request=REQUEST)
    if cls is together.APIConnectionError:
        return cls(request=REQUEST)
    if cls is together.APIResponseValidationError:
        return cls(response=httpx.Response(200, request=REQUEST), body=None)
    if cls is together.APIError:
        return cls("boom", REQUEST, body=None)
    return cls("boom")


SDK_ERRORS = sorted(
    (c for _, c in inspect.getmembers(together, inspect.isclass) if issubclass(c, together.TogetherError)),
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("cls", SDK_ERRORS, ids=lambda c: c.__name__)
def test_every_sdk_error_is_mapped(cls: type) -> None:
    mapped = map_error(_instance(cls), secrets=("tgp_v1_secret",))
    assert isinstance(mapped, AnytuneError)
    if cls is together.APITimeoutError:
        assert isinstance(mapped, ProviderTimeoutError)
    elif cls is together.APIConnectionError:
        assert isinstance(mapped, ProviderConnectionError)
    elif cls is together.FileTypeError:
        assert isinstance(mapped, DatasetError)
    elif issubclass(cls, together.APIStatusError) and isinstance(getattr(cls, "status_code", None), int):
        assert type(mapped) is BY_STATUS[cls.status_code]
        assert mapped.retry_after == 2.0  # type: ignore[attr-defined]
    else:
        assert isinstance(mapped, ProviderError)


@pytest.mark.parametrize("status", sorted(BY_STATUS))
def test_status_codes_map_by_number(status: int) -> None:
    response = httpx.Response(status, request=REQUEST)
    exc = together.APIStatusError("x", response=response, body=None)
    assert type(map_error(exc)) is BY_STATUS[status]


@pytest.mark.parametrize(
    ("fault", "expected"), [("get:404", NotFoundError), ("get:400", InvalidRequestError)]
)
def test_emulator_refusals_arrive_typed(emulator: TogetherEmulator, fault: str, expected: type) -> None:
    env = emulator.env
    provider = TogetherProvider(api_key=env["TOGETHER_API_KEY"], base_url=env["TOGETHER_BASE_URL"])
    emulator.add_fault(fault)
    with pytest.raises(expected) as info:
        provider.get("ft-anything")
    assert info.value.provider == "together"


def test_rate_limit_is_ridden_out_on_reads(emulator: TogetherEmulator) -> None:
    env = emulator.env
    provider = TogetherProvider(api_key=env["TOGETHER_API_KEY"], base_url=env["TOGETHER_BASE_URL"])
    emulator.add_fault("list:429:2")
    assert provider.list() == []
    assert emulator.requests["list"] == 3
