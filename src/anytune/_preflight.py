"""Preflight: validate, estimate and convert a dataset before anything is uploaded.

INTERIM VERSION: the full implementation (streaming readers, canonical records,
per-provider rules, tokenizers, prices) lands with the preflight issue. The signatures
here are the contract the core relies on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anytune._errors import DatasetError
from anytune._types import Estimate, Hyperparameters, Problem
from anytune.provider import Provider

__all__ = ["PreparedData", "ValidationReport", "prepare", "is_file_reference"]


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating a dataset: every error and warning, with locations."""

    records: int
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
        }


@dataclass(frozen=True)
class PreparedData:
    """A dataset converted to the provider's upload format, ready to upload."""

    path: Path
    sha256: str
    records: int
    estimate: Estimate | None
    report: ValidationReport


def is_file_reference(data: Any) -> bool:
    """True when ``data`` is a provider file id rather than a local path or records."""
    return isinstance(data, str) and not Path(data).exists() and "/" not in data and "." not in data


def prepare(
    data: Any,
    *,
    provider: Provider,
    model: str,
    method: str,
    hyperparameters: Hyperparameters,
    workdir: Path,
    purpose: str = "train",
) -> PreparedData:
    """Read, validate, convert and price ``data`` for ``provider``; raise
    :class:`DatasetError` with every problem found. Writes one file in ``workdir``."""
    records: list[dict[str, Any]]
    if isinstance(data, (str, Path)):
        path = Path(data)
        records = []
        problems: list[Problem] = []
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(Problem("invalid_json", str(exc), line=n, file=str(path)))
                    continue
                records.append(obj)
        if problems:
            raise DatasetError(f"{path} failed validation", problems)
    else:
        records = list(data)
    if not records:
        raise DatasetError("dataset is empty", [Problem("empty_dataset", "no records")])
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{purpose}.jsonl"
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    out.write_bytes(payload)
    tokens = len(payload) // 4
    epochs = hyperparameters.epochs or provider.default_epochs(model, len(records))
    est = Estimate(
        provider=provider.name,
        model=model,
        method=method,
        records=len(records),
        tokens_per_epoch=tokens,
        epochs=epochs,
        trained_tokens=tokens * epochs,
        cost_usd=None,
        exact_tokens=False,
    )
    return PreparedData(
        path=out,
        sha256=hashlib.sha256(payload).hexdigest(),
        records=len(records),
        estimate=est,
        report=ValidationReport(records=len(records)),
    )
