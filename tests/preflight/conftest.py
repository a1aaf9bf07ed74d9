"""Preflight tests: the helpers live in ``preflight_helpers`` (importable by name,
since this folder is put on ``sys.path`` by pytest's default import mode)."""

from __future__ import annotations

import pytest
from preflight_helpers import OpenAILike


@pytest.fixture
def provider() -> OpenAILike:
    """OpenAI's counting rules with a test-chosen catalog (min 10 examples)."""
    return OpenAILike()
