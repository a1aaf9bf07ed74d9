"""Logging with secret redaction. ``ANYTUNE_LOG=debug|info|warning`` turns output on.

The redaction filter is attached to anytune's handler *and* to the loggers of the HTTP
libraries the vendor SDKs use, because those log request headers and URLs at debug level.
"""

from __future__ import annotations

import logging
import os
import re

__all__ = ["RedactingFilter", "logger", "redact", "setup_logging"]

logger = logging.getLogger("anytune")

_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL)", re.IGNORECASE)
_PATTERNS = [
    # Authorization: Bearer xxx / api-key headers, in dict reprs and raw header lines
    re.compile(r"(?i)((?:authorization|x-api-key|api-key|x-goog-api-key)['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+)?[^'\"\s,}]+"),
    # key=... in URLs and query strings
    re.compile(r"(?i)([?&](?:api_key|key|token|access_token)=)[^&\s'\"]+"),
    # vendor key shapes: OpenAI (sk-, sess-, masked as sk-abc***xyz), Together (tgp_v1_)
    re.compile(r"\b(sk-|sess-|tgp_v1_)[A-Za-z0-9_\-\*]{4,}"),
]
_HTTP_LOGGERS = ("httpx", "httpcore", "openai", "together", "google", "urllib3")


def _env_secrets() -> list[str]:
    return [
        v
        for k, v in os.environ.items()
        if _SECRET_ENV.search(k) and len(v) >= 8 and not k.startswith("ANYTUNE_LOG")
    ]


def redact(text: str, extra: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with credentials replaced by ``[REDACTED]``: values of secret-looking
    environment variables, ``extra`` values, auth headers, keys in URLs."""
    for secret in (*_env_secrets(), *extra):
        if secret and secret in text:
            text = text.replace(secret, "[REDACTED]")
    for pat in _PATTERNS:
        text = pat.sub(lambda m: m.group(1) + "[REDACTED]", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with :func:`redact` before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


_configured = False


def setup_logging(level: str | None = None) -> None:
    """Send anytune's log (and the HTTP libraries') to stderr at ``level`` or
    ``ANYTUNE_LOG``, redacted. Without either, the library stays silent (idempotent)."""
    global _configured
    level = level or os.environ.get("ANYTUNE_LOG")
    if not level or _configured:
        return
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("anytune", *_HTTP_LOGGERS):
        log = logging.getLogger(name)
        log.addFilter(RedactingFilter())
        log.setLevel(numeric)
        if name == "anytune" or numeric <= logging.DEBUG:
            log.addHandler(handler)
            log.propagate = False
    _configured = True
