"""The one place where the ``openai`` SDK's exceptions become anytune errors.

Mapping is by exception type and HTTP status code, never by message text. Messages are
taken from OpenAI's error object but scrubbed of anything that looks like a key (OpenAI
echoes a masked key in 401 messages), and 401/403 get our own wording naming the
variable to check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from anytune.errors import AnytuneError, ProviderConnectionError, ProviderError, ProviderTimeoutError, redact
from anytune.provider import status_error, vendor_message

__all__ = ["map_error", "sdk_errors", "translating"]

PROVIDER = "openai"


def map_error(exc: BaseException, *, secrets: tuple[str, ...] = ()) -> AnytuneError:
    """The anytune error for an ``openai`` exception (any subclass of ``OpenAIError``,
    plus the few SDK errors that are not). Unknown exceptions become ``ProviderError``."""
    import openai

    request_id = getattr(exc, "request_id", None)
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: a subclass
        return ProviderTimeoutError("the request timed out", provider=PROVIDER)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderConnectionError("could not reach the API or the connection dropped", provider=PROVIDER)
    if isinstance(exc, openai.APIStatusError):
        return status_error(
            PROVIDER, exc.status_code, vendor_message(exc), headers=getattr(exc.response, "headers", None),
            request_id=request_id, code=getattr(exc, "code", None), secrets=secrets,
            refused="the API key was refused; check OPENAI_API_KEY or the api_key= argument",
            denied="the API key may not do this (project, organization or model access)",
        )
    if isinstance(exc, openai.APIResponseValidationError):
        return ProviderError(f"unexpected response from the API (HTTP {exc.status_code})", provider=PROVIDER)
    # OpenAIError and the few SDK errors outside that tree (e.g. webhook signatures).
    return ProviderError(redact(f"{type(exc).__name__}: {exc}", secrets), provider=PROVIDER)


def sdk_errors() -> tuple[type[BaseException], ...]:
    """The exception roots of the ``openai`` SDK (``InvalidWebhookSignatureError`` stands
    outside ``OpenAIError``)."""
    import openai

    return (openai.OpenAIError, openai.InvalidWebhookSignatureError)


@contextlib.contextmanager
def translating(secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """Run a block of SDK calls; re-raise SDK errors as anytune errors (for code outside
    the provider, e.g. the uploader; the provider uses ``SDKProvider.translating``)."""
    try:
        yield
    except sdk_errors() as exc:
        raise map_error(exc, secrets=secrets) from None
