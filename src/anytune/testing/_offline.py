"""Tests that need something a clean machine may lack: here, tiktoken's encoding files."""

from __future__ import annotations

import functools
import os

import pytest

__all__ = ["require_tiktoken"]


@functools.lru_cache(maxsize=8)
def _load_error(name: str) -> str | None:
    try:
        import tiktoken

        tiktoken.get_encoding(name)
    except Exception as exc:  # no file in TIKTOKEN_CACHE_DIR and no network, say
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return None


def require_tiktoken(*encodings: str) -> None:
    """Skip the calling test when tiktoken cannot load ``encodings`` (default
    ``o200k_base``): tiktoken reads them from ``TIKTOKEN_CACHE_DIR`` or downloads them.
    Where ``CI`` is set, fail instead: CI provides the files, so a skip would hide a
    broken setup."""
    for name in encodings or ("o200k_base",):
        error = _load_error(name)
        if error is None:
            continue
        reason = (
            f"tiktoken's {name} encoding cannot be loaded (set TIKTOKEN_CACHE_DIR to a folder "
            f"that holds it, or allow tiktoken to download it): {error}"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
