"""The argument resolver: what a job call's arguments, the environment and the profile
(``anytune.toml``) mean together, before any job exists.

* :func:`resolve_create` applies the configuration precedence (argument > environment >
  profile > default) to ``Job.create``'s keywords and splits them between the provider's
  settings, its per-job options and the :class:`CreateSpec`; unknown keywords fail here;
* :func:`split_id` reads a job id (``"together:ft-1"``; a bare id uses the configured
  provider);
* :func:`open_provider` makes the provider with its settings.

It reads the profile file and may load a provider's package (an entry point): the flows
run it as a blocking action. The job state is :mod:`anytune._jobbase`.
"""

from __future__ import annotations

import re
from typing import Any

from anytune import _registry
from anytune import tracking as _tracking
from anytune._checks import InvalidOptionError, check_method, check_options, check_suffix
from anytune._config import Profile, load_profile, resolve_provider
from anytune._create import CreateSpec
from anytune._errors import ConfigurationError
from anytune._log import remember_secret, setup_logging
from anytune._types import Hyperparameters
from anytune.provider import Provider

__all__ = ["open_provider", "resolve_create", "split_id"]

_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]*", re.IGNORECASE)
_HP_KEYS = {"epochs", "learning_rate", "batch_size", "learning_rate_multiplier", "beta", "warmup_ratio"}
_SPEC_KEYS = {"model", "method", "suffix", "seed", "max_cost_usd", "validation_split", "tracking",
              "holdout"}


def split_id(job_id: str, profile: Profile | None = None) -> tuple[str, str]:
    """``"together:ft-1"`` -> ``("together", "ft-1")``. A bare id uses the configured
    provider; without one, the error names the qualified id the user likely meant."""
    if not isinstance(job_id, str) or not job_id.strip():
        raise ConfigurationError(f"a job id is a non-empty string like 'openai:ftjob-...', got {job_id!r}")
    name, sep, native = job_id.partition(":")
    if sep and _PROVIDER_NAME.fullmatch(name):
        return _registry.canonical(name), native  # an unknown name: UnknownProviderError later
    try:
        return resolve_provider(None, profile or load_profile()), job_id
    except ConfigurationError:
        raise ConfigurationError(_bare_id_message(job_id)) from None


def _bare_id_message(job_id: str) -> str:
    # Commands that take a job id have no --provider: the id itself must say it.
    guesses = []
    for name in _registry.available():
        try:
            pattern = _registry.provider_class(name).job_id_pattern
        except ConfigurationError:
            continue
        if pattern and re.fullmatch(pattern, job_id):
            guesses.append(f"'{name}:{job_id}'")
    hint = f" Did you mean {' or '.join(guesses)}?" if guesses else ""
    return (
        f"job id {job_id!r} does not say which provider it belongs to: job ids are "
        f"PROVIDER:ID (as create and list print them).{hint} A bare id needs a default "
        "provider: set ANYTUNE_PROVIDER or provider in a profile of anytune.toml"
    )


def open_provider(name: str, settings: dict[str, Any], profile: Profile) -> Provider:
    """Provider ``name`` with settings: arguments first, then the profile's (only when the
    profile is for this provider). Reads no credentials."""
    cls = _registry.provider_class(name)
    merged = {}
    if _registry.canonical(str(profile.get("provider") or "")) == cls.name:
        merged.update({k: v for k, v in profile.values.items() if k in cls.settings})
    merged.update({k: v for k, v in settings.items() if v is not None})
    return cls(**merged)


def resolve_create(
    provider: str | None, model: str | None, kwargs: dict[str, Any]
) -> tuple[Provider, CreateSpec]:
    """Apply configuration precedence and split keyword arguments between the provider's
    settings and its per-job options; unknown keywords fail here, before any work."""
    setup_logging()
    profile = load_profile(kwargs.pop("profile", None))
    name = resolve_provider(provider, profile)
    cls = _registry.provider_class(name)
    named = profile.get("provider")
    values = profile.values if named is None or _registry.canonical(str(named)) == name else {}
    extra = {k: v for k, v in values.items() if k not in _HP_KEYS | _SPEC_KEYS | {"provider"}}
    unknown = set(extra) - cls.settings - cls.create_options
    if unknown:
        raise ConfigurationError(
            f"{profile.path}: profile {profile.name!r} has key(s) {sorted(unknown)} that "
            f"provider {name!r} does not take"
        )
    merged = {**extra, **{k: v for k, v in kwargs.items() if v is not None}}
    remember_secret(*(v for k, v in merged.items() if k in cls.secret_names))
    settings = {k: v for k, v in merged.items() if k in cls.settings}
    options = {k: v for k, v in merged.items() if k in cls.create_options}
    bad = set(kwargs) - set(settings) - set(options) - _SPEC_KEYS - {
        "training_file", "validation_file", "hyperparameters", "idempotency_key", "progress",
        "allow_retired"}
    if bad:
        raise ConfigurationError(
            f"Job.create got unknown option(s) {sorted(bad)} for provider {name!r}; "
            f"it accepts {sorted(cls.settings | cls.create_options)}"
        )
    hp = kwargs.get("hyperparameters")
    if hp is not None and not isinstance(hp, Hyperparameters):
        raise InvalidOptionError("hyperparameters", hp, "an anytune.Hyperparameters(...) or None")
    if hp is None:
        hp_values = {k: values[k] for k in _HP_KEYS if k in values}
        try:
            hp = Hyperparameters(**hp_values) if hp_values else Hyperparameters()
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"{profile.path}: profile {profile.name!r}: {exc}") from None
    def pick(key: str) -> Any:  # an argument given as None falls back to the profile
        value = kwargs.get(key)
        return values.get(key) if value is None else value

    model = model or values.get("model")
    if not model:
        raise ConfigurationError("no model given: pass model=... (CLI: --model) or set it in a profile")
    max_cost = pick("max_cost_usd")
    check_options({"max_cost_usd": max_cost, "seed": pick("seed"),
                   "validation_split": pick("validation_split")})
    spec = CreateSpec(
        model=model,
        training_file=kwargs["training_file"],
        method=pick("method") or "sft",
        validation_file=kwargs.get("validation_file"),
        validation_split=pick("validation_split"),
        hyperparameters=hp,
        suffix=pick("suffix"),
        seed=pick("seed"),
        max_cost_usd=max_cost,
        idempotency_key=kwargs.get("idempotency_key"),
        options=options,
        holdout=pick("holdout"),
        progress=bool(kwargs.get("progress")),
        allow_retired=bool(kwargs.get("allow_retired")),
        tracking=_tracking.resolve_trackers(kwargs.get("tracking"), values.get("tracking")),
    )
    check_suffix(spec.suffix)
    check_method(spec.method)
    return open_provider(name, settings, profile), spec
