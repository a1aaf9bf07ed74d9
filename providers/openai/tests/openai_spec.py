"""OpenAI's OpenAPI spec (``../shared/specs/openai/openapi.yaml``, 3 MB), against which
every recorded emulator exchange is checked (see :class:`anytune.testing.OpenAPIExchanges`)."""

from __future__ import annotations

import os
from pathlib import Path

from anytune.testing import OpenAPIExchanges

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("ANYTUNE_SHARED_DIR", HERE.parents[3] / "shared"))
SPEC_PATH = SHARED / "specs" / "openai" / "openapi.yaml"
OPENAI_SPEC = OpenAPIExchanges(SPEC_PATH, error_schema="ErrorResponse")
