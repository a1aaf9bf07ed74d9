"""The readers' fuzz at benchmark size: ``tests/preflight/test_preflight_fuzz.py``'s two
properties (arbitrary bytes as files; arbitrary JSON values as records), run in chunks
of fresh seeds until ``--examples`` examples have passed, or ``--minutes`` run out.

Any exception other than ``AnytuneError`` fails the run with hypothesis' minimal
example. Each chunk is appended to ``--log`` as one JSON line when it ends; a run stopped
with Ctrl-C or SIGTERM logs the examples its last chunk had passed. Shards run side by
side with distinct seeds (``--first-seed``), each with its own log.
``docs/reliability.md`` records the figure.

    TIKTOKEN_CACHE_DIR=... .venv/bin/python bench/fuzz.py --examples 100000 --log fuzz.jsonl
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "preflight"))

import test_preflight_fuzz as fuzz
from hypothesis import HealthCheck, given, seed, settings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100_000, help="examples in all (both properties)")
    ap.add_argument("--chunk", type=int, default=1000, help="examples per seed")
    ap.add_argument("--minutes", type=float, default=None, help="stop after this long")
    ap.add_argument("--log", type=Path, default=None)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seed of the first chunk; shards run side by side with distinct ranges")
    args = ap.parse_args()
    # Each file example is written and read back. On the development machine's disk-backed
    # /tmp, writing and opening it took 8% of py-spy's (wall-clock) samples, more than the
    # validate's 5%; tmpfs keeps that off the disk (CPU per example: no measurable change).
    shm = Path("/dev/shm")
    fuzz._TMP.rmdir()  # the one the test module made on import, unused here
    fuzz._TMP = Path(tempfile.mkdtemp(prefix="anytune-fuzz-", dir=shm if shm.is_dir() else None))
    try:
        return _run(args)
    finally:
        shutil.rmtree(fuzz._TMP, ignore_errors=True)


def _counted(fn: Callable[..., None], calls: list[int]) -> Callable[..., None]:
    """``fn`` counting each example that returned (raised nothing but ``AnytuneError``):
    a chunk stopped midway still says how many of its examples passed."""

    @functools.wraps(fn)  # hypothesis reads the signature through __wrapped__
    def run(*a: Any, **k: Any) -> None:
        fn(*a, **k)
        calls[0] += 1

    return run


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a shard as Ctrl-C does: the partial chunk is logged


def _run(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _stop)
    props = [(fuzz.fuzz_file_bytes, fuzz.FILE_ARGS), (fuzz.fuzz_json_values, fuzz.RECORD_ARGS)]
    done = {p.__name__: 0 for p, _ in props}
    start = time.perf_counter()
    n = args.first_seed
    stopped = False
    while sum(done.values()) < args.examples and not stopped:
        for fn, strategies in props:
            cfg = settings(
                max_examples=args.chunk,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            calls = [0]
            test = seed(n)(cfg(given(*strategies)(_counted(fn, calls))))
            t0 = time.perf_counter()
            try:
                test()  # raises (with the minimal example) on anything but AnytuneError
            except KeyboardInterrupt:
                stopped = True
            done[fn.__name__] += calls[0]
            row = {"property": fn.__name__, "seed": n, "examples": calls[0], "complete": not stopped,
                   "seconds": round(time.perf_counter() - t0, 1), "total": sum(done.values())}
            if args.log:
                with args.log.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
            n += 1
            if stopped:
                break
        if args.minutes is not None and time.perf_counter() - start > 60 * args.minutes:
            break
    print(json.dumps({"examples": done, "total": sum(done.values()), "stopped": stopped,
                      "seconds": round(time.perf_counter() - start)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
