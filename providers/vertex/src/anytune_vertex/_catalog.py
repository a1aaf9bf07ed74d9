"""Vertex AI's Gemini tuning catalog, read from ``models.json`` next to this module.

Numbers (prices, limits, adapter sizes, retirement dates) live in the data file with
their source, so a change on Google's side is a data edit. Nothing here touches the
network.
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from anytune.errors import UnsupportedError
from anytune.provider import ModelInfo

__all__ = [
    "adapter_sizes",
    "base_model",
    "catalog_data",
    "check_create",
    "default_epochs",
    "entry",
    "models",
    "retirement_note",
]


@functools.lru_cache(maxsize=1)
def catalog_data() -> dict[str, Any]:
    """The parsed ``models.json`` (cached: it never changes while running)."""
    data: dict[str, Any] = json.loads(Path(__file__).with_name("models.json").read_text("utf-8"))
    return data


def base_model(model: str) -> str:
    """``gemini-2.5-flash`` from ``publishers/google/models/gemini-2.5-flash`` or itself."""
    return model.rsplit("/", 1)[-1] if model.startswith("publishers/") else model


def entry(model: str) -> dict[str, Any] | None:
    """The data-file entry of ``model`` (publisher paths accepted), or ``None``."""
    name = base_model(model)
    return next((m for m in catalog_data()["models"] if m["model"] == name), None)


def models() -> list[ModelInfo]:
    """Every tunable model as :class:`ModelInfo` (Google publishes no list to refresh
    from: this table is the only source, each row with its page and date)."""
    data = catalog_data()
    out = []
    for m in data["models"]:
        notes = f"adapter sizes {', '.join(map(str, m['adapter_sizes']))}"
        if m.get("substitute"):
            notes += f"; successor {m['substitute']}"
        limit = m["max_tokens_per_example"]
        out.append(
            ModelInfo(
                provider="vertex",
                model=m["model"],
                methods=tuple(m["methods"]),
                max_tokens_per_example=limit,
                price_per_million_tokens=dict(m["price_per_million_tokens"]),
                price_source=data["price_source"],
                price_as_of=(m.get("price_as_of", data["price_as_of"])
                             if m["price_per_million_tokens"] else None),
                training_shutdown=m.get("retirement"),
                notes=notes,
                limits={method: {"max_tokens_per_example": limit} for method in m["methods"]},
                limits_source=m.get("source", data["limits_source"]),
                limits_as_of=m.get("as_of", data.get("as_of")),
                retirement_date=m.get("retirement"),
                retirement_note=f"Google's successor is {m['substitute']}" if m.get("substitute") else None,
                price_note=m.get("price_note"),
            )
        )
    return out


def adapter_sizes(model: str) -> tuple[int, ...] | None:
    """The adapter sizes Vertex accepts for ``model``; ``None`` for unknown models."""
    e = entry(model)
    return tuple(e["adapter_sizes"]) if e else None


def default_epochs(records: int) -> int:
    """Epochs assumed when none are given (see ``default_epochs`` in ``models.json``)."""
    for band in catalog_data()["default_epochs"]["bands"]:
        if band["max_records"] is None or records <= band["max_records"]:
            return int(band["epochs"])
    return 3  # unreachable with a band whose max_records is null


def _as_date(now: datetime) -> date:
    return (now.astimezone(timezone.utc) if now.tzinfo else now).date()


def retirement_note(model: str, now: datetime) -> str | None:
    """A warning when ``model``'s published retirement date has passed, else ``None``."""
    e = entry(model)
    if not e or not e.get("retirement"):
        return None
    if _as_date(now) < date.fromisoformat(e["retirement"]):
        return None
    successor = f"; consider {e['substitute']}" if e.get("substitute") else ""
    return (
        f"{e['model']} passed its published retirement date ({e['retirement']}); Vertex may "
        f"refuse the job{successor} "
        f"(source: {e.get('retirement_source') or catalog_data()['retirement_source']})"
    )


def check_create(model: str, method: str, *, now: datetime) -> None:
    """Raise :class:`UnsupportedError` (before any upload) when ``model`` lacks ``method``.

    A passed retirement date is the core's to refuse (``anytune.catalog.check_model``,
    with its ``allow_retired=True`` override)."""
    e = entry(model)
    if e is None:
        return  # tuned models and new releases: Vertex is the judge
    if method not in e["methods"]:
        raise UnsupportedError(
            "vertex", f"method={method!r} on {e['model']}", f"it supports {', '.join(e['methods'])}"
        )
