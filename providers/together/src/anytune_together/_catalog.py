"""Together's model catalog and price table, read from ``models.json`` next to this module.

Numbers live in the data file (each with its source and date) so that a price or limit
change is a data edit, not a code change. Nothing here touches the network.

Pricing rule (Together's "Fine-tuning pricing" page): tokens processed x the rate of the
model's size band for the training type (LoRA or full) and method (SFT or DPO). There is
no minimum charge (Together's FAQ; ``minimum_charge_conflict`` in the data file records a
secondary table that says otherwise).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from anytune._errors import UnsupportedError
from anytune._types import ModelInfo

__all__ = [
    "band_for",
    "catalog_data",
    "check_create",
    "entry",
    "hf_cache_has",
    "models",
    "price_per_million",
    "tokenizer",
]

PROVIDER = "together"


@functools.lru_cache(maxsize=1)
def catalog_data() -> dict[str, Any]:
    """The parsed ``models.json`` (cached: it never changes while running)."""
    # A plain path, not importlib.resources: that import alone costs ~20 ms at startup.
    data: dict[str, Any] = json.loads(Path(__file__).with_name("models.json").read_text("utf-8"))
    return data


def entry(model: str) -> dict[str, Any] | None:
    """The data-file entry of ``model`` (``None`` when it is not listed)."""
    return next((m for m in catalog_data()["models"] if m["model"] == model), None)


def band_for(params_b: float) -> dict[str, Any] | None:
    """The price band a model of ``params_b`` billion parameters falls in."""
    for band in catalog_data()["price_bands"]:
        if params_b <= band["max_params_b"]:
            return dict(band)
    return None


def price_per_million(model: str, method: str, training_type: str) -> float | None:
    """USD per 1M tokens for ``model`` trained with ``method`` (sft/dpo) and
    ``training_type`` (lora/full); ``None`` when the table has no such price."""
    m = entry(model)
    if m is None or training_type not in m["training_types"] or method not in m["methods"]:
        return None
    band = band_for(float(m["params_b"]))
    if band is None:
        return None
    value = band["price_per_million_tokens"].get(training_type, {}).get(method)
    return None if value is None else float(value)


def models() -> list[ModelInfo]:
    """Every tunable model as :class:`ModelInfo`. ``price_per_million_tokens`` holds the
    LoRA prices under the method name (LoRA is Together's default) and the full-training
    prices under ``<method>-full``."""
    data = catalog_data()
    out = []
    for m in data["models"]:
        prices: dict[str, float] = {}
        for method in m["methods"]:
            for kind in m["training_types"]:
                price = price_per_million(m["model"], method, kind)
                if price is not None:
                    prices[method if kind == "lora" else f"{method}-full"] = price
        band = band_for(float(m["params_b"]))
        kinds = " and ".join("LoRA" if k == "lora" else "full" for k in m["training_types"])
        out.append(
            ModelInfo(
                provider=PROVIDER,
                model=m["model"],
                methods=tuple(m["methods"]),
                max_tokens_per_example=int(m["context_length"]),
                price_per_million_tokens=prices,
                price_source=data["price_source"],
                price_as_of=data["price_as_of"],
                notes=f"{kinds}; size band {band['band'] if band else '?'}; no minimum charge",
            )
        )
    return out


def _hub_cache() -> Path:
    # huggingface_hub's own order: HF_HUB_CACHE, then HF_HOME/hub, then ~/.cache/huggingface/hub.
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def hf_cache_has(repo_id: str) -> bool:
    """Whether ``repo_id``'s tokenizer is in the local Hugging Face cache (a file lookup
    only: nothing is downloaded and ``huggingface_hub`` is not imported)."""
    snapshots = _hub_cache() / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    if not snapshots.is_dir():
        return False
    return any(
        (snap / name).is_file()
        for snap in snapshots.iterdir()
        for name in ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")
    )


def tokenizer(model: str) -> str:
    """``hf:<repo>`` when the model's tokenizer is cached locally, else ``approx``."""
    m = entry(model)
    repo = (m or {}).get("hf_tokenizer") or (model if "/" in model else None)
    if repo and hf_cache_has(repo):
        return f"hf:{repo}"
    return "approx"


def check_create(model: str, method: str, *, full: bool) -> None:
    """Raise :class:`UnsupportedError` before any upload when the catalog says Together
    will refuse: a method or training type the model lacks. Unlisted models pass (Together
    itself is the judge)."""
    m = entry(model)
    if m is None:
        return
    if method not in m["methods"]:
        supported = ", ".join(m["methods"])
        raise UnsupportedError(PROVIDER, f"method={method!r} on {model}", f"it supports {supported}")
    if full and "full" not in m["training_types"]:
        raise UnsupportedError(PROVIDER, f"full fine-tuning of {model}", "Together offers LoRA only for it")
