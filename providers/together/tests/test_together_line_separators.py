"""JSONL read as Together reads it: a line ends at ``\\n`` alone. GSM8K record 2382 holds
raw U+2028 inside a JSON string; ``str.splitlines()`` would break it into three bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from anytune_together import TogetherProvider
from anytune_together.emulator import TogetherEmulator
from together_helpers import GSM_U2028, MODEL

from anytune import Hyperparameters, Job, JobStatus, validate
from anytune.provider import CreateRequest


def _raw_chat(path: Path) -> Path:
    """The fixture as chat JSONL, the separators left raw (``ensure_ascii=False``)."""
    with path.open("w", encoding="utf-8") as fh:
        for line in GSM_U2028.read_text(encoding="utf-8").split("\n"):
            if line:
                rec = json.loads(line)
                fh.write(json.dumps({"messages": [{"role": "user", "content": rec["instruction"]},
                                                  {"role": "assistant", "content": rec["output"]}]},
                                    ensure_ascii=False) + "\n")
    return path


def test_a_raw_line_separator_inside_a_string_trains(provider: TogetherProvider, tmp_path: Path) -> None:
    raw = _raw_chat(tmp_path / "raw.jsonl")
    assert "\u2028" in raw.read_text(encoding="utf-8")
    file_id = provider.upload(raw, purpose="train")  # as is, through the official SDK
    job_id = provider.create(CreateRequest(model=MODEL, training_file=file_id,
                                           hyperparameters=Hyperparameters(epochs=1))).id
    assert provider.get(job_id).error is None


def test_gsm8k_record_2382_goes_through_anytune(env: TogetherEmulator) -> None:
    assert validate(GSM_U2028, provider="together", model=MODEL).ok
    job = Job.create(provider="together", model=MODEL, training_file=GSM_U2028,
                     hyperparameters=Hyperparameters(epochs=1))
    assert job.wait(timeout=30, progress=False).status is JobStatus.SUCCEEDED
    uploaded = next(iter(env.state.files.values())).content or b""
    assert "\u2028".encode() not in uploaded and b"\\u2028" in uploaded  # written escaped
