"""Together's model catalog and price table, read from ``models.json`` next to this module.

Numbers live in the data file (each with its source and date) so that a price or limit
change is a data edit, not a code change. Nothing here touches the network.

Pricing rule (Together's "Fine-tuning pricing" page): tokens processed x the rate of the
model's size band for the training type (LoRA or full) and method (SFT or DPO). There is
no minimum charge (Together's FAQ); models above the largest band have no rate here.

The list and limits come from the packaged rows, replaced by Together's own answer once
``anytune models --refresh`` has stored it (:mod:`anytune.catalog`); a model that neither
knows is priced by the size in its name.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

from anytune.errors import UnsupportedError
from anytune.provider import ModelInfo

__all__ = [
    "band_for",
    "catalog_data",
    "check_create",
    "entry",
    "hf_cache_has",
    "models",
    "price_note",
    "price_per_million",
    "size_from_name",
    "tokenizer",
]

PROVIDER = "together"


@functools.lru_cache(maxsize=1)
def catalog_data() -> dict[str, Any]:
    """The parsed ``models.json`` (cached: it never changes while running)."""
    # A plain path, not importlib.resources: that import alone costs ~20 ms at startup.
    data: dict[str, Any] = json.loads(Path(__file__).with_name("models.json").read_text("utf-8"))
    return data


_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)[bB](?![a-zA-Z])")


def size_from_name(model: str) -> float | None:
    """Billions of parameters read from a model name (``Qwen3.5-9B`` -> 9.0; the total,
    not the active, in ``Qwen3.5-35B-A3B`` -> 35.0); ``None`` when the name has none."""
    found = _SIZE.search(model.rsplit("/", 1)[-1])
    return float(found.group(1)) if found else None


def _from_limits(name: str, lim: dict[str, Any], base: dict[str, Any] | None) -> dict[str, Any]:
    """A catalog entry from Together's limits answer, over the packaged row when there is one."""
    base = dict(base or {"model": name, "params_b": size_from_name(name), "hf_tokenizer": name})
    sft, dpo = lim.get("max_seq_length_sft"), lim.get("max_seq_length_dpo")
    context = dict(base.get("context") or {})
    if sft:
        context["sft"] = int(sft)
    if dpo:
        context["dpo"] = int(dpo)
    base["context"] = context
    base["methods"] = [m for m in ("sft", "dpo") if context.get(m)] or base.get("methods") or ["sft"]
    if "supports_full_training" in lim:
        base["training_types"] = ["lora", "full"] if lim["supports_full_training"] else ["lora"]
    base.setdefault("training_types", ["lora"])
    if "supports_tools" in lim:
        base["tools"] = bool(lim["supports_tools"])
    base["lora_max_rank"] = (lim.get("lora_training") or {}).get("max_rank")
    return base


_MERGED: dict[str, Any] = {}


def _entries() -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    """Every known model (packaged rows merged with the refreshed list, if any), and the
    refreshed document; built once per version of the cache file."""
    from anytune.catalog import cache_key

    key = cache_key(PROVIDER)
    if _MERGED.get("key", ()) != key:
        _MERGED.update(key=key, value=_merge())
    value: tuple[dict[str, dict[str, Any]], dict[str, Any] | None] = _MERGED["value"]
    return value


def _merge() -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    from anytune.catalog import read_cache

    packaged = {m["model"]: dict(m) for m in catalog_data()["models"]}
    cache = read_cache(PROVIDER)
    if cache is None:
        return packaged, None
    out: dict[str, dict[str, Any]] = {}
    for item in cache["models"]:
        name = str(item.get("model"))
        lim = item.get("limits")
        e = _from_limits(name, lim, packaged.get(name)) if isinstance(lim, dict) else dict(
            packaged.get(name) or {"model": name, "params_b": size_from_name(name), "hf_tokenizer": name,
                                   "methods": ["sft", "dpo"], "training_types": ["lora"], "context": {}})
        e["listed"] = True
        out[name] = e
    for name, e in packaged.items():
        if name not in out:
            out[name] = {**e, "listed": False}
    return out, cache


