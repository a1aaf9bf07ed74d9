"""The emulator's ``GET /v1/models``: which models this emulated account can reach.

OpenAI answers a ``ListModelsResponse`` (``{"object": "list", "data": [Model]}``, each
``Model`` holding ``id``, ``object``, ``created`` and ``owned_by``, as in its OpenAPI spec).
The list starts as the packaged base models OpenAI has not shut down; a test (or a
sandbox user) takes one away with :meth:`VendorModels.remove` or adds one with
:meth:`VendorModels.add`, to see what ``anytune models --refresh`` does.
"""

from __future__ import annotations

import threading
from typing import Any

from anytune.emulator import Answer
from anytune_openai import _catalog

__all__ = ["VendorModels"]

#: ``created`` of every listed model: a fixed time keeps answers reproducible.
_CREATED = 1_744_588_800  # 2025-04-14


class VendorModels:
    """The emulated account's models, by id (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = [m["model"] for m in _catalog.catalog_data()["models"] if not m.get("retired")]

    def add(self, model: str) -> None:
        with self._lock:
            if model not in self._ids:
                self._ids.append(model)

    def remove(self, model: str) -> None:
        with self._lock:
            self._ids = [i for i in self._ids if i != model]

    def route(self, method: str, path: str) -> tuple[str, Any, dict[str, str]] | None:
        """The ``GET /v1/models`` route (fault operation ``list``), or ``None``."""
        if method == "GET" and path == "/v1/models":
            return "list", self.list_models, {}
        return None

    def list_models(self, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
        with self._lock:
            data = [{"id": i, "object": "model", "created": _CREATED, "owned_by": "system"}
                    for i in self._ids]
        return Answer(200, {"object": "list", "data": data})
