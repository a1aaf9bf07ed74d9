"""Chat requests to tuned and base models (``job.chat``, ``job.evaluate``): the request
built from anytune's OpenAI-style parameters and the reply mapped back. No I/O here.

Route and fields: ``POST /v1/chat/completions`` (``client.chat.completions.create``),
``max_completion_tokens`` (``max_tokens`` is deprecated for it in OpenAI's spec),
``choices[0].message.content`` and ``usage``; checked against openai-python's
``resources/chat/completions`` and ``openapi.yaml`` (CreateChatCompletionRequest /
Response), 2026-11.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from anytune.provider import ChatReply

__all__ = ["base_of", "chat_params", "inference_price", "reply_from"]


def chat_params(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``chat.completions.create``."""
    out: dict[str, Any] = {"model": model, "messages": messages}
    for key, value in params.items():
        out["max_completion_tokens" if key == "max_tokens" else key] = value
    return out


def reply_from(resp: Any) -> ChatReply:
    """A ``ChatCompletion`` as a :class:`ChatReply`."""
    choice = resp.choices[0] if resp.choices else None
    text = (choice.message.content if choice is not None else None) or ""
    usage = None
    if resp.usage is not None:
        usage = {
            "prompt_tokens": resp.usage.prompt_tokens,
            "completion_tokens": resp.usage.completion_tokens,
            "total_tokens": resp.usage.total_tokens,
        }
    return ChatReply(text=text, model=resp.model, usage=usage, raw=resp)


def base_of(model: str) -> str:
    """The base snapshot of a tuned model id (``ft:BASE:org:suffix:id[:ckpt-step-N]``)."""
    return model.split(":")[1] if model.startswith("ft:") and model.count(":") >= 2 else model


@cache
def _prices() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(__file__).with_name("inference_prices.json").read_text("utf-8"))
    return data


def inference_price(model: str, *, tuned: bool) -> tuple[float, float] | None:
    """USD per million (input, output) tokens, or ``None`` for a model not in the table."""
    entry = _prices()["models"].get(base_of(model))
    if entry is None:
        return None
    pin, pout = entry["tuned" if tuned else "base"]
    return float(pin), float(pout)
