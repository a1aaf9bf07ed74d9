"""The emulator's side of Together's model catalog: which models "Together" tunes today.

``GET /v1/fine-tunes/models/supported`` lists them and ``GET /v1/fine-tunes/models/limits``
answers for each (both in Together's OpenAPI spec; the answer's fields are the ones the
together SDK's ``FinetuneModelLimits`` reads). The list starts as anytune's packaged
rows; a test (or a sandbox user) adds a model only the vendor knows with :meth:`add`, or
takes one away with :meth:`remove`, to see what a refresh does.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs

from anytune.emulator import Answer, Router
from anytune_together import _catalog

__all__ = ["VendorModels", "add_catalog_routes"]

_LORA = {"max_batch_size": 32, "max_batch_size_dpo": 16, "min_batch_size": 8, "max_rank": 64,
         "default_rank": 8, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}
_FULL = {"max_batch_size": 16, "max_batch_size_dpo": 8, "min_batch_size": 8}


class VendorModels:
    """The emulated vendor's tunable models, by name (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models = {m["model"]: dict(m) for m in _catalog.catalog_data()["models"]}

    def add(self, model: str, *, sft: int = 32768, dpo: int = 16384, full: bool = True,
            tools: bool = True) -> None:
        """List ``model`` with these context lengths (SFT, DPO) and training types."""
        with self._lock:
            self._models[model] = {"model": model, "context": {"sft": sft, "dpo": dpo}, "tools": tools,
                                   "training_types": ["lora", "full"] if full else ["lora"]}

    def remove(self, model: str) -> None:
        """Stop listing ``model`` (as when Together retires it)."""
        with self._lock:
            self._models.pop(model, None)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def get(self, model: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._models.get(model)
            return dict(found) if found else None

    def limits(self, model: str) -> dict[str, Any] | None:
        """The ``FineTuneModelLimits`` answer for ``model`` (``None``: not tunable)."""
        m = self.get(model)
        if m is None:
            return None
        full = "full" in m["training_types"]
        context = m["context"]
        return {
            "model_name": model, "lora_training": dict(_LORA), "max_num_epochs": 20, "max_num_evals": 100,
            "max_num_checkpoints": 10, "max_learning_rate": 1.0, "min_learning_rate": 1e-8,
            "supports_vision": False, "supports_tools": bool(m.get("tools", True)),
            "supports_reasoning": False,
            "supports_full_training": full, "merge_output_lora": False,
            "default_gradient_accumulation_steps": 1, "max_seq_length_sft": int(context["sft"]),
            "max_seq_length_dpo": int(context.get("dpo") or context["sft"]), "min_max_seq_length": 512,
            **({"full_training": dict(_FULL)} if full else {}),
        }


def add_catalog_routes(router: Router, vendor: VendorModels, refuse: Any) -> None:
    """Serve the supported-models list and the per-model limits from ``vendor``.
    ``refuse(status, message, code)`` builds the error the other routes raise."""

    def supported(params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        return Answer(200, {"models": vendor.names()})

    def limits(params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        name = parse_qs(query).get("model_name", [""])[0]
        answer = vendor.limits(name)
        if answer is None:
            raise refuse(404, f"model {name} is not available for fine-tuning", "model_not_available")
        return Answer(200, answer)

    router.add("GET", "/v1/fine-tunes/models/supported", "list", supported)
    router.add("GET", "/v1/fine-tunes/models/limits", "estimate", limits)
