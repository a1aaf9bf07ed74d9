"""Human-readable output of the CLI (the ``--json`` output needs none of this)."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["console", "esc", "print_events", "print_job", "print_jobs", "print_table"]

_STATUS_COLOUR = {"succeeded": "green", "failed": "red", "cancelled": "yellow"}


def console(stderr: bool = False) -> Any:
    """A rich console (imported lazily: rich costs import time)."""
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output (grep, a log) gets wide lines: ids and model names are never cut.
    # An explicit COLUMNS is honoured, as rich and every terminal tool do.
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 250
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def esc(value: Any) -> str:
    """``value`` as text that rich prints literally: vendor messages and file contents
    may hold ``[...]`` (a ``[/x]`` would otherwise be read as a closing tag and crash)."""
    from rich.markup import escape

    return escape(str(value))


def _status(status: str) -> str:
    colour = _STATUS_COLOUR.get(status, "cyan")
    return f"[{colour}]{status}[/{colour}]"


def _pct(x: float) -> str:
    return f"{x:+.1%}"


def print_job(doc: dict[str, Any]) -> None:
    """One job: id, status, model, result or error, estimate and what was reported."""
    out = console()
    out.print(f"{esc(doc['id'])}  {_status(doc['status'])}  model={esc(doc['model'])}")
    if doc.get("result"):
        out.print(f"  tuned model: [bold]{esc(doc['result']['model'])}[/bold]")
    if doc.get("error"):
        out.print(f"  error: {esc(doc['error'].get('message'))}")
    est = doc.get("estimate")
    if est:
        cost = "" if est.get("cost_usd") is None else f", ${est['cost_usd']:.2f}"
        exact = "" if est.get("exact_tokens", True) else " [yellow](approximate)[/yellow]"
        out.print(f"  estimate: {est['trained_tokens']:,} trained tokens{cost}{exact}")
        if est.get("approximation"):
            out.print(f"    [dim]{esc(est['approximation'])}[/dim]")
    act = doc.get("actual")
    if act:
        cost = ""
        if act.get("cost_usd") is not None:
            how = "reported" if act.get("cost_source") == "provider" else "at the estimate's rate"
            cost = f", ${act['cost_usd']:.2f} ({how})"
        vs = "" if act.get("vs_estimate") is None else f"; {_pct(act['vs_estimate'])} vs estimate"
        out.print(f"  actual: {act['trained_tokens']:,} trained tokens{cost}{vs}")


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A table whose cells are never split across lines (ids and model names stay
    copyable). When it does not fit the terminal, each row is printed as a block
    instead: the first cell on its own line, then ``header: value`` pairs, each whole.
    Cells are rich markup; callers escape vendor text with :func:`esc`."""
    from rich.table import Table
    from rich.text import Text

    out = console()
    table = Table(*headers)
    for column in table.columns:
        column.no_wrap = True
    for row in rows:
        table.add_row(*row)
    # The width with every cell whole: widest cell per column, one space of padding on
    # each side and a border between columns (rich would cut cells with "…" instead).
    widths = [max([len(h)] + [Text.from_markup(r[i]).cell_len for r in rows]) for i, h in enumerate(headers)]
    if sum(widths) + 3 * len(widths) + 1 <= out.width:
        out.print(table)
        return
    for row in rows:
        out.print(row[0])
        line, used = "", 2
        for header, cell in zip(headers[1:], row[1:], strict=True):
            if not Text.from_markup(cell).plain:
                continue
            pair = f"{header}: {cell}"
            size = len(header) + 2 + Text.from_markup(cell).cell_len
            if line and used + 3 + size > out.width:
                out.print("  " + line)
                line, used = "", 2
            line, used = (f"{line} · {pair}", used + 3 + size) if line else (pair, used + size)
        if line:
            out.print("  " + line)


def print_jobs(docs: list[dict[str, Any]]) -> None:
    """A table of jobs."""
    if not docs:
        console().print("no jobs")
        return
    # A stored job its provider no longer knows (docs/design.md keeps the status field's
    # values; the error says "stale"): shown as such, never as running or queued.
    print_table(["id", "status", "model", "created", "result"], [
        [esc(d["id"]),
         "[dim]stale[/dim]" if (d.get("error") or {}).get("code") == "stale" else _status(d["status"]),
         esc(d["model"]), (d["created_at"] or "")[:19], esc((d.get("result") or {}).get("model", ""))]
        for d in docs
    ])


def print_events(docs: list[dict[str, Any]]) -> None:
    """Events, one a line."""
    out = console()
    for e in docs:
        out.print(f"[dim]{e['created_at'][:19]}[/dim] {esc(e['level']):<7} {esc(e['message'])}")