def entry(model: str) -> dict[str, Any] | None:
    """The catalog entry of ``model`` (refreshed list over packaged rows), ``None`` when
    neither knows it."""
    return _entries()[0].get(model)


def band_for(params_b: float) -> dict[str, Any] | None:
    """The price band a model of ``params_b`` billion parameters falls in."""
    for band in catalog_data()["price_bands"]:
        if params_b <= band["max_params_b"]:
            return dict(band)
    return None


def _size(model: str, e: dict[str, Any] | None) -> tuple[float | None, str]:
    if e and e.get("params_b"):
        return float(e["params_b"]), "catalog"
    size = size_from_name(model)
    return size, "its name"


def price_per_million(model: str, method: str, training_type: str) -> float | None:
    """USD per 1M tokens for ``model`` trained with ``method`` (sft/dpo) and
    ``training_type`` (lora/full), by Together's size bands; a model neither list knows is
    priced by the size in its name. ``None`` when no rate applies (see :func:`price_note`)."""
    e = entry(model)
    if e is not None and (training_type not in e["training_types"] or method not in e["methods"]):
        return None
    size, _ = _size(model, e)
    band = band_for(size) if size is not None else None
    if band is None:
        return None
    value = band["price_per_million_tokens"].get(training_type, {}).get(method)
    return None if value is None else float(value)


def price_note(model: str) -> str | None:
    """How ``model`` is priced when it is not a plain catalog row, or why it is not."""
    e = entry(model)
    size, where = _size(model, e)
    if size is None:
        return (f"{model}: no size in the catalog or in its name, so no size band applies; "
                "Together's estimate-price gives the figure after upload")
    band = band_for(size)
    if band is None:
        return (f"{model} ({size:g}B) is above Together's largest published band (100B) and may carry "
                "a minimum charge; Together's estimate-price gives the figure after upload")
    if e is None:
        return (f"{model} is in neither Together list anytune has: priced by the {band['band']} size "
                f"band, {size:g}B read from {where}")
    if where != "catalog":
        return f"priced by the {band['band']} size band, {size:g}B read from {where}"
    return None


def models() -> list[ModelInfo]:
    """Every tunable model as :class:`ModelInfo`. ``price_per_million_tokens`` holds the
    LoRA prices under the method name (LoRA is Together's default) and the full-training
    prices under ``<method>-full``; ``limits`` the per-method context lengths."""
    from anytune.catalog import cache_key

    key = cache_key(PROVIDER)
    if _MERGED.get("models_key", ()) != key:
        _MERGED.update(models_key=key, models=_build_models())
    return list(_MERGED["models"])


def _build_models() -> list[ModelInfo]:
    data = catalog_data()
    entries, cache = _entries()
    refreshed_at = cache["refreshed_at"] if cache else None
    out = []
    for name, m in entries.items():
        prices: dict[str, float] = {}
        for method in m["methods"]:
            for kind in m["training_types"]:
                price = price_per_million(name, method, kind)
                if price is not None:
                    prices[method if kind == "lora" else f"{method}-full"] = price
        size, _ = _size(name, m)
        band = band_for(size) if size is not None else None
        kinds = " and ".join("LoRA" if k == "lora" else "full" for k in m["training_types"])
        context = m.get("context") or {}
        from_cache = cache is not None and m.get("listed")
        out.append(
            ModelInfo(
                provider=PROVIDER,
                model=name,
                methods=tuple(m["methods"]),
                max_tokens_per_example=context.get("sft"),
                price_per_million_tokens=prices,
                price_source=data["price_source"],
                price_as_of=data["price_as_of"],
                notes=f"{kinds}; size band {band['band'] if band else 'none published'}"
                + (f"; {m['conflict']}" if m.get("conflict") else ""),
                limits={k: {"max_tokens_per_example": v} for k, v in context.items() if k in m["methods"]},
                limits_source=str(cache.get("source")) if from_cache and cache else m.get("source"),
                limits_as_of=str(refreshed_at)[:10] if from_cache else m.get("as_of", data["as_of"]),
                refreshed_at=refreshed_at,
                listed=m.get("listed"),
                price_note=price_note(name),
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
