"""Helpers to run a provider's emulator and make small datasets in tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from anytune._registry import provider_class
from anytune.provider import Emulator

__all__ = ["running_emulator", "write_chat_examples"]


@contextmanager
def running_emulator(provider: str, **kwargs: Any) -> Iterator[Emulator]:
    """Start ``provider``'s emulator on 127.0.0.1 for the duration of the block.

    Sets ``NO_PROXY`` for loopback first: the vendor SDKs honour ``HTTP_PROXY`` even for
    127.0.0.1, which would send test traffic to a proxy."""
    for var in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(var, "")
        if "127.0.0.1" not in current:
            os.environ[var] = ",".join(filter(None, [current, "127.0.0.1", "localhost"]))
    emulator = provider_class(provider).emulator(**kwargs)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def write_chat_examples(path: Path, n: int = 12, *, tag: str = "") -> Path:
    """Write ``n`` distinct chat examples (OpenAI ``messages`` JSONL) to ``path``."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            record = {
                "messages": [
                    {"role": "system", "content": "You answer in one short sentence."},
                    {"role": "user", "content": f"What is {i} plus {i}?{tag}"},
                    {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."},
                ]
            }
            fh.write(json.dumps(record) + "\n")
    return path
