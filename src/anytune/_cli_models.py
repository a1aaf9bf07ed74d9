"""``anytune models [--provider P] [--refresh]``: the catalog, and refreshing it from the vendors.

``--json`` prints the rows of :func:`anytune.catalog.rows` (docs/design.md §3); with
``--refresh`` the vendors are asked first and what each refresh did goes to stderr.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from anytune._cli_render import console, print_table
from anytune.cli import JsonOpt, ProviderOpt, _run, app

__all__ = ["models", "print_catalog"]


def _limit(row: dict[str, Any]) -> str:
    """``131072`` when every method has the same limit, else ``sft 65536 / dpo 32768``."""
    per = {m: (lim or {}).get("max_tokens_per_example") for m, lim in row["limits"].items()}
    values = set(per.values())
    if len(values) <= 1:
        value = next(iter(values), None)
        return "" if value is None else str(value)
    return " / ".join(f"{m} {v}" for m, v in per.items())


def _status(row: dict[str, Any]) -> str:
    if row["retired"]:
        return f"[red]retired {row['retirement_date']}[/red]"
    if row["listed_by_vendor"] is False:
        return "[yellow]not in vendor list[/yellow]"
    return row["retirement_date"] or ""


def print_catalog(rows: list[dict[str, Any]]) -> None:
    """The catalog as a table, then one line per provider saying where prices and limits
    come from and how old they are."""
    from rich.markup import escape

    from anytune.catalog import can_refresh

    # The model first: in the narrow layout (print_table) each block starts with it.
    print_table(["model", "provider", "methods", "max tokens", "$/1M tokens", "retires"], [
        [escape(r["model"]), r["provider"], ",".join(r["methods"]), _limit(r),
         ", ".join(f"{k} {v:g}" for k, v in r["price_per_million_tokens"].items()) or "unknown",
         _status(r)]
        for r in rows
    ])
    out = console()
    seen: set[str] = set()
    for r in rows:
        if r["provider"] in seen:
            continue
        seen.add(r["provider"])
        mine = [x for x in rows if x["provider"] == r["provider"]]
        sources = sorted({(x["price_source"], x["price_as_of"]) for x in mine
                          if x["price_source"] and x["price_as_of"]})
        for source, as_of in sources:
            out.print(f"prices of {r['provider']}: {escape(source)} (as of {as_of})", soft_wrap=True)
        refreshed = next((x["refreshed_at"] for x in mine if x["refreshed_at"]), None)
        dates = sorted({x["limits_as_of"] for x in mine if x["limits_as_of"]})
        where = (f"refreshed from the vendor at {refreshed}" if refreshed
                 else f"packaged table as of {dates[0] if dates else 'unknown'}")
        hint = (f" (`anytune models --refresh --provider {r['provider']}`)" if can_refresh(r["provider"])
                else " (the vendor publishes no list to refresh from)")
        out.print(f"models and limits of {r['provider']}: {where}{hint}", soft_wrap=True)


@app.command()
def models(
    provider: ProviderOpt = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask the vendors for their current list first (network).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Tunable models, methods, limits, prices and retirement dates, with their sources."""
    from anytune import catalog

    def body() -> tuple[Any, int]:
        if refresh:
            for result in catalog.refresh_catalog(provider):
                console(stderr=True).print(result.message, markup=False, highlight=False)
        return catalog.rows(provider), 0

    _run(as_json, body, print_catalog)
