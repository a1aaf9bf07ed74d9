"""Fuzz the parsers of OpenAI's answers: whatever JSON comes back, the mappers return
anytune types or raise a typed ``ProviderError``, never a bare ``KeyError``."""

from __future__ import annotations

from typing import Any

from anytune_openai._mapping import (
    checkpoint_from,
    event_from,
    metrics_from_events,
    parse_result_file,
    snapshot_from,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from anytune.errors import ProviderError
from anytune.provider import JobSnapshot

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
STATUSES = ["validating_files", "queued", "running", "succeeded", "failed", "cancelled", "paused"]
job_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=30) | scalars,
        "status": st.sampled_from(STATUSES) | scalars,
        "model": scalars,
        "created_at": st.integers(min_value=-(2**40), max_value=2**40) | scalars,
        "finished_at": scalars,
        "fine_tuned_model": scalars,
        "trained_tokens": scalars,
        "error": json_values,
        "metadata": json_values,
        "result_files": json_values,
    },
)


def _typed(fn: Any, value: Any) -> Any:
    try:
        return fn(value)
    except ProviderError:
        return None


@settings(max_examples=300, deadline=None)
@given(job_like)
def test_any_job_object_maps_or_fails_typed(raw: dict[str, Any]) -> None:
    snap = _typed(snapshot_from, raw)
    if snap is not None:
        assert isinstance(snap, JobSnapshot)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in snap.metadata.items())


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_any_event_or_checkpoint_maps_or_fails_typed(a: Any, b: Any) -> None:
    for value in (a, b, {"id": "x", "created_at": a, "data": b, "type": "metrics"}):
        event = _typed(event_from, value)
        if event is not None:
            metrics_from_events([event])
        _typed(checkpoint_from, value)
        _typed(checkpoint_from, {"id": "c", "metrics": a, "step_number": b})


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_result_file_parses_or_fails_typed(content: str | bytes) -> None:
    metrics = _typed(parse_result_file, content)
    if metrics is not None:
        assert [m.step for m in metrics] == sorted(m.step for m in metrics)


@given(st.lists(st.tuples(st.integers(0, 10**6), st.floats(allow_nan=True)), max_size=20))
def test_csv_rows_with_any_numbers(rows: list[tuple[int, float]]) -> None:
    text = "step,train_loss\n" + "".join(f"{s},{v}\n" for s, v in rows)
    metrics = parse_result_file(text)
    assert len(metrics) == len(rows)
    assert all(m.train_loss is None or m.train_loss == m.train_loss for m in metrics)  # no NaN
