"""Providers own their vendor knowledge: a third-party provider installed through a real
entry point brings its own upload format, key shapes, SDK loggers and quickstart, and
the core uses them without knowing the provider (issue 12)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anytune import ConfigurationError, Job, _registry, convert, validate
from anytune.cli import app
from anytune.testing import write_chat_examples

#: A provider as a third party would write it: the fake provider's jobs, Acme's format.
ACME = textwrap.dedent('''
    from anytune.data import DataFormat, not_expressible
    from anytune.provider import Limits
    from anytune_fake import FakeProvider


    def _pairs(ex, issues):
        """One question and its answer per line: later turns are reported, never dropped silently."""
        users = [m for m in ex.messages if m.role == "user"]
        replies = [m for m in ex.messages if m.role == "assistant"]
        if len(users) > 1:
            not_expressible(issues, users[1].path, "acme-pairs", "more than one question")
        return {"prompt": users[0].content or "", "completion": replies[0].content or ""}


    class AcmeProvider(FakeProvider):
        name = "acme"
        data_formats = (DataFormat("acme-pairs", _pairs, source="test double"),)
        secret_patterns = (r"\\b(acme_live_)[A-Za-z0-9]{6,}",)
        secret_fields = ("x-acme-token",)
        loggers = ("acme_sdk",)

        def limits(self, model, method):
            return Limits(min_examples=1, max_tokens_per_example=4096, data_format="acme-pairs",
                          source="test double")

        @classmethod
        def quickstart(cls):
            return {"provider": cls.name, "ran": True}
''')


def install_acme(site: Path) -> Path:
    """``site`` holding the ``anytune-acme`` distribution, registered as pip would."""
    (site / "anytune_acme.py").write_text(ACME)
    dist = site / "anytune_acme-0.1.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: anytune-acme\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[anytune.providers]\nacme = anytune_acme:AcmeProvider\n")
    return site


@pytest.fixture
def acme(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = install_acme(tmp_path_factory.mktemp("acme-site"))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    importlib.invalidate_caches()
    _registry.refresh()
    yield site
    _registry.refresh()  # read again once monkeypatch has taken the site off sys.path


def cli(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def two_records(path: Path) -> Path:
    path.write_text(
        '{"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}\n'
        '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},'
        ' {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]}\n'
    )
    return path


# --- data formats --------------------------------------------------------------------
def test_anytune_convert_writes_a_format_only_the_provider_knows(acme: Path, isolated: Path) -> None:
    out = isolated / "out.jsonl"
    code, doc = cli("convert", str(two_records(isolated / "in.jsonl")), "--to", "acme-pairs", "-o", str(out))
    # Both written; a lost turn changes what is trained, so the exit code says 1, as for any format.
    assert code == 1 and doc["records"] == 2 and doc["skipped"] == 0
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"prompt": "2+2?", "completion": "4"}, {"prompt": "a", "completion": "b"}]
    # What the format cannot carry is a loss with its line, as for the core's formats.
    assert [(p["line"], p["code"]) for p in doc["losses"]] == [(2, "not_expressible")]
    assert "acme-pairs cannot express more than one question" in doc["losses"][0]["message"]


def test_an_unknown_format_names_the_installed_ones(acme: Path, isolated: Path) -> None:
    code, doc = cli("convert", str(two_records(isolated / "in.jsonl")), "--to", "gguf", "-o", "x.jsonl")
    assert code == 2 and doc["error"]["type"] == "ConfigurationError"
    assert "acme-pairs" in doc["error"]["message"] and "openai" in doc["error"]["message"]
    assert not (isolated / "x.jsonl").exists()


def test_job_create_uploads_the_data_in_the_providers_format(acme: Path, isolated: Path) -> None:
    data = isolated / "train.jsonl"
    turns = [[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]
             for i in range(3)]
    data.write_text("".join(json.dumps({"messages": t}) + "\n" for t in turns))
    Job.create(provider="acme", model="fake-small", training_file=data)
    state = json.loads(Path(os.environ["ANYTUNE_FAKE_STATE"]).read_text())
    (job,) = state["jobs"].values()
    uploaded = state["files"][job["request"]["training_file"]]
    assert [json.loads(line) for line in uploaded.splitlines()] == [
        {"prompt": f"q{i}", "completion": f"a{i}"} for i in range(3)]


def test_a_provider_naming_a_format_nobody_offers_is_refused_before_any_upload(isolated: Path) -> None:
    from anytune_fake import FakeProvider  # type: ignore[import-not-found]

    from anytune.provider import Limits

    class Misnamed(FakeProvider):  # type: ignore[misc]
        name = "misnamed"

        def limits(self, model: str, method: str) -> Limits:
            return Limits(data_format="nowhere")

    with pytest.raises(ConfigurationError, match="unknown target format 'nowhere'"):
        validate(write_chat_examples(isolated / "t.jsonl"), provider=Misnamed(), model="fake-small")
    assert not Path(os.environ["ANYTUNE_FAKE_STATE"]).exists()  # nothing reached the provider


def test_the_moved_vendor_formats_are_still_offered() -> None:
    from anytune.data import data_formats

    formats = data_formats()
    assert {"openai", "alpaca", "together", "vertex"} <= set(formats)
    assert formats["together"].text and not formats["vertex"].text  # Together's {"text"} lines
    done = convert([{"text": "raw"}], to="together")
    assert done.data == [{"text": "raw"}]


# --- secrets and loggers ----------------------------------------------------------------
LOG_PROBE = textwrap.dedent('''
    import logging
    from anytune.errors import redact
    from anytune._log import setup_logging
    setup_logging("debug")
    logging.getLogger("acme_sdk").debug("sent %s", {"x-acme-token": "tok-0123456789abcdef"})
    print(redact("Incorrect key acme_live_Zz9Yy8Xx7Ww6"))
''')


def probe(site: Path | None, fake_site: Path) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(str(p) for p in (site, fake_site) if p is not None)
    env = {k: v for k, v in os.environ.items() if k != "ANYTUNE_LOG"}
    return subprocess.run([sys.executable, "-c", LOG_PROBE], env={**env, "PYTHONPATH": path},
                          capture_output=True, text=True, timeout=120, check=True)


def test_a_providers_key_shapes_fields_and_loggers_come_from_the_provider(
    tmp_path: Path, fake_site: Path
) -> None:
    (tmp_path / "acme").mkdir()
    with_acme = probe(install_acme(tmp_path / "acme"), fake_site)
    assert "DEBUG acme_sdk: sent" in with_acme.stderr  # its SDK logger goes through anytune's handler
    assert "tok-0123456789abcdef" not in with_acme.stderr and "[REDACTED]" in with_acme.stderr
    assert with_acme.stdout.strip() == "Incorrect key acme_live_[REDACTED]"
    # Without the provider installed, the core knows neither its logger nor its key shape.
    without = probe(None, fake_site)
    assert "acme_sdk" not in without.stderr
    assert without.stdout.strip() == "Incorrect key acme_live_Zz9Yy8Xx7Ww6"


def test_a_malformed_key_shape_from_a_provider_does_not_break_redaction() -> None:
    from anytune.errors import redact
    from anytune.provider import Provider

    class Sloppy(Provider):
        name = "sloppy"
        secret_patterns = ("(unclosed", r"\b(slp_)[a-z0-9]{6,}")

    assert redact("keys slp_abcdef123 and Authorization: Bearer tok-123456789") == (
        "keys slp_[REDACTED] and Authorization: [REDACTED]")


# --- quickstart -------------------------------------------------------------------------
def test_quickstart_runs_the_named_providers_hook(acme: Path) -> None:
    assert cli("quickstart", "--provider", "acme") == (0, {"provider": "acme", "ran": True})


def test_quickstart_defaults_to_the_first_installed_provider_that_offers_one(acme: Path) -> None:
    # "acme" sorts before "local": with both installed, acme's runs (name order).
    assert cli("quickstart") == (0, {"provider": "acme", "ran": True})


def test_quickstart_on_a_provider_without_one_is_unsupported() -> None:
    code, doc = cli("quickstart", "--provider", "fake")
    assert code == 2 and doc["error"]["type"] == "UnsupportedError"
    assert "'fake'" in doc["error"]["message"] and "quickstart" in doc["error"]["message"]
