"""``anytune serve`` / ``export`` in the core: the vLLM command as pure data, the error
without vLLM, and the SPI defaults for providers that have no weights on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anytune import UnsupportedError
from anytune._serve import vllm_command
from anytune.cli import app
from anytune.provider import Provider


def test_vllm_command_serves_the_adapter_under_its_name() -> None:
    cmd = vllm_command("/models/base", Path("/jobs/a/adapter"), name="anytune-a", port=9000)
    assert cmd.argv == ["vllm", "serve", "/models/base", "--enable-lora",
                        "--lora-modules", "anytune-a=/jobs/a/adapter",
                        "--host", "127.0.0.1", "--port", "9000"]
    assert cmd.base_url == "http://127.0.0.1:9000/v1" and cmd.model == "anytune-a"


@pytest.mark.parametrize(("rank", "flag"), [(8, "16"), (16, "16"), (48, "64"), (64, "64"), (256, "256")])
def test_max_lora_rank_always_fits_the_adapter(rank: int, flag: str) -> None:
    argv = vllm_command("b", "a", name="n", lora_rank=rank).argv
    assert argv[argv.index("--max-lora-rank") + 1] == flag


def test_all_interfaces_are_reached_through_localhost() -> None:
    assert vllm_command("b", "a", name="n", host="0.0.0.0").base_url == "http://localhost:8000/v1"


def test_an_adapter_name_with_equals_is_refused() -> None:
    with pytest.raises(ValueError, match="'='"):
        vllm_command("b", "a", name="x=y")


def test_serve_without_vllm_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no vllm anywhere
    result = CliRunner().invoke(app, ["serve", "local:any", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "pip install vllm" in error["message"]
    human = CliRunner().invoke(app, ["serve", "local:any"])
    assert human.exit_code == 2 and "pip install vllm" in human.output


def test_providers_without_weights_on_disk_say_so() -> None:
    class Plain(Provider):
        name = "plain"

    p = Plain()
    for call in (lambda: p.download("j", Path("d")), lambda: p.export_merged("j", Path("d")),
                 lambda: p.serve_command("j")):
        with pytest.raises(UnsupportedError, match="plain"):
            call()


def test_export_needs_exactly_one_destination() -> None:
    result = CliRunner().invoke(app, ["export", "local:any", "--json"])
    assert result.exit_code == 2 and "--merged" in json.loads(result.stdout)["error"]["message"]
