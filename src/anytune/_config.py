"""Configuration (DESIGN.md §4): explicit argument > environment > profile file > default."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["anytune_home"]


def anytune_home() -> Path:
    """The folder holding the job store and local job folders (``ANYTUNE_HOME``, else the
    user data dir). Created on first use, readable only by the user."""
    env = os.environ.get("ANYTUNE_HOME")
    if env:
        home = Path(env).expanduser()
    else:
        from platformdirs import user_data_dir

        home = Path(user_data_dir("anytune", appauthor=False))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkdir's mode is masked by umask and ignored for existing folders: enforce it.
    os.chmod(home, 0o700)
    return home
