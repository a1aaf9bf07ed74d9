"""`anytune quickstart`: a real LoRA run on a tiny model, through the CLI; progress on
stderr, the JSON document on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anytune.schemas import validate_output


@pytest.mark.slow
def test_quickstart_through_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "ANYTUNE_HOME": str(tmp_path / "home")}
    out = subprocess.run(
        [sys.executable, "-m", "anytune", "quickstart", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    # The "under 2 minutes" promise is measured in docs/benchmarks.md, not asserted here.
    doc = json.loads(out.stdout)
    validate_output("quickstart", doc)  # the published schema (anytune.schemas)
    assert Path(doc["adapter"], "adapter_model.safetensors").exists()
    assert doc["last_train_loss"] < 0.5 * doc["first_train_loss"]
    assert int(doc["held_out_in_format"].split("/")[0]) >= 2
    # The change is shown plainly: the untuned model never answers in the format.
    assert doc["held_out_in_format_before"] == "0/3"
    assert out.stderr.count("      before: ") == 3 and out.stderr.count("      after:  ") == 3
    assert "mean of the first 5 logged steps -> mean of the last 5" in out.stderr
    # What the user reads: the loss going down, and where the adapter is and how to load it.
    assert "train loss" in out.stderr and doc["adapter"] in out.stderr
    steps = [int(line.split()[1]) for line in out.stderr.splitlines() if line.strip().startswith("step ")]
    assert len(steps) > 3 and steps == sorted(set(steps)), "each step is shown once, in order"
    assert "AutoPeftModelForCausalLM.from_pretrained" in out.stderr
