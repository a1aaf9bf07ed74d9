"""The emulator's ``POST /v1/chat/completions``: tuned and base models answer
deterministically (see :mod:`anytune._emulator_chat`), in Together's ``ChatCompletionResponse``.

A tuned model is a completed job's ``model_output_name``; Together serves it serverless
only for a LoRA job on a base model in ``inference.json``'s ``serverless_lora`` list, and
answers anything else as it answers a model it does not serve (a 404
``model_not_available``). A base model is one in the fine-tuning catalog.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from anytune.emulator import BASE_REPLY, Answer, ApiError, TunedAnswers, count_tokens, user_text
from anytune_together import _catalog
from anytune_together._chat import _data
from anytune_together.emulator.state import State

__all__ = ["chat_completion"]


def _refuse(status: int, message: str, code: str) -> ApiError:
    return ApiError(
        status, {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    )


def _resolve(state: State, model: str) -> TunedAnswers | None:
    with state.lock:
        for job in state.jobs.values():
            if job.extra.get("output_name") != model or state.status(job) != "completed":
                continue
            lora = (job.request.get("training_type") or {}).get("type", "Lora") != "Full"
            if not lora or job.request.get("model") not in _data()["serverless_lora"]:
                raise _refuse(
                    404,
                    f"Unable to access model {model}. Please visit https://api.together.ai/models "
                    "to view the list of supported models or contact the owner to request access.",
                    "model_not_available",
                )
            cache: dict[str, TunedAnswers] = state.__dict__.setdefault("_chat_answers", {})
            if job.id not in cache:
                content = state.files[job.request["training_file"]].content or b""
                cache[job.id] = TunedAnswers.from_jsonl(content)
            return cache[job.id]
    if _catalog.entry(model) is not None:
        return None
    raise _refuse(
        404,
        f"Unable to access model {model}. Please visit https://api.together.ai/models to view "
        "the list of supported models.",
        "model_not_available",
    )


def chat_completion(state: State, params: dict[str, str], query: str, body: bytes, headers: Any) -> Answer:
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        raise _refuse(400, "Invalid JSON body", "invalid_json") from None
    model, messages = req.get("model"), req.get("messages")
    if not isinstance(model, str) or not isinstance(messages, list) or not messages:
        raise _refuse(400, "model and a non-empty messages list are required", "invalid_request")
    answers = _resolve(state, model)
    text = answers.reply(user_text(messages)) if answers is not None else BASE_REPLY
    limit = req.get("max_tokens")
    finish = "stop"
    if isinstance(limit, int) and count_tokens(text) > limit:
        text, finish = " ".join(text.split()[:limit]), "length"
    pin = sum(count_tokens(str(m.get("content") or "")) + 3 for m in messages if isinstance(m, dict))
    pout = count_tokens(text)
    return Answer(
        200,
        {
            "id": secrets.token_hex(8),
            "object": "chat.completion",
            "created": int(state.clock()),
            "model": model,
            "prompt": [],
            "choices": [
                {"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}
            ],
            "usage": {"prompt_tokens": pin, "completion_tokens": pout, "total_tokens": pin + pout},
        },
    )
