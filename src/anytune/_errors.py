"""The error hierarchy of anytune (docs/design.md §5).

Every error a user can see is an :class:`AnytuneError`. Providers map their vendor's
exceptions to these classes in one place each (by status code and exception type, never
by message text); the core never raises a vendor exception.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from anytune._types import Problem
    from anytune.job import FineTuneJob

__all__ = [
    "AnytuneError",
    "AuthenticationError",
    "BudgetExceededError",
    "ConfigurationError",
    "ConflictError",
    "DatasetError",
    "InvalidRequestError",
    "JobFailedError",
    "MissingCredentialsError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderStatusError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ReusedJobWarning",
    "ServerError",
    "UnknownProviderError",
    "UnsupportedError",
    "WaitTimeoutError",
    "status_error_class",
]


class AnytuneError(Exception):
    """Base class of every error anytune raises."""

    #: CLI exit code for this error (docs/design.md §3).
    exit_code: int = 3

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, used by the CLI's ``--json`` output."""
        return {"type": type(self).__name__, "message": str(self)}


class ConfigurationError(AnytuneError):
    """Settings are missing or contradictory (exit code 2)."""

    exit_code = 2


class MissingCredentialsError(ConfigurationError):
    """A provider's credential is absent. The message names the variable and the argument."""

    def __init__(self, provider: str, *, env_var: str, argument: str, hint: str = "") -> None:
        self.provider = provider
        self.env_var = env_var
        self.argument = argument
        msg = (
            f"{provider}: no credential found. Set the environment variable {env_var} "
            f"or pass {argument}=... ."
        )
        super().__init__(f"{msg} {hint}".strip())


class UnknownProviderError(ConfigurationError):
    """No installed provider has this name."""

    def __init__(self, name: str, installed: Sequence[str], installable: Sequence[str] = ()) -> None:
        import difflib

        self.name = name
        self.installed = list(installed)
        #: Names with a published package (``anytune-<name>``), installed or not.
        self.installable = list(installable)
        #: Close names ("did you mean ...?") when ``name`` looks like a typo.
        self.suggestions: list[str] = []
        shown = ", ".join(self.installed) or "none"
        msg = f"unknown provider {name!r}; installed providers: {shown}."
        if name in self.installable:  # a real package that is simply not installed
            msg += f" Install it with: pip install anytune-{name}"
        else:  # a typo: no advice to install a package that does not exist
            known = sorted(set(self.installed) | set(self.installable))
            close = difflib.get_close_matches(name, known, n=2, cutoff=0.6)
            self.suggestions = close
            if close:
                msg += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
        super().__init__(msg)


class DatasetError(AnytuneError):
    """The data failed validation; ``problems`` lists each one with file, line and field."""

    exit_code = 1

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems = list(problems)
        if self.problems:
            first = self.problems[0]
            message = f"{message}: {first}" + (
                f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            )
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "errors": [p.to_dict() for p in self.problems]}


class BudgetExceededError(AnytuneError):
    """The estimate is above ``max_cost_usd``; nothing was uploaded or billed."""

    exit_code = 1

    def __init__(
        self, cost_usd: float, max_cost_usd: float, estimate: Any = None, *, detail: str = ""
    ) -> None:
        self.cost_usd = cost_usd
        self.max_cost_usd = max_cost_usd
        self.estimate = estimate
        #: Why the check used another figure than ``cost_usd`` (an approximate count).
        self.detail = detail
        verb = "may exceed" if detail and cost_usd <= max_cost_usd else "exceeds"
        super().__init__(
            f"estimated cost ${cost_usd:.2f} {verb} max_cost_usd=${max_cost_usd:.2f}"
            + (f": {detail}" if detail else "")
            + "; nothing was uploaded or billed"
        )


class UnsupportedError(AnytuneError):
    """A provider cannot do this method, model or option."""

    exit_code = 2

    def __init__(self, provider: str, operation: str, reason: str = "") -> None:
        self.provider = provider
        self.operation = operation
        super().__init__(
            f"provider {provider!r} does not support {operation}" + (f": {reason}" if reason else "")
        )


