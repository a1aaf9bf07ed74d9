"""Chat requests to tuned and base models on Together (``job.chat``, ``job.evaluate``).
No I/O here: the request, the reply, and which tuned models Together serves serverless.

Route and fields: ``POST /v1/chat/completions`` (together SDK 3.1.1
``resources/chat/completions.py``; the SDK sends it to ``api-inference.together.ai``
unless ``base_url`` is set), ``max_tokens``, ``choices[0].message.content``, ``usage``
(``ChatCompletionResponse`` in Together's openapi.yaml), checked 2026-11.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from anytune.errors import UnsupportedError
from anytune.provider import ChatReply

__all__ = ["chat_params", "check_serverless", "inference_price", "reply_from"]


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(__file__).with_name("inference.json").read_text("utf-8"))
    return data


def check_serverless(model: str, base_model: str | None) -> None:
    """Refuse, before any request, a tuned model Together does not serve serverless,
    naming the dedicated-endpoint step."""
    if base_model is None or base_model in _data()["serverless_lora"]:
        return
    step = _data()["dedicated_endpoint_step"].format(model=model)
    raise UnsupportedError(
        "together",
        f"chat with {model}",
        f"Together serves LoRA fine-tunes serverless only for {', '.join(_data()['serverless_lora'][:3])} "
        f"and a few others (not {base_model}); deploy it on a dedicated endpoint first: {step}",
    )


def chat_params(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``client.chat.completions.create``."""
    return {"model": model, "messages": messages, **params}


def reply_from(resp: Any) -> ChatReply:
    """A Together ``ChatCompletion`` as a :class:`ChatReply`."""
    choice = resp.choices[0] if resp.choices else None
    message = getattr(choice, "message", None)
    text = (getattr(message, "content", None) or getattr(choice, "text", None) or "") if choice else ""
    usage = None
    if resp.usage is not None:
        usage = {
            "prompt_tokens": resp.usage.prompt_tokens,
            "completion_tokens": resp.usage.completion_tokens,
            "total_tokens": resp.usage.total_tokens,
        }
    return ChatReply(text=text, model=resp.model, usage=usage, raw=resp)


def inference_price(model: str, base_model: str | None) -> tuple[float, float] | None:
    """USD per million (input, output) tokens: a tuned model at its base model's rate."""
    entry = _data()["prices"].get(base_model or model)
    return None if entry is None else (float(entry[0]), float(entry[1]))
