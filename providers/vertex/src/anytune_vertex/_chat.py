"""Chat requests to tuned and base Gemini models on Vertex (``job.chat``, ``job.evaluate``):
the ``generateContent`` request built from OpenAI-style messages, and the reply. No I/O.

Route and fields (google-genai 3.6.1 ``models.generate_content`` and ``_transformers.t_model``;
Vertex REST ``projects.locations.endpoints.generateContent`` and
``publishers.models.generateContent``), checked 2026-11: a tuned model is called on its
endpoint (``projects/P/locations/L/endpoints/E``, the job's ``tunedModel.endpoint``), a
base model by name (``gemini-2.5-flash`` -> ``publishers/google/models/gemini-2.5-flash``);
``system`` turns go to ``systemInstruction``, ``assistant`` turns are role ``model``;
``max_tokens`` is ``maxOutputTokens``, ``stop`` is ``stopSequences``; the text is
``candidates[0].content.parts[].text`` and usage is ``usageMetadata``.
"""

from __future__ import annotations

from typing import Any

from anytune.provider import ChatReply

__all__ = ["generate_kwargs", "reply_from"]

_CONFIG_NAMES = {
    "max_tokens": "max_output_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "stop": "stop_sequences",
}


def generate_kwargs(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``client.models.generate_content``."""
    from google.genai import types

    system = [str(m["content"]) for m in messages if m["role"] in ("system", "developer")]
    contents = [
        types.Content(
            role="model" if m["role"] == "assistant" else "user",
            parts=[types.Part(text=str(m.get("content") or ""))],
        )
        for m in messages
        if m["role"] not in ("system", "developer")
    ]
    config: dict[str, Any] = {_CONFIG_NAMES[k]: v for k, v in params.items() if k in _CONFIG_NAMES}
    if isinstance(config.get("stop_sequences"), str):
        config["stop_sequences"] = [config["stop_sequences"]]
    if system:
        config["system_instruction"] = "\n".join(system)
    return {
        "model": model,
        "contents": contents,
        "config": types.GenerateContentConfig(**config) if config else None,
    }


def reply_from(model: str, resp: Any) -> ChatReply:
    """A ``GenerateContentResponse`` as a :class:`ChatReply`."""
    text = ""
    if resp.candidates:
        content = resp.candidates[0].content
        text = "".join(p.text or "" for p in (content.parts or [])) if content is not None else ""
    meta = resp.usage_metadata
    usage = None
    if meta is not None:
        pin, pout = meta.prompt_token_count or 0, meta.candidates_token_count or 0
        usage = {
            "prompt_tokens": pin,
            "completion_tokens": pout,
            "total_tokens": meta.total_token_count or pin + pout,
        }
    return ChatReply(text=text, model=resp.model_version or model, usage=usage, raw=resp)
