"""Chat with Together tuned and base models through the official SDK against the emulator
(the exchanges are checked against Together's OpenAPI spec at the end of the session)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from anytune_together import TogetherProvider

from anytune import AsyncJob, Hyperparameters, Job, NotFoundError, UnsupportedError
from anytune.emulator import BASE_REPLY


def _data(path: Path) -> Path:
    with path.open("w") as fh:
        for i in range(12):
            fh.write(
                json.dumps(
                    {
                        "messages": [
                            {"role": "user", "content": f"Code for city {i}?"},
                            {"role": "assistant", "content": json.dumps({"city": i})},
                        ]
                    }
                )
                + "\n"
            )
    return path


def test_tuned_and_base_chat(env: object, tmp_path: Path) -> None:
    job = Job.create(
        provider="together",
        model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
        training_file=_data(tmp_path / "t.jsonl"),
        hyperparameters=Hyperparameters(epochs=1),
        progress=False,
    )
    job.wait(timeout=30, progress=False).raise_for_status()
    reply = job.chat(
        [{"role": "system", "content": "JSON only"}, {"role": "user", "content": "Code for city 7?"}],
        max_tokens=20,
        temperature=0,
    )
    assert json.loads(reply.text) == {"city": 7} and reply.model == job.result.model  # type: ignore[union-attr]
    assert reply.usage is not None and reply.usage["completion_tokens"] > 0
    assert job.chat("Code for city 7?", base=True).text == BASE_REPLY

    async def twin() -> str:
        ajob = await AsyncJob.get(job.id)
        try:
            return (await ajob.chat("Code for city 3?")).text
        finally:
            await ajob.aclose()

    assert json.loads(asyncio.run(twin())) == {"city": 3}


def test_tuned_model_without_serverless_lora_names_the_dedicated_endpoint_step(
    provider: TogetherProvider,
) -> None:
    with pytest.raises(UnsupportedError, match=r"dedicated endpoint.*together endpoints create"):
        provider.chat("me/Qwen3-8B-ft", [{"role": "user", "content": "hi"}], base_model="Qwen/Qwen3-8B")


def test_unknown_model_is_not_found(provider: TogetherProvider) -> None:
    with pytest.raises(NotFoundError):
        provider.chat("nobody/no-such-model", [{"role": "user", "content": "hi"}])
