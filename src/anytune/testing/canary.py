"""A canary-credential harness: prove a provider never leaks its credential.

Runs ``anytune`` commands as a user would (fresh processes, ``ANYTUNE_LOG=debug``, so the
vendor SDKs and their HTTP libraries log every request), keeps everything they print,
then checks that no secret appears in that output or in any file under the folder::

    with AcmeEmulator(api_key=CANARY) as emu:
        cli = CanaryCLI(tmp_path, emu.env, credential_env="ACME_API_KEY")
        cli.run("create", "train.jsonl", "-p", "acme", "-m", "small", "--wait", credential=CANARY)
        cli.run("get", "acme:ft-1", "--json", credential=WRONG)
    cli.assert_nowhere(CANARY, WRONG)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CanaryCLI"]


class CanaryCLI:
    """``anytune`` commands in subprocesses at debug logging, with a chosen credential in
    ``credential_env``; their job store and working folder are inside ``folder``."""

    def __init__(self, folder: Path, env: Mapping[str, str], *, credential_env: str) -> None:
        self.folder = folder
        self.env = {**os.environ, **env, "ANYTUNE_LOG": "debug", "ANYTUNE_HOME": str(folder / "home")}
        self.credential_env = credential_env
        self.outputs: list[str] = []

    def run(self, *args: str, credential: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``anytune ARGS`` with ``credential``; its stdout and stderr are kept."""
        result = subprocess.run(
            [sys.executable, "-m", "anytune", *args],
            capture_output=True,
            text=True,
            env={**self.env, self.credential_env: credential},
            cwd=self.folder,
            timeout=timeout,
        )
        self.outputs.append(result.stdout + result.stderr)
        return result

    @property
    def text(self) -> str:
        """Everything every command printed."""
        return "\n".join(self.outputs)

    def assert_nowhere(self, *secrets: str) -> None:
        """Fail if a secret is in any output or in any file under the folder."""
        for secret in secrets:
            assert secret not in self.text, "a secret appeared in the output"
            leaked = [
                str(p) for p in self.folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()
            ]
            assert leaked == [], f"a secret was written to {leaked}"
