"""Fault plans for emulators: ``OPERATION:KIND[:COUNT],...`` (docs/design.md §7).

Public through :mod:`anytune.emulator`, which documents the kinds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["OPERATIONS", "Fault", "FaultPlan", "parse_faults"]

#: The operations a fault can target; ``*`` matches any of them.
OPERATIONS = frozenset(
    {"upload", "create", "get", "list", "cancel", "events", "metrics", "checkpoints", "chat", "*"}
)
_NAMED_KINDS = frozenset({"drop", "slow"})


@dataclass
class Fault:
    """One entry of the plan: ``remaining`` requests of ``operation`` get ``kind``."""

    operation: str
    kind: str
    remaining: int

    @property
    def status(self) -> int | None:
        """The HTTP status to answer with, or ``None`` for ``drop``/``slow``."""
        return None if self.kind in _NAMED_KINDS else int(self.kind)


def parse_faults(spec: str, operations: frozenset[str] = OPERATIONS) -> list[Fault]:
    """Parse a fault spec; ``ValueError`` says which entry is wrong and why."""
    faults = []
    for raw in (part.strip() for part in (spec or "").split(",")):
        if not raw:
            continue
        bits = raw.split(":")
        if len(bits) not in (2, 3):
            raise ValueError(f"fault {raw!r}: expected OPERATION:KIND[:COUNT]")
        operation, kind = bits[0].strip().lower(), bits[1].strip().lower()
        if operation not in operations:
            raise ValueError(f"fault {raw!r}: unknown operation; use one of {sorted(operations)}")
        if kind not in _NAMED_KINDS and not (kind.isdigit() and 400 <= int(kind) <= 599):
            raise ValueError(f"fault {raw!r}: kind must be 429, 500, 503 (any 4xx/5xx), drop or slow")
        count = 1
        if len(bits) == 3:
            if not bits[2].strip().isdigit() or int(bits[2]) < 1:
                raise ValueError(f"fault {raw!r}: COUNT must be a positive integer")
            count = int(bits[2])
        faults.append(Fault(operation, kind, count))
    return faults


class FaultPlan:
    """The faults still to inject; thread-safe, since the server answers in threads."""

    def __init__(self, spec: str = "", operations: frozenset[str] = OPERATIONS) -> None:
        self._lock = threading.Lock()
        self._operations = operations
        self._faults = parse_faults(spec, operations)

    def add(self, spec: str) -> None:
        """Queue more faults (tests change the plan while the emulator runs)."""
        new = parse_faults(spec, self._operations)
        with self._lock:
            self._faults.extend(new)

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    def take(self, operation: str) -> Fault | None:
        """The fault for this request of ``operation``, consuming one count, or ``None``."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.operation in (operation, "*"):
                    fault.remaining -= 1
                    return fault
        return None

    def pending(self) -> int:
        """How many faulty answers are still to come."""
        with self._lock:
            return sum(f.remaining for f in self._faults)
