"""The one place where the ``together`` SDK's exceptions become anytune errors.

Mapping is by exception type and HTTP status code, never by message text. 401/403 get
our own wording naming the variable to check (the vendor's message may echo part of the
key); other messages are taken from Together's error object and scrubbed of secrets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from anytune.errors import (
    AnytuneError,
    DatasetError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    redact,
)
from anytune.provider import Problem, status_error, vendor_message

__all__ = ["map_error", "sdk_errors", "translating"]

PROVIDER = "together"


def _code(exc: Any) -> str | None:
    body = getattr(exc, "body", None)
    inner = body.get("error") if isinstance(body, dict) else None
    code = inner.get("code") if isinstance(inner, dict) else None
    return str(code) if code else None


def map_error(exc: BaseException, *, secrets: tuple[str, ...] = ()) -> AnytuneError:
    """The anytune error for a ``together`` exception (any ``TogetherError``).
    Unknown exceptions become ``ProviderError``."""
    import together

    if isinstance(exc, together.APITimeoutError):  # before APIConnectionError: a subclass
        return ProviderTimeoutError("the request timed out", provider=PROVIDER)
    if isinstance(exc, together.APIConnectionError):
        return ProviderConnectionError("could not reach the API or the connection dropped", provider=PROVIDER)
    if isinstance(exc, together.APIStatusError):
        return status_error(
            PROVIDER, exc.status_code, vendor_message(exc), headers=getattr(exc.response, "headers", None),
            code=_code(exc), secrets=secrets,
            refused="the API key was refused; check TOGETHER_API_KEY or the api_key= argument",
            denied="the API key may not do this (model access or account)",
        )
    if isinstance(exc, together.APIResponseValidationError):
        return ProviderError(f"unexpected response from the API (HTTP {exc.status_code})", provider=PROVIDER)
    if isinstance(exc, together.FileTypeError):
        # The SDK's local file check (check_file) refused the upload: a data problem.
        return DatasetError(
            "Together's file check refused the upload",
            [Problem(code="together_file_check", message=redact(str(exc), secrets)[:2000])],
        )
    if isinstance(exc, together.DownloadError):
        return ProviderError(redact(f"download failed: {exc}", secrets), provider=PROVIDER)
    return ProviderError(redact(f"{type(exc).__name__}: {exc}", secrets), provider=PROVIDER)


def sdk_errors() -> tuple[type[BaseException], ...]:
    """The exception root of the ``together`` SDK."""
    import together

    return (together.TogetherError,)


@contextlib.contextmanager
def translating(secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """Run a block of SDK calls; re-raise SDK errors as anytune errors (for code outside
    the provider's methods, e.g. ``creating``; those use ``SDKProvider.translating``)."""
    try:
        yield
    except sdk_errors() as exc:
        raise map_error(exc, secrets=secrets) from None
