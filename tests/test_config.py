"""Configuration precedence: argument > environment > profile file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from anytune import ConfigurationError, Job
from anytune._config import anytune_home, load_profile, resolve_provider
from anytune.testing import write_chat_examples

TOML = """
default_profile = "dev"

[profiles.dev]
provider = "fake"
model = "fake-small"
epochs = 2
job_seconds = 0.5

[profiles.prod]
provider = "openai"
model = "gpt-4.1-mini-2025-04-14"
"""


@pytest.fixture
def project(isolated: Path) -> Path:
    (isolated / "anytune.toml").write_text(TOML)
    return isolated


def test_profile_file_fills_what_arguments_leave_out(project: Path) -> None:
    job = Job.create(training_file=write_chat_examples(project / "t.jsonl"))
    assert job.provider == "fake" and job.model == "fake-small"
    assert job.provider_raw["request"]["hyperparameters"]["epochs"] == 2


def test_environment_beats_profile_and_argument_beats_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prof = load_profile()
    assert resolve_provider(None, prof) == "fake"
    monkeypatch.setenv("ANYTUNE_PROVIDER", "from-env")
    assert resolve_provider(None, prof) == "from-env"
    assert resolve_provider("from-arg", prof) == "from-arg"


def test_anytune_profile_picks_a_profile(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYTUNE_PROFILE", "prod")
    assert load_profile().get("model") == "gpt-4.1-mini-2025-04-14"
    assert load_profile("dev").get("model") == "fake-small"  # argument beats env


def test_missing_profile_and_bad_toml_say_which_file(project: Path) -> None:
    with pytest.raises(ConfigurationError, match="no profile 'nope'"):
        load_profile("nope")
    (project / "anytune.toml").write_text("profiles = [\n")
    with pytest.raises(ConfigurationError, match=r"anytune\.toml: invalid TOML"):
        load_profile()


def test_no_provider_anywhere_is_a_clear_error(isolated: Path) -> None:
    with pytest.raises(ConfigurationError, match="ANYTUNE_PROVIDER"):
        Job.create(model="m", training_file=write_chat_examples(isolated / "t.jsonl"))


def test_profile_key_the_provider_does_not_take_is_refused(project: Path) -> None:
    (project / "anytune.toml").write_text('[profiles.x]\nprovider = "fake"\nmodel = "fake-small"\ngpu = 3\n')
    with pytest.raises(ConfigurationError, match=r"'gpu'"):
        Job.create(training_file=write_chat_examples(project / "t.jsonl"), profile="x")


def test_anytune_home_moves_the_store(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYTUNE_HOME", str(isolated / "elsewhere"))
    assert anytune_home() == isolated / "elsewhere"
    assert (isolated / "elsewhere").is_dir()
