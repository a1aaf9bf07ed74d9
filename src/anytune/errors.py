"""The public error hierarchy, and the helpers a provider uses to map its vendor's
failures onto it.

Users catch these classes (they are also exported from :mod:`anytune`). Provider
authors additionally use :func:`status_error_class` (HTTP status -> class),
:func:`retry_after_seconds` (a ``Retry-After`` header), :func:`malformed_answer` (the
guard that turns a vendor answer of an unexpected shape into a typed
:class:`ProviderError`) and :func:`redact` (a message with every known secret masked).
"""

from __future__ import annotations

from anytune._errors import (
    AnytuneError,
    AuthenticationError,
    BudgetExceededError,
    ConfigurationError,
    ConflictError,
    DatasetError,
    InvalidRequestError,
    JobFailedError,
    MissingCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeoutError,
    RateLimitError,
    ReusedJobWarning,
    ServerError,
    UnknownProviderError,
    UnsupportedError,
    WaitTimeoutError,
    malformed_answer,
    retry_after_seconds,
    status_error_class,
)
from anytune._log import redact

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
    "malformed_answer",
    "redact",
    "retry_after_seconds",
    "status_error_class",
]
