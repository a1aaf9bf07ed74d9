"""What ``evaluate`` returns: per model and scorer, the score with its 95 % interval,
tokens and cost; a side-by-side table for one or several jobs, ``--json`` and a PNG chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anytune._errors import ConfigurationError

__all__ = ["CheckpointReport", "EvalReport", "ModelResult", "ci95", "plot_reports", "table"]


def ci95(scores: Sequence[float]) -> tuple[float, float]:
    """95 % interval of the mean score: Wilson's for pass/fail scores (sound at 0 % and
    100 %, where the normal approximation collapses to a point), the normal approximation
    for graded ones. Clipped to 0..1."""
    n = len(scores)
    if n == 0:
        return (0.0, 1.0)
    z = 1.96
    mean = sum(scores) / n
    if all(s in (0.0, 1.0) for s in scores):
        denom = 1 + z * z / n
        centre = (mean + z * z / (2 * n)) / denom
        half = z * math.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n)) / denom
        return (max(0.0, centre - half), min(1.0, centre + half))
    var = sum((s - mean) ** 2 for s in scores) / max(n - 1, 1)
    half = z * math.sqrt(var / n)
    return (max(0.0, mean - half), min(1.0, mean + half))


@dataclass
class ModelResult:
    """One model's answers and scores; ``score`` and ``ci95`` are for the first scorer."""

    model: str
    scores: dict[str, list[float]]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    errors: list[str] = field(default_factory=list)
    answers: list[str | None] = field(default_factory=list, repr=False)

    @property
    def n(self) -> int:
        """Samples scored."""
        return len(next(iter(self.scores.values()), []))

    def score_of(self, scorer: str) -> float:
        """Mean score in 0..1 under ``scorer``."""
        values = self.scores[scorer]
        return sum(values) / len(values) if values else 0.0

    @property
    def score(self) -> float:
        """Mean score under the first scorer."""
        return self.score_of(next(iter(self.scores)))

    @property
    def ci95(self) -> tuple[float, float]:
        """95 % interval of :attr:`score`."""
        return ci95(next(iter(self.scores.values())))

    @property
    def tokens(self) -> int:
        """Input plus output tokens of every answer."""
        return self.prompt_tokens + self.completion_tokens

    def summary(self, scorer: str) -> dict[str, Any]:
        """``{"model", "score", "ci95", "n"}`` under ``scorer``."""
        lo, hi = ci95(self.scores[scorer])
        return {
            "model": self.model,
            "score": round(self.score_of(scorer), 4),
            "ci95": [round(lo, 4), round(hi, 4)],
            "n": self.n,
        }


