"""Scorers of ``evaluate``: each turns (answer, reference) into a score in 0..1.

Names users pass (``scorers=[...]``, ``--scorer``):

- ``exact``: the answer equals the reference, ignoring surrounding whitespace;
- ``json``: the answer is one valid JSON value (object or array);
- ``json-schema``: the answer is JSON with the reference's shape (the same keys, nested,
  with the same JSON types); ``json-schema:FILE`` validates it against a JSON Schema file
  instead (needs ``jsonschema``, in ``anytune[eval]``);
- ``contains``: the reference text occurs in the answer (case-insensitive);
- ``module:function``: ``function(answer, reference, sample)`` returning a bool or a number
  in 0..1, imported from ``module``;
- ``judge:MODEL``: a model grades the answer against the reference; ``MODEL`` is
  ``provider:model`` (``judge:openai:gpt-4.1-mini``), or a bare model on the job's provider.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anytune._errors import ConfigurationError

__all__ = ["JUDGE_PROMPT", "Scorer", "make_scorer", "parse_verdict"]

ScoreFn = Callable[[str, "str | None", Any], float]

#: What a judge model is asked; it must answer with a grade on the last line.
JUDGE_PROMPT = (
    "You grade an answer against a reference answer.\n"
    "Question:\n{question}\n\nReference answer:\n{reference}\n\nAnswer to grade:\n{answer}\n\n"
    "Reply with one line: GRADE: C if the answer is correct and consistent with the reference, "
    "GRADE: I if it is not."
)
_VERDICT = re.compile(r"GRADE:\s*([CI])\b", re.I)


@dataclass(frozen=True)
class Scorer:
    """A named scorer. ``fn`` scores locally; a judge scorer has ``judge`` (provider, model)
    and is scored by a chat call made by the evaluation run."""

    name: str
    fn: ScoreFn | None = None
    judge: tuple[str | None, str] | None = None


def _loads(text: str) -> Any:
    text = text.strip()
    if text.startswith("```"):  # a fenced block is still a JSON answer
        text = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", text)
    return json.loads(text)


def _exact(answer: str, reference: str | None, sample: Any) -> float:
    return float(reference is not None and answer.strip() == reference.strip())


def _json(answer: str, reference: str | None, sample: Any) -> float:
    try:
        return float(isinstance(_loads(answer), (dict, list)))
    except ValueError:
        return 0.0


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _same_shape(answer: str, reference: str | None, sample: Any) -> float:
    try:
        got = _loads(answer)
    except ValueError:
        return 0.0
    if reference is None:
        return float(isinstance(got, (dict, list)))
    try:
        want = _loads(reference)
    except ValueError:
        raise ConfigurationError(
            "the json-schema scorer compares with the reference's JSON shape, but a reference "
            f"answer is not JSON ({reference[:60]!r}); pass json-schema:SCHEMA.json"
        ) from None
    return float(_shape(got) == _shape(want))


def _schema_scorer(path: str) -> ScoreFn:
    try:
        import jsonschema
    except ImportError:
        raise ConfigurationError(
            "the json-schema:FILE scorer needs jsonschema: pip install 'anytune[eval]'"
        ) from None
    try:
        schema = json.loads(Path(path).read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as exc:
        raise ConfigurationError(f"json-schema:{path}: not a readable JSON Schema ({exc})") from None

    def score(answer: str, reference: str | None, sample: Any) -> float:
        try:
            return float(validator.is_valid(_loads(answer)))
        except ValueError:
            return 0.0

    return score


def _contains(answer: str, reference: str | None, sample: Any) -> float:
    return float(bool(reference) and reference.strip().lower() in answer.lower())  # type: ignore[union-attr]


def _function(spec: str) -> ScoreFn:
    module, _, name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"scorer {spec!r}: cannot import {name!r} from {module!r} ({exc})") from None
    if not callable(fn):
        raise ConfigurationError(f"scorer {spec!r} is not a function")

    def score(answer: str, reference: str | None, sample: Any) -> float:
        value = fn(answer, reference, sample)
        if isinstance(value, bool):
            return float(value)
        if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
            raise ConfigurationError(
                f"scorer {spec!r} returned {value!r}; expected a bool or a number in 0..1"
            )
        return float(value)

    return score


_BUILTIN: dict[str, ScoreFn] = {
    "exact": _exact,
    "json": _json,
    "json-schema": _same_shape,
    "contains": _contains,
}


def make_scorer(spec: str | Scorer) -> Scorer:
    """The scorer a user named (see the module docstring); a clear error for anything else."""
    if isinstance(spec, Scorer):
        return spec
    if not isinstance(spec, str) or not spec:
        raise ConfigurationError(f"a scorer is a name like 'json' or 'module:function', got {spec!r}")
    if spec in _BUILTIN:
        return Scorer(spec, _BUILTIN[spec])
    kind, sep, rest = spec.partition(":")
    if sep and kind == "json-schema" and rest:
        return Scorer(spec, _schema_scorer(rest))
    if sep and kind == "judge" and rest:
        provider, sep2, model = rest.partition(":")
        # "judge:openai:gpt-4.1" names the provider; "judge:gpt-4.1" uses the job's own.
        # OpenAI's tuned ids contain ':' too ("ft:gpt-4.1-mini:org::id"): only a
        # registered provider name counts as a prefix.
        from anytune._registry import available

        if sep2 and provider in available():
            return Scorer(spec, judge=(provider, model))
        return Scorer(spec, judge=(None, rest))
    if sep and rest and re.fullmatch(r"[A-Za-z_][\w.]*", kind) and rest.isidentifier():
        return Scorer(spec, _function(spec))
    raise ConfigurationError(
        f"unknown scorer {spec!r}; use exact, json, json-schema[:FILE], contains, "
        "module:function or judge:MODEL"
    )


def parse_verdict(text: str) -> float | None:
    """1.0 for ``GRADE: C``, 0.0 for ``GRADE: I``, ``None`` when the judge gave no grade."""
    found = _VERDICT.findall(text)
    if not found:
        return None
    return 1.0 if found[-1].upper() == "C" else 0.0
