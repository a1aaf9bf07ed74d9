"""``anytune schema [COMMAND]``: the JSON schema of a command's ``--json`` output.

The schemas are pydantic models in :mod:`anytune.schemas`; the document printed is
``json_schema(COMMAND)`` (the command's output or the error document), or, without a
command, ``{"COMMAND": schema, ...}`` for every command that prints ``--json``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from anytune.cli import JsonOpt, _emit, _run, app


@app.command("schema")
def schema_cmd(
    command: Annotated[str | None, typer.Argument(help="A command, e.g. create (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the JSON schema of a command's --json output (always JSON)."""

    def body() -> tuple[Any, int]:
        from anytune.schemas import OUTPUTS, json_schema

        if command is None:
            return {name: json_schema(name) for name in sorted(OUTPUTS)}, 0
        return json_schema(command), 0

    # A schema is JSON whichever way it is asked for; errors follow --json as elsewhere.
    _run(as_json, body, _emit)
