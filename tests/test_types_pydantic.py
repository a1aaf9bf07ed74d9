"""The public types are pydantic v2 models (issue 12): keyword-only, frozen, unknown
fields refused, every bad value a ConfigurationError naming the field, and JSON round
trips through ``model_dump_json``/``model_validate_json`` and ``model_json_schema``."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from anytune import (
    ConfigurationError,
    Estimate,
    Hyperparameters,
    JobEvent,
    JobStatus,
    LoRA,
    Metric,
    ModelInfo,
    Problem,
)
from anytune._checks import InvalidOptionError
from anytune._types import CreateRequest, JobError, JobResult, JobSnapshot

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_hyperparameters_read_lora_from_a_dict_and_check_it_in_the_one_place() -> None:
    hp = Hyperparameters(epochs=2, lora={"r": 8})  # type: ignore[arg-type]
    assert hp.lora == LoRA(r=8)
    cases = (({"r": 0}, "at least 1"), ({"r": True}, "got bool"), ({"alpha": 2.0}, "got a float"))
    for bad, allowed in cases:
        with pytest.raises(InvalidOptionError) as info:
            Hyperparameters(lora=bad)  # type: ignore[arg-type]
        assert info.value.field == f"lora.{next(iter(bad))}" and allowed in str(info.value)


def test_an_unknown_field_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        Hyperparameters(epoch=3)  # type: ignore[call-arg]
    assert isinstance(info.value, InvalidOptionError)
    assert info.value.field == "Hyperparameters.epoch" and "epochs" in info.value.allowed


@pytest.mark.parametrize(
    ("build", "field", "value"),
    [
        (lambda: Metric(step="ten"), "Metric.step", "ten"),
        (lambda: Metric(), "Metric.step", None),
        (lambda: JobSnapshot(id="j", status="exploded", model="m"), "JobSnapshot.status", "exploded"),
        (lambda: JobEvent(created_at="yesterday", message="m"), "JobEvent.created_at", "yesterday"),
        (lambda: Problem(code="c", message="m", severity="fatal"), "Problem.severity", "fatal"),
        (lambda: CreateRequest(model="m", training_file="f", method="ppo"), "CreateRequest.method", "ppo"),
    ],
)
def test_bad_values_of_any_type_are_a_configuration_error_naming_field_and_value(
    build: Any, field: str, value: Any
) -> None:
    with pytest.raises(InvalidOptionError) as info:
        build()
    err = info.value
    assert err.field == field and err.value == value
    assert str(err).startswith(f"{field}={value!r} is not allowed: ")
    assert isinstance(err, ValueError)  # a provider's malformed-answer guard still catches it


def test_positional_arguments_are_refused_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match=r"Metric\(\.\.\.\) takes keyword arguments only"):
        Metric(3)  # type: ignore[misc]


def test_types_are_frozen_and_copied_with_model_copy() -> None:
    est = Estimate(provider="p", model="m", method="sft", records=1, tokens_per_epoch=10, epochs=2,
                   trained_tokens=20, cost_usd=0.5)
    with pytest.raises(Exception, match="frozen"):
        est.epochs = 3  # type: ignore[misc]
    assert est.model_copy(update={"notes": ("n",)}).notes == ("n",) and est.notes == ()


def test_snapshot_json_round_trip_keeps_values_and_leaves_raw_out() -> None:
    snap = JobSnapshot(id="ft-1", status=JobStatus.SUCCEEDED, model="m", created_at=WHEN,
                       result=JobResult(model="m:ft", trained_tokens=100), error=None,
                       metadata={"k": "v"}, raw=object())
    doc = snap.to_dict()
    assert doc["created_at"] == WHEN.isoformat() and doc["status"] == "succeeded"
    assert "raw" not in doc and doc == snap.model_dump(mode="json")
    back = JobSnapshot.model_validate_json(snap.model_dump_json())
    assert back == snap  # raw (a vendor object) is not compared
    jsonschema.validate(doc, JobSnapshot.model_json_schema(mode="serialization"))


def test_to_dict_is_json_ready_for_free_form_data_and_drops_unset_problem_element() -> None:
    event = JobEvent(created_at=WHEN, message="m", data={"path": object(), "n": 1})
    assert event.to_dict()["data"]["n"] == 1 and isinstance(event.to_dict()["data"]["path"], str)
    assert "element" not in Problem(code="c", message="m").to_dict()
    assert Problem(code="c", message="m", element=4).to_dict()["element"] == 4
    info = ModelInfo(provider="p", model="m", methods=("sft", "dpo"))
    assert info.to_dict()["methods"] == ["sft", "dpo"]
    assert JobError.model_validate({"message": "boom"}).code is None


def test_model_validate_maps_errors_too() -> None:
    with pytest.raises(InvalidOptionError) as info:
        Hyperparameters.model_validate({"epochs": 0})
    assert info.value.field == "epochs"
    with pytest.raises(InvalidOptionError):
        Hyperparameters.model_validate_json('{"lora": {"dropout": 1.5}}')


def test_import_anytune_loads_no_pydantic_until_a_type_is_used() -> None:
    code = (
        "import sys, anytune, anytune.cli\n"  # the CLI too: `anytune --help` stays quick
        "assert 'pydantic' not in sys.modules and 'anytune.job' not in sys.modules\n"
        "hp = anytune.Hyperparameters(epochs=1)\n"
        "assert 'pydantic' in sys.modules and anytune.Job is anytune.FineTuneJob\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ))


def test_a_stored_estimate_from_another_version_is_read_or_left_out() -> None:
    from types import SimpleNamespace

    from anytune._jobbase import _estimate_from

    est = Estimate(provider="p", model="m", method="sft", records=1, tokens_per_epoch=10, epochs=2,
                   trained_tokens=20, cost_usd=None, notes=("n",))
    stored = {**est.to_dict(), "field_of_a_later_version": 1}
    assert _estimate_from(SimpleNamespace(estimate=stored)) == est  # type: ignore[arg-type]
    # A required field missing: the job is shown without its estimate, not a crash.
    assert _estimate_from(SimpleNamespace(estimate={"provider": "p"})) is None  # type: ignore[arg-type]
