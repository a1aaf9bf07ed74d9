"""Every hyperparameter and option is checked once, where it enters (issue 16): the
Python API and the CLI give the same typed ConfigurationError (CLI exit 2, no traceback)
naming the field, the value and what is allowed. Zero is never a silent default."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anytune import ConfigurationError, Hyperparameters, Job, LoRA, estimate
from anytune._checks import InvalidOptionError
from anytune.cli import app
from anytune.testing import write_chat_examples


@pytest.fixture
def data(isolated: Path) -> Path:
    return write_chat_examples(isolated / "train.jsonl", 12)


def cli(*args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(app, [*args, "--json"])
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        doc = result.stdout
    # An uncaught exception would be a traceback for a user: never acceptable here.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, doc, result.output


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"epochs": "3"}, "epochs", "got str"),
        ({"epochs": 0}, "epochs", "at least 1"),
        ({"epochs": -3}, "epochs", "at least 1"),
        ({"epochs": True}, "epochs", "got bool"),
        ({"epochs": 2.5}, "epochs", "got a float"),
        ({"batch_size": 0}, "batch_size", "at least 1"),
        ({"learning_rate": 0.0}, "learning_rate", "above 0"),
        ({"learning_rate": math.nan}, "learning_rate", "above 0"),
        ({"learning_rate": math.inf}, "learning_rate", "above 0"),
        ({"learning_rate_multiplier": -1}, "learning_rate_multiplier", "above 0"),
        ({"beta": "0.1"}, "beta", "got str"),
        ({"warmup_ratio": 1.0}, "warmup_ratio", "up to (not including) 1"),
        ({"lora": 8}, "lora", "anytune.LoRA"),
    ],
)
def test_hyperparameters_refuse_bad_values_with_field_value_and_rule(
    kwargs: dict[str, Any], field: str, allowed: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        Hyperparameters(**kwargs)
    err = info.value
    assert isinstance(err, InvalidOptionError) and err.field == field
    text = str(err)
    assert text.startswith(f"{field}={next(iter(kwargs.values()))!r} is not allowed")
    assert allowed in text
    # Still a ValueError for code written against the earlier behaviour.
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"r": 0}, "lora.r"), ({"alpha": "32"}, "lora.alpha"), ({"dropout": 1.0}, "lora.dropout"),
     ({"target_modules": ()}, "lora.target_modules"), ({"target_modules": " "}, "lora.target_modules")],
)
def test_lora_refuses_bad_values(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidOptionError) as info:
        LoRA(**kwargs)
    assert info.value.field == field


def test_good_values_and_none_pass() -> None:
    hp = Hyperparameters(epochs=1, batch_size=8, learning_rate=1e-5, warmup_ratio=0.0,
                         lora=LoRA(r=4, alpha=8, dropout=0.0, target_modules=("q_proj",)))
    assert hp.epochs == 1 and Hyperparameters().epochs is None


@pytest.mark.parametrize("epochs", [0, -3])
def test_estimate_refuses_bad_epochs_in_python(data: Path, epochs: int) -> None:
    with pytest.raises(InvalidOptionError, match=rf"epochs={epochs} is not allowed"):
        estimate(data, provider="fake", model="fake-small", epochs=epochs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_cost_usd": -1}, "max_cost_usd"),
        ({"max_cost_usd": "15"}, "max_cost_usd"),
        ({"seed": -1}, "seed"),
        ({"validation_split": 1.5}, "validation_split"),
        ({"validation_split": 0}, "validation_split"),
        ({"hyperparameters": {"epochs": 3}}, "hyperparameters"),
        ({"suffix": "../escape"}, "suffix"),
        ({"method": "ppo"}, "method"),
    ],
)
def test_create_refuses_bad_options_before_any_call(data: Path, kwargs: dict[str, Any], field: str,
                                                     isolated: Path) -> None:
    with pytest.raises(InvalidOptionError) as info:
        Job.create(provider="fake", model="fake-small", training_file=data, **kwargs)
    assert info.value.field == field
    state = isolated / "fake-state.json"  # the provider was never asked anything
    assert not state.exists() or json.loads(state.read_text() or "{}").get("calls", {}) == {}


def test_list_and_wait_check_their_numbers(data: Path) -> None:
    with pytest.raises(InvalidOptionError, match="limit=0"):
        Job.list(limit=0)
    job = Job.create(provider="fake", model="fake-small", training_file=data, progress=False)
    with pytest.raises(InvalidOptionError, match="timeout=-1"):
        job.wait(timeout=-1)


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "{data}", "-p", "fake", "-m", "fake-small", "--epochs", "-3"],
        ["estimate", "{data}", "-p", "fake", "-m", "fake-small", "--epochs", "0"],
        ["create", "{data}", "-p", "fake", "-m", "fake-small", "--epochs", "-3"],
        ["create", "{data}", "-p", "fake", "-m", "fake-small", "--epochs", "0"],
        ["create", "{data}", "-p", "fake", "-m", "fake-small", "--max-cost", "-1"],
        ["create", "{data}", "-p", "fake", "-m", "fake-small", "--method", "ppo"],
        ["list", "--limit", "0"],
        ["wait", "fake:ft-1", "--timeout", "-5"],
        ["sandbox", "fake", "--port", "70000"],
    ],
)
def test_cli_exits_2_with_a_json_error_naming_the_field(data: Path, args: list[str],
                                                        isolated: Path) -> None:
    code, doc, _ = cli(*[a.format(data=data) for a in args])
    assert code == 2, doc
    err = doc["error"]
    assert err["type"] == "InvalidOptionError" and "is not allowed" in err["message"]
    assert args[args.index(next(a for a in args if a.startswith("--") and a != "--json")) + 1] \
        in err["value"]
    assert not (isolated / "fake-state.json").exists(), "nothing was uploaded or created"


def test_cli_human_error_has_no_traceback(data: Path) -> None:
    result = CliRunner().invoke(app, ["create", str(data), "-p", "fake", "-m", "fake-small",
                                      "--epochs", "-3"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "epochs=-3 is not allowed: a whole number of at least 1" in result.output


def test_a_bad_profile_value_names_the_profile(data: Path) -> None:
    Path("anytune.toml").write_text(
        'default_profile = "dev"\n[profiles.dev]\nprovider = "fake"\nepochs = 0\n')
    with pytest.raises(ConfigurationError, match=r"anytune.toml.*epochs=0 is not allowed"):
        Job.create(model="fake-small", training_file=data)
