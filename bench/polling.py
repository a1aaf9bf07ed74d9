"""Requests sent and detection delay of ``wait`` for a long job, on a simulated clock.

    python bench/polling.py --job-hours 1

The job runs ``--job-hours`` (plus a random 0-120 s) on a fake clock (nothing sleeps
for real); it is queued for the first 5% of its time. anytune's backoff (2 s growing
to 60 s, reset on a status change, ±20% jitter) is compared, in the same run, with
fixed 2 s and 60 s intervals.
Detection delay = time from the job's end to the poll that sees it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from anytune._flow import call, run_sync
from anytune._polling import Backoff, wait_flow
from anytune._types import JobSnapshot, JobStatus
from anytune.provider import Provider


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s

    async def asleep(self, s: float) -> None:
        self.t += s


class SimulatedJob(Provider):
    name = "simulated"

    def __init__(self, clock: Clock, duration: float) -> None:
        super().__init__()
        self.clock, self.duration, self.requests = clock, duration, 0

    def get(self, job_id: str) -> JobSnapshot:
        self.requests += 1
        t = self.clock.t
        status = (JobStatus.QUEUED if t < 0.05 * self.duration else
                  JobStatus.RUNNING if t < self.duration else JobStatus.SUCCEEDED)
        return JobSnapshot(id=job_id, status=status, model="m")


def simulate(backoff: Backoff, duration: float, seed: int) -> tuple[int, float]:
    # Jobs do not end on a multiple of anyone's interval: add up to two minutes at random.
    duration += random.Random(seed + 10_000).uniform(0, 120)
    clock = Clock()
    job = SimulatedJob(clock, duration)
    flow = wait_flow(lambda: call(job.get, job.aget, "j"), clock=clock, backoff=backoff,
                     rng=random.Random(seed))
    run_sync(flow, clock)
    return job.requests, clock.t - duration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--job-hours", type=float, default=1.0)
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    duration = args.job_hours * 3600
    strategies = {
        "anytune_backoff": Backoff(),
        "fixed_2s": Backoff(initial=2, factor=1, cap=2, jitter=0),
        "fixed_60s": Backoff(initial=60, factor=1, cap=60, jitter=0),
    }
    result: dict[str, object] = {"job_seconds": duration, "trials": args.trials}
    for name, backoff in strategies.items():
        runs = [simulate(backoff, duration, seed) for seed in range(args.trials)]
        reqs = [r for r, _ in runs]
        delays = [d for _, d in runs]
        result[name] = {
            "requests_median": statistics.median(reqs),
            "detection_delay_s_median": round(statistics.median(delays), 1),
            "detection_delay_s_max": round(max(delays), 1),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
