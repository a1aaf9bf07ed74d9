"""Credentials, project and clients of the Vertex provider, resolved lazily.

Nothing here runs at construction: preflight builds providers without credentials.

Credentials, first found wins:

1. the ``credentials`` setting: a ``google.auth.credentials.Credentials`` object, or the
   path of a service-account / ADC JSON file;
2. ``ANYTUNE_VERTEX_ACCESS_TOKEN``: a bare OAuth access token (e.g. from
   ``gcloud auth print-access-token``, or the emulator's fake token); it is never
   refreshed, so it suits short sessions and the sandbox;
3. Google Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``,
   ``gcloud auth application-default login``, the metadata server).
"""

from __future__ import annotations

import os
from typing import Any

from anytune.errors import ConfigurationError, MissingCredentialsError

__all__ = [
    "ACCESS_TOKEN_ENV",
    "BASE_URL_ENV",
    "BUCKET_ENV",
    "DEFAULT_LOCATION",
    "SCOPES",
    "Resolved",
    "resolve",
]

ACCESS_TOKEN_ENV = "ANYTUNE_VERTEX_ACCESS_TOKEN"
BUCKET_ENV = "ANYTUNE_VERTEX_GCS_BUCKET"
#: google-genai's own variable for a Vertex base URL (``google/genai/_base_url.py``).
BASE_URL_ENV = "GOOGLE_VERTEX_BASE_URL"
DEFAULT_LOCATION = "us-central1"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class Resolved:
    """What a client needs: credentials, project, location, base URL (or ``None``)."""

    def __init__(self, credentials: Any, project: str, location: str, base_url: str | None) -> None:
        self.credentials = credentials
        self.project = project
        self.location = location
        self.base_url = base_url

    def __repr__(self) -> str:  # never the credentials
        return f"<Resolved project={self.project!r} location={self.location!r}>"


def _credentials(config: dict[str, Any]) -> tuple[Any, str | None]:
    """(credentials, project the credentials name or ``None``)."""
    given = config.get("credentials")
    if given is not None:
        if isinstance(given, (str, os.PathLike)):
            import google.auth
            import google.auth.exceptions

            try:
                creds, project = google.auth.load_credentials_from_file(  # type: ignore[no-untyped-call]
                    os.fspath(given), scopes=SCOPES
                )
            except google.auth.exceptions.DefaultCredentialsError as exc:
                raise ConfigurationError(f"vertex: cannot read the credentials file: {exc}") from None
            return creds, project
        return given, None
    token = os.environ.get(ACCESS_TOKEN_ENV)
    if token:
        import google.oauth2.credentials

        return google.oauth2.credentials.Credentials(token=token), None  # type: ignore[no-untyped-call]
    import google.auth
    import google.auth.exceptions

    try:
        creds, project = google.auth.default(scopes=SCOPES)
    except google.auth.exceptions.DefaultCredentialsError:
        raise MissingCredentialsError(
            "vertex", env_var="GOOGLE_APPLICATION_CREDENTIALS", argument="credentials",
            hint=f"(or {ACCESS_TOKEN_ENV}, or `gcloud auth application-default login`)",
        ) from None
    return creds, project


def resolve(config: dict[str, Any]) -> Resolved:
    """Credentials and endpoint from settings, environment and ADC (in that order)."""
    project = config.get("project") or os.environ.get("GOOGLE_CLOUD_PROJECT")
    creds, creds_project = _credentials(config)
    project = project or creds_project
    if not project:
        raise MissingCredentialsError("vertex", env_var="GOOGLE_CLOUD_PROJECT", argument="project")
    location = config.get("location") or os.environ.get("GOOGLE_CLOUD_LOCATION") or DEFAULT_LOCATION
    base_url = config.get("base_url") or os.environ.get(BASE_URL_ENV) or None
    return Resolved(creds, str(project), str(location), base_url)


def secrets(config: dict[str, Any]) -> tuple[str, ...]:
    """Secret values known to the provider, to scrub from messages."""
    token = os.environ.get(ACCESS_TOKEN_ENV) or ""
    given = config.get("credentials")
    extra = getattr(given, "token", None) if given is not None and not isinstance(given, str) else None
    return tuple(s for s in (token, extra) if isinstance(s, str) and s)


def genai_client(r: Resolved, timeout: float | None) -> Any:
    """A ``google.genai.Client`` for Vertex. The SDK's own retries stay off (its default):
    the provider retries reads itself and never retries ``create``."""
    import httpx
    from google import genai
    from google.genai import types

    # Async on httpx whatever else is installed: with aiohttp present google-genai would
    # switch its async client to aiohttp, whose errors anytune-vertex does not map and
    # which re-sent a create after a dropped connection (test_vertex_async's fault tests
    # under aiohttp). An explicit transport is google-genai's documented way to keep httpx.
    options: dict[str, Any] = {"async_client_args": {"transport": httpx.AsyncHTTPTransport()}}
    if r.base_url:
        options["base_url"] = r.base_url
    if timeout is not None:
        options["timeout"] = max(1, int(timeout * 1000))  # milliseconds
    return genai.Client(
        vertexai=True, project=r.project, location=r.location, credentials=r.credentials,
        http_options=types.HttpOptions(**options),
    )


def storage_client(r: Resolved) -> Any:
    """A ``google.cloud.storage.Client`` (``STORAGE_EMULATOR_HOST`` moves its endpoint)."""
    from google.cloud import storage

    return storage.Client(project=r.project, credentials=r.credentials)


def bucket_name(config: dict[str, Any]) -> str:
    """The bucket uploads go to; a clear error when none is configured."""
    bucket = config.get("gcs_bucket") or os.environ.get(BUCKET_ENV)
    if not bucket:
        raise ConfigurationError(
            "vertex tunes from Cloud Storage: pass gcs_bucket=\"my-bucket\" (or set "
            f"{BUCKET_ENV}) so anytune can upload the training data, or give a gs:// URI as "
            "training_file"
        )
    bucket = str(bucket)
    return bucket[5:].split("/", 1)[0] if bucket.startswith("gs://") else bucket
