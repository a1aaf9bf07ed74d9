"""``anytune chat`` and ``anytune evaluate`` (docs/design.md §3), registered on :data:`anytune.cli.app`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from anytune._cli_render import console
from anytune._errors import ConfigurationError
from anytune.cli import JsonOpt, _run, app

__all__ = ["chat", "evaluate"]


@app.command()
def chat(
    job_id: str,
    prompt: str,
    base: Annotated[
        bool, typer.Option("--base", help="Ask the base model instead of the tuned one.")
    ] = False,
    system: Annotated[
        str | None, typer.Option("--system", help="A system message before the prompt.")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Longest answer, in tokens.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One chat request to the job's tuned model (or, with --base, its base model)."""
    from anytune import Job

    def body() -> tuple[Any, int]:
        job = Job.get(job_id)
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": prompt}
        ]
        with job:
            reply = job.chat(messages, base=base, max_tokens=max_tokens, temperature=temperature)
        return reply.to_dict(job.id), 0

    def human(doc: dict[str, Any]) -> None:
        out = console()
        out.print(doc["text"], markup=False, highlight=False)
        usage = doc.get("usage") or {}
        if usage:
            console(stderr=True).print(
                f"[dim]{doc['model']}: {usage.get('prompt_tokens', '?')} in, "
                f"{usage.get('completion_tokens', '?')} out[/dim]"
            )

    _run(as_json, body, human)


@app.command()
def evaluate(
    job_ids: Annotated[list[str], typer.Argument(help="One or more job ids, compared side by side.")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Prompts with reference answers (default: each job's held-out records)."),
    ] = None,
    scorer: Annotated[
        list[str] | None,
        typer.Option(
            "--scorer",
            help="exact | json | json-schema[:FILE] | contains | module:function | "
            "judge:MODEL; repeatable (default: json).",
        ),
    ] = None,
    baseline: Annotated[
        str, typer.Option(help="'base' (the job's base model), a model id, or 'none'.")
    ] = "base",
    checkpoints: Annotated[
        bool,
        typer.Option("--checkpoints", help="Score every checkpoint the provider exposes and name the best."),
    ] = False,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Longest answer, in tokens.")] = 256,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Refuse above this USD estimate of the evaluation.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate only the first N samples.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", "-o", help="Write a PNG chart here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score tuned models against their base on held-out prompts; several jobs side by side."""
    from anytune import Job

    scorers = scorer or ["json"]

    def body() -> tuple[Any, int]:
        if checkpoints:
            if len(job_ids) != 1:
                raise ConfigurationError("--checkpoints takes one job id")
            with Job.get(job_ids[0]) as job:
                report = job.evaluate_checkpoints(
                    data,
                    scorers=scorers,
                    concurrency=concurrency,
                    max_tokens=max_tokens,
                    max_cost_usd=max_cost,
                    limit=limit,
                )
            return {"kind": "checkpoints", "report": report}, 0
        from anytune._eval_report import plot_reports

        reports = []
        spent = 0.0
        for job_id in job_ids:
            with Job.get(job_id) as job:
                left = None if max_cost is None else max(0.0, max_cost - spent)
                rep = job.evaluate(
                    data,
                    scorers=scorers,
                    baseline=None if baseline == "none" else baseline,
                    concurrency=concurrency,
                    max_tokens=max_tokens,
                    max_cost_usd=left,
                    limit=limit,
                )
            spent += rep.eval_cost_usd or 0.0
            reports.append(rep)
        if plot is not None:
            plot_reports(reports, plot)
        return {"kind": "jobs", "reports": reports}, 0

    def human(doc: dict[str, Any]) -> None:
        from anytune._eval_report import table

        out = console()
        if doc["kind"] == "checkpoints":
            rep = doc["report"]
            out.print(rep.to_table(), markup=False, highlight=False)
            name, step, best = rep.best
            out.print(
                f"best: {name}"
                + (f" (step {step})" if step is not None else "")
                + f", {100 * best.tuned.score:.1f}% on {best.scorers[0]}: {best.tuned.model}",
                markup=False,
                highlight=False,
            )
            return
        reports = doc["reports"]
        out.print(table(reports), markup=False, highlight=False)
        for rep in reports:
            if rep.estimate_usd is not None:
                out.print(
                    f"{rep.job}: estimated up to ${rep.estimate_usd:.4f} before running; "
                    f"{rep.samples} samples from {rep.source}",
                    markup=False,
                    highlight=False,
                )
        if plot is not None:
            out.print(f"chart: {plot}", markup=False, highlight=False)

    def as_doc() -> tuple[Any, int]:
        doc, code = body()
        if doc["kind"] == "checkpoints":
            return doc["report"].to_dict(), code
        return {"jobs": [row for rep in doc["reports"] for row in rep.rows()]}, code

    _run(as_json, as_doc if as_json else body, human)
