"""Together's OpenAPI spec (``spec/openapi.yaml``, trimmed to the files, fine-tuning,
models and chat paths: see ``spec/README.md``), against which every recorded emulator
exchange is checked (see :class:`anytune.testing.OpenAPIExchanges`).

The SDK's upload flow (``POST /v1/files`` answering 302/409, the presigned PUT,
``POST /v1/files/{id}/preprocess``) is not in the spec: those exchanges are skipped, said
here rather than hidden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anytune.testing import OpenAPIExchanges

HERE = Path(__file__).resolve().parent
SPEC_PATH = HERE / "spec" / "openapi.yaml"


def _spec_defect(error: Any) -> bool:
    """The spec's ``lr_scheduler_args`` is a oneOf of cosine and linear args whose
    schemas overlap (linear's allows any extra key), so the cosine args the SDK always
    sends match both: a defect of the spec, not of the exchange."""
    return error.validator == "oneOf" and "lr_scheduler_args" in [str(p) for p in error.absolute_path]


TOGETHER_SPEC = OpenAPIExchanges(
    SPEC_PATH,
    error_schema="ErrorData",
    not_in_spec=(
        r"^POST /v1/files$",
        r"^PUT /v1/_emulator/uploads/[^/]+$",
        r"^POST /v1/files/[^/]+/preprocess$",
    ),
    ignore=_spec_defect,
)
