"""A canary key through the official SDK at debug log level (the SDK and httpx log
requests there): success and failure paths leave it in no output, log or file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from anytune_together.emulator import TogetherEmulator
from anytune_together.emulator.routes import error_body
from together_helpers import MODEL

from anytune import InvalidRequestError, Job
from anytune.emulator import Answer
from anytune.testing import CanaryCLI, write_chat_examples

CANARY = "tgp_v1_canary-together-9d2b7e51c0a34f18"
WRONG = "tgp_v1_canary-wrong-4c1e8a7f3b2d6e90"

pytestmark = pytest.mark.slow


def test_canary_key_appears_nowhere(tmp_path: Path) -> None:
    with TogetherEmulator(job_seconds=1.0, api_key=CANARY) as emu:
        cli = CanaryCLI(tmp_path, emu.env, credential_env="TOGETHER_API_KEY")
        data = write_chat_examples(tmp_path / "train.jsonl")
        created = cli.run("create", str(data), "-p", "together", "-m", MODEL, "--wait", "--json",
                          credential=CANARY)
        assert created.returncode == 0, created.stderr
        job = json.loads(created.stdout)["id"]
        for args in (["get", job], ["events", job], ["list"], ["cancel", job],
                     ["get", "together:ft-missing"], ["plot", job, "-o", str(tmp_path / "l.png")]):
            cli.run(*args, credential=CANARY)
            cli.run(*args, "--json", credential=CANARY)
        refused = cli.run("get", job, "--json", credential=WRONG)
        assert refused.returncode == 3
        assert json.loads(refused.stdout)["error"]["type"] == "AuthenticationError"
    assert "DEBUG together" in cli.text  # the SDK itself was logging at debug
    cli.assert_nowhere(CANARY, WRONG)


class _EchoingEmulator(TogetherEmulator):
    """A Together that refuses a job and quotes its W&B key back in the error."""

    def route(self, method: str, path: str) -> Any:
        operation, handler, params = super().route(method, path)
        if (method, path) != ("POST", "/v1/fine-tunes"):
            return operation, handler, params

        def refuse(p: dict[str, str], q: str, body: bytes, h: Any) -> Answer:
            key = json.loads(body).get("wandb_key")  # the SDK sends wandb_api_key as wandb_key
            return Answer(400, error_body(f"W&B rejected the key {key}", code="invalid_wandb_key"))

        return operation, refuse, params


def test_a_wandb_key_quoted_in_an_error_is_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wandb_key = "wandb-canary-5f3a9c1e7b2d4f60"
    with _EchoingEmulator(job_seconds=1.0, api_key=CANARY) as emu:
        for name, value in {**emu.env, "ANYTUNE_HOME": str(tmp_path / "home")}.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(InvalidRequestError) as info:
            Job.create(provider="together", model=MODEL, wandb_api_key=wandb_key,
                       training_file=write_chat_examples(tmp_path / "t.jsonl"))
    assert "W&B rejected the key" in str(info.value) and wandb_key not in str(info.value)


def test_secrets_given_as_argument_and_option_appear_nowhere_the_sdks_debug_log_included(
    tmp_path: Path,
) -> None:
    # The key as an argument (-O api_key=..., no variable set) and the W&B key as a job
    # option: Together's SDK logs each request body at debug ("Request options: {...
    # 'wandb_key': ...}"), a record anytune's handler must scrub like its own.
    wandb_key = "wandb-canary-0f9e8d7c6b5a4f3e"
    with TogetherEmulator(job_seconds=1.0, api_key=CANARY) as emu:
        cli = CanaryCLI(tmp_path, emu.env, credential_env="TOGETHER_API_KEY")
        data = write_chat_examples(tmp_path / "train.jsonl")
        created = cli.run("create", str(data), "-p", "together", "-m", MODEL, "-O", f"api_key={CANARY}",
                          "-O", f"wandb_api_key={wandb_key}", "--wait", "--json", credential="")
        assert created.returncode == 0, created.stderr
        assert json.loads(created.stdout)["status"] == "succeeded"
    assert "wandb_key" in cli.text and "Request options" in cli.text  # the SDK logged the body
    cli.assert_nowhere(CANARY, wandb_key)
