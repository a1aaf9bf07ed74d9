"""Chat with OpenAI tuned, checkpoint and base models through the official SDK against the
emulator (every exchange is checked against OpenAI's OpenAPI spec at the end of the session)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from anytune_openai import OpenAIProvider
from anytune_openai.emulator import OpenAIEmulator

from anytune import AsyncJob, Job, NotFoundError
from anytune.emulator import BASE_REPLY


@pytest.mark.emulator(job_seconds=0.3)
def test_tuned_checkpoint_and_base_chat(
    emulator: OpenAIEmulator,
    provider: OpenAIProvider,
    chat_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "home"))
    job = Job.create(
        provider="openai", model="gpt-4.1-mini-2025-04-14", training_file=chat_file, progress=False
    )
    job.wait(timeout=30, progress=False).raise_for_status()
    first = json.loads(chat_file.read_text().splitlines()[0])["messages"]
    question, answer = first[-2]["content"], first[-1]["content"]
    reply = job.chat(question, max_tokens=200)
    assert reply.text == answer and reply.model.startswith("ft:gpt-4.1-mini-2025-04-14:")
    assert job.chat(question, base=True).text == BASE_REPLY
    cut = job.chat(question, max_tokens=1)
    assert cut.completion_tokens == 1 and len(cut.text) < len(answer)
    ckpts = job.checkpoints()
    assert ckpts and all(c.model.startswith("ft:") for c in ckpts)
    assert provider.chat(ckpts[-1].model, [{"role": "user", "content": question}]).text in (
        answer,
        BASE_REPLY,
    )

    async def twin() -> str:
        ajob = await AsyncJob.get(job.id)
        try:
            return (await ajob.chat(question)).text
        finally:
            await ajob.aclose()

    assert asyncio.run(twin()) == answer


def test_unknown_model_is_not_found(provider: OpenAIProvider) -> None:
    with pytest.raises(NotFoundError):
        provider.chat("ft:gpt-4.1-mini-2025-04-14:nobody::x", [{"role": "user", "content": "hi"}])
