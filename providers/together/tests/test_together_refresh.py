"""The living catalog on Together: ``anytune models --refresh`` asks the emulator's
``/v1/fine-tunes/models/supported`` and ``/models/limits`` through the official SDK, and
estimate/validate then use what Together says today: its list, its per-method context
lengths, its size bands for a model only it knows; an old catalog and an unknown or
delisted model are said, with the command that refreshes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from anytune_together import TogetherProvider
from anytune_together.emulator import TogetherEmulator
from together_helpers import MODEL

from anytune import estimate, refresh_catalog, validate
from anytune.catalog import STALE_AFTER_DAYS, find_notices, read_cache
from anytune.testing import write_chat_examples

NEW = "acme/Zeta-12B-Instruct"  # only the vendor's live list knows it
BAND = json.loads(Path(sys.modules["anytune_together"].__file__).with_name("models.json")  # type: ignore[arg-type]
                  .read_text("utf-8"))["price_bands"]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYTUNE_CACHE_DIR", str(tmp_path / "cache"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "anytune", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=180)


def _long_record(path: Path, chars: int) -> Path:
    """One chat example of about ``chars / 4`` tokens (the approximate count without a
    cached tokenizer)."""
    text = "word " * (chars // 5)
    path.write_text(json.dumps({"messages": [{"role": "user", "content": text},
                                             {"role": "assistant", "content": "ok"}]}) + "\n")
    return path


@pytest.mark.slow
def test_refresh_then_estimate_and_validate_use_the_vendors_list(
    env: TogetherEmulator, tmp_path: Path
) -> None:
    env.vendor.add(NEW, sft=16384, dpo=8192, full=False)
    data = write_chat_examples(tmp_path / "train.jsonl", 20)
    before = estimate(data, provider="together", model=NEW)
    assert any("not in together's catalog" in n for n in before.notes)

    run = _cli("models", "--refresh", "--provider", "together", "--json")
    assert run.returncode == 0, run.stderr
    rows = {r["model"]: r for r in json.loads(run.stdout)}
    assert "models/supported" in run.stderr  # the refresh says what it asked
    row = rows[NEW]
    assert row["refreshed_at"] and row["listed_by_vendor"] is True
    assert row["limits"] == {"sft": {"max_tokens_per_example": 16384},
                             "dpo": {"max_tokens_per_example": 8192}}
    doc = read_cache("together")
    assert doc is not None and doc["refreshed_at"] == row["refreshed_at"] and len(doc["models"]) == len(rows)

    est = json.loads(_cli("estimate", str(data), "-p", "together", "-m", NEW, "--json").stdout)
    rate = BAND[0]["price_per_million_tokens"]["lora"]["sft"]  # 12B: the first band
    assert est["cost_usd"] == pytest.approx(rate * est["trained_tokens"] / 1e6, abs=1e-6)
    assert est["price_source"] and est["price_as_of"]
    after = estimate(data, provider="together", model=NEW)
    assert not any("not in together's" in n for n in after.notes)

    # The vendor's per-method limits: a ~12k-token example fits SFT (16,384), not DPO (8,192).
    long = _long_record(tmp_path / "long.jsonl", 48_000)
    sft = validate(long, provider="together", model=NEW, method="sft")
    assert sft.ok and not [w for w in sft.warnings if w.code == "too_many_tokens"]
    prefs = tmp_path / "long-pref.jsonl"
    text = "word " * 9_600
    prefs.write_text(json.dumps({"input": {"messages": [{"role": "user", "content": text}]},
                                 "preferred_output": [{"role": "assistant", "content": "yes"}],
                                 "non_preferred_output": [{"role": "assistant", "content": "no"}]}) + "\n")
    dpo = validate(prefs, provider="together", model=NEW, method="dpo")
    assert any(w.code == "too_many_tokens" and "8192" in w.message for w in dpo.warnings)


def test_a_model_the_vendor_no_longer_lists_is_flagged(env: TogetherEmulator, tmp_path: Path) -> None:
    gone = "Qwen/Qwen3-32B"
    env.vendor.remove(gone)
    [result] = refresh_catalog("together")
    assert result.models is not None and result.path
    info = TogetherProvider().model_info(gone)
    assert info is not None and info.listed is False
    est = estimate(write_chat_examples(tmp_path / "t.jsonl", 5), provider="together", model=gone)
    assert sum("not in together's list" in n for n in est.notes) == 1  # said once
    assert any("anytune models --refresh --provider together" in n for n in est.notes)


def test_an_old_catalog_is_said_with_the_refresh_command(
    env: TogetherEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh_catalog("together", now=datetime(2026, 6, 1, tzinfo=timezone.utc))
    data = write_chat_examples(tmp_path / "t.jsonl", 5)
    report = validate(data, provider="together", model=MODEL)
    stale = [w for w in report.warnings if w.code == "catalog_stale"]
    assert len(stale) == 1 and "anytune models --refresh --provider together" in stale[0].message
    assert report.ok  # a warning, not an error
    refresh_catalog("together")  # fresh again: nothing to say
    again = validate(data, provider="together", model=MODEL)
    assert not [w for w in again.warnings if w.code == "catalog_stale"]
    # The packaged snapshot ages too: 90 days after its date it is flagged.
    p = TogetherProvider()
    monkeypatch.setenv("ANYTUNE_CACHE_DIR", str(tmp_path / "empty"))
    as_of = p.model_info(MODEL).limits_as_of  # type: ignore[union-attr]
    late = datetime.fromisoformat(f"{as_of}T00:00:00+00:00")
    assert not find_notices(p, MODEL, now=late + timedelta(days=STALE_AFTER_DAYS))
    assert [n.code for n in find_notices(p, MODEL, now=late + timedelta(days=STALE_AFTER_DAYS + 1))] == [
        "catalog_stale"]


def test_unlisted_model_is_priced_by_its_size_band_or_unknown_with_the_reason(tmp_path: Path) -> None:
    data = write_chat_examples(tmp_path / "t.jsonl", 8)
    est = estimate(data, provider="together", model="acme/Other-30B-Instruct")
    rate = BAND[1]["price_per_million_tokens"]["lora"]["sft"]  # 30B: the 16.1B-69B band
    assert est.cost_usd == pytest.approx(rate * est.trained_tokens / 1e6, abs=1e-6)
    assert est.price_source and est.price_as_of
    assert any("size band" in n and "30B" in n for n in est.notes)
    # No size anywhere: no price, and the estimate says why instead of "None as of None".
    glm = estimate(data, provider="together", model="zai-org/GLM-5.1")
    assert glm.cost_usd is None and glm.price_source is None and glm.price_as_of is None
    assert any("no size" in n for n in glm.notes)
    run = _cli("estimate", str(data), "-p", "together", "-m", "zai-org/GLM-5.1")
    assert run.returncode == 0, run.stderr
    assert "cost: unknown" in run.stdout and "None" not in run.stdout
    # Above the largest published band: unknown too, and why.
    big = estimate(data, provider="together", model="Qwen/Qwen3.5-397B-A17B")
    assert big.cost_usd is None and any("above Together's largest published band" in n for n in big.notes)


def test_unknown_model_points_to_the_closest_names(tmp_path: Path) -> None:
    data = write_chat_examples(tmp_path / "t.jsonl", 3)
    report = validate(data, provider="together", model="Qwen/Qwen3.5-9b")
    [unknown] = [w for w in report.warnings if w.code == "unknown_model"]
    assert "Qwen/Qwen3.5-9B" in unknown.message and "anytune models --provider together" in unknown.message
