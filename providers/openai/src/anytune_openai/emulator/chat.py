"""The emulator's ``POST /v1/chat/completions``: tuned, checkpoint and base models answer
deterministically (see :mod:`anytune._emulator_chat`), in OpenAI's ``ChatCompletion`` shape.

A tuned model exists once its job succeeded (``ft:...``); a checkpoint model
(``ft:...:ckpt-step-N``) once listed; a base model when it is in the catalog. Anything
else is OpenAI's 404 ``model_not_found``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from anytune.emulator import BASE_REPLY, Answer, TunedAnswers, count_tokens, user_text
from anytune_openai import _catalog
from anytune_openai.emulator.state import ApiError, State, new_id
from anytune_openai.emulator.timeline import checkpoints

__all__ = ["chat_completion"]


def _answers(state: State, job: Any) -> TunedAnswers:
    cache: dict[str, TunedAnswers] = state.__dict__.setdefault("_chat_answers", {})
    if job.id not in cache:
        cache[job.id] = TunedAnswers.from_jsonl(state.contents[job.training_file])
    return cache[job.id]


def _resolve(state: State, model: str) -> tuple[TunedAnswers | None, float]:
    """(what the model learned, how far it trained) — (None, 0) for a base model."""
    with state.lock:
        for job in state.jobs.values():
            if not model.startswith(job.fine_tuned_model):
                continue
            if model == job.fine_tuned_model and state.phase(job)[0] == "succeeded":
                return _answers(state, job), 1.0
            for ckpt in checkpoints(state, job):
                if ckpt["fine_tuned_model_checkpoint"] == model:
                    return _answers(state, job), ckpt["step_number"] / max(job.total_steps, 1)
    if any(m["model"] == model for m in _catalog.catalog_data()["models"]):
        return None, 0.0
    raise ApiError(
        404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"
    )


def _cut(text: str, max_tokens: int | None) -> tuple[str, str]:
    if max_tokens is None or count_tokens(text) <= max_tokens:
        return text, "stop"
    ends = [m.end() for m in re.finditer(r"\w+|[^\w\s]", text)]
    return text[: ends[max_tokens - 1]] if max_tokens > 0 else "", "length"


def chat_completion(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "We could not parse the JSON body of your request.") from None
    model, messages = req.get("model"), req.get("messages")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "Missing required parameter: 'model'.", param="model")
    if not isinstance(messages, list) or not messages:
        raise ApiError(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            param="messages",
            code="empty_array",
        )
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in (
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
        ):
            raise ApiError(400, f"Invalid value for 'messages[{i}].role'.", param=f"messages[{i}].role")
    limit = req.get("max_completion_tokens", req.get("max_tokens"))
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ApiError(
            400, "Invalid 'max_completion_tokens': must be a positive integer.", param="max_completion_tokens"
        )
    answers, fraction = _resolve(state, model)
    prompt = user_text(messages)
    text = answers.reply(prompt, fraction=fraction) if answers is not None else BASE_REPLY
    text, finish = _cut(text, limit)
    prompt_tokens = sum(count_tokens(str(m.get("content") or "")) + 3 for m in messages) + 3
    completion_tokens = count_tokens(text)
    return Answer(
        200,
        {
            "id": new_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(state.clock()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "service_tier": "default",
        },
    )
