"""Every ``anytune ... --json`` document follows its published JSON schema (issue 12).

Each command is run for real against the fake provider (a third-party provider
installed through its entry point), on its success path and on its typical failure
paths, and what it printed is validated with ``jsonschema`` against
``anytune.schemas.json_schema(command)``. The success documents of ``chat`` and
``evaluate`` (which need an emulator) are checked in ``test_evaluate_emulators.py``,
``quickstart``'s in the local provider's quickstart test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from anytune.cli import app
from anytune.schemas import OUTPUTS, json_schema, validate_output
from anytune.testing import write_chat_examples

#: What each command printed in this module, to check every command was run.
SEEN: dict[str, set[str]] = {}


def run(command: str, *args: str, code: int | None = 0) -> Any:
    """``anytune COMMAND ARGS --json``: the document, validated against the schema."""
    result = CliRunner().invoke(app, [command, *args, "--json"])
    doc = json.loads(result.stdout)
    validate_output(command, doc)
    if code is not None:
        assert result.exit_code == code, doc
    kind = "error" if isinstance(doc, dict) and set(doc) == {"error"} else "ok"
    SEEN.setdefault(command, set()).add(kind)
    return doc


@pytest.fixture
def data(isolated: Path) -> Path:
    return write_chat_examples(isolated / "train.jsonl", 12)


def test_every_json_command_has_a_schema_and_the_schemas_are_valid() -> None:
    with_json = {
        c.name or (c.callback.__name__ if c.callback else "")
        for c in app.registered_commands
        if c.callback and "as_json" in c.callback.__code__.co_varnames
    }
    assert with_json - {"schema"} == set(OUTPUTS)
    for command in OUTPUTS:
        jsonschema.Draft202012Validator.check_schema(json_schema(command))
    printed = json.loads(CliRunner().invoke(app, ["schema"]).stdout)
    assert set(printed) == set(OUTPUTS) and printed["create"] == json_schema("create")


def test_the_schema_refuses_what_the_design_rules_out() -> None:
    job = {"id": "fake:1", "provider": "fake", "model": "m", "status": "running",
           "created_at": None, "result": None, "error": None, "estimate": None, "actual": None,
           "reused": False}
    validate_output("get", job)
    for broken in ({**job, "status": "exploded"}, {k: v for k, v in job.items() if k != "reused"},
                   {**job, "surprise": 1}, {"error": {"message": "no type"}}):
        with pytest.raises(jsonschema.ValidationError):
            validate_output("get", broken)


def test_preflight_commands(data: Path, isolated: Path) -> None:
    run("validate", str(data), "-p", "fake", "-m", "fake-small")
    bad = isolated / "bad.jsonl"
    bad.write_text('{"messages": []}\nnot json\n')
    doc = run("validate", str(bad), "-p", "fake", "-m", "fake-small", code=1)
    assert doc["errors"] and all("line" in p for p in doc["errors"])
    run("estimate", str(data), "-p", "fake", "-m", "fake-small", "--epochs", "2")
    run("estimate", str(data), "-p", "fake", code=2)  # no model
    run("convert", str(data), "--to", "together", "-o", str(isolated / "out.jsonl"))
    run("convert", str(bad), "--to", "together", "-o", str(isolated / "bad-out.jsonl"), code=1)
    run("validate", str(isolated / "missing.jsonl"), "-p", "fake", "-m", "fake-small", code=1)


def test_job_commands(data: Path, isolated: Path) -> None:
    job = run("create", str(data), "-p", "fake", "-m", "fake-small", "--epochs", "2")
    run("create", str(data), "-p", "fake", "-m", "fake-small", "--max-cost", "0.0000001", code=1)
    run("create", str(data), "-p", "fake", "-m", "fake-small", "--epochs", "0", code=2)
    run("get", job["id"])
    done = run("wait", job["id"], "--timeout", "30")
    assert done["result"] and done["estimate"]
    run("cancel", job["id"])
    run("events", job["id"])
    run("list", "--provider", "fake")
    run("plot", job["id"], "-o", str(isolated / "loss.png"))
    run("doctor", job["id"])
    run("models", "--provider", "fake")
    run("get", "fake:no-such-job", code=None)
    failed = run("create", str(data), "-p", "fake", "-m", "fake-fail", "--wait", code=1)
    assert failed["error"]["message"]
    # Not offered by the fake provider: each prints the error document.
    run("chat", job["id"], "hello", code=None)
    run("evaluate", job["id"], code=None)
    run("export", job["id"], "--adapter", str(isolated / "adapter"), code=None)
    run("sandbox", "fake", code=None)


def test_sync_and_serve(data: Path) -> None:
    job = run("create", str(data), "-p", "fake", "-m", "fake-small", "--wait")
    run("sync", "--to", "nowhere", code=2)
    run("sync", "fake:no-such-job", "--to", "tensorboard", code=None)
    doc = run("sync", job["id"], "--to", "tensorboard")
    assert doc["jobs"] and doc["jobs"][0]["job"] == job["id"]
    from anytune._serve import find_vllm

    if find_vllm() is None:  # with vLLM installed, serve would start it: not here
        run("serve", job["id"], code=2)


@pytest.mark.slow
def test_sandbox_prints_its_document_before_serving() -> None:
    pytest.importorskip("anytune_openai")
    proc = subprocess.Popen([sys.executable, "-m", "anytune", "sandbox", "openai", "--json"],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"})
    try:
        assert proc.stdout is not None
        text = ""
        for line in proc.stdout:  # one indented document, then it serves until stopped
            text += line
            if line.startswith("}"):
                break
        doc = json.loads(text)
        validate_output("sandbox", doc)
        assert doc["provider"] == "openai" and doc["env"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
