"""The Ray Jobs API client, and the one place where its failures become anytune errors.

``JobSubmissionClient`` turns every refused request into a bare ``RuntimeError`` whose
text embeds the status code. To map by status code rather than message text, the client
here overrides the SDK's single error hook (``_raise_error``, which receives the HTTP
response) to raise :class:`_HTTPStatus` with the code; connection failures come from
``requests`` and are mapped by exception type.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from anytune.errors import (
    AnytuneError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    status_error_class,
)

__all__ = ["PROVIDER", "connect", "translating"]

PROVIDER = "ray"
#: Variables with which Ray overrides the address passed to ``JobSubmissionClient``.
_ADDRESS_VARS = ("RAY_API_SERVER_ADDRESS", "RAY_ADDRESS")
_LOCK = threading.Lock()


class _HTTPStatus(Exception):
    """A refused Jobs API request, with its HTTP status code."""

    def __init__(self, status_code: int, text: str) -> None:
        self.status_code = status_code
        self.text = text
        super().__init__(f"HTTP {status_code}: {text}")


def map_error(exc: BaseException) -> AnytuneError:
    """The anytune error for a failure of the Jobs API client."""
    import requests

    if isinstance(exc, AnytuneError):
        return exc
    if isinstance(exc, _HTTPStatus):
        cls = status_error_class(exc.status_code)
        # The dashboard answers plain text such as "Job ... does not exist": short, no secrets.
        return cls(exc.text.strip()[:500] or "refused", provider=PROVIDER, status_code=exc.status_code)
    if isinstance(exc, requests.Timeout):
        return ProviderTimeoutError("the Ray dashboard did not answer in time", provider=PROVIDER)
    if isinstance(exc, requests.ConnectionError):
        from urllib3.exceptions import NewConnectionError

        # No connection (refused, connect timeout): the request never left; anything else
        # (a dropped answer) may have arrived.
        inner = exc.args[0] if exc.args else None
        never = isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(
            getattr(inner, "reason", None), NewConnectionError
        )
        sent = False if never else None
        return ProviderConnectionError(
            "could not reach the Ray dashboard or the connection dropped "
            "(is RAY_ADDRESS, or the address setting, the dashboard's http://HOST:8265?)",
            provider=PROVIDER,
            request_sent=sent,
        )
    return ProviderError(f"{type(exc).__name__}: {exc}", provider=PROVIDER)


@contextlib.contextmanager
def translating() -> Iterator[None]:
    """Re-raise any client failure inside the block as an anytune error."""
    try:
        yield
    except AnytuneError:
        raise
    except Exception as exc:
        raise map_error(exc) from None


def connect(address: str | None, *, timeout: float = 30.0) -> Any:
    """A ``JobSubmissionClient`` for ``address`` (``RAY_ADDRESS`` when ``None``)."""
    from ray.job_submission import JobSubmissionClient

    class _Client(JobSubmissionClient):
        def _raise_error(self, r: Any) -> None:  # the SDK's one hook for refused requests
            raise _HTTPStatus(int(r.status_code), str(r.text))

        def _do_request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout)
            return super()._do_request(*args, **kwargs)

    with translating(), _LOCK:
        # Ray lets RAY_ADDRESS override an explicit address; anytune's rule is the other
        # way round (argument > environment), so hide the variables while it resolves.
        hidden = {k: os.environ.pop(k) for k in _ADDRESS_VARS if address and k in os.environ}
        try:
            return _Client(address)
        except ConnectionError as exc:  # the client's own check of the dashboard's version
            raise ProviderConnectionError(
                f"could not reach the Ray dashboard ({exc}); is RAY_ADDRESS, or the address "
                "setting, the dashboard's http://HOST:8265?",
                provider=PROVIDER,
                request_sent=False,
            ) from None
        finally:
            os.environ.update(hidden)
