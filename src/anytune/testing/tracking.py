"""Test helpers for experiment tracking: find a secret in every file a run wrote."""

from __future__ import annotations

from pathlib import Path

__all__ = ["files_containing"]


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
