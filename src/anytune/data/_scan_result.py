"""What one scan is asked to do (``ScanConfig``) and what it learned (``ScanResult``):
both cross the process boundary to and from the parallel workers, so both pickle, and
results of byte ranges merge in file order.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

from anytune._types import Problem

__all__ = ["ScanConfig", "ScanResult"]


@dataclass
class ScanConfig:
    """What one scan does. Picklable: workers receive it."""

    method: str | None = None
    target: str | None = None
    tokenizer: str | None = None
    max_tokens: int | None = None
    #: ``Limits.tools``: ``False`` refuses examples with tool definitions or calls.
    tools: bool = True
    write: bool = False
    file: str | None = None
    max_problems: int = 1000
    default_format: str | None = None
    workers: int | None = None
    #: ``convert``: write what the target can express and report the rest, instead of
    #: treating a loss as an error that keeps the record out.
    lossy: bool = False


@dataclass
class ScanResult:
    """Everything a scan learned; results of byte ranges merge in file order."""

    lines: int = 0
    records: int = 0
    valid: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    n_errors: int = 0
    n_warnings: int = 0
    tokens: int = 0
    capped_tokens: int = 0
    with_tools: int = 0
    out_bytes: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    output: list[bytes] = field(default_factory=list)
    hashes: array[int] = field(default_factory=lambda: array("Q"))
    near: array[int] = field(default_factory=lambda: array("Q"))
    hash_lines: array[int] = field(default_factory=lambda: array("Q"))
    #: code -> [first line, count, message, severity] of ``ONCE_PER_FILE`` problems.
    once: dict[str, list[Any]] = field(default_factory=dict)

    def once_per_file(self, code: str, line: int, message: str, severity: str, count: int = 1) -> None:
        """Count a problem reported once per file (at its first line)."""
        seen = self.once.get(code)
        if seen is None:
            self.once[code] = [line, count, message, severity]
        else:
            seen[0] = min(seen[0], line)  # keeps a ``Loc`` (and its element index)
            seen[1] += count

    def finish_once(self, file: str | None, cap: int) -> None:
        """Turn the once-per-file counts into problems (after every range merged)."""
        for code, (line, count, message, severity) in sorted(self.once.items()):
            if count > 1:
                message = f"{message} ({count} records; the first is here)"
            element = getattr(line, "element", None)
            self.add(
                Problem(code=code, message=message, line=int(line), file=file, severity=severity,
                        element=element),
                cap,
            )
        self.once.clear()

    def add(self, p: Problem, cap: int) -> None:
        if p.severity == "error":
            self.n_errors += 1
            if len(self.errors) < cap:
                self.errors.append(p)
        else:
            self.n_warnings += 1
            if len(self.warnings) < cap:
                self.warnings.append(p)

    def merge(self, other: ScanResult, line_offset: int, cap: int) -> None:
        for p in other.errors + other.warnings:
            self.add(p.model_copy(update={"line": p.line + line_offset}) if p.line is not None else p, cap)
        self.n_errors += other.n_errors - len(other.errors)
        self.n_warnings += other.n_warnings - len(other.warnings)
        for name in ("records", "valid", "tokens", "capped_tokens", "with_tools", "out_bytes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.formats.items():
            self.formats[k] = self.formats.get(k, 0) + v
        self.hashes.extend(other.hashes)
        self.near.extend(other.near)
        self.hash_lines.extend(x + line_offset for x in other.hash_lines)
        for code, (line, count, message, severity) in other.once.items():
            self.once_per_file(code, line + line_offset, message, severity, count)
