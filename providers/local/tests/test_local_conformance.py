"""The conformance suite every provider passes, run against real local training."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from local_helpers import TINY_MODEL, ensure_tiny_model, stop_workers

from anytune import Hyperparameters, LoRA
from anytune.testing import ProviderConformance

pytestmark = pytest.mark.slow


class TestLocalConformance(ProviderConformance):
    provider = "local"
    model = str(TINY_MODEL)
    hyperparameters: ClassVar[Hyperparameters] = Hyperparameters(
        epochs=1, batch_size=4, learning_rate=1e-3, lora=LoRA(r=4, alpha=8, dropout=0.0)
    )
    wait_timeout = 120.0
    missing_job_id = "0123456789ab"

    @pytest.fixture
    def provider_env(self, tmp_path: Path) -> Iterator[dict[str, Any]]:
        ensure_tiny_model()
        yield {"devices": "cpu", "max_seq_length": 64}
        # Jobs the suite created but did not wait for must not train on in the background.
        stop_workers(tmp_path / "anytune-home")
