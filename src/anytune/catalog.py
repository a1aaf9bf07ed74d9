"""The model catalog: which models each provider tunes, with methods, per-method limits,
prices and retirement dates, each fact with its source and as-of date.

Two sources, merged by each provider's ``catalog()``:

* the **packaged snapshot**: ``models.json`` next to each provider's ``_catalog.py``, one
  row per model with the vendor page it was read from and the date it was read;
* the **refreshed list**: what the vendor's API says today, fetched by
  ``anytune models --refresh`` / :func:`refresh_catalog` through the provider's
  :meth:`~anytune.provider.Provider.fetch_catalog` hook and kept in the user cache
  (``ANYTUNE_CACHE_DIR``, else ``$ANYTUNE_HOME/cache``, else the platform's user cache
  folder) with the time it was fetched.

The catalog in use gets old: older than :data:`STALE_AFTER_DAYS`, past a model's
retirement date, or missing from the vendor's refreshed list, :func:`notices` says so
(``estimate``, ``validate`` and ``create`` show it once, with the command that refreshes).
A model past its retirement date is refused before any upload by :func:`check_model`
unless the caller passes ``allow_retired=True`` (CLI ``--allow-retired``).

Importing this module is cheap: no provider, SDK or network is touched until called.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anytune._errors import UnsupportedError

if TYPE_CHECKING:
    from anytune._types import ModelInfo
    from anytune.provider import Provider

__all__ = [
    "STALE_AFTER_DAYS",
    "ModelRetiredError",
    "Notice",
    "RefreshResult",
    "cache_dir",
    "cache_key",
    "can_refresh",
    "check_model",
    "closest",
    "find_notices",
    "is_retired",
    "notices",
    "read_cache",
    "refresh_catalog",
    "refresh_command",
    "row",
    "rows",
]

#: A catalog (refreshed list, else packaged snapshot) older than this many days is flagged.
STALE_AFTER_DAYS = 90
#: Bump when the cache document changes shape; older files are ignored, not misread.
CACHE_VERSION = 1


class ModelRetiredError(UnsupportedError):
    """The model is past the date its vendor stops accepting tuning jobs on it.

    Raised before anything is uploaded; ``allow_retired=True`` (CLI ``--allow-retired``)
    lets the request go to the vendor anyway (which then has the last word)."""

    def __init__(self, provider: str, model: str, retirement_date: str, detail: str = "") -> None:
        self.model = model
        self.retirement_date = retirement_date
        super().__init__(
            provider,
            f"tuning {model}",
            f"it passed its retirement date ({retirement_date}){detail}. Pass "
            "allow_retired=True (CLI: --allow-retired) to send the job anyway, or run "
            f"`anytune models --provider {provider}` for the models tunable today",
        )


def refresh_command(provider: str) -> str:
    """The command that refreshes ``provider``'s catalog."""
    return f"anytune models --refresh --provider {provider}"


def can_refresh(provider: str) -> bool:
    """Whether ``provider``'s vendor publishes a list to refresh from (its class overrides
    :meth:`~anytune.provider.Provider.fetch_catalog`)."""
    from anytune import _registry
    from anytune.provider import Provider

    return _registry.provider_class(provider).fetch_catalog is not Provider.fetch_catalog


def _update_hint(provider: Provider) -> str:
    from anytune.provider import Provider

    name = provider.name
    if type(provider).fetch_catalog is not Provider.fetch_catalog:
        return f"run `{refresh_command(name)}`"
    return (f"{name} publishes no list to refresh from: upgrade anytune-{name} for a newer table, "
            f"or check `anytune models --provider {name}` against the vendor's pages")


