"""The living catalog on OpenAI: ``anytune models --refresh`` asks ``GET /v1/models`` of the
emulator through the official SDK, the cache says which models the account still reaches,
and a retired model is refused before anything is uploaded unless the user overrides it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from anytune_openai import OpenAIProvider
from anytune_openai.emulator import OpenAIEmulator
from openai_helpers import TEST_KEY, write_chat

from anytune import InvalidRequestError, Job
from anytune.catalog import ModelRetiredError, read_cache, refresh_catalog

ANYTUNE = Path(sys.executable).parent / "anytune"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANYTUNE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.slow
def test_refresh_records_which_models_the_account_still_reaches(emulator: OpenAIEmulator) -> None:
    emulator.vendor.remove("gpt-4o-2024-08-06")  # gone for this account since the snapshot
    [result] = refresh_catalog("openai", api_key=TEST_KEY, base_url=emulator.env["OPENAI_BASE_URL"])
    assert result.provider == "openai" and result.refreshed_at and result.path
    doc = read_cache("openai")
    assert doc is not None and doc["refreshed_at"] == result.refreshed_at
    listed = {m.model: m.listed for m in OpenAIProvider().catalog()}
    assert listed["gpt-4.1-mini-2025-04-14"] is True
    assert listed["gpt-4o-2024-08-06"] is False
    # estimate says so, with the command that refreshes
    from anytune import estimate

    data = write_chat(Path(os.environ["ANYTUNE_CACHE_DIR"]).parent / "d.jsonl")
    est = estimate(str(data), provider="openai", model="gpt-4o-2024-08-06")
    assert any("not in openai's list" in n and "anytune models --refresh --provider openai" in n
               for n in est.notes)


@pytest.mark.slow
@pytest.mark.skipif(not ANYTUNE.exists(), reason="the anytune script is not installed")
def test_models_refresh_on_the_command_line(emulator: OpenAIEmulator, tmp_path: Path) -> None:
    env = {**os.environ, **emulator.env, "OPENAI_API_KEY": TEST_KEY}
    run = subprocess.run([str(ANYTUNE), "models", "--refresh", "--provider", "openai", "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert all(r["refreshed_at"] for r in rows)
    assert "GET " in run.stderr and "/models" in run.stderr  # what the refresh asked, on stderr
    nano = next(r for r in rows if r["model"] == "gpt-4.1-nano-2025-04-14")
    assert nano["retired"] is True and nano["listed_by_vendor"] is False


def test_retired_model_is_refused_before_upload_and_the_override_sends_it(
    emulator: OpenAIEmulator, tmp_path: Path
) -> None:
    data = write_chat(tmp_path / "train.jsonl")
    settings = {"api_key": TEST_KEY, "base_url": emulator.env["OPENAI_BASE_URL"]}
    with pytest.raises(ModelRetiredError, match="2026-10-23"):
        Job.create(provider="openai", model="gpt-4.1-nano-2025-04-14", training_file=str(data), **settings)
    assert emulator.counts.get("files_created", 0) == 0  # nothing uploaded
    # With the override the job goes to OpenAI, which has the last word (it refuses too).
    with pytest.raises(InvalidRequestError):
        Job.create(provider="openai", model="gpt-4.1-nano-2025-04-14", training_file=str(data),
                   allow_retired=True, **settings)
    assert emulator.counts.get("files_created", 0) >= 1


@pytest.mark.slow
@pytest.mark.skipif(not ANYTUNE.exists(), reason="the anytune script is not installed")
def test_allow_retired_on_the_command_line(tmp_path: Path) -> None:
    data = write_chat(tmp_path / "train.jsonl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=TEST_KEY, OPENAI_BASE_URL="http://127.0.0.1:9/v1")  # nothing listens
    args = [str(ANYTUNE), "create", str(data), "-p", "openai", "-m", "gpt-4.1-nano-2025-04-14", "--json"]
    refused = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 2 and "allow-retired" in json.loads(refused.stdout)["error"]["message"]
    # With the flag anytune goes on to the vendor (here: nothing listens, a provider error).
    sent = subprocess.run([*args, "--allow-retired"], capture_output=True, text=True, env=env, timeout=120)
    assert sent.returncode == 3, sent.stdout + sent.stderr
