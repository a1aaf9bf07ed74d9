"""Human-readable output of the CLI (the ``--json`` output needs none of this)."""

from __future__ import annotations

from typing import Any

__all__ = ["console", "print_events", "print_job", "print_jobs", "print_models"]

_STATUS_COLOUR = {"succeeded": "green", "failed": "red", "cancelled": "yellow"}


def console(stderr: bool = False) -> Any:
    """A rich console (imported lazily: rich costs import time)."""
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output (grep, a log) gets wide lines: ids and model names are never cut.
    width = None if stream.isatty() else 250
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _status(status: str) -> str:
    colour = _STATUS_COLOUR.get(status, "cyan")
    return f"[{colour}]{status}[/{colour}]"


def print_job(doc: dict[str, Any]) -> None:
    """One job: id, status, model, result or error, estimate."""
    out = console()
    out.print(f"{doc['id']}  {_status(doc['status'])}  model={doc['model']}")
    if doc.get("result"):
        out.print(f"  tuned model: [bold]{doc['result']['model']}[/bold]")
    if doc.get("error"):
        out.print(f"  error: {doc['error'].get('message')}")
    est = doc.get("estimate")
    if est and est.get("cost_usd") is not None:
        out.print(f"  estimate: {est['trained_tokens']:,} tokens, ${est['cost_usd']:.2f}")


def print_jobs(docs: list[dict[str, Any]]) -> None:
    """A table of jobs."""
    from rich.table import Table

    table = Table("id", "status", "model", "created", "result")
    for column in table.columns:
        column.overflow = "fold"  # an id must stay copyable, never "ftjob-…"
    for d in docs:
        # A stored job its provider no longer knows (DESIGN.md keeps the status field's
        # values; the error says "stale"): shown as such, never as running or queued.
        stale = (d.get("error") or {}).get("code") == "stale"
        table.add_row(d["id"], "[dim]stale[/dim]" if stale else _status(d["status"]), d["model"],
                      (d["created_at"] or "")[:19],
                      (d.get("result") or {}).get("model", ""))
    console().print(table if docs else "no jobs")


def print_events(docs: list[dict[str, Any]]) -> None:
    """Events, one a line."""
    out = console()
    for e in docs:
        out.print(f"[dim]{e['created_at'][:19]}[/dim] {e['level']:<7} {e['message']}")


def print_models(docs: list[dict[str, Any]]) -> None:
    """The model catalog as a table."""
    from rich.table import Table

    table = Table("provider", "model", "methods", "max tokens", "$/1M tokens", "as of", "shutdown")
    for column in table.columns:
        column.overflow = "fold"
    for m in docs:
        prices = ", ".join(f"{k} {v:g}" for k, v in m["price_per_million_tokens"].items())
        table.add_row(m["provider"], m["model"], ",".join(m["methods"]),
                      str(m["max_tokens_per_example"] or ""), prices, m["price_as_of"] or "",
                      m["training_shutdown"] or "")
    console().print(table)
    # Where each price table comes from: one line per provider and source, not per row.
    sources = dict.fromkeys((m["provider"], m["price_source"], m["price_as_of"]) for m in docs)
    for provider, source, as_of in sources:
        if source:
            console().print(f"prices of {provider}: {source}" + (f" (as of {as_of})" if as_of else ""),
                            soft_wrap=True, highlight=False)
