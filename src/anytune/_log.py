"""Logging with secret redaction. ``ANYTUNE_LOG=debug|info|warning`` turns output on.

The redaction filter is attached to the one handler anytune installs, so it rewrites every
record that handler writes, whatever logger emitted it: anytune's own, the vendor SDKs'
(which log request bodies at debug level, W&B keys included) and their HTTP libraries'.
It also sits on those loggers themselves, for handlers others attach to them.

A record is scrubbed of every secret anytune knows: values of secret-looking environment
variables, every value remembered with :func:`remember_secret` (the core remembers the
settings and per-job options a provider names in ``Provider.secret_names``: API keys,
W&B keys), and the shapes of credentials in headers, URLs and request bodies.
"""

from __future__ import annotations

import logging
import os
import re

__all__ = ["RedactingFilter", "logger", "redact", "remember_secret", "setup_logging"]

logger = logging.getLogger("anytune")

_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL)", re.IGNORECASE)
_PATTERNS = [
    # Authorization: Bearer xxx / api-key headers, in dict reprs and raw header lines
    re.compile(r"(?i)((?:authorization|x-api-key|api-key|x-goog-api-key)['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+)?[^'\"\s,}]+"),
    # key=... in URLs and query strings
    re.compile(r"(?i)([?&](?:api_key|key|token|access_token)=)[^&\s'\"]+"),
    # vendor key shapes: OpenAI (sk-, sess-, masked as sk-abc***xyz), Together (tgp_v1_)
    re.compile(r"\b(sk-|sess-|tgp_v1_)[A-Za-z0-9_\-\*]{4,}"),
    # secret fields of request bodies as SDKs log them (a dict repr or JSON): Together's
    # SDK sends the W&B key as "wandb_key" and logs "Request options: {... 'json_data': ...}"
    re.compile(
        r"""(?i)(['"](?:wandb_key|wandb_api_key|api_key|access_token|refresh_token|client_secret)"""
        r"""['"]\s*:\s*['"])[^'"]+"""
    ),
]
#: Secrets known to this process beyond the environment (see :func:`remember_secret`).
_remembered: set[str] = set()
_MIN_SECRET = 8  # shorter values would redact ordinary words
_HTTP_LOGGERS = ("httpx", "httpcore", "openai", "together", "google", "google_genai", "urllib3")


def _env_secrets() -> list[str]:
    return [
        v
        for k, v in os.environ.items()
        if _SECRET_ENV.search(k) and len(v) >= 8 and not k.startswith("ANYTUNE_LOG")
    ]


def remember_secret(*values: object) -> None:
    """Redact these values from every later log record, error message and redacted text
    of this process (values that are not strings, or shorter than 8 characters, are
    ignored)."""
    for value in values:
        if isinstance(value, str) and len(value) >= _MIN_SECRET:
            _remembered.add(value)


def redact(text: str, extra: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with credentials replaced by ``[REDACTED]``: values of secret-looking
    environment variables, remembered secrets, ``extra`` values, auth headers, keys in
    URLs, secret fields of request bodies."""
    # Longest first, so that a secret containing another is replaced whole.
    for secret in sorted({*_env_secrets(), *_remembered, *extra}, key=len, reverse=True):
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
