"""The one place where every hyperparameter and job option is checked (issue 16).

The CLI and the Python API reach the same functions: ``Hyperparameters`` and ``LoRA``
check themselves on construction, and ``Job.create``, ``estimate`` and the CLI commands
pass their other numbers through :func:`check_options`. A bad value is an
:class:`InvalidOptionError` (a :class:`ConfigurationError`, CLI exit 2) naming the field,
the value and what is allowed; the public types' other fields are checked by pydantic,
whose errors become the same error in :func:`invalid_from_validation`. Zero is never a
silent "default": ``epochs=0`` is refused like ``epochs=-3``; ``None`` is the only way to
ask for the provider's default.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from anytune._errors import ConfigurationError

__all__ = [
    "InvalidOptionError",
    "check_field",
    "check_hyperparameters",
    "check_lora",
    "check_method",
    "check_options",
    "check_suffix",
    "invalid_from_validation",
]


class InvalidOptionError(ConfigurationError, ValueError):
    """A hyperparameter or option has a value that is not allowed.

    Also a ``ValueError``, so code written against the earlier plain ``ValueError`` keeps
    working. ``field``, ``value`` and ``allowed`` say what, which and what instead."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}={value!r} is not allowed: {allowed}")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "field": self.field, "value": repr(self.value),
                "allowed": self.allowed}


# --- the rules, by kind --------------------------------------------------------------
# Each rule: (kind, low, low_inclusive, high, high_inclusive, wording of what is allowed).
_INT_MIN1 = ("int", 1, True, None, False, "a whole number of at least 1")
_POS = ("num", 0.0, False, None, False, "a number above 0")
_NON_NEG = ("num", 0.0, True, None, False, "a number of 0 or more")
_FRACTION_OPEN = ("num", 0.0, False, 1.0, False, "a number strictly between 0 and 1")
_FRACTION_LOW = ("num", 0.0, True, 1.0, False, "a number from 0 up to (not including) 1")
_SEED = ("int", 0, True, 2**32 - 1, True, "a whole number from 0 to 4294967295")
_PORT = ("int", 0, True, 65535, True, "a whole number from 0 (any free port) to 65535")

#: Every checked field, by the name users type (Python keyword; the CLI option's words).
RULES: dict[str, tuple[Any, ...]] = {
    "epochs": _INT_MIN1,
    "batch_size": _INT_MIN1,
    "learning_rate": _POS,
    "learning_rate_multiplier": _POS,
    "beta": _POS,
    "warmup_ratio": _FRACTION_LOW,
    "lora.r": _INT_MIN1,
    "lora.alpha": _INT_MIN1,
    "lora.dropout": _FRACTION_LOW,
    # A budget of 0 is meaningful (only a free job, e.g. local, may start); below is not.
    "max_cost_usd": _NON_NEG,
    "validation_split": _FRACTION_OPEN,
    "seed": _SEED,
    "limit": _INT_MIN1,
    "timeout": _NON_NEG,
    "job_seconds": _POS,
    "port": _PORT,
}


def _kind_name(kind: str) -> str:
    return "a whole number" if kind == "int" else "a number"


def check_field(field: str, value: Any, *, optional: bool = True) -> Any:
    """Check one value against its rule and return it. ``None`` passes when ``optional``
    (it means "the default")."""
    kind, low, low_inc, high, high_inc, wording = RULES[field]
    default = " (or leave it unset for the provider's default)" if optional else ""
    if value is None:
        if optional:
            return None
        raise InvalidOptionError(field, value, wording)
    # bool is an int to Python, never to a user: epochs=True is a mistake.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidOptionError(
            field, value, f"{wording}{default}; got {type(value).__name__}, not {_kind_name(kind)}"
        )
    if kind == "int" and not isinstance(value, int):  # 3.0 epochs: refused, not rounded
        raise InvalidOptionError(field, value, f"{wording}{default}; got a float")
    if not math.isfinite(value):
        raise InvalidOptionError(field, value, f"{wording}{default}")
    too_low = low is not None and (value < low or (value == low and not low_inc))
    too_high = high is not None and (value > high or (value == high and not high_inc))
    if too_low or too_high:
        raise InvalidOptionError(field, value, f"{wording}{default}")
    return value


