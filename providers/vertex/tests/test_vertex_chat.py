"""generateContent on a tuned model's endpoint and on base Gemini models, through
google-genai against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anytune_vertex import VertexProvider

from anytune import Job, NotFoundError
from anytune.emulator import BASE_REPLY


def test_tuned_endpoint_and_base_model(emulator: object, home: Path, chat_file: Path) -> None:
    job = Job.create(provider="vertex", model="gemini-3.5-flash", training_file=chat_file, progress=False)
    job.wait(timeout=30, progress=False).raise_for_status()
    assert job.result is not None and "/endpoints/" in job.result.model
    first = json.loads(chat_file.read_text().splitlines()[0])
    turns = first.get("messages") or []
    question = next(m["content"] for m in turns if m["role"] == "user")
    answer = turns[-1]["content"]
    reply = job.chat(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": question}],
        max_tokens=100,
        temperature=0,
    )
    assert reply.text == answer and reply.completion_tokens > 0
    assert job.chat(question, base=True).text == BASE_REPLY


def test_unknown_base_model_is_not_found(provider: VertexProvider) -> None:
    with pytest.raises(NotFoundError):
        provider.chat("gemini-0-nonexistent", [{"role": "user", "content": "hi"}])
