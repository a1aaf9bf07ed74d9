"""Provider discovery: the entry-point group ``anytune.providers``, loaded lazily.

Built-in providers are separate distributions that register in this group exactly as a
third party would; nothing here knows any provider by name. Entry points are listed
once per process (cheap metadata reads); a provider's module is imported only when that
provider is first used, so ``import anytune`` never imports a vendor SDK.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from anytune._errors import ConfigurationError, UnknownProviderError
from anytune.provider import Provider

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "GROUP", "available", "canonical", "create_provider", "installable", "provider_class",
    "provider_classes", "refresh",
]

GROUP = "anytune.providers"


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    # importlib.metadata costs ~30 ms to import: only pay it when a provider is needed.
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        # The first registration of a name wins, as importlib.metadata orders them.
        found.setdefault(canonical(ep.name), ep)
    return found


def canonical(name: str) -> str:
    """A provider name as the registry keys it: names are case-insensitive
    (``OpenAI`` is ``openai``) and surrounding blanks are ignored."""
    return name.strip().lower()


@functools.cache
def installable() -> tuple[str, ...]:
    """Provider names that have a published package, read from the core distribution's
    own extras (``anytune[together]`` requires ``anytune-together``), so that install
    advice is given only for a package that exists; nothing here lists them by hand."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        reqs = requires("anytune") or []
    except PackageNotFoundError:
        return ()
    names = set()
    for req in reqs:
        dist = req.split(";")[0].strip().split("[")[0]
        for sep in "<>=!~ ":
            dist = dist.split(sep)[0]
        if dist.lower().startswith("anytune-"):
            names.add(canonical(dist[len("anytune-"):]))
    return tuple(sorted(names))


def refresh() -> None:
    """Forget cached entry points and loaded classes (after installing a provider)."""
    _entry_points.cache_clear()
    _provider_class.cache_clear()
    _registered.cache_clear()
    installable.cache_clear()


def available() -> list[str]:
    """Names of the installed providers, sorted."""
    return sorted(_entry_points())


def provider_class(name: str) -> type[Provider]:
    """The provider class registered as ``name`` (any case); imports its module on first use."""
    if not isinstance(name, str):
        raise ConfigurationError(f"provider must be a string, got {type(name).__name__}")
    return _provider_class(canonical(name))


@functools.cache
def _provider_class(name: str) -> type[Provider]:
    ep = _entry_points().get(name)
    if ep is None:
        raise UnknownProviderError(name, available(), installable())
    cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ConfigurationError(
            f"entry point {name!r} in {GROUP!r} ({ep.value}) is not an anytune.provider.Provider"
        )
    if cls.name != name:
        raise ConfigurationError(
            f"entry point {name!r} loads {cls.__name__} whose name is {cls.name!r}; they must match"
        )
    return cls


@functools.cache
def _registered() -> tuple[type[Provider], ...]:
    found = []
    for name in available():
        try:
            found.append(_provider_class(name))
        except Exception:  # a broken plugin fails when it is used by name, not here
            continue
    return tuple(found)


def provider_classes() -> list[type[Provider]]:
    """Every provider class this process knows, for the hooks the core gathers from all
    of them (data formats, secret shapes, loggers): the registered ones in name order
    (their modules imported on the first call), then any other ``Provider`` subclass
    defined in this process (by a script or a test)."""
    found = list(_registered())
    seen = set(found)
    todo = list(Provider.__subclasses__())
    while todo:
        cls = todo.pop(0)
        todo.extend(cls.__subclasses__())
        if cls not in seen:
            seen.add(cls)
            found.append(cls)
    return found


def create_provider(name: str, **settings: Any) -> Provider:
    """An instance of provider ``name`` configured with ``settings`` (no network, no
    credentials read: see :mod:`anytune.provider`)."""
    return provider_class(name)(**settings)
