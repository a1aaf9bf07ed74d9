"""The catalog every provider answers through (``anytune.catalog``): the ``models --json``
shape, tunable-today and retired flags, where refreshed catalogs are kept, and the
closest-name hint for a mistyped model."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anytune import _registry
from anytune.catalog import cache_dir, closest, read_cache, rows
from anytune.cli import app

DESIGN_KEYS = {"provider", "model", "methods", "limits", "price_per_million_tokens", "price_source",
               "price_as_of", "retirement_date", "retired", "refreshed_at"}


def _models_json(*args: str) -> list[dict]:
    result = CliRunner().invoke(app, ["models", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_models_json_has_the_design_shape_and_a_model_tunable_today_per_provider() -> None:
    docs = _models_json()
    assert docs and all(DESIGN_KEYS <= set(d) for d in docs)
    today = date.today().isoformat()
    for d in docs:
        assert set(d["limits"]) == set(d["methods"])  # limits per method
        past = d["retirement_date"] is not None and d["retirement_date"] <= today
        assert d["retired"] is past, d  # nothing past its date without retired: true
    for name in _registry.available():
        if not getattr(_registry.provider_class(name), "closed_catalog", False):
            continue  # local: whatever models the user has
        mine = [d for d in docs if d["provider"] == name]
        assert any(not d["retired"] for d in mine), f"{name} lists no model tunable today"


def test_every_price_and_limit_carries_a_source_and_date() -> None:
    for d in _models_json():
        if d["price_per_million_tokens"]:
            assert d["price_source"] and d["price_as_of"], d
        else:
            assert d["provider"] == "fake" or d["price_note"], d  # no price: the reason
        if d["provider"] != "fake" and _registry.provider_class(d["provider"]).closed_catalog is not False:
            assert d["limits_source"] and d["limits_as_of"], d


def test_the_table_says_where_models_and_limits_come_from() -> None:
    result = CliRunner().invoke(app, ["models", "--provider", "fake"])
    assert result.exit_code == 0
    assert "models and limits of fake:" in result.stdout


def test_refreshed_catalogs_live_in_the_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYTUNE_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" / "catalog"
    monkeypatch.delenv("ANYTUNE_CACHE_DIR")
    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "h"))
    assert cache_dir() == tmp_path / "h" / "cache" / "catalog"  # moves with anytune's home


def test_an_unreadable_or_foreign_cache_file_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYTUNE_CACHE_DIR", str(tmp_path))
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "acme.json").write_text("{not json")
    assert read_cache("acme") is None
    (folder / "acme.json").write_text(json.dumps({"version": 999, "models": []}))
    assert read_cache("acme") is None


def test_rows_mark_retired_by_the_given_date() -> None:
    later = datetime(2100, 1, 1, tzinfo=timezone.utc)
    dated = [r for r in rows(now=later) if r["retirement_date"]]
    assert dated and all(r["retired"] for r in dated)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"), ("qwen3.5-9b", "Qwen/Qwen3.5-9B"),
     ("fake-smal", "fake-small")],
)
def test_closest_names(typed: str, expected: str) -> None:
    names = ["gpt-4.1-mini-2025-04-14", "gpt-4o-2024-08-06", "Qwen/Qwen3.5-9B", "Qwen/Qwen3-8B", "fake-small"]
    assert closest(typed, names)[0] == expected


def test_refreshing_every_provider_reports_each_and_stops_at_none(monkeypatch: pytest.MonkeyPatch) -> None:
    from anytune.catalog import refresh_catalog

    for var in ("OPENAI_API_KEY", "TOGETHER_API_KEY"):  # no vendor is asked in this test
        monkeypatch.delenv(var, raising=False)
    results = {r.provider: r for r in refresh_catalog()}
    assert set(results) == set(_registry.available())
    assert "nothing to refresh" in results["fake"].message  # trains whatever the user has
    for name, r in results.items():
        assert r.message.startswith(f"{name}: ") and r.path is None  # nothing written without a key
