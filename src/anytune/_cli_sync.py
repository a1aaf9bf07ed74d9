"""``anytune sync [JOB_ID ...] --to mlflow|wandb|tensorboard``: log jobs into a tracker.

For jobs waited elsewhere (another machine, a notebook that closed) or created without
tracking: each job is fetched from its provider and upserted as a run (params, metrics,
status, cost); running it again adds only what is new. Without job ids, every job in
the local job store. ``--json`` prints ``{"to", "jobs": [{"job", "status", "tracker",
"run", "points"}], "errors": [{"job", "error"}]}``; the exit code is 0 when every job
synced, else that of the first error.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from anytune._cli_render import console
from anytune.cli import JsonOpt, _run, app


@app.command("sync")
def sync_cmd(
    job_ids: Annotated[
        list[str] | None, typer.Argument(help="Jobs to sync (default: every stored job).")
    ] = None,
    to: Annotated[
        str, typer.Option("--to", help="mlflow, wandb or tensorboard (comma-separated for several).")
    ] = "mlflow",
    limit: Annotated[int, typer.Option(help="Without job ids: at most this many recent jobs.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Log jobs into an experiment tracker (one run per job)."""
    from anytune import Job
    from anytune._errors import AnytuneError, ConfigurationError
    from anytune._flow import run_sync
    from anytune._store import JobStore
    from anytune.tracking import get_tracker, resolve_trackers
    from anytune.tracking._hooks import sync_flow

    def body() -> tuple[Any, int]:
        names = resolve_trackers(to)
        if not names:
            raise ConfigurationError("--to needs a tracker: mlflow, wandb or tensorboard")
        ids = list(job_ids or [r.id for r in JobStore().list(limit=limit) if not r.pending])
        done: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        code = 0
        for job_id in ids:
            try:
                job = Job.get(job_id)
                for row in run_sync(sync_flow(job, names)):
                    done.append({"job": job.id, "status": job.status.value, **row})
            except AnytuneError as exc:
                errors.append({"job": job_id, "error": exc.to_dict()})
                code = code or exc.exit_code
        for name in names:
            get_tracker(name).close()
        return {"to": list(names), "jobs": done, "errors": errors}, code

    def human(doc: dict[str, Any]) -> None:
        out = console()
        for row in doc["jobs"]:
            out.print(f"{row['job']} ({row['status']}) -> {row['tracker']}: {row['run']} "
                      f"({row['points']} metric rows)", highlight=False)
        for err in doc["errors"]:
            out.print(f"[red]error:[/red] {err['job']}: {err['error'].get('message')}", highlight=False)
        if not doc["jobs"] and not doc["errors"]:
            out.print("no jobs to sync")

    _run(as_json, body, human)
