"""anytune: fine-tune LLMs on any provider through one interface.

>>> from anytune import Job, estimate
>>> est = estimate("train.jsonl", provider="together", model="...")   # no network
>>> job = Job.create(provider="together", model="...", training_file="train.jsonl",
...                  max_cost_usd=20)
>>> job.wait().raise_for_status().result.model

Importing this package is cheap: providers (and their vendor SDKs, torch, ...), the
job machinery and the pydantic types are loaded only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
)

if TYPE_CHECKING:
    from anytune._preflight import convert, estimate, validate
    from anytune._types import (
        Actual,
        Checkpoint,
        Estimate,
        Hyperparameters,
        JobError,
        JobEvent,
        JobResult,
        JobStatus,
        LoRA,
        Metric,
        ModelInfo,
        Problem,
    )
    from anytune.catalog import refresh_catalog
    from anytune.job import AsyncFineTuneJob, FineTuneJob

    Job = FineTuneJob
    AsyncJob = AsyncFineTuneJob

__version__ = "0.1.0"

__all__ = [
    "Actual",
    "AnytuneError",
    "AsyncFineTuneJob",
    "AsyncJob",
    "AuthenticationError",
    "BudgetExceededError",
    "Checkpoint",
    "ConfigurationError",
    "ConflictError",
    "DatasetError",
    "Estimate",
    "FineTuneJob",
    "Hyperparameters",
    "InvalidRequestError",
    "Job",
    "JobError",
    "JobEvent",
    "JobFailedError",
    "JobResult",
    "JobStatus",
    "LoRA",
    "Metric",
    "MissingCredentialsError",
    "ModelInfo",
    "NotFoundError",
    "PermissionDeniedError",
    "Problem",
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
    "convert",
    "estimate",
    "refresh_catalog",
    "validate",
]

_PREFLIGHT = {"validate", "estimate", "convert"}
# The public types are pydantic models and the jobs use them: both load on first use,
# so that ``import anytune`` (a CLI's --help, an error class) stays free of pydantic.
_TYPES = {"Actual", "Checkpoint", "Estimate", "Hyperparameters", "JobError", "JobEvent",
          "JobResult", "JobStatus", "LoRA", "Metric", "ModelInfo", "Problem"}
_JOBS = {"Job": "FineTuneJob", "AsyncJob": "AsyncFineTuneJob", "FineTuneJob": "FineTuneJob",
         "AsyncFineTuneJob": "AsyncFineTuneJob"}


def __getattr__(name: str) -> Any:
    if name in _TYPES:
        from anytune import _types

        return getattr(_types, name)
    if name in _JOBS:
        from anytune import job

        return getattr(job, _JOBS[name])
    # Preflight pulls in readers and tokenizers: load it on first use, not on import.
    if name in _PREFLIGHT:
        from anytune import _preflight

        return getattr(_preflight, name)
    if name == "refresh_catalog":  # anytune.catalog is light, but keep the root import minimal
        from anytune.catalog import refresh_catalog

        return refresh_catalog
    raise AttributeError(f"module 'anytune' has no attribute {name!r}")
