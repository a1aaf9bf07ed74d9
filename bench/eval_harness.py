"""anytune's built-in ``evaluate`` against inspect-ai's ``eval`` with anytune's model
provider, on the same held-out prompts of one job on the OpenAI emulator.

    python bench/eval_harness.py --records 200 --holdout 0.2

Each harness runs in a fresh process (so its imports count, as they do for a user's
command): the tuned and the base model answer every held-out prompt, scored as JSON.
Reported: wall time of the process, of the import, and the scores (which must agree).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = """
import json, time, sys
t0 = time.monotonic()
from anytune import Job
t1 = time.monotonic()
r = Job.get(sys.argv[1]).evaluate(scorers=["json"], max_tokens=64, concurrency=8)
print(json.dumps({"import_s": t1 - t0, "tuned": r.tuned.score, "base": r.baseline.score}))
"""
INSPECT = """
import json, time, sys
t0 = time.monotonic()
import inspect_ai
from anytune.inspect import holdout_task
t1 = time.monotonic()
logs = inspect_ai.eval(holdout_task(sys.argv[1], max_tokens=64), display="none", max_connections=8,
                       model=[f"anytune/{sys.argv[1]}", f"anytune/{sys.argv[1]}@base"])
acc = [log.results.scores[0].metrics["accuracy"].value for log in logs]
print(json.dumps({"import_s": t1 - t0, "tuned": acc[0], "base": acc[1]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--holdout", type=float, default=0.2)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from test_evaluate_emulators import write_json_task

    from anytune import Job
    from anytune.testing import running_emulator

    with tempfile.TemporaryDirectory() as tmp, running_emulator("openai", job_seconds=0.3) as emu:
        os.environ.update(emu.env)
        os.environ["ANYTUNE_HOME"] = str(Path(tmp) / "home")
        os.environ["INSPECT_LOG_DIR"] = str(Path(tmp) / "logs")
        data = write_json_task(Path(tmp) / "train.jsonl", args.records)
        job = Job.create(
            provider="openai",
            model="gpt-4.1-mini-2025-04-14",
            training_file=data,
            holdout=args.holdout,
            progress=False,
        )
        job.wait(progress=False)
        out = {}
        for name, code in (("anytune evaluate", BUILTIN), ("inspect-ai eval", INSPECT)):
            start = time.monotonic()
            proc = subprocess.run(
                [sys.executable, "-c", code, job.id],
                capture_output=True,
                text=True,
                env=dict(os.environ),
                check=True,
            )
            out[name] = {
                "wall_s": round(time.monotonic() - start, 2),
                **json.loads(proc.stdout.splitlines()[-1]),
            }
        out["samples"] = round(args.records * args.holdout)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