class ProviderError(AnytuneError):
    """The provider's service failed or refused a request. ``operation`` names the
    provider call (``create``, ``get``, ...); the core fills it in where a provider did not."""

    exit_code = 3
    operation: str | None = None

    def __init__(
        self, message: str, *, provider: str, request_id: str | None = None,
        operation: str | None = None,
    ) -> None:
        from anytune._log import redact

        self.provider = provider
        self.request_id = request_id
        if operation is not None:
            self.operation = operation
        # Vendors echo parts of a refused key back ("Incorrect API key provided: sk-ab***"):
        # the one place every provider message passes through strips credentials.
        super().__init__(redact(f"{provider}: {message}"))

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "provider": self.provider, "operation": self.operation,
                "request_id": self.request_id}


class ProviderConnectionError(ProviderError):
    """The provider could not be reached, or the connection dropped.

    ``request_sent`` is ``False`` when the request certainly never reached the provider
    (the connection could not be opened), ``True``/``None`` when it may have: a ``create``
    is then recovered by its idempotency key rather than sent again blindly."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        request_id: str | None = None,
        request_sent: bool | None = None,
    ) -> None:
        self.request_sent = request_sent
        super().__init__(message, provider=provider, request_id=request_id)


class ProviderTimeoutError(ProviderError):
    """The provider did not answer in time."""


class ProviderStatusError(ProviderError):
    """The provider answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.retry_after = retry_after
        super().__init__(f"HTTP {status_code}: {message}", provider=provider, request_id=request_id)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "status_code": self.status_code}


class AuthenticationError(ProviderStatusError):
    """401: the credential was refused."""


class PermissionDeniedError(ProviderStatusError):
    """403: the credential may not do this."""


class InvalidRequestError(ProviderStatusError):
    """400/422: the provider rejected the request."""


class NotFoundError(ProviderStatusError):
    """404: no such job, file or model."""


class ConflictError(ProviderStatusError):
    """409: the request conflicts with the resource's state."""


class RateLimitError(ProviderStatusError):
    """429: too many requests; ``retry_after`` holds the suggested wait when given."""


class ServerError(ProviderStatusError):
    """5xx: the provider failed."""


_BY_STATUS: dict[int, type[ProviderStatusError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: RateLimitError,
}


_F = TypeVar("_F", bound=Callable[..., Any])


def malformed_answer(provider: str, what: str) -> Callable[[_F], _F]:
    """Decorate a provider's response mapper: a malformed answer (a missing id, a
    timestamp that is not a number) becomes a typed :class:`ProviderError` naming the
    provider and ``what`` was being read, not a bare ``KeyError`` from deep inside."""

    def decorate(fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
                # The vendor SDKs keep the answer's request id on the object (``_request_id``).
                request_id = getattr(args[0], "_request_id", None) if args else None
                raise ProviderError(
                    f"unexpected {what} in the answer ({type(exc).__name__}: {exc})", provider=provider,
                    request_id=request_id if isinstance(request_id, str) else None,
                ) from None

        return wrapper  # type: ignore[return-value]

    return decorate


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds a provider asks to wait, from ``retry-after-ms`` or a numeric
    ``retry-after`` header (any mapping with ``.get``), else ``None``. Providers pass it
    to :class:`RateLimitError` so that every wait honours the vendor's word."""
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except (TypeError, ValueError):
            continue
        if seconds >= 0:
            return seconds
    return None


def status_error_class(status_code: int) -> type[ProviderStatusError]:
    """The error class for an HTTP status code; providers use it to map in one place."""
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    if status_code >= 500:
        return ServerError
    if 400 <= status_code < 500:
        return InvalidRequestError
    return ProviderStatusError


class JobFailedError(AnytuneError):
    """The job ended failed or cancelled; ``job`` is its last snapshot."""

    exit_code = 1

    def __init__(self, job: FineTuneJob) -> None:
        self.job = job
        err = job.error
        detail = f": {err.message}" if err is not None and err.message else ""
        super().__init__(f"job {job.id} ended {job.status.value}{detail}")


class WaitTimeoutError(AnytuneError):
    """``wait`` ran past its timeout; the job keeps running. ``job`` is the last snapshot."""

    exit_code = 3

    def __init__(self, job: FineTuneJob, timeout: float) -> None:
        self.job = job
        self.timeout = timeout
        super().__init__(
            f"job {job.id} still {job.status.value} after {timeout:g}s; "
            f"it keeps running. Resume with: anytune wait {job.id}"
        )


class ReusedJobWarning(UserWarning):
    """``create`` returned a job made earlier (the same idempotency key, or the same spec
    within 10 minutes, on the same endpoint) instead of a new one; ``job.reused`` is True."""
