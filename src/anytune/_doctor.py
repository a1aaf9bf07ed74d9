"""``anytune doctor`` / ``job.diagnose()``: read a job's loss curves and say what they show.

Pure and I/O-free: :func:`diagnose` takes the metrics (and checkpoints) any provider
returns and gives findings, each naming the rule it applied and the step (and checkpoint)
to use. The thresholds are module constants, so a finding's ``rule`` text states them.

The rules, in order (a run can have several findings):

- ``too_few_steps``: fewer than :data:`MIN_TRAIN_POINTS` training-loss points; nothing
  else is judged (noise would pass for a trend).
- ``nan``: a training or validation loss that is NaN or infinite; use the last step before.
- ``divergence``: the training loss ends (mean of the last points) above both where it
  started and :data:`DIVERGE_FACTOR` times its lowest (smoothed) value.
- ``overfitting``: the validation loss reached its lowest at some evaluation, then rose by
  at least :data:`OVERFIT_RISE` (relative) over at least :data:`OVERFIT_AFTER` later
  evaluations, while the training loss kept falling; use the step of the lowest one.
- ``plateau``: over the last half of training the (smoothed) training loss improved by less
  than :data:`PLATEAU_GAIN` of its value; the steps after the window's start bought little.
- ``no_validation`` (info): no validation loss, so overfitting cannot be judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from anytune._types import Checkpoint, Metric

__all__ = ["Diagnosis", "Finding", "diagnose"]

#: Fewer training-loss points than this and the curve is not judged.
MIN_TRAIN_POINTS = 5
#: Fewer validation-loss points than this and overfitting is not judged.
MIN_VALID_POINTS = 3
#: Relative rise of the validation loss above its lowest that counts as overfitting.
OVERFIT_RISE = 0.05
#: Evaluations after the lowest one that must exist (a single bump is noise).
OVERFIT_AFTER = 2
#: The final training loss above this many times its lowest is divergence.
DIVERGE_FACTOR = 1.5
#: Relative improvement over the last half below which training has plateaued.
PLATEAU_GAIN = 0.01


@dataclass(frozen=True)
class Finding:
    """One thing the loss curves show. ``step`` and ``checkpoint`` say what to use."""

    code: str
    severity: str  # "warning" or "info"
    message: str
    rule: str
    step: int | None = None
    checkpoint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``--json`` shape of one finding)."""
        return {
            "code": self.code, "severity": self.severity, "message": self.message,
            "rule": self.rule, "step": self.step, "checkpoint": self.checkpoint,
        }


@dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` found. ``ok`` is true when no finding is a warning."""

    findings: list[Finding] = field(default_factory=list)
    train_points: int = 0
    valid_points: int = 0

    @property
    def ok(self) -> bool:
        """No warning (info findings do not count)."""
        return not any(f.severity == "warning" for f in self.findings)

    def codes(self) -> list[str]:
        """The codes of the findings, in order."""
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``--json`` output of ``anytune doctor``, less ``job``)."""
        return {
            "ok": self.ok,
            "points": {"train": self.train_points, "valid": self.valid_points},
            "findings": [f.to_dict() for f in self.findings],
        }


def _series(metrics: Sequence[Metric], attr: str) -> list[tuple[int, float]]:
    return sorted((m.step, float(v)) for m in metrics if (v := getattr(m, attr)) is not None)


def _smooth(values: list[float], width: int) -> list[float]:
    """Trailing moving average: per-step training loss is noisy (one batch each)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= width:
            total -= values[i - width]
        out.append(total / min(i + 1, width))
    return out


def nearest_checkpoint(checkpoints: Sequence[Checkpoint], step: int | None) -> str | None:
    """The checkpoint saved closest to ``step`` (the earlier one on a tie), or ``None``.
    Named by its ``model`` (what a user loads or passes on), else its id."""
    if step is None:
        return None
    saved = [c for c in checkpoints if c.step is not None]
    if not saved:
        return None
    best = min(saved, key=lambda c: (abs((c.step or 0) - step), c.step))
    return best.model or best.id


def diagnose(metrics: Sequence[Metric], checkpoints: Sequence[Checkpoint] = ()) -> Diagnosis:
    """The findings of ``anytune doctor`` for these metrics (see the module's rules)."""
    train = _series(metrics, "train_loss")
    valid = _series(metrics, "valid_loss")
    findings: list[Finding] = []

    def diag() -> Diagnosis:
        return Diagnosis(findings, len(train), len(valid))

    def ckpt(step: int | None) -> str | None:
        return nearest_checkpoint(checkpoints, step)

    if len(train) < MIN_TRAIN_POINTS:
        findings.append(Finding(
            "too_few_steps", "warning",
            f"only {len(train)} training-loss point(s): too few to judge the run",
            f"fewer than {MIN_TRAIN_POINTS} logged training-loss points",
        ))
        return diag()

    bad = [(s, name) for name, series in (("training", train), ("validation", valid))
           for s, v in series if not math.isfinite(v)]
    if bad:
        step, name = min(bad)
        before = [s for s, v in train if s < step and math.isfinite(v)]
        use = before[-1] if before else None
        findings.append(Finding(
            "nan", "warning",
            f"the {name} loss is NaN or infinite from step {step}: training broke down there"
            + (f"; use step {use} or earlier, and lower the learning rate" if use else ""),
            "a loss value that is NaN or infinite",
            use, ckpt(use) if use is not None else None,
        ))
        train = [(s, v) for s, v in train if s < step]
        valid = [(s, v) for s, v in valid if s < step]
        if len(train) < MIN_TRAIN_POINTS:
            return diag()

    steps = [s for s, _ in train]
    width = max(1, len(train) // 10)
    smooth = _smooth([v for _, v in train], width)
    k = max(1, len(train) // 10)
    start = sum(v for _, v in train[:k]) / k
    end = sum(v for _, v in train[-k:]) / k
    low_i = min(range(len(smooth)), key=smooth.__getitem__)
    if end > start and end > DIVERGE_FACTOR * smooth[low_i]:
        findings.append(Finding(
            "divergence", "warning",
            f"the training loss diverged: it ends at {end:.4g}, above its start ({start:.4g}) "
            f"and its lowest ({smooth[low_i]:.4g}, step {steps[low_i]}); use step "
            f"{steps[low_i]} and lower the learning rate",
            f"final training loss (mean of the last {k}) above its first value and above "
            f"{DIVERGE_FACTOR}x its lowest (moving average of {width})",
            steps[low_i], ckpt(steps[low_i]),
        ))

    if len(valid) >= MIN_VALID_POINTS:
        best_i = min(range(len(valid)), key=lambda i: valid[i][1])
        best_step, best = valid[best_i]
        after = valid[best_i + 1:]
        last = valid[-1][1]
        train_at_best = [v for s, v in train if s <= best_step][-k:]
        train_after = [v for s, v in train if s > best_step][-k:]
        train_fell = bool(train_at_best and train_after) and (
            sum(train_after) / len(train_after) < sum(train_at_best) / len(train_at_best))
        if len(after) >= OVERFIT_AFTER and last > best * (1 + OVERFIT_RISE) and train_fell:
            findings.append(Finding(
                "overfitting", "warning",
                f"overfitting: the validation loss was lowest at step {best_step} ({best:.4g}) "
                f"and rose to {last:.4g} while the training loss kept falling; use step "
                f"{best_step} (or fewer epochs / early stopping)",
                f"validation loss {OVERFIT_RISE:.0%}+ above its lowest over {OVERFIT_AFTER}+ "
                "later evaluations while the training loss fell",
                best_step, ckpt(best_step),
            ))
    elif not valid:
        findings.append(Finding(
            "no_validation", "info",
            "no validation loss: overfitting cannot be judged (create the job with "
            "validation_split=... or validation_file=...)",
            "no validation-loss points",
        ))

    half = len(smooth) // 2
    if len(smooth) >= 2 * MIN_TRAIN_POINTS and "divergence" not in [f.code for f in findings]:
        first, final = smooth[half], smooth[-1]
        if first > 0 and (first - final) / first < PLATEAU_GAIN:
            findings.append(Finding(
                "plateau", "warning",
                f"plateau: the training loss barely moved after step {steps[half]} "
                f"({first:.4g} -> {final:.4g}); training past that step bought little "
                "(stop there, or raise the learning rate if the loss is still high)",
                f"training loss (moving average of {width}) improved by less than "
                f"{PLATEAU_GAIN:.0%} over the last half of the steps",
                steps[half], ckpt(steps[half]),
            ))
    return diag()
