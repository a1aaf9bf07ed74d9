"""Training data: the OpenAI-format JSONL the core hands us, turned into TRL's formats.

The core converts every user dataset to ``Limits.data_format == "openai"``:

* chat SFT ``{"messages": [...], "tools"?: [...]}``
* preference ``{"input": {"messages": [...]}, "preferred_output": [...],
  "non_preferred_output": [...]}``

TRL wants conversational ``{"messages"}`` (SFT, assistant-only loss through the chat
template), ``{"prompt", "completion"}`` (SFT, completion-only loss) and
``{"prompt", "chosen", "rejected"}`` (DPO). Records already in those shapes pass through,
so a file given by reference may use them too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from anytune.errors import DatasetError, UnsupportedError
from anytune.provider import Problem

__all__ = ["check_file", "load_records", "split_prompt_completion"]

#: How many records ``check_file`` reads before the worker starts: enough to catch a wrong
#: shape early without reading a multi-GB file twice.
CHECK_RECORDS = 1000


def _message(m: dict[str, Any]) -> dict[str, Any]:
    """A message keeping what chat templates read. OpenAI's ``weight`` is dropped (it
    only switches the loss of one assistant turn off; here every assistant turn trains)."""
    content = m.get("content")
    if isinstance(content, list):  # OpenAI content parts: keep the text ones
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    out: dict[str, Any] = {"role": m["role"], "content": content if content is not None else ""}
    for key in ("tool_calls", "name", "tool_call_id"):
        if m.get(key) is not None:
            out[key] = m[key]
    return out


def _sft(rec: dict[str, Any]) -> dict[str, Any]:
    if "messages" in rec:
        out: dict[str, Any] = {"messages": [_message(m) for m in rec["messages"]]}
        if rec.get("tools"):
            out["tools"] = rec["tools"]
        return out
    if "prompt" in rec and "completion" in rec:
        return {"prompt": rec["prompt"], "completion": rec["completion"]}
    raise ValueError('expected "messages" or "prompt" and "completion"')


def _dpo(rec: dict[str, Any]) -> dict[str, Any]:
    if "preferred_output" in rec:
        prompt = [_message(m) for m in (rec.get("input") or {}).get("messages") or []]
        chosen = [_message(m) for m in rec["preferred_output"]]
        rejected = [_message(m) for m in rec["non_preferred_output"]]
    elif {"prompt", "chosen", "rejected"} <= rec.keys():
        prompt, chosen, rejected = rec["prompt"], rec["chosen"], rec["rejected"]
    else:
        raise ValueError('expected "input", "preferred_output", "non_preferred_output"')
    if not prompt:
        raise UnsupportedError("local", "dpo on prompt-less data", "every record needs a prompt")
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def load_records(path: Path, method: str, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Read ``path`` and convert each record for ``method`` ("sft" or "dpo").

    Raises :class:`DatasetError` naming the line of a record of the wrong shape, and
    :class:`UnsupportedError` for DPO records without a prompt."""
    convert = _dpo if method == "dpo" else _sft
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if limit is not None and n > limit:
                break
            if not line.strip():
                continue
            try:
                records.append(convert(json.loads(line)))
            except UnsupportedError:
                raise
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                code = "invalid_json" if isinstance(exc, json.JSONDecodeError) else "bad_shape"
                problems.append(Problem(code=code, message=f"{method} record: {exc}", line=n, file=str(path)))
    if problems:
        raise DatasetError(f"{path} cannot be trained with {method}", problems)
    if not records:
        raise DatasetError(f"{path} holds no records", [Problem(code="empty_dataset", message="no records")])
    return records


def check_file(path: Path, method: str) -> None:
    """Check the first records of ``path`` before the worker starts."""
    load_records(path, method, limit=CHECK_RECORDS)


def split_prompt_completion(rec: dict[str, Any]) -> dict[str, Any]:
    """A chat record as conversational prompt/completion: everything before the last
    assistant turn is the prompt. Used when the chat template cannot mark assistant turns,
    so that the loss still covers only what the assistant says (its last turn)."""
    if "messages" not in rec:
        return rec
    msgs = rec["messages"]
    last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=None)
    if last is None or last == 0:
        return rec
    out: dict[str, Any] = {"prompt": msgs[:last], "completion": msgs[last : last + 1]}
    if "tools" in rec:
        out["tools"] = rec["tools"]
    return out
