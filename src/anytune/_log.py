"""Logging with secret redaction. ``ANYTUNE_LOG=debug|info|warning`` turns output on.

The redaction filter is attached to the one handler anytune installs, so it rewrites every
record that handler writes, whatever logger emitted it: anytune's own, the vendor SDKs'
(which log request bodies at debug level, W&B keys included) and their HTTP libraries'.
It also sits on those loggers themselves, for handlers others attach to them.

A record is scrubbed of every secret anytune knows: values of secret-looking environment
variables, every value remembered with :func:`remember_secret` (the core remembers the
settings and per-job options a provider names in ``Provider.secret_names``: API keys,
W&B keys), and the shapes of credentials in headers, URLs and request bodies.

The core names no vendor: each provider class says which loggers its SDK uses
(``Provider.loggers``), its key shapes (``secret_patterns``) and the fields its SDK sends
credentials in (``secret_fields``). They are gathered from every provider class on the
first record or error to redact (which imports the registered providers' modules once;
never at ``import anytune``), and again whenever a new provider class appears.
"""

from __future__ import annotations

import logging
import os
import re
import threading

__all__ = ["RedactingFilter", "logger", "note_providers", "redact", "remember_secret", "setup_logging"]

logger = logging.getLogger("anytune")

_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL)", re.IGNORECASE)
#: Generic credential carriers; each provider adds its vendor's through the hooks
#: ``Provider.secret_fields`` (header and body field names) and ``secret_patterns`` (key shapes).
_HEADERS = ("authorization", "x-api-key", "api-key")
_FIELDS = ("wandb_api_key", "api_key", "access_token", "refresh_token", "client_secret")
#: key=... in URLs and query strings
_QUERY = re.compile(r"(?i)([?&](?:api_key|key|token|access_token)=)[^&\s'\"]+")
#: Secrets known to this process beyond the environment (see :func:`remember_secret`).
_remembered: set[str] = set()
_MIN_SECRET = 8  # shorter values would redact ordinary words


def _compile(
    headers: tuple[str, ...], fields: tuple[str, ...], shapes: tuple[str, ...]
) -> list[re.Pattern[str]]:
    names = "|".join(re.escape(n) for n in dict.fromkeys(headers))
    body = "|".join(re.escape(n) for n in dict.fromkeys(fields))
    return [
        # Authorization: Bearer xxx / api-key headers, in dict reprs and raw header lines
        re.compile(rf"(?i)((?:{names})['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+)?[^'\"\s,}}]+"),
        _QUERY,
        # secret fields of request bodies as SDKs log them (a dict repr or JSON), e.g.
        # "Request options: {... 'json_data': {'wandb_key': ...}}"
        re.compile(rf"""(?i)(['"](?:{body})['"]\s*:\s*['"])[^'"]+"""),
        *filter(None, (_shape(s) for s in dict.fromkeys(shapes))),
    ]


def _shape(pattern: str) -> re.Pattern[str] | None:
    # A provider's malformed pattern must not break every error and log record of the
    # process; the conformance suite is where such a bug is caught.
    try:
        return re.compile(pattern)
    except re.error:
        return None


class _Vendors:
    """What the providers say about their vendors' secrets and loggers, gathered from
    every provider class (``anytune._registry.provider_classes``) on first use, never
    at ``import anytune``, and again when a new provider class appears."""

    def __init__(self) -> None:
        self.classes: tuple[type, ...] | None = None
        self.patterns = _compile(_HEADERS, _FIELDS, ())
        self.loggers: tuple[str, ...] = ()
        self._local = threading.local()
        self._lock = threading.RLock()

    def current(self) -> _Vendors:
        if getattr(self._local, "busy", False):
            return self  # re-entered while provider modules load: what is known so far
        with self._lock:
            self._local.busy = True
            try:
                from anytune._registry import provider_classes

                classes = tuple(provider_classes())
            finally:
                self._local.busy = False
            if classes != self.classes:
                fields = tuple(f for c in classes for f in getattr(c, "secret_fields", ()))
                shapes = tuple(p for c in classes for p in getattr(c, "secret_patterns", ()))
                self.patterns = _compile(_HEADERS + fields, _FIELDS + fields, shapes)
                self.loggers = tuple(dict.fromkeys(n for c in classes for n in getattr(c, "loggers", ())))
                self.classes = classes
                _configure(self.loggers)
        return self


_vendors = _Vendors()


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
    for pat in _vendors.current().patterns:
        text = pat.sub(_masked, text)
    return text


def _masked(m: re.Match[str]) -> str:
    # Group 1 (a header name, a key prefix) says what was there; the rest goes.
    return ((m.group(1) or "") if m.re.groups else "") + "[REDACTED]"


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


#: The handler and level ``setup_logging`` chose; ``None`` until it runs.
_setup: tuple[logging.Handler, int] | None = None
_done: set[str] = set()


def setup_logging(level: str | None = None) -> None:
    """Send anytune's log (and the providers' SDK and HTTP loggers') to stderr at
    ``level`` or ``ANYTUNE_LOG``, redacted. Without either, the library stays silent
    (idempotent). Loggers of a provider class that appears later are set up then."""
    global _setup
    level = level or os.environ.get("ANYTUNE_LOG")
    if not level or _setup is not None:
        return
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _setup = (handler, numeric)
    _configure(("anytune",))
    _configure(_vendors.current().loggers)


def note_providers() -> None:
    """Set up the loggers of provider classes defined since :func:`setup_logging` ran
    (one a script or test defines itself); nothing while logging is off."""
    if _setup is not None:
        _vendors.current()


def _configure(names: tuple[str, ...]) -> None:
    if _setup is None:
        return
    handler, numeric = _setup
    for name in names:
        if name in _done:
            continue
        _done.add(name)
        log = logging.getLogger(name)
        log.addFilter(RedactingFilter())
        log.setLevel(numeric)
        if name == "anytune" or numeric <= logging.DEBUG:
            log.addHandler(handler)
            log.propagate = False
