"""The trainer callback that streams a run into its job folder.

Only the main process (rank 0) writes files; every rank checks for a cancel request and
they agree on it, so all processes stop at the same step under ``accelerate launch``.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from anytune_local._state import JobRecorder, now_iso, read_json, write_json

__all__ = ["StreamCallback"]

_LOG_KEYS = {"loss", "eval_loss", "learning_rate", "epoch", "mean_token_accuracy"}
#: Logged by transformers/TRL but redundant with ``tokens_seen`` and ``tokens_per_s``.
_SKIP_KEYS = {"num_tokens", "num_input_tokens_seen", "train_runtime", "train_tokens_per_second"}


def _finite(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _memory() -> dict[str, float]:
    """Peak accelerator memory (GiB) when on a GPU, else the process's peak RSS (GiB)."""
    import torch

    if torch.cuda.is_available():
        return {"gpu_memory_gb": torch.cuda.max_memory_allocated() / 2**30}
    import resource

    # ru_maxrss is in KiB on Linux.
    return {"peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


class StreamCallback(TrainerCallback):
    """Streams metrics and events, honours cancel requests, stops early on validation loss.

    ``patience``: stop after that many evaluations without the validation loss improving
    by more than ``threshold`` (``None`` turns early stopping off)."""

    def __init__(self, recorder: JobRecorder, *, patience: int | None = None, threshold: float = 0.0) -> None:
        self.rec = recorder
        self.patience = patience
        self.threshold = threshold
        self.best: float | None = None
        self.bad_evals = 0
        self.cancelled = False
        self.stopped_early = False
        self._last_log: tuple[float, float] | None = None  # (time, tokens seen)
        self._last_progress = 0.0
        self._train_start = 0.0

    # --- helpers ----------------------------------------------------------------------
    def _agree(self, flag: bool) -> bool:
        """``flag`` if any rank has it set (every rank must stop at the same step)."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return flag
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        t = torch.tensor([1 if flag else 0], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    # --- trainer events ---------------------------------------------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self._train_start = time.monotonic()
        self._last_log = (time.monotonic(), float(state.num_input_tokens_seen or 0))
        self.rec.update(
            status="running", phase="training", step=state.global_step, total_steps=state.max_steps
        )
        self.rec.event(
            f"training started: {state.max_steps} steps, {args.num_train_epochs:g} epoch(s)"
            + (f", resuming at step {state.global_step}" if state.global_step else ""),
            type="training_started",
            total_steps=state.max_steps,
        )

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        now = time.monotonic()
        if state.max_steps and (now - self._last_progress > 1.0 or state.global_step == 1):
            self._last_progress = now
            self.rec.update(step=state.global_step, progress=state.global_step / state.max_steps)
        if self._agree(self.rec.cancel_requested()) and not self.cancelled:
            self.cancelled = True
            # Stop here and let the trainer save a checkpoint of this very step.
            control.should_training_stop = True
            control.should_save = True
            self.rec.event(
                f"cancel requested: stopping at step {state.global_step}",
                type="cancelling",
                step=state.global_step,
            )

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
        logs = dict(logs or {})
        if "train_loss" in logs and "loss" not in logs:  # the final summary, not a step
            return
        now = time.monotonic()
        seen = float(state.num_input_tokens_seen or logs.get("num_tokens") or 0)
        extra: dict[str, float] = {}
        if self._last_log is not None and seen > self._last_log[1] and now > self._last_log[0]:
            extra["tokens_per_s"] = (seen - self._last_log[1]) / (now - self._last_log[0])
            self._last_log = (now, seen)
        if seen:
            extra["tokens_seen"] = seen
        extra.update(_memory())
        for key, value in logs.items():
            num = _finite(value)
            if key not in _LOG_KEYS and key not in _SKIP_KEYS and num is not None:
                extra[key] = num
        self.rec.metric(
            {
                "step": state.global_step,
                "epoch": _finite(logs.get("epoch", state.epoch)),
                "train_loss": _finite(logs.get("loss")),
                "valid_loss": _finite(logs.get("eval_loss")),
                "learning_rate": _finite(logs.get("learning_rate")),
                "token_accuracy": _finite(logs.get("mean_token_accuracy")),
                "extra": extra,
            }
        )

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kw: Any) -> None:
        loss = _finite((metrics or {}).get("eval_loss"))
        if loss is None:
            return
        self.rec.event(
            f"step {state.global_step} (epoch {state.epoch or 0:.2f}): validation loss {loss:.4f}",
            type="evaluation",
            step=state.global_step,
            valid_loss=loss,
        )
        if self.patience is None:
            return
        if self.best is None or loss < self.best - self.threshold:
            self.best, self.bad_evals = loss, 0
            return
        self.bad_evals += 1
        if self.bad_evals >= self.patience:
            self.stopped_early = True
            control.should_training_stop = True
            control.should_save = True
            self.rec.event(
                f"early stopping at step {state.global_step}: validation loss did not improve "
                f"for {self.bad_evals} evaluation(s) (best {self.best:.4f})",
                type="early_stopping",
                step=state.global_step,
                best_valid_loss=self.best,
            )

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        losses = [h["loss"] for h in state.log_history if "loss" in h]
        last = f": train loss {losses[-1]:.4f}" if losses else ""
        self.rec.event(f"epoch {round(state.epoch or 0)} done{last}", type="epoch", step=state.global_step)

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if not self.rec.main:
            return
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        index_path = self.rec.folder / "checkpoints.json"
        index = read_json(index_path, []) or []
        metrics = {}
        for h in reversed(state.log_history):
            for key, name in (("loss", "train_loss"), ("eval_loss", "valid_loss")):
                if key in h and name not in metrics:
                    metrics[name] = float(h[key])
        index = [c for c in index if c["step"] != state.global_step]
        index.append(
            {
                "id": path.name,
                "step": state.global_step,
                "model": str(path),
                "created_at": now_iso(),
                "metrics": metrics,
            }
        )
        # save_total_limit may have deleted older folders: list only what exists.
        index = [c for c in index if os.path.isdir(c["model"])]
        write_json(index_path, sorted(index, key=lambda c: c["step"]))
        self.rec.event(
            f"checkpoint saved at step {state.global_step}",
            type="checkpoint",
            step=state.global_step,
            path=str(path),
        )
