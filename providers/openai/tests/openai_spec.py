"""OpenAI's OpenAPI spec (``spec/openapi.yaml``, trimmed to the files, uploads,
fine-tuning, models and chat paths: see ``spec/README.md``), against which every recorded
emulator exchange is checked (see :class:`anytune.testing.OpenAPIExchanges`)."""

from __future__ import annotations

from pathlib import Path

from anytune.testing import OpenAPIExchanges

HERE = Path(__file__).resolve().parent
SPEC_PATH = HERE / "spec" / "openapi.yaml"
OPENAI_SPEC = OpenAPIExchanges(SPEC_PATH, error_schema="ErrorResponse")
