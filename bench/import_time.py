"""How long ``import anytune`` takes in a fresh interpreter, and what it pulls in.

    python bench/import_time.py --runs 20

Each run is a new process (so nothing is cached in ``sys.modules``); the baseline is the
wall time of the same interpreter running ``-c pass``. Prints JSON: median and best of each, the
difference (the cost of anytune itself), and any heavy module that the import loaded.
``first_use_ms`` is ``from anytune import Job, Hyperparameters``: what a script pays on
its first line, the job machinery and the pydantic types included (loaded on first use,
not by ``import anytune``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "transformers", "openai", "together", "google", "trl", "peft", "tiktoken",
         "rich", "typer", "pydantic", "httpx")
PROBE = (
    "import time, sys; t = time.perf_counter(); {stmt}; d = time.perf_counter() - t; "
    "print(d, ','.join(m for m in {heavy!r} if m in sys.modules))"
)


def measure(stmt: str, runs: int) -> tuple[list[float], list[float], str]:
    """In-process import times, whole-process wall times (ms), and heavy modules loaded."""
    times, walls, loaded = [], [], ""
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", PROBE.format(stmt=stmt, heavy=HEAVY)],
                             capture_output=True, text=True, check=True).stdout.split()
        walls.append((time.perf_counter() - t0) * 1000)
        times.append(float(out[0]) * 1000)
        loaded = out[1] if len(out) > 1 else ""
    return times, walls, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    _, base_wall, _ = measure("pass", args.runs)
    times, wall, loaded = measure("import anytune", args.runs)
    cli, _, _ = measure("import anytune.cli", args.runs)
    first, _, first_loaded = measure("from anytune import Job, Hyperparameters", args.runs)
    med = statistics.median
    print(json.dumps({
        "runs": args.runs,
        "import_anytune_ms": {"median": round(med(times), 1), "best": round(min(times), 1)},
        "import_anytune_cli_ms": {"median": round(med(cli), 1), "best": round(min(cli), 1)},
        "first_use_ms": {"median": round(med(first), 1), "best": round(min(first), 1),
                         "heavy_modules_loaded": first_loaded.split(",") if first_loaded else []},
        "process_wall_ms": {"python_-c_pass": round(med(base_wall), 1),
                            "python_-c_import_anytune": round(med(wall), 1),
                            "ratio": round(med(wall) / med(base_wall), 2)},
        "heavy_modules_loaded": loaded.split(",") if loaded else [],
        "target_ms": 150,
    }, indent=2))


if __name__ == "__main__":
    main()
