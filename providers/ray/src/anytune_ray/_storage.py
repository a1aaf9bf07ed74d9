"""Storage every worker can read: a shared path, or a URL pyarrow's file systems open
(``s3://``, ``gs://``, ``hdfs://``, ``abfs://`` through fsspec...). The same kind of
location Ray Train's ``RunConfig(storage_path=...)`` takes, so data, checkpoints and the
adapter live side by side under ``<storage>/<job id>/``.

pyarrow is imported lazily: it comes with ``ray[train]`` but ``import anytune_ray`` stays light.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["get", "is_url", "join", "normalise", "put"]


def is_url(location: str) -> bool:
    """Whether ``location`` is a URL (``scheme://...``) rather than a path."""
    return "://" in location


def normalise(location: str) -> str:
    """A path made absolute (``~`` expanded); a URL unchanged (less a trailing ``/``)."""
    if is_url(location):
        return location.rstrip("/")
    return str(Path(location).expanduser().resolve())


def join(location: str, *parts: str) -> str:
    """``location/part/...`` for paths and URLs alike."""
    return "/".join([location.rstrip("/"), *parts])


def _fs(location: str) -> tuple[Any, str]:
    import pyarrow.fs as pafs

    if is_url(location):
        fs, path = pafs.FileSystem.from_uri(location)
        return fs, path
    return pafs.LocalFileSystem(), location


def put(local: Path, location: str) -> None:
    """Copy the file or folder ``local`` to ``location`` (created with its parents)."""
    import pyarrow.fs as pafs

    fs, path = _fs(location)
    parent = path.rsplit("/", 1)[0]
    if parent:
        fs.create_dir(parent, recursive=True)
    if local.is_dir():
        fs.create_dir(path, recursive=True)
    pafs.copy_files(str(local), path, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs)


def get(location: str, local: Path) -> Path:
    """Copy the file at ``location`` to ``local`` and return ``local``."""
    import pyarrow.fs as pafs

    fs, path = _fs(location)
    local.parent.mkdir(parents=True, exist_ok=True)
    pafs.copy_files(path, str(local), source_filesystem=fs, destination_filesystem=pafs.LocalFileSystem())
    return local


def exists(location: str) -> bool:
    """Whether a file or folder exists at ``location``."""
    import pyarrow.fs as pafs

    fs, path = _fs(location)
    return bool(fs.get_file_info(path).type != pafs.FileType.NotFound)


def local_path(location: str) -> str | None:
    """The path of ``location`` on this machine when it is a plain path, else ``None``."""
    return None if is_url(location) else os.fspath(location)
