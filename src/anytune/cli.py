"""The ``anytune`` command line (docs/design.md §3).

Every command takes ``--json`` and then prints exactly one JSON document on stdout.
Exit codes: 0 success; 1 invalid data, over budget, or the job ended failed/cancelled;
2 usage or configuration error; 3 provider error. Errors are turned into output and an
exit code in one place, :func:`_run`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from anytune._cli_render import console, esc, print_events, print_job, print_jobs
from anytune._errors import AnytuneError, ConfigurationError

app = typer.Typer(
    name="anytune",
    help="Fine-tune LLMs on any provider through one interface.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ProviderOpt = Annotated[str | None, typer.Option("--provider", "-p", help="Provider name.")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Base model.")]
MethodOpt = Annotated[str, typer.Option("--method", help="sft or dpo.")]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--option", "-O",
        help="A provider option KEY=VALUE, repeatable (full=true, gcs_bucket=my-bucket, ...).",
    ),
]


def _emit(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")


def _run(as_json: bool, fn: Callable[[], tuple[Any, int]], human: Callable[[Any], None]) -> None:
    """Run a command body; map every error to output and an exit code, in one place."""
    from anytune._log import setup_logging

    setup_logging()
    try:
        doc, code = fn()
    except AnytuneError as exc:
        if as_json:
            _emit({"error": exc.to_dict()})
        else:
            # The message may quote a vendor or a file: printed literally, never as markup.
            console(stderr=True).print(f"[red]error:[/red] {esc(exc)}", markup=True, highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # a bug: still one JSON document, and never "invalid data" (1)
        _crash(as_json, exc)
        raise typer.Exit(3) from None
    if doc is not None:  # None: the command printed its own output already
        _emit(doc) if as_json else human(doc)
    raise typer.Exit(code)


def _crash(as_json: bool, exc: Exception) -> None:
    """Report an unexpected exception: exit 3 (docs/design.md §3 reserves 1 for invalid data
    and failed jobs), the type and message, and the traceback only on request."""
    import os
    import traceback

    message = f"{type(exc).__name__}: {exc}"
    if as_json:
        _emit({"error": {"type": "InternalError", "message": message}})
    else:
        console(stderr=True).print(
            f"[red]internal error:[/red] {esc(message)} (a bug in anytune; set ANYTUNE_DEBUG=1 "
            "for the traceback)",
            markup=True,
            highlight=False,
        )
    if os.environ.get("ANYTUNE_DEBUG"):
        traceback.print_exc()


def _job_exit(job: Any) -> int:
    return 1 if job.status.value in ("failed", "cancelled") else 0


def _options(pairs: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as keyword arguments. A value that reads as JSON (``true``,
    ``2``, ``0.5``, ``null``, ``"x"``) is that value; anything else is the string."""
    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigurationError(f"--option expects KEY=VALUE, got {pair!r}")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        options[key.strip()] = value
    return options


def _hp(epochs: int | None) -> Any:
    from anytune._types import Hyperparameters

    # `is not None`: --epochs 0 is refused by Hyperparameters, never read as "default".
    return Hyperparameters(epochs=epochs) if epochs is not None else None


@app.command()
def validate(
    file: Path, provider: ProviderOpt = None, model: ModelOpt = None,
    method: MethodOpt = "sft", as_json: JsonOpt = False,
) -> None:
    """Check a dataset against a provider's rules; every problem with its line."""
    from anytune import _preflight

    def body() -> tuple[Any, int]:
        report = _preflight.validate(file, provider=provider, model=model, method=method)
        return report.to_dict(), 0 if report.ok else 1

    def human(doc: dict[str, Any]) -> None:
        out = console()
        for kind, colour in (("error", "red"), ("warning", "yellow")):
            for p in doc[f"{kind}s"]:
                where = f"{file}:{p['line']}" if p.get("line") else str(file)
                if p.get("element") is not None:
                    where += f" [{p['element']}]"
                field = f" {p['field']}:" if p.get("field") else ""
                out.print(f"[{colour}]{kind}[/{colour}] {esc(where)}{esc(field)} "
                          f"{esc(p['message'])} [dim]({esc(p['code'])})[/dim]")
        if doc.get("conversions"):
            out.print("converted before upload: " + esc("; ".join(doc["conversions"])))
        verdict = "[green]ok[/green]" if doc["ok"] else "[red]invalid[/red]"
        out.print(f"{verdict}: {doc['records']} records, {len(doc['errors'])} errors, "
                  f"{len(doc['warnings'])} warnings")

    _run(as_json, body, human)


