"""The rules of ``anytune doctor`` on synthetic loss curves (cheap; the real local run that
overfits is in providers/local/tests/test_local_after.py)."""

from __future__ import annotations

import math

from anytune._doctor import diagnose, nearest_checkpoint
from anytune._types import Checkpoint, Metric


def _run(train: list[float], valid: dict[int, float] | None = None) -> list[Metric]:
    valid = valid or {}
    return [Metric(step=i + 1, train_loss=v, valid_loss=valid.get(i + 1)) for i, v in enumerate(train)]


def _falling(n: int, start: float = 3.0, rate: float = 0.9) -> list[float]:
    return [start * rate**i for i in range(n)]


def _ckpts(*steps: int) -> list[Checkpoint]:
    return [Checkpoint(id=f"c{s}", step=s, model=f"/ckpt/checkpoint-{s}") for s in steps]


def test_a_healthy_run_has_no_finding() -> None:
    train = _falling(30)
    valid = {10: 1.5, 20: 1.0, 30: 0.8}
    d = diagnose(_run(train, valid), _ckpts(10, 20, 30))
    assert d.findings == [] and d.ok
    assert d.to_dict()["points"] == {"train": 30, "valid": 3}


def test_overfitting_names_the_step_and_checkpoint_of_the_lowest_validation_loss() -> None:
    train = _falling(40)
    valid = {8: 1.6, 16: 1.1, 24: 1.3, 32: 1.6, 40: 2.0}
    d = diagnose(_run(train, valid), _ckpts(8, 16, 24, 32, 40))
    (f,) = [f for f in d.findings if f.code == "overfitting"]
    assert f.step == 16 and f.checkpoint == "/ckpt/checkpoint-16"
    assert "validation loss" in f.rule and not d.ok


def test_one_late_bump_of_validation_loss_is_not_overfitting() -> None:
    train = _falling(40)
    valid = {10: 1.6, 20: 1.1, 30: 1.0, 40: 1.2}  # a single later evaluation above the lowest
    assert "overfitting" not in diagnose(_run(train, valid)).codes()


def test_validation_rising_while_training_rises_too_is_not_called_overfitting() -> None:
    train = _falling(20) + [0.5 * 1.2**i for i in range(20)]
    valid = {10: 1.0, 20: 0.9, 30: 1.5, 40: 3.0}
    codes = diagnose(_run(train, valid)).codes()
    assert "overfitting" not in codes and "divergence" in codes


def test_divergence_points_at_the_lowest_training_loss() -> None:
    train = [2.0, 1.5, 1.0, 0.8, 0.7, 0.9, 1.5, 3.0, 6.0, 12.0]
    d = diagnose(_run(train), _ckpts(5, 10))
    (f,) = [f for f in d.findings if f.code == "divergence"]
    assert f.step in (4, 5) and f.checkpoint == "/ckpt/checkpoint-5"


def test_nan_loss_names_the_last_finite_step() -> None:
    train = [2.0, 1.5, 1.2, 1.0, 0.9, 0.8, math.nan, math.nan]
    d = diagnose(_run(train), _ckpts(3, 6, 8))
    assert d.findings[0].code == "nan"
    assert d.findings[0].step == 6 and d.findings[0].checkpoint == "/ckpt/checkpoint-6"


def test_plateau_is_found_when_the_last_half_brought_nothing() -> None:
    train = _falling(10, rate=0.8) + [0.4] * 20
    d = diagnose(_run(train, {10: 0.5, 20: 0.5, 30: 0.5}))
    (f,) = d.findings
    assert f.code == "plateau" and f.step == 16


def test_too_few_steps_judges_nothing_else() -> None:
    d = diagnose(_run([1.0, math.nan, 3.0]))
    assert d.codes() == ["too_few_steps"] and not d.ok


def test_no_validation_is_information_not_a_warning() -> None:
    d = diagnose(_run(_falling(20)))
    assert d.codes() == ["no_validation"] and d.ok


def test_nearest_checkpoint_prefers_the_earlier_on_a_tie() -> None:
    assert nearest_checkpoint(_ckpts(10, 20), 15) == "/ckpt/checkpoint-10"
    assert nearest_checkpoint([], 15) is None