# --- the cache ---------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where refreshed catalogs are kept: ``ANYTUNE_CACHE_DIR``, else ``$ANYTUNE_HOME/cache``
    (everything anytune keeps moves with its home), else the user cache folder."""
    env = os.environ.get("ANYTUNE_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "catalog"
    home = os.environ.get("ANYTUNE_HOME")
    if home:
        return Path(home).expanduser() / "cache" / "catalog"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("anytune", appauthor=False)) / "catalog"


def _cache_path(provider: str) -> Path:
    return cache_dir() / f"{provider}.json"


def cache_key(provider: str) -> tuple[str, int, int] | None:
    """Identifies the current contents of ``provider``'s cache file (path, mtime, size), so
    that callers can reuse what they built from it; ``None`` when there is none."""
    path = _cache_path(provider)
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path), st.st_mtime_ns, st.st_size


_READ: dict[str, tuple[tuple[str, int, int], dict[str, Any] | None]] = {}


def read_cache(provider: str) -> dict[str, Any] | None:
    """The refreshed catalog of ``provider`` (``None`` when never refreshed, or when the
    file is unreadable or of another version: the packaged table is used then). Parsed
    once per version of the file; callers must not change the returned document."""
    key = cache_key(provider)
    if key is None:
        return None
    hit = _READ.get(provider)
    if hit is not None and hit[0] == key:
        return hit[1]
    doc = _parse(Path(key[0]))
    _READ[provider] = (key, doc)
    return doc


def _parse(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != CACHE_VERSION:
        return None
    if not isinstance(doc.get("models"), list):
        return None
    return doc


def _write_cache(provider: str, doc: dict[str, Any]) -> Path:
    path = _cache_path(provider)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True), "utf-8")
    os.replace(tmp, path)  # readers see the old file or the new one, never half of one
    return path


# --- refresh -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RefreshResult:
    """What one provider's refresh did."""

    provider: str
    #: ISO time of the fetch; ``None`` when the vendor publishes no list.
    refreshed_at: str | None
    #: How many tunable models the vendor listed (``None``: no list).
    models: int | None
    #: The cache file written (``None``: nothing written).
    path: str | None
    source: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``anytune models --refresh --json``)."""
        return dict(self.__dict__)


def refresh_catalog(
    provider: str | None = None, *, now: datetime | None = None, **settings: Any
) -> list[RefreshResult]:
    """Ask each provider's vendor (or only ``provider``'s) which models are tunable today and
    keep the answer in the user cache, with the time it was fetched.

    Reads credentials and uses the network (``settings`` go to the provider, e.g.
    ``api_key=`` or ``base_url=``; otherwise the vendor's own environment variables).
    A provider whose vendor publishes no list (Vertex) keeps its packaged table, and its
    result says so. With ``provider`` given, its errors are raised (``AuthenticationError``,
    ``MissingCredentialsError``...); refreshing them all, a provider that fails is reported
    in its result and the others are still refreshed."""
    from anytune import _registry
    from anytune._errors import AnytuneError

    names = [provider] if provider else _registry.available()
    fetched_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
    results = []
    for name in names:
        p = _registry.create_provider(name, **(settings if provider else {}))
        if not provider and not p.closed_catalog:
            results.append(RefreshResult(name, None, None, None, None,
                                         f"{name}: trains the models you have; nothing to refresh"))
            continue
        try:
            doc = p.fetch_catalog()
        except AnytuneError as exc:
            if provider:
                raise
            results.append(RefreshResult(name, None, None, None, None, f"{name}: not refreshed: {exc}"))
            continue
        finally:
            p.close()
        if doc is None:
            as_of = _packaged_as_of(p)
            results.append(RefreshResult(
                name, None, None, None, None,
                f"{name}: the vendor publishes no list of tunable models; the packaged table"
                + (f" (as of {as_of})" if as_of else "") + " is the source",
            ))
            continue
        stored = {**doc, "version": CACHE_VERSION, "provider": name, "refreshed_at": fetched_at}
        path = _write_cache(name, stored)
        n = len(stored["models"])
        results.append(RefreshResult(
            name, fetched_at, n, str(path), doc.get("source"),
            f"{name}: {n} models listed by {doc.get('source') or 'the vendor'}, fetched {fetched_at}",
        ))
    return results


def _packaged_as_of(p: Provider) -> str | None:
    dates = [m.limits_as_of for m in p.catalog() if m.limits_as_of]
    return min(dates) if dates else None


# --- reading -----------------------------------------------------------------------------------
def _today(now: datetime | None = None) -> date:
    now = now or datetime.now(timezone.utc)
    return (now.astimezone(timezone.utc) if now.tzinfo else now).date()


def is_retired(info: ModelInfo, now: datetime | None = None) -> bool:
    """Whether ``info``'s retirement date is today or past."""
    return bool(info.retirement_date) and _today(now) >= date.fromisoformat(str(info.retirement_date)[:10])


def row(info: ModelInfo, now: datetime | None = None) -> dict[str, Any]:
    """One model in the ``anytune models --json`` shape (docs/design.md §3), plus where its
    limits come from, whether the vendor's refreshed list has it, and notes."""
    return {
        "provider": info.provider,
        "model": info.model,
        "methods": list(info.methods),
        "limits": {m: dict(info.limits.get(m) or {"max_tokens_per_example": info.max_tokens_per_example})
                   for m in info.methods},
        "price_per_million_tokens": dict(info.price_per_million_tokens),
        "price_source": info.price_source,
        "price_as_of": info.price_as_of,
        "retirement_date": info.retirement_date,
        "retired": is_retired(info, now),
        "refreshed_at": info.refreshed_at,
        "limits_source": info.limits_source,
        "limits_as_of": info.limits_as_of,
        "listed_by_vendor": info.listed,
        "price_note": info.price_note,
        "notes": info.notes,
    }


def rows(provider: str | None = None, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every provider's catalog (or ``provider``'s) as ``anytune models --json`` rows."""
    from anytune import _registry

    names = [provider] if provider else _registry.available()
    return [row(m, now) for n in names for m in _registry.create_provider(n).catalog()]


def closest(model: str, names: list[str], n: int = 3) -> list[str]:
    """Up to ``n`` catalog names nearest ``model`` (case-insensitive), best first."""
    lowered = {name.lower(): name for name in names}
    hits = difflib.get_close_matches(model.lower(), list(lowered), n=n, cutoff=0.5)
    if not hits:  # "qwen3.5-9b" against "Qwen/Qwen3.5-9B": compare the last path part too
        tails = {name.rsplit("/", 1)[-1].lower(): name for name in names}
        hits = [tails[t] for t in difflib.get_close_matches(model.rsplit("/", 1)[-1].lower(), list(tails),
                                                             n=n, cutoff=0.5)]
        return hits
    return [lowered[h] for h in hits]


@dataclass(frozen=True)
class Notice:
    """One thing the catalog says about a model: ``code`` is one of ``unknown_model``,
    ``model_retired``, ``model_not_listed``, ``catalog_stale``."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def notices(provider: Provider, model: str, method: str = "sft", *, now: datetime | None = None) -> list[str]:
    """What a user should know about ``model``'s catalog entry before relying on it: a
    catalog older than :data:`STALE_AFTER_DAYS`, a passed retirement date, a model missing
    from the vendor's refreshed list, a model the catalog does not know. Each line names
    the command that refreshes or lists the catalog."""
    return [n.message for n in find_notices(provider, model, method, now=now)]


def find_notices(provider: Provider, model: str, method: str = "sft", *,
                 now: datetime | None = None) -> list[Notice]:
    """:func:`notices` with their codes."""
    return [Notice(code, msg) for code, msg in _notices(provider, model, now)]


def _notices(provider: Provider, model: str, now: datetime | None) -> list[tuple[str, str]]:
    if not getattr(provider, "closed_catalog", False):
        return []  # local models: any path or cached model is fine, there is no vendor list
    name = provider.name
    info = provider.model_info(model)
    refresh = refresh_command(name)
    out: list[tuple[str, str]] = []
    catalog = provider.catalog()
    if info is not None and info.listed is False and not any(m.model == info.model for m in catalog):
        info = None  # an entry the provider made up for pricing (e.g. by size band) is still unknown
    if info is None:
        near = closest(model, [m.model for m in catalog])
        hint = f"; closest: {', '.join(near)}" if near else ""
        out.append((
            "unknown_model",
            f"{model} is not in {name}'s catalog{hint}. See `anytune models --provider {name}` "
            f"(or `{refresh}` for the vendor's current list); a newer or tuned model is the "
            "vendor's to judge",
        ))
        as_of = max((m.refreshed_at or m.limits_as_of or "" for m in catalog), default="")
    else:
        as_of = info.refreshed_at or info.limits_as_of or ""
        if is_retired(info, now):
            out.append(("model_retired",
                        f"{model} passed its retirement date ({info.retirement_date}) on {name}; "
                        f"`anytune models --provider {name}` lists the models tunable today"))
        if info.listed is False:
            out.append(("model_not_listed",
                        f"{model} is not in {name}'s list of tunable models fetched at {info.refreshed_at}; "
                        f"the vendor may refuse it (`{refresh}` fetches the list again)"))
    if as_of:
        age = (_today(now) - date.fromisoformat(as_of[:10])).days
        if age > STALE_AFTER_DAYS:
            out.append(("catalog_stale",
                        f"{name}'s catalog is {age} days old (as of {as_of[:10]}); {_update_hint(provider)}"))
    return out


def check_model(
    provider: Provider, model: str, method: str, *, now: datetime | None = None, allow_retired: bool = False
) -> list[str]:
    """Refuse a retired model before anything is uploaded (unless ``allow_retired``), and
    return :func:`notices` for the caller to show once."""
    info = provider.model_info(model)
    if info is not None and is_retired(info, now) and not allow_retired:
        detail = f"; {info.retirement_note}" if info.retirement_note else ""
        raise ModelRetiredError(provider.name, model, str(info.retirement_date), detail)
    return notices(provider, model, method, now=now)
