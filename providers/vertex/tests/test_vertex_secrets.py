"""A canary access token through the official SDKs at debug log level (the SDKs and their
HTTP libraries log requests there): success and failure paths leave it in no output, log
or file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anytune_vertex import VertexEmulator
from vertex_helpers import MODEL, write_chat

from anytune.testing import CanaryCLI

CANARY = "ya29.canary-vertex-9d2b7e51c0a34f18"
WRONG = "ya29.canary-wrong-4c1e8a7f3b2d6e90"

pytestmark = pytest.mark.slow


def test_canary_token_appears_nowhere(tmp_path: Path) -> None:
    with VertexEmulator(job_seconds=1.0, api_key=CANARY) as emu:
        cli = CanaryCLI(tmp_path, emu.env, credential_env="ANYTUNE_VERTEX_ACCESS_TOKEN")
        data = write_chat(tmp_path / "train.jsonl")
        created = cli.run("create", str(data), "-p", "vertex", "-m", MODEL, "--epochs", "1", "--wait",
                          "--json", credential=CANARY)
        assert created.returncode == 0, created.stderr
        job = json.loads(created.stdout)["id"]
        missing = "vertex:projects/anytune-sandbox/locations/us-central1/tuningJobs/404"
        # each command once, alternating plain and --json output (both render errors and jobs)
        for i, args in enumerate((["get", job], ["events", job], ["list"], ["cancel", job], ["get", missing],
                                  ["get", missing, "--json"], ["events", job, "--json"])):
            extra = () if i % 2 == 0 or "--json" in args else ("--json",)
            cli.run(*args, *extra, credential=CANARY)
        refused = cli.run("get", job, "--json", credential=WRONG)
        assert refused.returncode == 3
        assert json.loads(refused.stdout)["error"]["type"] == "AuthenticationError"
    assert "DEBUG" in cli.text and "127.0.0.1" in cli.text  # the HTTP libraries logged at debug
    cli.assert_nowhere(CANARY, WRONG)
