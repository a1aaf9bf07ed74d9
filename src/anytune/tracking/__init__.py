"""Experiment tracking: every job a run in MLflow, Weights & Biases or TensorBoard.

``Job.create(..., tracking="mlflow")`` (or ``["mlflow", "tensorboard"]``, ``-O
tracking=mlflow``, a profile's ``tracking`` key, ``ANYTUNE_TRACKING``) makes the job a run.
Each tracker is one module here, named in :data:`TRACKERS` and imported only when a job
asks for it (so ``import anytune`` never imports mlflow); a third-party tracker registers
in the entry-point group ``anytune.trackers``. Providers switch on their vendor's own
integration through :meth:`anytune.provider.Provider.native_tracking`; the core never
branches on a tracker's or a provider's name.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterable
from typing import Any

from anytune._errors import ConfigurationError
from anytune.tracking._base import RunData, Tracker, metric_points, run_key

__all__ = [
    "ENV",
    "TRACKERS",
    "RunData",
    "Tracker",
    "available",
    "get_tracker",
    "metric_points",
    "mlflow_uri",
    "resolve_trackers",
    "run_key",
]

#: The environment variable naming the trackers of every job (below an explicit argument).
ENV = "ANYTUNE_TRACKING"

#: Built-in trackers: name -> ``module:Class``, imported on first use.
TRACKERS: dict[str, str] = {
    "mlflow": "anytune.tracking._mlflow:MLflowTracker",
    "wandb": "anytune.tracking._wandb:WandbTracker",
    "tensorboard": "anytune.tracking._tensorboard:TensorBoardTracker",
}

_INSTANCES: dict[tuple[str, str], Tracker] = {}


def _entry_points() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group="anytune.trackers")}


def _location(name: str) -> str:
    where = TRACKERS.get(name) or _entry_points().get(name)
    if where is None:
        raise ConfigurationError(
            f"unknown tracker {name!r}; choose from {sorted(set(TRACKERS) | set(_entry_points()))}"
        )
    return where


def mlflow_uri() -> str:
    """Where MLflow runs go: ``MLFLOW_TRACKING_URI``, else the embedded SQLite store
    ``sqlite:///<anytune home>/mlflow.db`` (``mlflow ui --backend-store-uri`` that)."""
    from anytune._config import anytune_home

    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{anytune_home() / 'mlflow.db'}"


def available() -> list[str]:
    """Names of every tracker, built-in or registered by entry point."""
    return sorted(set(TRACKERS) | set(_entry_points()))


def tracker_class(name: str) -> type[Tracker]:
    """The class of tracker ``name``; a missing optional dependency is a
    :class:`ConfigurationError` naming the extra that installs it."""
    module_name, _, attr = _location(name).partition(":")
    module = importlib.import_module(module_name)
    cls: type[Tracker] = getattr(module, attr)
    missing = [m for m in cls.requires if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigurationError(
            f"tracking={name!r} needs {', '.join(missing)}, which is not installed: "
            f"pip install 'anytune[{cls.extra or name}]'"
        )
    return cls


def get_tracker(name: str) -> Tracker:
    """The tracker ``name`` for the current environment (one instance per target)."""
    cls = tracker_class(name)
    key = (name, cls.target())
    if key not in _INSTANCES:
        _INSTANCES[key] = cls()
    return _INSTANCES[key]


def resolve_trackers(explicit: Any = None, profile: Any = None) -> tuple[str, ...]:
    """The trackers asked for: ``explicit`` (the argument), else ``ANYTUNE_TRACKING``, else
    the profile's ``tracking`` key. Accepts a name, a comma-separated string or a list;
    ``"none"``/``""``/``False`` mean none. Each name is checked (known, installed) here,
    before any upload."""
    chosen: Any = explicit
    if chosen is None:
        chosen = os.environ.get(ENV)
    if chosen is None:
        chosen = profile
    if chosen is None or chosen is False:
        return ()
    items: Iterable[Any]
    if isinstance(chosen, str):
        items = chosen.split(",")
    elif isinstance(chosen, (list, tuple, set, frozenset)):
        items = chosen
    else:
        raise ConfigurationError(
            f"tracking must be a tracker name or a list of them, got {type(chosen).__name__}"
        )
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigurationError(f"tracking: tracker names are strings, got {item!r}")
        name = item.strip().lower()
        if name and name != "none" and name not in names:
            names.append(name)
    for name in names:
        tracker_class(name)
    return tuple(names)
