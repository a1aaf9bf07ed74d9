"""JSONL read as OpenAI reads it: a line ends at ``\\n`` alone. GSM8K record 2382 holds raw
U+2028 inside a JSON string; ``str.splitlines()`` would break it into three bad lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anytune_openai import OpenAIProvider
from anytune_openai.emulator import OpenAIEmulator
from openai_helpers import GSM_U2028, MODEL, FakeClock

from anytune import Hyperparameters, Job, JobStatus, validate
from anytune.provider import CreateRequest


def _raw_chat(path: Path) -> Path:
    """The fixture as OpenAI chat JSONL, the separators left raw (``ensure_ascii=False``)."""
    with path.open("w", encoding="utf-8") as fh:
        for line in GSM_U2028.read_text(encoding="utf-8").split("\n"):
            if line:
                rec = json.loads(line)
                fh.write(json.dumps({"messages": [{"role": "user", "content": rec["instruction"]},
                                                  {"role": "assistant", "content": rec["output"]}]},
                                    ensure_ascii=False) + "\n")
    return path


@pytest.mark.emulator(job_seconds=100.0, fake_clock=True)
def test_a_raw_line_separator_inside_a_string_trains(
    provider: OpenAIProvider, clock: FakeClock, tmp_path: Path
) -> None:
    raw = _raw_chat(tmp_path / "raw.jsonl")
    assert "\u2028" in raw.read_text(encoding="utf-8")
    file_id = provider.upload(raw, purpose="train")  # as is, through the official SDK
    job_id = provider.create(CreateRequest(model=MODEL, training_file=file_id,
                                           hyperparameters=Hyperparameters(epochs=1))).id
    clock.advance(200)
    done = provider.get(job_id)
    assert done.error is None and done.status is JobStatus.SUCCEEDED


def test_gsm8k_record_2382_goes_through_anytune(
    emulator: OpenAIEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {**emulator.env, "ANYTUNE_HOME": str(tmp_path / "home")}.items():
        monkeypatch.setenv(key, value)
    assert validate(GSM_U2028, provider="openai", model=MODEL).ok
    job = Job.create(provider="openai", model=MODEL, training_file=GSM_U2028,
                     hyperparameters=Hyperparameters(epochs=1))
    assert job.wait(timeout=30, progress=False).status is JobStatus.SUCCEEDED
