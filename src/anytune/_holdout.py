"""The held-out split: records kept out of training and stored with the job for ``evaluate``.

``Job.create(..., holdout=0.15)`` draws that share of the records (reproducibly from
``seed``) *before* the data is validated, priced and converted, so the held-out records
are never uploaded and the estimate covers only what is trained. They are kept as the
user wrote them (any accepted format), one JSON object a line, in
``ANYTUNE_HOME/holdout/<provider>-<key hash>.jsonl``: the idempotency key is what ties a
job to its row in the job store from before the provider knows of it, so a job found
again later (``Job.get``) finds its held-out file through that row.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from anytune._config import anytune_home
from anytune._errors import ConfigurationError, DatasetError

__all__ = ["find_holdout", "holdout_path", "split_holdout", "store_holdout"]


def holdout_path(provider: str, idempotency_key: str) -> Path:
    """Where the held-out records of the job created with this key are kept."""
    digest = hashlib.sha256(f"{provider}\0{idempotency_key}".encode()).hexdigest()[:32]
    return anytune_home() / "holdout" / f"{provider}-{digest}.jsonl"


def split_holdout(data: Any, fraction: float, seed: int | None, workdir: Path) -> tuple[Path, Path, int]:
    """Split ``data`` (a path or records in any accepted format) into ``workdir/kept.jsonl``
    (what is trained) and ``workdir/holdout.jsonl``; return both paths and the number held
    out. Lines that cannot be decoded stay in the kept part, so that validation reports
    them with their line numbers as it would without a holdout."""
    from anytune.data import iter_items

    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction < 1.0:
        raise ConfigurationError(f"holdout must be a fraction between 0 and 1 (e.g. 0.15), got {fraction!r}")
    items = [(value, problem) for _, value, problem in iter_items(data)]
    bad = [problem for _, problem in items if problem is not None]
    if bad:
        raise DatasetError("the training data could not be read for the holdout split", bad)
    good = [i for i, (_, problem) in enumerate(items) if problem is None]
    n_hold = round(len(good) * fraction)
    if n_hold < 1 or n_hold >= len(good):
        raise DatasetError(
            f"holdout={fraction} of {len(good)} record(s) leaves "
            f"{'nothing to evaluate on' if n_hold < 1 else 'nothing to train on'}; "
            "use more data or another fraction"
        )
    order = list(good)
    random.Random(seed if seed is not None else 0).shuffle(order)
    held = set(order[:n_hold])
    workdir.mkdir(parents=True, exist_ok=True)
    kept_path, held_path = workdir / "kept.jsonl", workdir / "holdout.jsonl"
    with kept_path.open("w", encoding="utf-8") as kept, held_path.open("w", encoding="utf-8") as out:
        for i, (value, _) in enumerate(items):
            (out if i in held else kept).write(json.dumps(value, ensure_ascii=False) + "\n")
    return kept_path, held_path, n_hold


def store_holdout(src: Path, provider: str, idempotency_key: str) -> Path:
    """Keep the held-out file of a created job (user-only; it is the user's data)."""
    dest = holdout_path(provider, idempotency_key)
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.with_suffix(".part")
    tmp.write_bytes(src.read_bytes())
    tmp.chmod(0o600)
    tmp.replace(dest)
    return dest


def find_holdout(job_id: str, provider: str) -> Path | None:
    """The held-out file of a job in the job store, if it was created with a holdout."""
    from anytune._store import JobStore

    rec = JobStore().get(job_id)
    if rec is None:
        return None
    path = holdout_path(provider, rec.idempotency_key)
    return path if path.is_file() else None
