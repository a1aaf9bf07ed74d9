"""Property tests: whatever bytes or JSON arrive, ``validate`` returns a report or
raises :class:`DatasetError`; nothing else escapes."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from preflight_helpers import OpenAILike

from anytune import DatasetError, convert, validate
from anytune._preflight import ValidationReport

PROVIDER = OpenAILike(min_examples=1, max_tokens=200)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
role = st.sampled_from(["system", "user", "assistant", "tool", "model", "developer", "x", None, 3])
message = st.fixed_dictionaries(
    {},
    optional={
        "role": role,
        "content": json_values | st.text(max_size=30),
        "weight": json_values,
        "name": json_values,
        "tool_calls": json_values,
        "tool_call_id": json_values,
    },
)
shaped = st.one_of(
    st.fixed_dictionaries({"messages": st.lists(message, max_size=5)}, optional={"tools": json_values}),
    st.fixed_dictionaries(
        {
            "input": st.fixed_dictionaries({"messages": st.lists(message, max_size=3)}),
            "preferred_output": st.lists(message, max_size=2),
            "non_preferred_output": st.lists(message, max_size=2),
        }
    ),
    st.fixed_dictionaries({"prompt": json_values, "chosen": json_values, "rejected": json_values}),
    st.fixed_dictionaries(
        {"instruction": json_values, "output": json_values}, optional={"input": json_values}
    ),
    st.fixed_dictionaries({"conversations": json_values}, optional={"chosen": json_values}),
    st.fixed_dictionaries(
        {"contents": json_values}, optional={"systemInstruction": json_values, "completions": json_values}
    ),
)


def _check(result: ValidationReport) -> None:
    assert isinstance(result, ValidationReport)
    for p in result.errors + result.warnings:
        assert p.code and p.message
    json.dumps(result.to_dict())  # always serialisable for --json


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "any.jsonl"
    path.write_bytes(data)
    for method in ("sft", "dpo"):
        try:
            _check(validate(path, provider=PROVIDER, model="m", method=method))
        except DatasetError:
            pass


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from([".json", ".jsonl.gz", ".jsonl"]))
def test_arbitrary_bytes_as_other_file_kinds(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"any{suffix}"
    path.write_bytes(data)
    try:
        _check(validate(path, provider=PROVIDER, model="m"))
    except DatasetError:
        pass


@SETTINGS
@given(st.lists(json_values | shaped, max_size=6))
def test_arbitrary_json_records(records: list) -> None:
    for method in ("sft", "dpo"):
        _check(validate(records, provider=PROVIDER, model="m", method=method))
    for fmt in ("openai", "together", "vertex"):
        _check(validate(records, provider=OpenAILike(min_examples=1, fmt=fmt), model="m"))


@SETTINGS
@given(st.lists(shaped, max_size=4), st.sampled_from(["openai", "together", "vertex", "alpaca"]))
def test_arbitrary_records_convert(records: list, target: str) -> None:
    report = convert(records, to=target)
    assert report.records + report.skipped == len(records)
    json.dumps(report.to_dict())
    json.dumps(report.data)


@SETTINGS
@given(st.lists(json_values | shaped, max_size=6), st.sampled_from(["sft", "dpo"]))
def test_arbitrary_records_estimate(records: list, method: str) -> None:
    from anytune import estimate

    est = estimate(records, provider=PROVIDER, model="m", method=method, epochs=2)
    assert est.records <= len(records)
    assert est.trained_tokens == 2 * est.tokens_per_epoch >= 0
    json.dumps(est.to_dict())
