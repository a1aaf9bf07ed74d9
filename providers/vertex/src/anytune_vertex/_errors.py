"""The one place where Google SDK exceptions become anytune errors.

Three libraries raise on anytune's behalf: ``google-genai`` (``google.genai.errors.APIError``
with the HTTP ``code``; transport errors of ``httpx``/``httpx2`` pass through it
unwrapped), ``google-cloud-storage`` (``google.api_core.exceptions.GoogleAPICallError``
with the HTTP ``code``, ``google.resumable_media`` errors for resumable uploads,
``requests`` transport errors) and ``google-auth`` (credential loading and refresh).
Mapping is by exception type and HTTP status code, never by message text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from anytune.errors import (
    AnytuneError,
    AuthenticationError,
    MissingCredentialsError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    redact,
)
from anytune.provider import status_error

__all__ = ["SDK_ERRORS", "map_error", "translating"]

PROVIDER = "vertex"
CREDENTIAL_HINT = (
    "check ANYTUNE_VERTEX_ACCESS_TOKEN / GOOGLE_APPLICATION_CREDENTIALS or the credentials= argument"
)


def _status_error(status: int, message: str, headers: Any, secrets: tuple[str, ...]) -> AnytuneError:
    request_id = None if headers is None else headers.get("x-request-id") or headers.get("x-goog-request-id")
    return status_error(
        PROVIDER, status, message, headers=headers, request_id=request_id, secrets=secrets,
        refused=f"the Google credential was refused; {CREDENTIAL_HINT}",
        denied="the credential may not do this (project, bucket or Vertex AI API access)",
    )


def _transport_error(exc: BaseException) -> AnytuneError | None:
    """Timeouts and connection failures of httpx, httpx2 and requests, by type."""
    for module_name in ("httpx", "httpx2"):
        module = _optional(module_name)
        if module is None:
            continue
        if isinstance(exc, module.TimeoutException):
            return ProviderTimeoutError("the request timed out", provider=PROVIDER)
        if isinstance(exc, module.ConnectError):
            return ProviderConnectionError(
                "could not reach the API", provider=PROVIDER, request_sent=False
            )
        if isinstance(exc, module.TransportError):
            return ProviderConnectionError("the connection dropped", provider=PROVIDER)
    requests = _optional("requests")
    if requests is not None:
        if isinstance(exc, requests.exceptions.Timeout):
            return ProviderTimeoutError("the request timed out", provider=PROVIDER)
        if isinstance(exc, requests.exceptions.RequestException):
            return ProviderConnectionError("could not reach the API or the connection dropped",
                                           provider=PROVIDER)
    return None


def _optional(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - both are dependencies of the SDKs
        return None


def map_error(exc: BaseException, *, secrets: tuple[str, ...] = ()) -> AnytuneError:
    """The anytune error for an exception raised by the Google SDKs or their transports.
    Unknown exceptions become :class:`ProviderError`."""
    import google.api_core.exceptions as core
    import google.auth.exceptions as auth
    import google.resumable_media.common as media
    from google.genai import errors as genai_errors

    if isinstance(exc, genai_errors.APIError):
        headers = getattr(exc.response, "headers", None)
        status = f" [{exc.status}]" if exc.status else ""
        return _status_error(int(exc.code or 500), f"{exc.message or 'error'}{status}", headers, secrets)
    if isinstance(exc, core.RetryError):
        return ProviderTimeoutError("the request kept failing until its deadline", provider=PROVIDER)
    if isinstance(exc, core.GoogleAPICallError):
        headers = getattr(getattr(exc, "response", None), "headers", None)
        code = exc.code if isinstance(exc.code, int) and exc.code >= 400 else 500
        return _status_error(code, exc.message or type(exc).__name__, headers, secrets)
    if isinstance(exc, media.InvalidResponse):
        response = exc.response
        code = getattr(response, "status_code", None) or getattr(response, "status", None) or 500
        return _status_error(int(code), "the storage upload was refused", getattr(response, "headers", None),
                             secrets)
    if isinstance(exc, media.DataCorruption):
        return ProviderError("the uploaded file's checksum did not match", provider=PROVIDER)
    if isinstance(exc, auth.DefaultCredentialsError):
        return MissingCredentialsError(
            "vertex", env_var="GOOGLE_APPLICATION_CREDENTIALS", argument="credentials",
            hint="or run `gcloud auth application-default login`",
        )
    if isinstance(exc, (auth.RefreshError, auth.UserAccessTokenError, auth.OAuthError)):
        return AuthenticationError(
            f"the Google credential could not be refreshed; {CREDENTIAL_HINT}",
            provider=PROVIDER, status_code=401,
        )
    if isinstance(exc, auth.TimeoutError):
        return ProviderTimeoutError("fetching a Google access token timed out", provider=PROVIDER)
    if isinstance(exc, auth.TransportError):
        return ProviderConnectionError("could not reach Google's token service", provider=PROVIDER)
    transport = _transport_error(exc)
    if transport is not None:
        return transport
    import pydantic

    if isinstance(exc, pydantic.ValidationError):
        # google-genai validates answers into its pydantic types: an answer it refuses
        # (a malformed timestamp, a field of another type) is Vertex's, said as such.
        fields = sorted({".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()})
        return ProviderError(f"the answer does not fit google-genai's types (fields: "
                             f"{', '.join(fields)[:200]})", provider=PROVIDER)
    return ProviderError(redact(f"{type(exc).__name__}: {exc}", secrets), provider=PROVIDER)


def _sdk_errors() -> tuple[type[BaseException], ...]:
    import google.api_core.exceptions as core
    import google.auth.exceptions as auth
    import google.resumable_media.common as media
    import pydantic
    from google.genai import errors as genai_errors

    found: list[type[BaseException]] = [
        genai_errors.APIError, core.GoogleAPIError, auth.GoogleAuthError,
        media.InvalidResponse, media.DataCorruption, pydantic.ValidationError,
    ]
    for name in ("httpx", "httpx2"):
        module = _optional(name)
        if module is not None:
            found.append(module.HTTPError)
    requests = _optional("requests")
    if requests is not None:
        found.append(requests.exceptions.RequestException)
    return tuple(found)


#: The exception roots :func:`translating` turns into anytune errors (loaded lazily).
SDK_ERRORS = _sdk_errors


@contextlib.contextmanager
def translating(secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """Run a block of SDK calls; re-raise SDK errors as anytune errors."""
    try:
        yield
    except AnytuneError:
        raise
    except _sdk_errors() as exc:
        raise map_error(exc, secrets=secrets) from None
