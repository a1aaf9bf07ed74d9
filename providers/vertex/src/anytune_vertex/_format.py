"""Vertex's upload format for Gemini tuning (``Limits.data_format == "vertex"``, ``anytune
convert --to vertex``), offered to the core through ``VertexProvider.data_formats``.

Source: [GEMINI] Vertex AI, "Prepare supervised fine-tuning data for Gemini"
(https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare):
``systemInstruction``, ``contents`` of ``{role: user|model, parts: [{text}|{functionCall}|
{functionResponse}]}``, ``tools: [{functionDeclarations}]``; preference tuning adds
``completions: [{score, completion}]`` with score 1 (preferred) or 0
(https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-preference-tuning-prepare).
The core's Gemini reader cites the same pages. Images only from ``gs://`` ``fileData``;
every model turn is trained.
"""

from __future__ import annotations

import json
from typing import Any

from anytune.data import DataFormat, Example, Issues, Message, not_expressible

__all__ = ["VERTEX_FORMAT"]


def _gemini_parts(m: Message, issues: Issues) -> list[dict[str, Any]]:
    if m.images:
        what = "image URLs (Gemini tuning reads images from gs:// fileData only)"
        not_expressible(issues, m.path, "vertex", what)
    if m.weight == 0 and m.role == "assistant":
        not_expressible(issues, f"{m.path}.weight", "vertex", "a weight of 0 (every model turn is trained)")
    elif m.weight == 1 and m.role != "assistant":
        what = f"a weight of 1 on a {m.role} turn (only model turns are trained)"
        not_expressible(issues, f"{m.path}.weight", "vertex", what)
    if m.name:
        not_expressible(issues, f"{m.path}.name", "vertex", "message names", "warning")
    parts: list[dict[str, Any]] = []
    if m.content:
        parts.append({"text": m.content})
    for c in m.tool_calls or ():
        try:
            args = json.loads(c.arguments)
        except ValueError:
            args = {}
        parts.append(
            {"functionCall": {"name": c.name, "args": args if isinstance(args, dict) else {"value": args}}}
        )
    return parts or [{"text": ""}]


def _gemini_contents(msgs: list[Message], issues: Issues, call_names: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in msgs:
        if m.role == "system":
            not_expressible(issues, m.path, "vertex", "a system message after the first turn")
            continue
        if m.role == "tool":
            try:
                response = json.loads(m.content or "{}")
            except ValueError:
                response = None
            if not isinstance(response, dict):
                response = {"content": m.content or ""}
            name = m.name or (call_names.pop(0) if call_names else "function")
            out.append(
                {"role": "user", "parts": [{"functionResponse": {"name": name, "response": response}}]}
            )
            continue
        call_names.extend(c.name for c in m.tool_calls or ())
        out.append({"role": "model" if m.role == "assistant" else "user", "parts": _gemini_parts(m, issues)})
    return out


def _vertex(ex: Example, issues: Issues) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    msgs = ex.messages
    if msgs and msgs[0].role == "system":
        rec["systemInstruction"] = {"role": "system", "parts": [{"text": msgs[0].content or ""}]}
        msgs = msgs[1:]
    names: list[str] = []
    rec["contents"] = _gemini_contents(msgs, issues, names)
    if ex.tools:
        rec["tools"] = [{"functionDeclarations": [t.get("function", t) for t in ex.tools]}]
    if ex.kind == "preference":
        # [GEMINI] preference tuning: "multi-turn text data that needs to end with a user turn".
        if ex.messages and ex.messages[-1].role != "user":
            issues.append(
                (
                    "role_order",
                    ex.messages[-1].path,
                    "vertex needs the prompt to end with a user turn",
                    "error",
                )
            )
        rec["completions"] = [
            {
                "score": score,
                "completion": {"role": "model", "parts": [p for m in side for p in _gemini_parts(m, issues)]},
            }
            for score, side in ((1, ex.chosen or []), (0, ex.rejected or []))
        ]
    return rec


VERTEX_FORMAT = DataFormat(
    "vertex",
    _vertex,
    source="https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare",
)
