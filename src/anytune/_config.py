"""Configuration (docs/design.md §4): explicit argument > environment > profile file > default.

``anytune.toml`` is looked for in the current folder, then in the user config dir. It
holds named profiles; ``ANYTUNE_PROFILE`` (or ``default_profile`` in the file) picks one::

    default_profile = "dev"

    [profiles.dev]
    provider = "local"
    model = "./models/tiny"
    epochs = 1                       # any Job.create keyword, incl. provider settings

    [profiles.prod]
    provider = "together"
    model = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
    max_cost_usd = 50

Secrets belong in the vendors' environment variables, not in this file.

anytune's own settings (:class:`anytune._settings.Settings`: the provider and the
profile) are read by pydantic-settings, imported on first use (the job store imports
this module): the explicit argument (init), then the ``ANYTUNE_*`` variables,
then the chosen profile's table, which the TOML source of pydantic-settings reads. The
rest of a profile (model, hyperparameters, provider options) goes to ``Job.create``, which
checks it against the provider (``_jobbase``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomllib

from anytune._errors import ConfigurationError

if TYPE_CHECKING:
    from anytune._settings import Settings

__all__ = ["Profile", "anytune_home", "config_paths", "load_profile", "resolve_provider"]

CONFIG_NAME = "anytune.toml"


@dataclass(frozen=True)
class Profile:
    """The chosen profile: its name, the file it came from, and its values."""

    name: str | None = None
    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A value of the profile, or ``default``."""
        return self.values.get(key, default)


def _settings() -> type[Settings]:
    from anytune._settings import Settings

    return Settings


def anytune_home() -> Path:
    """The folder holding the job store and local job folders (``ANYTUNE_HOME``, else the
    user data dir). Created on first use, readable only by the user."""
    # Read directly, not through Settings: ANYTUNE_HOME has no argument or profile level,
    # and the job store is opened by processes that never resolve a provider (the local
    # worker, `anytune list`'s store half), which should not import pydantic-settings.
    env = os.environ.get("ANYTUNE_HOME")
    if env:
        home = Path(env).expanduser()
    else:
        from platformdirs import user_data_dir

        home = Path(user_data_dir("anytune", appauthor=False))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkdir's mode is masked by umask and ignored for existing folders: enforce it.
    home.chmod(0o700)
    return home


def config_paths() -> list[Path]:
    """Where ``anytune.toml`` is looked for, in order of precedence."""
    from platformdirs import user_config_dir

    return [Path.cwd() / CONFIG_NAME, Path(user_config_dir("anytune", appauthor=False)) / CONFIG_NAME]


def _read(path: Path) -> dict[str, Any]:
    """The whole document, read by pydantic-settings' TOML source; every failure is a
    ConfigurationError naming the file."""
    from pydantic_settings import TomlConfigSettingsSource

    try:
        doc: dict[str, Any] = TomlConfigSettingsSource(_settings(), toml_file=path).toml_data
        return doc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{path}: not UTF-8 (byte {exc.start}): TOML files are UTF-8") from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror}") from None


def load_profile(name: str | None = None, *, paths: list[Path] | None = None) -> Profile:
    """Load profile ``name`` (else ``ANYTUNE_PROFILE``, else the file's ``default_profile``)
    from the first ``anytune.toml`` found. No file and no name asked for: an empty profile."""
    wanted = _settings().resolve(None, profile=name).profile
    for path in paths if paths is not None else config_paths():
        if not path.is_file():
            continue
        doc = _read(path)
        profiles = doc.get("profiles", {})
        if not isinstance(profiles, dict) or not all(isinstance(v, dict) for v in profiles.values()):
            raise ConfigurationError(f"{path}: [profiles] must be a table of tables")
        chosen = wanted or doc.get("default_profile")
        if chosen is None:
            return Profile(path=path)
        if not isinstance(chosen, str) or chosen not in profiles:
            raise ConfigurationError(
                f"{path}: no profile {chosen!r}; profiles: {', '.join(sorted(profiles)) or 'none'}"
            )
        return Profile(name=chosen, path=path, values=dict(profiles[chosen]))
    if wanted:
        raise ConfigurationError(
            f"profile {wanted!r} asked for, but no {CONFIG_NAME} found "
            f"(looked in: {', '.join(str(p) for p in (paths or config_paths()))})"
        )
    return Profile()


def resolve_provider(explicit: str | None, profile: Profile) -> str:
    """The provider name: argument > ``ANYTUNE_PROVIDER`` > profile; else a clear error."""
    name: str | None = _settings().resolve(profile, provider=explicit).provider
    if not name:
        raise ConfigurationError(
            "no provider chosen: pass provider=... (CLI: --provider), set ANYTUNE_PROVIDER, "
            f"or set provider in a profile of {CONFIG_NAME}"
        )
    return name.strip().lower()  # provider names are case-insensitive (see _registry)
