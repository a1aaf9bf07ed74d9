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
suffix = "from-profile"
seed = 7

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
    request = job.provider_raw["request"]
    assert request["hyperparameters"]["epochs"] == 2
    assert (request["suffix"], request["seed"]) == ("from-profile", 7)
    other = Job.create(training_file=write_chat_examples(project / "u.jsonl"), suffix="explicit")
    assert other.provider_raw["request"]["suffix"] == "explicit"


def test_environment_beats_profile_and_argument_beats_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prof = load_profile()
    assert resolve_provider(None, prof) == "fake"
    monkeypatch.setenv("ANYTUNE_PROVIDER", "from-env")
    assert resolve_provider(None, prof) == "from-env"
    assert resolve_provider("from-arg", prof) == "from-arg"


def test_empty_environment_is_unset_and_a_non_string_provider_names_the_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYTUNE_PROVIDER", "")
    monkeypatch.setenv("ANYTUNE_PROFILE", "")
    assert resolve_provider(None, load_profile()) == "fake"
    (project / "anytune.toml").write_text("[profiles.x]\nprovider = 3\n")
    with pytest.raises(ConfigurationError, match=r"anytune\.toml: profile 'x': provider must be a string"):
        resolve_provider(None, load_profile("x"))


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


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_fuzz_config_bytes_give_a_profile_or_a_configuration_error(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "anytune.toml"
    path.write_bytes(raw)
    try:
        load_profile(paths=[path])
    except ConfigurationError as exc:
        assert str(path) in str(exc)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(st.sampled_from(["profiles", "default_profile", "x"]), toml_values, max_size=3),
       name=st.one_of(st.none(), st.text(max_size=5)))
def test_fuzz_config_structures_give_a_profile_or_a_configuration_error(
    doc: dict, name: str | None, tmp_path: Path  # type: ignore[type-arg]
) -> None:
    import json

    path = tmp_path / "anytune.toml"
    # JSON-ish values written as TOML through a tiny writer: only what TOML can hold.
    lines = []
    for key, value in doc.items():
        if value is None or isinstance(value, (dict, list)):
            continue
        lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        prof = load_profile(name or None, paths=[path])
        assert isinstance(prof.values, dict)
    except ConfigurationError:
        pass


def test_wrong_types_in_a_profile_are_configuration_errors(project: Path) -> None:
    data = write_chat_examples(project / "t.jsonl")
    head = '[profiles.x]\nprovider = "fake"\nmodel = "fake-small"\n'
    (project / "anytune.toml").write_text(head + 'epochs = "three"\n')
    with pytest.raises(ConfigurationError, match=r"anytune\.toml"):
        Job.create(training_file=data, profile="x")
    (project / "anytune.toml").write_text(head + 'max_cost_usd = "lots"\n')
    with pytest.raises(ConfigurationError, match="max_cost_usd"):
        Job.create(training_file=data, profile="x")
