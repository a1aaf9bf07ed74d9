"""``anytune doctor JOB_ID``: what the job's loss curves say (see :mod:`anytune._doctor`)."""

from __future__ import annotations

from typing import Any

from anytune._cli_render import console
from anytune.cli import JsonOpt, _run, app


def _print(doc: dict[str, Any]) -> None:
    out = console()
    points = doc["points"]
    out.print(f"{doc['job']}: {points['train']} training and {points['valid']} validation loss points")
    if not doc["findings"]:
        out.print("no problem found in the loss curves")
    for f in doc["findings"]:
        colour = "yellow" if f["severity"] == "warning" else "cyan"
        out.print(f"[{colour}]{f['code']}[/{colour}]: {f['message']}", markup=True, highlight=False)
        use = [f"step {f['step']}"] if f["step"] is not None else []
        use += [f"checkpoint {f['checkpoint']}"] if f["checkpoint"] else []
        if use:
            out.print(f"  use: {', '.join(use)}", highlight=False)
        out.print(f"  rule: {f['rule']}", highlight=False)


@app.command()
def doctor(job_id: str, as_json: JsonOpt = False) -> None:
    """Read a job's loss curves: overfitting, divergence or NaN, plateau, with the step to use."""
    from anytune import Job

    def body() -> tuple[Any, int]:
        return {"job": job_id, **Job.get(job_id).diagnose().to_dict()}, 0

    _run(as_json, body, _print)
