"""``anytune plot``: train and validation loss against step, the same for every provider."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from anytune._errors import ConfigurationError
from anytune._types import Metric

__all__ = ["plot_losses"]


def plot_losses(metrics: Sequence[Metric], output: Path, *, title: str = "") -> int:
    """Write a PNG of the losses in ``metrics``; return how many points were drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigurationError(
            'anytune plot needs matplotlib: pip install "anytune[plot]"'
        ) from None
    train = [(m.step, m.train_loss) for m in metrics if m.train_loss is not None]
    valid = [(m.step, m.valid_loss) for m in metrics if m.valid_loss is not None]
    if not train and not valid:
        raise ConfigurationError(f"{title or 'job'}: no loss metrics to plot yet")
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss")
    if valid:
        ax.plot(*zip(*valid, strict=True), label="validation loss", marker="o", markersize=3)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(output)
    plt.close(fig)
    return len(train) + len(valid)
