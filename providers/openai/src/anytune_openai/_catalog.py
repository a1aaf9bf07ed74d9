"""OpenAI's model catalog, read from ``models.json`` next to this module.

Numbers live in the data file (with their source and date) so that a price or limit
change is a data edit, not a code change. Nothing here touches the network.
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from anytune.errors import UnsupportedError
from anytune.provider import ModelInfo

__all__ = ["TrainingUnavailableError", "catalog_data", "check_create", "default_epochs", "models"]

# The default-epochs rule of OpenAI's fine-tuning data-prep cookbook
# (examples/Chat_finetuning_data_prep.ipynb): aim at 3 epochs, but keep the number of
# trained examples between 100 and 25,000 by scaling epochs within [1, 25].
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


class TrainingUnavailableError(UnsupportedError):
    """OpenAI no longer trains this model (or any model, after the training shutdown).

    ``cutoff`` is the date from which jobs are refused; ``alternatives`` the providers
    that accept the same data."""

    def __init__(self, model: str, cutoff: str, reason: str, alternatives: list[str]) -> None:
        self.model = model
        self.cutoff = cutoff
        self.alternatives = list(alternatives)
        names = ", ".join(f'provider="{a}"' for a in alternatives)
        super().__init__(
            "openai",
            f"fine-tuning {model}",
            f"{reason} The same data can be trained elsewhere with {names} "
            f'(e.g. Job.create(provider="{alternatives[0]}", model=..., training_file=...)).'
            if alternatives
            else reason,
        )


@functools.lru_cache(maxsize=1)
def catalog_data() -> dict[str, Any]:
    """The parsed ``models.json`` (cached: it never changes while running)."""
    # A plain path, not importlib.resources: that import alone costs ~20 ms at startup.
    text = Path(__file__).with_name("models.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _entry(model: str) -> dict[str, Any] | None:
    return next((m for m in catalog_data()["models"] if m["model"] == model), None)


def models() -> list[ModelInfo]:
    """Every tunable model as :class:`ModelInfo`, retired ones included (with a note). After
    ``anytune models --refresh``, ``listed`` says whether OpenAI's ``GET /v1/models`` still
    shows the model to this account."""
    from anytune.catalog import read_cache

    data = catalog_data()
    cache = read_cache("openai")
    listed = {str(m.get("model")) for m in cache["models"]} if cache else None
    out = []
    for m in data["models"]:
        notes = None
        if m.get("retired"):
            elsewhere = ", ".join(f'provider="{a}"' for a in data["alternatives"])
            notes = (f"retired by OpenAI on {m['retired']}; use {m.get('substitute', 'a newer model')} "
                     f"(until {data['training_shutdown']}), or train the same data with {elsewhere}")
        limit = m["max_tokens_per_example"]
        out.append(
            ModelInfo(
                provider="openai",
                model=m["model"],
                methods=tuple(m["methods"]),
                max_tokens_per_example=limit,
                price_per_million_tokens=dict(m["price_per_million_tokens"]),
                price_source=data["price_source"],
                price_as_of=data["price_as_of"],
                training_shutdown=m.get("retired") or data["training_shutdown"],
                notes=notes,
                limits={method: {"max_tokens_per_example": limit} for method in m["methods"]},
                limits_source=m.get("source", data["limits_source"]),
                limits_as_of=m.get("as_of", data.get("as_of")),
                # The last day OpenAI trains this model: its own shutdown, else the platform's.
                retirement_date=m.get("retired") or data["training_shutdown"],
                retirement_note=notes,
                refreshed_at=cache["refreshed_at"] if cache else None,
                listed=None if listed is None else m["model"] in listed,
            )
        )
    return out


def tokenizer(model: str) -> str:
    """The tiktoken encoding of ``model``; fine-tuned ids (``ft:base:...``) use their base's."""
    base = model[3:].split(":", 1)[0] if model.startswith("ft:") else model
    entry = _entry(base)
    if entry is not None:
        return str(entry["tokenizer"])
    if base.startswith(("gpt-3.5", "gpt-4-", "davinci", "babbage")) or base == "gpt-4":
        return "tiktoken:cl100k_base"
    # gpt-4o, gpt-4.1 and later families all use o200k_base.
    return "tiktoken:o200k_base"


def default_epochs(records: int) -> int:
    """Epochs OpenAI picks for ``n_epochs="auto"`` (the cookbook's rule)."""
    n = max(records, 1)
    if n * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n)
    if n * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n)
    return TARGET_EPOCHS


def _as_date(now: datetime) -> date:
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc)
    return now.date()


def check_create(model: str, method: str, *, now: datetime) -> None:
    """Raise :class:`TrainingUnavailableError` (before any upload) when OpenAI's training
    shutdown has passed, and :class:`UnsupportedError` when the model lacks ``method``."""
    data = catalog_data()
    today = _as_date(now)
    alternatives = list(data["alternatives"])
    shutdown = data["training_shutdown"]
    if today >= date.fromisoformat(shutdown):
        raise TrainingUnavailableError(
            model,
            shutdown,
            f"OpenAI accepts no new fine-tuning jobs from {shutdown} (today is "
            f"{today.isoformat()}; source: {data['training_shutdown_source']}).",
            alternatives,
        )
    entry = _entry(model)
    if entry is None:
        return  # fine-tuned ids and new models: OpenAI itself is the judge
    # A retired model is refused by the core (anytune.catalog.check_model), where the
    # user's allow_retired=True override lives; only the method is checked here.
    if method not in entry["methods"]:
        raise UnsupportedError(
            "openai", f"method={method!r} on {model}", f"it supports {', '.join(entry['methods'])}"
        )