@dataclass
class EvalReport:
    """The result of ``job.evaluate``: ``tuned`` and ``baseline`` (``None`` without one)."""

    job: str
    provider: str
    base_model: str
    scorers: list[str]
    samples: int
    tuned: ModelResult
    baseline: ModelResult | None
    tuning_cost_usd: float | None
    seconds: float
    #: What the judge scorers' verdicts cost (0 without a judge).
    judge_cost_usd: float | None = 0.0
    estimate_usd: float | None = None
    source: str = ""
    references: list[str | None] = field(default_factory=list, repr=False)

    @property
    def eval_cost_usd(self) -> float | None:
        """What the evaluation's requests cost, judges included (``None`` where a price is unknown)."""
        costs = [m.cost_usd for m in (self.tuned, self.baseline) if m is not None] + [self.judge_cost_usd]
        return None if any(c is None for c in costs) else round(sum(c for c in costs if c is not None), 6)

    def rows(self) -> list[dict[str, Any]]:
        """One entry of ``--json``'s ``jobs`` list per scorer (docs/design.md §3)."""
        out = []
        for scorer in self.scorers:
            tuned = self.tuned.summary(scorer)
            out.append(
                {
                    "job": self.job,
                    "provider": self.provider,
                    "model": self.tuned.model,
                    "scorer": scorer,
                    "samples": self.samples,
                    "tuned": {k: tuned[k] for k in ("score", "ci95", "n")},
                    "baseline": self.baseline.summary(scorer) if self.baseline else None,
                    "tuning_cost_usd": self.tuning_cost_usd,
                    "eval_cost_usd": self.eval_cost_usd,
                    "seconds": round(self.seconds, 2),
                    "tokens": {
                        "tuned": self.tuned.tokens,
                        "baseline": self.baseline.tokens if self.baseline else None,
                    },
                    "errors": len(self.tuned.errors) + (len(self.baseline.errors) if self.baseline else 0),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document of ``anytune evaluate`` for this job alone."""
        return {"jobs": self.rows()}

    def to_table(self) -> str:
        """The side-by-side table as text."""
        return table([self])

    def plot(self, path: str | Path) -> Path:
        """Write a PNG bar chart of the scores (with 95 % intervals) to ``path``."""
        return plot_reports([self], Path(path))


@dataclass
class CheckpointReport:
    """``evaluate --checkpoints``: one report per checkpoint (and the final model), and the best."""

    job: str
    reports: list[tuple[str, int | None, EvalReport]]

    @property
    def best(self) -> tuple[str, int | None, EvalReport]:
        """The highest score; ties go to the earlier step (less training, less drift)."""
        # The final model (no step) counts as the last one.
        return max(self.reports, key=lambda r: (r[2].tuned.score, -(r[1] if r[1] is not None else math.inf)))

    def to_dict(self) -> dict[str, Any]:
        """``{"job", "checkpoints": [{"checkpoint", "step", "model", "score", "ci95", "n"}], "best"}``."""
        rows = []
        for ckpt, step, rep in self.reports:
            summary = rep.tuned.summary(rep.scorers[0])
            rows.append({"checkpoint": ckpt, "step": step, **summary, "scorer": rep.scorers[0]})
        return {"job": self.job, "checkpoints": rows, "best": self.best[0]}

    def to_table(self) -> str:
        """The checkpoints ranked, as text."""
        from rich.table import Table

        t = Table(title=f"{self.job}: checkpoints")
        for col in ("checkpoint", "step", "score", "95% CI", "n"):
            t.add_column(col)
        best = self.best[0]
        for ckpt, step, rep in sorted(self.reports, key=lambda r: -r[2].tuned.score):
            lo, hi = rep.tuned.ci95
            mark = " (best)" if ckpt == best else ""
            t.add_row(
                ckpt + mark,
                "-" if step is None else str(step),
                _pct(rep.tuned.score),
                f"{_pct(lo)}-{_pct(hi)}",
                str(rep.tuned.n),
            )
        return _render(t)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _usd(x: float | None) -> str:
    return "n/a" if x is None else f"${x:,.4f}" if x < 1 else f"${x:,.2f}"


def _render(t: Any) -> str:
    import io

    from rich.console import Console

    buf = io.StringIO()
    Console(width=250, file=buf, highlight=False).print(t)
    return buf.getvalue()


def table(reports: Sequence[EvalReport]) -> str:
    """Several jobs side by side: per job and scorer, tuned and baseline score with 95 %
    intervals, samples, tokens, the tuning and evaluation cost, and time."""
    from rich.table import Table

    t = Table(title="evaluation")
    for col in (
        "job",
        "scorer",
        "tuned",
        "95% CI",
        "baseline",
        "95% CI",
        "n",
        "tokens",
        "tuning cost",
        "eval cost",
        "time",
    ):
        t.add_column(col, overflow="fold")
    for rep in reports:
        for scorer in rep.scorers:
            lo, hi = rep.tuned.summary(scorer)["ci95"]
            base = rep.baseline.summary(scorer) if rep.baseline else None
            t.add_row(
                rep.job,
                scorer,
                _pct(rep.tuned.score_of(scorer)),
                f"{_pct(lo)}-{_pct(hi)}",
                _pct(base["score"]) if base else "-",
                f"{_pct(base['ci95'][0])}-{_pct(base['ci95'][1])}" if base else "-",
                str(rep.samples),
                f"{rep.tuned.tokens + (rep.baseline.tokens if rep.baseline else 0):,}",
                _usd(rep.tuning_cost_usd),
                _usd(rep.eval_cost_usd),
                f"{rep.seconds:.1f}s",
            )
    return _render(t)


def plot_reports(reports: Sequence[EvalReport], output: Path) -> Path:
    """A PNG with one group of bars per job (tuned, baseline), 95 % intervals as error bars."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigurationError(
            'the evaluation chart needs matplotlib: pip install "anytune[plot]"'
        ) from None
    labels, tuned, base, t_err, b_err = [], [], [], [], []
    for rep in reports:
        for scorer in rep.scorers:
            labels.append(f"{rep.job}\n{scorer}")
            s = rep.tuned.score_of(scorer)
            lo, hi = ci95(rep.tuned.scores[scorer])
            tuned.append(s)
            t_err.append((s - lo, hi - s))
            if rep.baseline is not None:
                b = rep.baseline.score_of(scorer)
                blo, bhi = ci95(rep.baseline.scores[scorer])
                base.append(b)
                b_err.append((b - blo, bhi - b))
            else:
                base.append(0.0)
                b_err.append((0.0, 0.0))
    xs = range(len(labels))
    fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(labels)), 4.5), dpi=100)
    w = 0.38
    ax.bar([x - w / 2 for x in xs], tuned, w, label="tuned", yerr=list(zip(*t_err, strict=True)), capsize=4)
    ax.bar([x + w / 2 for x in xs], base, w, label="baseline", yerr=list(zip(*b_err, strict=True)), capsize=4)
    ax.set_xticks(list(xs), labels, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (95% CI)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(output)
    plt.close(fig)
    return output
