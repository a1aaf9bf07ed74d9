"""The value types of the provider SPI: what a provider can do (:class:`Capability`), the
dataset rules it enforces (:class:`Limits`) and the emulator protocol. Kept apart from
:class:`~anytune.provider.Provider` so that module stays readable; import them from
:mod:`anytune.provider`, which re-exports them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["OPERATION_CAPABILITY", "Capability", "Emulator", "Limits"]


class Capability(enum.Flag):
    """What a provider can do. The core checks these before calling, so an unsupported
    operation raises :class:`UnsupportedError` naming the provider and the operation."""

    NONE = 0
    SFT = enum.auto()
    DPO = enum.auto()
    LORA = enum.auto()
    FULL = enum.auto()
    VALIDATION_FILE = enum.auto()
    LIST = enum.auto()
    CANCEL = enum.auto()
    EVENTS = enum.auto()
    METRICS = enum.auto()
    CHECKPOINTS = enum.auto()
    RESUME = enum.auto()


#: The capability an operation needs, for the checks in :meth:`Provider.require`.
OPERATION_CAPABILITY: Mapping[str, Capability] = {
    "sft": Capability.SFT,
    "dpo": Capability.DPO,
    "lora": Capability.LORA,
    "full": Capability.FULL,
    "validation_file": Capability.VALIDATION_FILE,
    "list": Capability.LIST,
    "cancel": Capability.CANCEL,
    "events": Capability.EVENTS,
    "metrics": Capability.METRICS,
    "checkpoints": Capability.CHECKPOINTS,
    "resume": Capability.RESUME,
}


@runtime_checkable
class Emulator(Protocol):
    """A local stand-in for a provider's API (``anytune sandbox``, conformance tests).

    ``start`` binds 127.0.0.1 and serves in a background thread; afterwards ``env``
    holds the variables a client needs (e.g. ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``)."""

    env: dict[str, str]

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Limits:
    """Dataset rules a provider enforces, used by preflight validation.

    ``source`` says where each number comes from (vendor documentation or spec)."""

    min_examples: int = 1
    max_examples: int | None = None
    max_file_bytes: int | None = None
    max_tokens_per_example: int | None = None
    data_format: str = "openai"
    source: str = ""
    #: Whether the model can be trained on tool definitions, tool calls and tool
    #: results; ``False`` makes every example that has them an error.
    tools: bool = True
