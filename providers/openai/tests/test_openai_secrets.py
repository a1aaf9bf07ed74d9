"""A canary key through the official SDK at debug log level (the SDK and httpx log
requests there): success and failure paths leave it in no output, log or file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anytune_openai.emulator import OpenAIEmulator
from openai_helpers import MODEL, write_chat

from anytune.testing import CanaryCLI

CANARY = "sk-canary-openai-9d2b7e51c0a34f18"
WRONG = "sk-canary-wrong-4c1e8a7f3b2d6e90"

pytestmark = pytest.mark.slow


def test_canary_key_appears_nowhere(tmp_path: Path) -> None:
    with OpenAIEmulator(job_seconds=1.0, api_key=CANARY) as emu:
        cli = CanaryCLI(tmp_path, emu.env, credential_env="OPENAI_API_KEY")
        data = write_chat(tmp_path / "train.jsonl")
        created = cli.run("create", str(data), "-p", "openai", "-m", MODEL, "--wait", "--json",
                          credential=CANARY)
        assert created.returncode == 0, created.stderr
        job = json.loads(created.stdout)["id"]
        for args in (["get", job], ["events", job], ["list"], ["cancel", job],
                     ["get", "openai:ftjob-missing"], ["plot", job, "-o", str(tmp_path / "l.png")]):
            cli.run(*args, credential=CANARY)
            cli.run(*args, "--json", credential=CANARY)
        refused = cli.run("get", job, "--json", credential=WRONG)
        assert refused.returncode == 3
        assert json.loads(refused.stdout)["error"]["type"] == "AuthenticationError"
    assert "DEBUG openai._base_client" in cli.text  # the SDK itself was logging at debug
    cli.assert_nowhere(CANARY, WRONG)


def test_a_key_given_as_an_argument_appears_nowhere(tmp_path: Path) -> None:
    # -O api_key=... with no variable set: the SDK's debug log of each request, anytune's
    # log, the job store and the job's working files stay clean.
    with OpenAIEmulator(job_seconds=1.0, api_key=CANARY) as emu:
        cli = CanaryCLI(tmp_path, emu.env, credential_env="OPENAI_API_KEY")
        created = cli.run("create", str(write_chat(tmp_path / "train.jsonl")), "-p", "openai", "-m", MODEL,
                          "-O", f"api_key={CANARY}", "--wait", "--json", credential="")
        assert created.returncode == 0, created.stderr
        assert json.loads(created.stdout)["status"] == "succeeded"
    assert "DEBUG openai._base_client" in cli.text
    cli.assert_nowhere(CANARY)
