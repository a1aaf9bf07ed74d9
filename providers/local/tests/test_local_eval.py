"""Chat and evaluate with local models: the adapter over its base in this process, and the
example that tunes a tiny model, evaluates it against its base on held-out prompts and
ranks its checkpoints (one training run serves every assertion)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from anytune_local import LocalProvider
from typer.testing import CliRunner

from anytune.cli import app

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "evaluate_local.py"


def test_in_process_chat_loads_an_adapter_over_its_base(tiny_model: Path, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    # An adapter whose B matrices are not zero, so that it changes what the model says.
    torch.manual_seed(0)
    net = get_peft_model(
        AutoModelForCausalLM.from_pretrained(str(tiny_model)),
        LoraConfig(r=8, lora_alpha=64, target_modules="all-linear", init_lora_weights=False),
    )
    net.save_pretrained(str(tmp_path / "adapter"))
    provider = LocalProvider()
    messages = [
        {"role": "system", "content": "You answer in JSON."},
        {"role": "user", "content": "Tell me about the apple."},
    ]
    base = provider.chat(str(tiny_model), messages, max_tokens=12)
    again = provider.chat(str(tiny_model), messages, max_tokens=12)
    tuned = provider.chat(str(tmp_path / "adapter"), messages, base_model=str(tiny_model), max_tokens=12)
    assert base.text == again.text  # greedy: the same prompt, the same answer
    assert tuned.text != base.text
    assert base.usage is not None and 0 < base.usage["completion_tokens"] <= 12
    assert base.usage["prompt_tokens"] > 5
    provider.close()


@pytest.mark.slow
def test_example_tunes_evaluates_and_ranks_checkpoints(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "ANYTUNE_HOME": str(home)},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "tuned" in out.stdout and "baseline" in out.stdout and "held-out prompts" in out.stdout
    assert (tmp_path / "eval.png").read_bytes()[:4] == b"\x89PNG"
    job_id = re.search(r"^job: (local:\w+)$", out.stdout, re.M).group(1)  # type: ignore[union-attr]

    # What the done criterion asks, in one command: base <= 10 %, tuned >= 90 % on JSON.
    result = CliRunner().invoke(app, ["evaluate", job_id, "--scorer", "json", "--max-tokens", "32", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["jobs"]
    assert row["samples"] == 30 and row["tuned"]["n"] == 30
    assert row["baseline"]["score"] <= 0.10, row
    assert row["tuned"]["score"] >= 0.90, row
    assert row["tuning_cost_usd"] == 0.0 and row["eval_cost_usd"] == 0.0

    result = CliRunner().invoke(
        app, ["evaluate", job_id, "--checkpoints", "--max-tokens", "32", "--limit", "15", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    steps = [c["step"] for c in doc["checkpoints"] if c["step"] is not None]
    assert len(steps) >= 3 and steps == sorted(steps)
    best = max(doc["checkpoints"], key=lambda c: c["score"])
    assert doc["best"] in {c["checkpoint"] for c in doc["checkpoints"] if c["score"] == best["score"]}
    assert doc["checkpoints"][0]["score"] < best["score"]  # the first checkpoint is not the best yet


def test_vllm_url_sends_openai_compatible_chat(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vLLM client against an OpenAI-compatible server (the OpenAI emulator, which follows
    OpenAI's spec for this route as vLLM's server does): request, answer, usage and errors."""
    from anytune import NotFoundError
    from anytune.emulator import BASE_REPLY
    from anytune.testing import running_emulator

    with running_emulator("openai", api_key="vllm-test-key") as emu:
        url = emu.env["OPENAI_BASE_URL"].removesuffix("/v1")
        monkeypatch.setenv("VLLM_API_KEY", "vllm-test-key")
        provider = LocalProvider(vllm_url=url)
        reply = provider.chat("gpt-4.1-mini-2025-04-14", [{"role": "user", "content": "hi"}], max_tokens=50)
        assert reply.text == BASE_REPLY and reply.usage and reply.usage["completion_tokens"] > 0
        with pytest.raises(NotFoundError) as err:
            provider.chat("no-such-adapter", [{"role": "user", "content": "hi"}])
        assert "vllm-test-key" not in str(err.value)
        assert emu.requests["chat"] == 2