@app.command()
def estimate(
    file: Path, provider: ProviderOpt = None, model: ModelOpt = None, method: MethodOpt = "sft",
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: the provider's rule).")] = None,
    option: OptionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Count tokens and price a job without network or credentials."""
    from anytune import _preflight
    from anytune._config import load_profile, resolve_provider

    notes: list[str] = []

    def body() -> tuple[Any, int]:
        name = resolve_provider(provider, load_profile())
        if not model:
            raise ConfigurationError("--model is required")
        est = _preflight.estimate(
            file, provider=name, model=model, method=method, epochs=epochs, **_options(option)
        )
        doc = est.to_dict()
        notes.extend(doc.pop("notes", ()))  # --json keeps docs/design.md's exact shape
        return doc, 0

    def human(doc: dict[str, Any]) -> None:
        cost = "unknown" if doc["cost_usd"] is None else f"${doc['cost_usd']:.2f} {doc['currency']}"
        exact = "" if doc["exact_tokens"] else " (approximate tokens)"
        console().print(
            f"{doc['records']} records, {doc['tokens_per_epoch']:,} tokens/epoch x {doc['epochs']} "
            f"epochs = {doc['trained_tokens']:,} trained tokens{exact}\n"
            f"cost: {cost}  [dim]"
            + (f"prices: {esc(doc['price_source'])} as of {esc(doc['price_as_of'])}"
               if doc["price_source"] and doc["price_as_of"] else "no catalog price (see the notes)")
            + "[/dim]"
        )
        approx = doc.get("approximation")
        if approx:
            console().print(f"  [yellow]approximate:[/yellow] {esc(approx)}")
        for note in notes:
            if not (approx and approx.startswith(note)):  # the reason, said once
                console().print(f"  [dim]note:[/dim] {esc(note)}")

    _run(as_json, body, human)


@app.command()
def convert(
    file: Path,
    to: Annotated[str, typer.Option(
        "--to", help="openai or alpaca, or a provider's format (together, vertex, ...).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file.")],
    as_json: JsonOpt = False,
) -> None:
    """Convert a dataset to a provider's upload format."""
    from anytune import _preflight

    def body() -> tuple[Any, int]:
        report = _preflight.convert(file, to=to, output=output)
        # Records with errors were skipped: the output is incomplete, as for validate.
        return report.to_dict(), 0 if report.ok else 1

    def human(doc: dict[str, Any]) -> None:
        out = console()
        for kind, colour in (("errors", "red"), ("losses", "yellow"), ("warnings", "yellow")):
            for p in doc.get(kind, []):
                out.print(f"[{colour}]{kind[:-1]}[/{colour}] line {p.get('line')}: "
                          f"{esc(p.get('message'))} [dim]({esc(p.get('code'))})[/dim]")
        out.print(f"wrote {doc.get('records')} records to {esc(output)}"
                  + (f"; skipped {doc['skipped']} with errors" if doc.get("skipped") else ""))

    _run(as_json, body, human)


@app.command()
def create(
    file: Path, provider: ProviderOpt = None, model: ModelOpt = None,
    method: Annotated[
        str | None, typer.Option("--method", help="sft or dpo (default: profile, else sft).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Training epochs.")] = None,
    validation: Annotated[Path | None, typer.Option("--validation", help="Validation file.")] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Refuse above this USD estimate.")
    ] = None,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    suffix: Annotated[str | None, typer.Option(help="Suffix of the tuned model's name.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the job to end.")] = False,
    holdout: Annotated[float | None, typer.Option(
        "--holdout", help="Share of records kept out of training for `anytune evaluate`.")] = None,
    option: OptionOpt = None,
    allow_retired: Annotated[
        bool,
        typer.Option("--allow-retired", help="Send the job even if the model is past its retirement date."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Validate, price, upload and start a fine-tuning job."""
    from anytune import Job

    def body() -> tuple[Any, int]:
        import warnings

        from anytune._errors import ReusedJobWarning
        from anytune._jobbase import reuse_message

        with warnings.catch_warnings():  # said once, below, in the CLI's own words
            warnings.simplefilter("ignore", ReusedJobWarning)
            job = Job.create(
                provider=provider, model=model, training_file=file, validation_file=validation,
                method=method, hyperparameters=_hp(epochs), max_cost_usd=max_cost,
                idempotency_key=idempotency_key, suffix=suffix, progress=not as_json,
                allow_retired=allow_retired or None, holdout=holdout, **_options(option),
            )
        if job.reused and not as_json:  # --json says "reused": true
            console(stderr=True).print(reuse_message(job, job._reused_by, cli=True),
                                       markup=False, highlight=False)
        if wait:
            job.wait(progress=not as_json)
        return job.to_dict(), _job_exit(job)

    _run(as_json, body, print_job)


@app.command()
def get(job_id: str, as_json: JsonOpt = False) -> None:
    """Show a job's current state."""
    from anytune import Job

    _run(as_json, lambda: (Job.get(job_id).to_dict(), 0), print_job)


@app.command("wait")
def wait_cmd(
    job_id: str,
    timeout: Annotated[float | None, typer.Option(help="Give up after S seconds (exit 3).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Wait for a job to end; exit 1 if it failed or was cancelled."""
    from anytune import Job

    def body() -> tuple[Any, int]:
        from anytune._checks import check_options

        check_options({"timeout": timeout})  # before the provider is asked anything
        job = Job.get(job_id).wait(timeout=timeout, progress=not as_json)
        return job.to_dict(), _job_exit(job)

    _run(as_json, body, print_job)


@app.command()
def cancel(job_id: str, as_json: JsonOpt = False) -> None:
    """Ask the provider to stop a job."""
    from anytune import Job

    _run(as_json, lambda: (Job.get(job_id).cancel().to_dict(), 0), print_job)


@app.command()
def events(job_id: str, as_json: JsonOpt = False) -> None:
    """List a job's events, oldest first."""
    from anytune import Job

    _run(as_json, lambda: ([e.to_dict() for e in Job.get(job_id).events()], 0), print_events)


@app.command("list")
def list_cmd(
    provider: ProviderOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many jobs.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Recent jobs: the local job store merged with the providers' lists."""
    from anytune import Job

    _run(as_json, lambda: ([j.to_dict() for j in Job.list(provider=provider, limit=limit)], 0),
         print_jobs)


@app.command()
def plot(
    job_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")] = Path("loss.png"),
    as_json: JsonOpt = False,
) -> None:
    """Plot train and validation loss against step, for any provider."""
    from anytune import Job
    from anytune._plot import plot_losses

    def body() -> tuple[Any, int]:
        metrics = Job.get(job_id).metrics()
        points = plot_losses(metrics, output, title=job_id)
        return {"job": job_id, "output": str(output), "points": points}, 0

    _run(as_json, body, lambda doc: console().print(f"wrote {esc(doc['output'])} ({doc['points']} points)"))


# Commands kept in their own modules register themselves on `app` when imported.
from anytune import (  # noqa: E402
    _cli_doctor,  # noqa: F401
    _cli_eval,  # noqa: F401
    _cli_models,  # noqa: F401
    _cli_sandbox,  # noqa: F401  (registers sandbox and quickstart)
    _cli_schema,  # noqa: F401  (registers schema)
    _cli_serve,  # noqa: F401
    _cli_sync,  # noqa: F401
)


def main() -> None:
    """Entry point of the ``anytune`` script."""
    app()