def check_lora(values: Mapping[str, Any]) -> None:
    """The checks of :class:`anytune.LoRA`, on the values given (run by its validator
    before pydantic's own type checks, so that ``r=True`` or ``r=3.0`` is refused, not
    coerced); a field not given keeps its valid default."""
    for name in ("r", "alpha", "dropout"):
        if name in values:
            check_field(f"lora.{name}", values[name], optional=False)
    if "target_modules" not in values:
        return
    tm = values["target_modules"]
    if isinstance(tm, str):
        if not tm.strip():
            raise InvalidOptionError("lora.target_modules", tm, '"all-linear" or module names')
    elif not (isinstance(tm, (tuple, list)) and tm and all(isinstance(m, str) and m for m in tm)):
        raise InvalidOptionError(
            "lora.target_modules", tm, '"all-linear", or a non-empty tuple of module names'
        )


def check_hyperparameters(values: Mapping[str, Any]) -> None:
    """The checks of :class:`anytune.Hyperparameters`, on the values given (run by its
    validator before pydantic's own type checks)."""
    for name in ("epochs", "batch_size", "learning_rate", "learning_rate_multiplier", "beta",
                 "warmup_ratio"):
        if name in values:
            check_field(name, values[name])
    from anytune._types import LoRA

    lora = values.get("lora")
    if lora is not None and not isinstance(lora, (LoRA, Mapping)):
        raise InvalidOptionError("lora", lora, "an anytune.LoRA(...), a dict of its fields, or None")


def invalid_from_validation(model: str, exc: Any) -> InvalidOptionError:
    """A pydantic ``ValidationError`` raised while building ``model`` as the one error
    type of bad values: the field (dotted path), the value, and what is allowed.

    A check of this module that failed inside pydantic (a ``LoRA`` nested in
    ``Hyperparameters``) comes back as it was raised."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidOptionError):
        return cause
    path = ".".join(str(part) for part in first["loc"])
    field = f"{model}.{path}" if path else model
    kind = first["type"]
    if kind == "extra_forbidden":
        from anytune import _types

        known = ", ".join(getattr(_types, model).model_fields) if hasattr(_types, model) else ""
        allowed = f"not a field of {model}" + (f" (its fields: {known})" if known else "")
    elif kind == "missing":
        allowed = f"a value: {model} requires it"
    else:
        allowed = first["msg"][:1].lower() + first["msg"][1:]
    more = len(errors) - 1
    if more:
        allowed += f" (and {more} more problem{'s' if more > 1 else ''})"
    value = None if kind == "missing" else first.get("input")
    return InvalidOptionError(field, value, allowed)


_SUFFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
METHODS = ("sft", "dpo")


def check_method(method: Any) -> None:
    """``method`` is one anytune knows (a provider may still lack it: ``require``)."""
    if method not in METHODS:
        raise InvalidOptionError("method", method, "'sft' or 'dpo'")


def check_suffix(suffix: Any) -> None:
    """Suffixes end up in model names and, for local jobs, in folder names: a "/" or
    ".." must never turn into a path outside the job's folder."""
    if suffix is not None and not (isinstance(suffix, str) and _SUFFIX.fullmatch(suffix)):
        raise InvalidOptionError(
            "suffix", suffix, "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )


def check_options(values: Mapping[str, Any]) -> None:
    """Check the job options that are not hyperparameters (``max_cost_usd``, ``seed``,
    ``validation_split``, ``epochs`` given on its own, ...); ``None`` means unset."""
    for name, value in values.items():
        check_field(name, value)
