"""The readers' fuzz: arbitrary bytes and arbitrary JSON values, through every reader and
every upload format, raise nothing but :class:`AnytuneError`.

CI runs ``ANYTUNE_FUZZ_EXAMPLES`` examples per test (default 200, marked slow); ``bench/fuzz.py``
runs 100,000 and ``docs/reliability.md`` records the figure. The strategies lean on what
broke before: lone surrogates (``st.characters`` leaves them out by default), NUL,
U+2028/U+2029, CR-only line ends, BOMs, deep nesting, invalid UTF-8 and numbers orjson
cannot write.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from preflight_helpers import OpenAILike

from anytune import AnytuneError, convert, validate
from anytune._preflight import ValidationReport

EXAMPLES = int(os.environ.get("ANYTUNE_FUZZ_EXAMPLES", "200"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROVIDERS = [OpenAILike(min_examples=1, max_tokens=300, fmt=f) for f in ("openai", "together", "vertex")]

# Every code point, lone surrogates included, weighted towards the troublesome ones.
chars = st.characters(exclude_categories=()) | st.sampled_from(
    ["\ud800", "\udfff", "\x00", "\u2028", "\u2029", "\r", "\ufeff", "\n", '"', "\\"]
)
text = st.text(chars, max_size=24)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)  # past 64 bits: orjson cannot write them
    | st.floats()
    | text
)
KEYS = [
    "messages", "role", "content", "weight", "name", "tool_calls", "tool_call_id", "tools", "input",
    "preferred_output", "non_preferred_output", "prompt", "chosen", "rejected", "completion", "instruction",
    "output", "conversations", "from", "value", "contents", "parts", "text", "completions", "score",
]  # fmt: skip
keys = text | st.sampled_from(KEYS)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=16,
)
roles = st.sampled_from(["system", "user", "assistant", "tool", "model", "developer", "x", None, 3])
message = st.fixed_dictionaries(
    {"role": roles, "content": text | values},
    optional={"weight": st.sampled_from([0, 1, 2, True, None, "1"]), "name": values, "tool_calls": values},
)
records = st.one_of(
    values,
    st.fixed_dictionaries({"messages": st.lists(message, max_size=5)}, optional={"tools": values}),
    st.fixed_dictionaries(
        {
            "input": st.fixed_dictionaries({"messages": st.lists(message, max_size=3)}),
            "preferred_output": st.lists(message, max_size=2),
            "non_preferred_output": st.lists(message, max_size=2),
        }
    ),
    st.fixed_dictionaries({"text": text | values}),
    st.fixed_dictionaries({"instruction": text, "output": text}, optional={"input": values}),
    st.fixed_dictionaries({"contents": values}, optional={"completions": values}),
)


def _encode(rec: Any) -> bytes:
    # ensure_ascii writes lone surrogates as \ud800 escapes: what a file on disk holds.
    return json.dumps(rec, allow_nan=True).encode()


hostile_bytes = st.sampled_from(
    [
        *(b"\xef\xbb\xbf", b"\r", b"\r\n", b"\x00", b"\xff", b"\xc3(", "\u2028".encode()),
        *(b"[" * 3000, b"{", b"]", b""),
    ]
)
line = records.map(_encode) | hostile_bytes | st.binary(max_size=40)
files = st.tuples(st.lists(line, max_size=6), st.sampled_from([b"\n", b"\r", b"\r\n"])).map(
    lambda t: t[1].join(t[0])
)


def _check(report: ValidationReport) -> None:
    for p in report.errors + report.warnings:
        assert p.code and p.message
    json.dumps(report.to_dict())  # --json always has one document to print


def _run(target: Any, provider: OpenAILike, method: str) -> None:
    try:
        _check(validate(target, provider=provider, model="m", method=method))
    except AnytuneError:
        pass


_TMP = Path(tempfile.mkdtemp(prefix="anytune-fuzz-"))
FILE_ARGS = (files | st.binary(max_size=400), st.sampled_from([".jsonl", ".json", ".jsonl.gz"]), st.data())
RECORD_ARGS = (st.lists(records, max_size=5), st.data())


def fuzz_file_bytes(data: bytes, suffix: str, draw: st.DataObject) -> None:
    """One example: ``data`` as a file of kind ``suffix``, validated for a drawn format."""
    path = _TMP / f"any{suffix}"
    if suffix.endswith(".gz") and draw.draw(st.booleans()):
        data = gzip.compress(data)
    path.write_bytes(data)
    _run(path, draw.draw(st.sampled_from(PROVIDERS)), draw.draw(st.sampled_from(["sft", "dpo"])))


def fuzz_json_values(recs: list, draw: st.DataObject) -> None:
    """One example: records in memory (Python strings can hold lone surrogates),
    validated for a drawn format and converted to a drawn target."""
    provider, method = draw.draw(st.sampled_from(PROVIDERS)), draw.draw(st.sampled_from(["sft", "dpo"]))
    _run(recs, provider, method)
    try:
        convert(recs, to=draw.draw(st.sampled_from(["openai", "together", "vertex", "alpaca"])))
    except AnytuneError:
        pass


test_fuzz_file_bytes = pytest.mark.slow(SETTINGS(given(*FILE_ARGS)(fuzz_file_bytes)))
test_fuzz_json_values = pytest.mark.slow(SETTINGS(given(*RECORD_ARGS)(fuzz_json_values)))
