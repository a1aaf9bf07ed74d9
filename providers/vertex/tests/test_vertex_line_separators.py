"""JSONL read as Vertex reads it: a line ends at ``\\n`` alone. GSM8K record 2382 holds
raw U+2028 inside a JSON string; ``str.splitlines()`` would break it into three bad lines."""

from __future__ import annotations

import json
import time
from pathlib import Path

from anytune_vertex import VertexEmulator, VertexProvider
from vertex_helpers import GSM_U2028, MODEL

from anytune import Hyperparameters, Job, JobStatus, validate
from anytune.provider import CreateRequest


def _raw_gemini() -> bytes:
    """The fixture in Gemini's tuning format, the separators left raw."""
    lines = []
    for line in GSM_U2028.read_text(encoding="utf-8").split("\n"):
        if line:
            rec = json.loads(line)
            lines.append(json.dumps({"contents": [
                {"role": "user", "parts": [{"text": rec["instruction"]}]},
                {"role": "model", "parts": [{"text": rec["output"]}]},
            ]}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_a_raw_line_separator_inside_a_string_trains(provider: VertexProvider, tmp_path: Path) -> None:
    raw = tmp_path / "raw.jsonl"
    raw.write_bytes(_raw_gemini())
    assert "\u2028".encode() in raw.read_bytes()
    uri = provider.upload(raw, purpose="train")  # as is, through the official SDKs
    job_id = provider.create(CreateRequest(model=MODEL, training_file=uri,
                                           hyperparameters=Hyperparameters(epochs=1))).id
    deadline = time.monotonic() + 20
    while not (snap := provider.get(job_id)).status.terminal and time.monotonic() < deadline:
        time.sleep(0.2)
    assert snap.status is JobStatus.SUCCEEDED, snap.error


def test_gsm8k_record_2382_goes_through_anytune(emulator: VertexEmulator, home: Path) -> None:
    assert validate(GSM_U2028, provider="vertex", model=MODEL).ok
    job = Job.create(provider="vertex", model=MODEL, training_file=GSM_U2028,
                     hyperparameters=Hyperparameters(epochs=1))
    assert job.wait(timeout=30, progress=False).status is JobStatus.SUCCEEDED
    stored = b"".join(obj.data for obj in emulator.state.objects.values())
    assert "\u2028".encode() not in stored and b"\\u2028" in stored  # written escaped
