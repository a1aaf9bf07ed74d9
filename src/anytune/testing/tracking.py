"""Test helpers for experiment tracking: a ready MLflow store, and a search for a secret
in every file a run wrote."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

__all__ = ["files_containing", "mlflow_store"]

_TEMPLATE: Path | None = None


def mlflow_store(dest: Path) -> str:
    """A new, empty MLflow SQLite store at ``dest``; returns its tracking URI.

    MLflow builds a store by running its schema migrations, which takes 10-30 s on a
    busy CI machine: the first call of a process builds one and later calls copy it."""
    global _TEMPLATE
    if _TEMPLATE is None or not _TEMPLATE.is_file():
        from mlflow.tracking import MlflowClient

        template = Path(tempfile.mkdtemp(prefix="anytune-mlflow-")) / "template.db"
        MlflowClient(tracking_uri=f"sqlite:///{template}").search_experiments()
        _TEMPLATE = template
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_TEMPLATE, dest)
    return f"sqlite:///{dest}"


def files_containing(secret: str, *roots: Path) -> list[Path]:
    """Every file under ``roots`` whose bytes contain ``secret`` (as is, or URL-quoted)."""
    needles = {secret.encode(), secret.replace("-", "%2D").encode()}
    found = []
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(n in data for n in needles):
                    found.append(path)
    return found
