"""The I/O-free translation between anytune's types and OpenAI's JSON."""

from __future__ import annotations

import base64

import pytest
from anytune_openai._mapping import (
    REFERENCE_LEARNING_RATE,
    create_params,
    event_from,
    metrics_from_events,
    parse_result_file,
    snapshot_from,
)

from anytune.errors import ConfigurationError, UnsupportedError
from anytune.provider import CreateRequest, Hyperparameters, JobStatus, LoRA


def _job(status: str, **extra: object) -> dict[str, object]:
    return {
        "id": "ftjob-abc",
        "object": "fine_tuning.job",
        "model": "gpt-4o-mini-2024-07-18",
        "created_at": 1_700_000_000,
        "status": status,
        **extra,
    }


def test_supervised_request_maps_every_hyperparameter() -> None:
    params = create_params(
        CreateRequest(
            model="gpt-4.1-mini-2025-04-14",
            training_file="file-t",
            validation_file="file-v",
            hyperparameters=Hyperparameters(epochs=4, batch_size=8, learning_rate_multiplier=0.5),
            suffix="bot",
            seed=7,
            metadata={"team": "x"},
        )
    )
    assert params == {
        "model": "gpt-4.1-mini-2025-04-14",
        "training_file": "file-t",
        "validation_file": "file-v",
        "method": {
            "type": "supervised",
            "supervised": {
                "hyperparameters": {"n_epochs": 4, "batch_size": 8, "learning_rate_multiplier": 0.5}
            },
        },
        "suffix": "bot",
        "seed": 7,
        "metadata": {"team": "x"},
    }


def test_dpo_request_carries_beta_and_the_idempotency_key() -> None:
    params = create_params(
        CreateRequest(
            model="gpt-4o-2024-08-06",
            training_file="file-t",
            method="dpo",
            hyperparameters=Hyperparameters(beta=0.2),
            idempotency_key="key-1",
        )
    )
    assert params["method"] == {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}}
    assert params["metadata"] == {"anytune_idempotency_key": "key-1"}


def test_absolute_learning_rate_becomes_a_multiplier_by_the_documented_rule() -> None:
    params = create_params(
        CreateRequest(model="m", training_file="f", hyperparameters=Hyperparameters(learning_rate=2e-5))
    )
    hp = params["method"]["supervised"]["hyperparameters"]
    assert hp == {"learning_rate_multiplier": pytest.approx(2e-5 / REFERENCE_LEARNING_RATE)}
    assert hp["learning_rate_multiplier"] == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("hp", "method", "error"),
    [
        (Hyperparameters(lora=LoRA()), "sft", UnsupportedError),
        (Hyperparameters(warmup_ratio=0.1), "sft", UnsupportedError),
        (Hyperparameters(beta=0.1), "sft", ConfigurationError),
        (Hyperparameters(learning_rate=1e-5, learning_rate_multiplier=1.0), "sft", ConfigurationError),
    ],
)
def test_settings_openai_cannot_express_are_refused(
    hp: Hyperparameters, method: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        create_params(
            CreateRequest(
                model="m",
                training_file="f",
                method=method,  # type: ignore[arg-type]
                hyperparameters=hp,
            )
        )


def test_too_much_metadata_is_refused_before_sending() -> None:
    with pytest.raises(ConfigurationError, match="16"):
        create_params(
            CreateRequest(
                model="m", training_file="f", idempotency_key="k", metadata={f"k{i}": "v" for i in range(16)}
            )
        )


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("validating_files", JobStatus.VALIDATING),
        ("queued", JobStatus.QUEUED),
        ("running", JobStatus.RUNNING),
        ("succeeded", JobStatus.SUCCEEDED),
        ("failed", JobStatus.FAILED),
        ("cancelled", JobStatus.CANCELLED),
        ("paused", JobStatus.QUEUED),
        ("some_future_status", JobStatus.RUNNING),
    ],
)
def test_every_openai_status_maps(raw: str, status: JobStatus) -> None:
    snap = snapshot_from(_job(raw))
    assert snap.status is status
    if raw == "paused":
        assert snap.message and "paused" in snap.message
        assert not snap.status.terminal


def test_running_job_shows_openais_estimated_finish() -> None:
    snap = snapshot_from(_job("running", estimated_finish=1_700_003_600))
    assert snap.message == "OpenAI estimates it finishes at 2023-11-14 23:13 UTC"
    assert snapshot_from(_job("succeeded", estimated_finish=1_700_003_600)).message is None


def test_failed_job_carries_openais_error_object() -> None:
    snap = snapshot_from(
        _job(
            "failed",
            finished_at=1_700_000_100,
            error={
                "code": "invalid_training_file",
                "message": "line 3: no assistant message",
                "param": "training_file",
            },
        )
    )
    assert snap.error is not None
    assert (snap.error.code, snap.error.param) == ("invalid_training_file", "training_file")
    assert "line 3" in snap.error.message
    assert snap.finished_at is not None and snap.finished_at.timestamp() == 1_700_000_100


def test_succeeded_job_has_its_model_and_trained_tokens() -> None:
    snap = snapshot_from(
        _job(
            "succeeded",
            fine_tuned_model="ft:gpt-4o-mini:org::x1",
            trained_tokens=1234,
            metadata={"anytune_idempotency_key": "k"},
        )
    )
    assert snap.result is not None
    assert (snap.result.model, snap.result.trained_tokens) == ("ft:gpt-4o-mini:org::x1", 1234)
    assert snap.metadata == {"anytune_idempotency_key": "k"}
    assert snap.raw["id"] == "ftjob-abc"


CSV = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n2,1.5,0.6,,\n1,2.0,0.5,2.2,0.45\n"


def test_result_file_is_read_plain_or_base64() -> None:
    for content in (CSV, base64.b64encode(CSV.encode()), base64.b64encode(CSV.encode()).decode()):
        metrics = parse_result_file(content)
        assert [m.step for m in metrics] == [1, 2]
        assert metrics[0].train_loss == 2.0 and metrics[0].valid_loss == 2.2
        assert metrics[0].token_accuracy == 0.5
        assert metrics[0].extra == {"valid_mean_token_accuracy": 0.45}
        assert metrics[1].valid_loss is None


def test_newer_result_columns_map_too() -> None:
    text = "step,train_loss,train_mean_token_accuracy,full_valid_loss\n5,0.3,0.9,0.4\n"
    (metric,) = parse_result_file(text)
    assert (metric.step, metric.train_loss, metric.token_accuracy) == (5, 0.3, 0.9)
    assert metric.extra == {"full_valid_loss": 0.4}


def test_metrics_events_give_metrics_before_the_result_file() -> None:
    events = [
        event_from(
            {
                "id": f"e{i}",
                "created_at": 1_700_000_000 + i,
                "level": "info",
                "message": f"Step {i}",
                "type": "metrics",
                "data": {"step": i, "train_loss": 3.0 - i, "total_steps": 3},
            }
        )
        for i in (2, 1)
    ]
    events.append(event_from({"id": "x", "created_at": 1, "level": "info", "message": "hi"}))
    metrics = metrics_from_events(events)
    assert [(m.step, m.train_loss) for m in metrics] == [(1, 2.0), (2, 1.0)]
    assert metrics[0].extra == {"total_steps": 3.0}
