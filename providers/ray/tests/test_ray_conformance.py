"""The conformance suite every provider passes, against real training on the tests'
loopback Ray cluster.

Every test that only needs "a job" gets the same one: it is created with one fixed
idempotency key, so the first test submits it and the others (each with an empty job
store) get the same Ray job back from the cluster, which is this provider's idempotent
create at work. The suite's own idempotency, cancel and async tests make their own jobs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from anytune_ray._provider import submission_id
from ray_helpers import TINY_MODEL, ensure_tiny_model, stop_unfinished

from anytune import Hyperparameters, Job, LoRA
from anytune.testing import ProviderConformance

pytestmark = pytest.mark.slow

_SHARED_KEY = "ray-conformance-shared-job"


class TestRayConformance(ProviderConformance):
    provider = "ray"
    model = str(TINY_MODEL)
    hyperparameters: ClassVar[Hyperparameters] = Hyperparameters(
        epochs=1, batch_size=4, learning_rate=1e-3, lora=LoRA(r=4, alpha=8, dropout=0.0)
    )
    wait_timeout = 900.0
    missing_job_id = "anytune-0000000000000000dead"

    @pytest.fixture
    def provider_env(
        self, ray_cluster: dict[str, str], tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[dict[str, Any]]:
        ensure_tiny_model()
        storage = tmp_path_factory.getbasetemp() / "ray-conformance-storage"
        yield {"max_seq_length": 64, "storage": str(storage)}
        # Jobs a test made but did not wait for must not train on behind the next test.
        stop_unfinished(keep=(submission_id(_SHARED_KEY),))

    @pytest.fixture
    def job(self, provider_env: dict[str, Any], training_file: Path) -> Job:
        return self._create(provider_env, training_file, idempotency_key=_SHARED_KEY)
