"""The emulator's ``generateContent`` on a tuned model's endpoint and on base Gemini models:
answers are deterministic (see :mod:`anytune._emulator_chat`), in the
``GenerateContentResponse`` shape google-genai reads (``candidates``, ``usageMetadata``)."""

from __future__ import annotations

import json
from typing import Any

from anytune.emulator import BASE_REPLY, Answer, TunedAnswers, count_tokens, text_of
from anytune_vertex import _catalog
from anytune_vertex.emulator.state import ApiError, State

__all__ = ["generate_on_endpoint", "generate_on_model"]


def _prompt(body: bytes) -> tuple[str, dict[str, Any], int]:
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "Invalid JSON payload received.") from None
    contents = req.get("contents")
    if not isinstance(contents, list) or not contents:
        raise ApiError(400, "Unable to submit request because it must include at least one parts field.")
    user = " ".join(
        text_of(c.get("parts")) for c in contents if isinstance(c, dict) and c.get("role") != "model"
    )
    every = " ".join(text_of(c.get("parts")) for c in contents if isinstance(c, dict))
    system = text_of((req.get("systemInstruction") or {}).get("parts"))
    return user, req.get("generationConfig") or {}, count_tokens(every + " " + system)


def _answer(text: str, model: str, config: dict[str, Any], prompt_tokens: int) -> Answer:
    limit = config.get("maxOutputTokens")
    finish = "STOP"
    if isinstance(limit, int) and count_tokens(text) > limit:
        text, finish = " ".join(text.split()[:limit]), "MAX_TOKENS"
    out = count_tokens(text)
    return Answer(
        200,
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish, "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": out,
                "totalTokenCount": prompt_tokens + out,
            },
            "modelVersion": model,
        },
    )


def generate_on_endpoint(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    """``POST .../endpoints/{endpoint}:generateContent``: a succeeded job's tuned model."""
    prefix = f"projects/{p['project']}/locations/{p['location']}"
    with state.lock:
        for job in state.jobs.values():
            if (
                job.name.startswith(prefix + "/")
                and job.name.rsplit("/", 1)[-1] == p["endpoint"]
                and state.state_of(job) == "JOB_STATE_SUCCEEDED"
            ):
                cache: dict[str, TunedAnswers] = state.__dict__.setdefault("_chat_answers", {})
                if job.name not in cache:
                    spec = (
                        job.body.get("supervisedTuningSpec")
                        or job.body.get("preferenceOptimizationSpec")
                        or {}
                    )
                    cache[job.name] = TunedAnswers.from_jsonl(
                        state.read_uri(str(spec.get("trainingDatasetUri")), "trainingDatasetUri")
                    )
                answers = cache[job.name]
                break
        else:
            raise ApiError(404, f"Endpoint {prefix}/endpoints/{p['endpoint']} not found.")
    user, config, pin = _prompt(body)
    return _answer(answers.reply(user), f"{prefix}/endpoints/{p['endpoint']}", config, pin)


def generate_on_model(state: State, p: dict[str, str], q: str, body: bytes, headers: Any) -> Answer:
    """``POST .../publishers/google/models/{model}:generateContent``: a base Gemini model."""
    if p["publisher"] != "google" or _catalog.entry(p["model"]) is None:
        raise ApiError(
            404,
            f"Publisher Model `publishers/{p['publisher']}/models/{p['model']}` was not found "
            "or your project does not have access to it.",
        )
    _, config, pin = _prompt(body)
    return _answer(BASE_REPLY, p["model"], config, pin)
