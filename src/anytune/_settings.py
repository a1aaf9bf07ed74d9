"""anytune's own settings on pydantic-settings: argument > ``ANYTUNE_*`` > profile > default.

Kept apart from :mod:`anytune._config` so that pydantic-settings is imported only when a
setting is first resolved (see there for the file format and the profile rules).
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from anytune._errors import ConfigurationError

if TYPE_CHECKING:
    from anytune._config import Profile

__all__ = ["Settings"]

# The profile a Settings instance is being built from (a settings source cannot take
# arguments: pydantic-settings builds the sources from the class).
_PROFILE: contextvars.ContextVar[Profile | None] = contextvars.ContextVar("anytune_profile", default=None)


class Settings(BaseSettings):
    """anytune's own settings, each from the first of: the explicit argument, the
    ``ANYTUNE_<NAME>`` environment variable (empty counts as unset), the chosen profile,
    the default. Build it with :meth:`resolve`."""

    model_config = SettingsConfigDict(env_prefix="ANYTUNE_", env_ignore_empty=True, extra="ignore",
                                      frozen=True)

    #: The provider when none is passed (``ANYTUNE_PROVIDER``, the profile's ``provider``).
    provider: str | None = None
    #: The profile of ``anytune.toml`` (``ANYTUNE_PROFILE``; else the file's ``default_profile``).
    profile: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # No .env file and no secrets folder: anytune reads what docs/design.md §4 names.
        profile = _PROFILE.get()
        if profile is None or not profile.values:
            return init_settings, env_settings
        # Only ``provider`` of a profile is one of anytune's own settings.
        own = {k: profile.values[k] for k in ("provider",) if k in profile.values}
        return init_settings, env_settings, InitSettingsSource(settings_cls, own)

    @classmethod
    def resolve(cls, source: Profile | None = None, **explicit: Any) -> Settings:
        """The settings with ``explicit`` values (``None`` or empty: not given) over the
        environment over the profile ``source``. A value of the wrong type is a
        ConfigurationError saying where it came from."""
        token = _PROFILE.set(source)
        try:
            return cls(**{k: v for k, v in explicit.items() if v not in (None, "")})
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            name = str(err["loc"][0]) if err["loc"] else "setting"
            where = f"{source.path}: profile {source.name!r}: " if source and source.path else ""
            raise ConfigurationError(
                f"{where}{name} must be a string, got {type(err['input']).__name__} "
                f"(from the argument, ANYTUNE_{name.upper()} or the profile)"
            ) from None
        finally:
            _PROFILE.reset(token)
