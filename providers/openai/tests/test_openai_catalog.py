"""Preflight behaviour of the OpenAI provider: catalog, limits, prices, default epochs,
and the training shutdown, all without network or credentials."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from anytune_openai import OpenAIProvider, TrainingUnavailableError

from anytune.errors import UnsupportedError
from anytune.provider import Hyperparameters

UTC = timezone.utc
BEFORE = datetime(2026, 12, 1, tzinfo=UTC)


def test_catalog_lists_tunable_models_with_prices_and_sources() -> None:
    infos = {m.model: m for m in OpenAIProvider().catalog()}
    for model in (
        "gpt-4.1-2025-04-14",
        "gpt-4.1-mini-2025-04-14",
        "gpt-4.1-nano-2025-04-14",
        "gpt-4o-2024-08-06",
        "gpt-4o-mini-2024-07-18",
    ):
        info = infos[model]
        assert info.provider == "openai"
        assert "sft" in info.methods
        assert info.max_tokens_per_example == 65536
        assert info.limits["sft"]["max_tokens_per_example"] == 65536
        assert info.price_per_million_tokens["sft"] > 0
        assert info.price_source and info.price_source.startswith("https://")
        assert info.price_as_of
        assert info.limits_source and info.limits_as_of
    # OpenAI's DPO guide lists the gpt-4.1 family only.
    assert set(infos["gpt-4.1-mini-2025-04-14"].methods) == {"sft", "dpo"}
    assert infos["gpt-4o-2024-08-06"].methods == ("sft",)
    # No new jobs after the training shutdown; gpt-4.1-nano was shut down before it.
    assert infos["gpt-4.1-mini-2025-04-14"].retirement_date == "2027-01-06"
    assert infos["gpt-4.1-nano-2025-04-14"].retirement_date == "2026-10-23"


def test_price_is_trained_tokens_times_the_rate() -> None:
    p = OpenAIProvider()
    assert p.price_usd("gpt-4.1-mini-2025-04-14", "sft", 2_000_000, Hyperparameters()) == pytest.approx(10.0)
    assert p.price_usd("gpt-4.1-mini-2025-04-14", "dpo", 1_000_000, Hyperparameters()) == pytest.approx(5.0)
    assert p.price_usd("gpt-4o-mini-2024-07-18", "dpo", 1_000_000, Hyperparameters()) is None
    assert p.price_usd("no-such-model", "sft", 1_000_000, Hyperparameters()) is None


def test_limits_and_tokenizer() -> None:
    p = OpenAIProvider()
    limits = p.limits("gpt-4o-mini-2024-07-18", "sft")
    assert limits.min_examples == 10
    assert limits.data_format == "openai"
    assert limits.max_tokens_per_example == 65536
    assert limits.max_file_bytes == 8 * 1024**3
    assert "openai.com" in limits.source
    assert p.tokenizer("gpt-4.1-2025-04-14") == "tiktoken:o200k_base"
    assert p.tokenizer("gpt-4o-mini-2024-07-18") == "tiktoken:o200k_base"
    assert p.tokenizer("ft:gpt-4o-mini-2024-07-18:acme::abc123") == "tiktoken:o200k_base"
    assert p.tokenizer("gpt-3.5-turbo-0125") == "tiktoken:cl100k_base"


@pytest.mark.parametrize(
    ("records", "epochs"),
    [(1, 25), (5, 20), (10, 10), (33, 3), (34, 3), (100, 3), (8333, 3), (8334, 2), (30_000, 1)],
)
def test_default_epochs_follow_the_cookbook_rule(records: int, epochs: int) -> None:
    assert OpenAIProvider().default_epochs("gpt-4.1-mini-2025-04-14", records) == epochs


def test_create_is_allowed_before_the_shutdown() -> None:
    p = OpenAIProvider()
    p.check_create("gpt-4.1-mini-2025-04-14", "sft", now=BEFORE)
    p.check_create("gpt-4.1-2025-04-14", "dpo", now=datetime(2027, 1, 5, 23, 59, tzinfo=UTC))


@pytest.mark.parametrize("now", [datetime(2027, 1, 6, tzinfo=UTC), datetime(2028, 3, 1, tzinfo=UTC)])
def test_shutdown_refuses_new_jobs_naming_the_date_and_alternatives(now: datetime) -> None:
    with pytest.raises(TrainingUnavailableError) as info:
        OpenAIProvider().check_create("gpt-4.1-mini-2025-04-14", "sft", now=now)
    err = info.value
    assert isinstance(err, UnsupportedError) and err.exit_code == 2
    message = str(err)
    assert "2027-01-06" in message
    for alternative in ('provider="together"', 'provider="vertex"', 'provider="local"'):
        assert alternative in message
    assert err.alternatives == ["together", "vertex", "local"]


def test_shutdown_uses_the_utc_date_of_an_aware_clock() -> None:
    # 2027-01-05 20:00 in New York is already 2027-01-06 in UTC.
    from datetime import timedelta

    eastern = timezone(timedelta(hours=-5))
    with pytest.raises(TrainingUnavailableError):
        OpenAIProvider().check_create(
            "gpt-4o-2024-08-06", "sft", now=datetime(2027, 1, 5, 20, 0, tzinfo=eastern)
        )


@pytest.mark.parametrize("model", ["gpt-3.5-turbo-0125", "gpt-4.1-nano-2025-04-14"])
def test_retired_model_is_refused_with_its_substitute(model: str) -> None:
    from anytune.catalog import ModelRetiredError, check_model

    p = OpenAIProvider()
    check_model(p, model, "sft", now=datetime(2026, 10, 22, tzinfo=UTC))
    with pytest.raises(ModelRetiredError) as info:
        check_model(p, model, "sft", now=BEFORE)
    assert isinstance(info.value, UnsupportedError) and info.value.exit_code == 2
    assert "2026-10-23" in str(info.value)
    assert "gpt-4.1-mini-2025-04-14" in str(info.value)
    assert "allow_retired=True" in str(info.value)
    # The override lets the request through (OpenAI then has the last word).
    check_model(p, model, "sft", now=BEFORE, allow_retired=True)


def test_method_the_model_lacks_is_refused() -> None:
    with pytest.raises(UnsupportedError, match="dpo"):
        OpenAIProvider().check_create("gpt-3.5-turbo-0125", "dpo", now=datetime(2026, 1, 1, tzinfo=UTC))


def test_construction_reads_no_credentials_and_import_is_cheap() -> None:
    code = (
        "import os, sys; os.environ.pop('OPENAI_API_KEY', None);"
        "import anytune_openai; p = anytune_openai.OpenAIProvider(); p.catalog();"
        "print('openai' in sys.modules, 'http.server' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_missing_key_names_the_variable_and_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    from anytune.errors import MissingCredentialsError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError) as info:
        OpenAIProvider().get("ftjob-x")
    assert "OPENAI_API_KEY" in str(info.value) and "api_key" in str(info.value)


def test_repr_never_shows_the_key() -> None:
    p = OpenAIProvider(api_key="sk-secret-value-123456")
    assert "sk-secret" not in repr(p)


def test_registered_as_an_entry_point() -> None:
    from importlib.metadata import entry_points

    eps = {ep.name: ep for ep in entry_points(group="anytune.providers")}
    assert eps["openai"].load() is OpenAIProvider


def test_after_the_shutdown_create_fails_before_any_upload(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Through the core's create flow with an injected clock: nothing reaches OpenAI."""
    from anytune_openai.emulator import OpenAIEmulator
    from openai_helpers import TEST_KEY, write_chat

    from anytune._create import CreateSpec, create_flow
    from anytune._flow import run_sync
    from anytune._store import JobStore

    with OpenAIEmulator(api_key=TEST_KEY) as emu:
        provider = OpenAIProvider(api_key=TEST_KEY, base_url=emu.env["OPENAI_BASE_URL"])
        spec = CreateSpec(model="gpt-4.1-mini-2025-04-14", training_file=write_chat(tmp_path / "d.jsonl"))
        flow = create_flow(
            spec,
            provider=provider,
            store=JobStore(tmp_path / "store.db"),
            now=datetime(2027, 2, 1, tzinfo=UTC),
        )
        with pytest.raises(TrainingUnavailableError, match="2027-01-06"):
            run_sync(flow)
        assert sum(emu.requests.values()) == 0  # not even a list: it failed before the network


def test_estimate_says_who_may_still_train(tmp_path: Path) -> None:
    from openai_helpers import write_chat

    from anytune import estimate

    est = estimate(write_chat(tmp_path / "t.jsonl"), provider="openai", model="gpt-4.1-mini-2025-04-14")
    assert any("2027-01-06" in n and "60 days" in n for n in est.notes)
