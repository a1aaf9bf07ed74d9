"""Warnings (duplicates, role order, over-long examples, ...) are reported at their
exact line and never block."""

from __future__ import annotations

from pathlib import Path

import pytest
from preflight_helpers import OpenAILike
from preflight_records import OK, OK2, chat, j, pref, write_lines

from anytune import validate
from anytune.testing import require_tiktoken

REPLY = {"role": "assistant", "content": "It is 4."}

# (id, lines, method, [(line, code, field)]) for warnings, which never block.
WARNINGS = [
    ("duplicate", [OK, OK2, OK], "sft", [(3, "duplicate", None)]),
    (
        "near_duplicate",
        [OK, OK2, chat(("user", "what is 2 + 2"), ("assistant", "it is 4"))],
        "sft",
        [(3, "near_duplicate", None)],
    ),
    (
        "missing_user",
        [OK, chat(("system", "s"), ("assistant", "a reply"))],
        "sft",
        [(2, "missing_user_message", "messages")],
    ),
    (
        "trailing_turns",
        [chat(("user", "u"), ("assistant", "a reply"), ("user", "more?"))],
        "sft",
        [(1, "trailing_turns", "messages[2]")],
    ),
    (
        "two_users",
        [chat(("user", "u"), ("user", "u2"), ("assistant", "a reply"))],
        "sft",
        [(1, "role_order", "messages[1]")],
    ),
    ("empty_reply", [chat(("user", "u"), ("assistant", ""))], "sft", [(1, "empty_content", "messages[1]")]),
    (
        "model_role",
        [chat(("user", "u"), ("model", "a reply"))],
        "sft",
        [(1, "role_alias", "messages[1].role")],
    ),
    # The writer leaves an unknown message key out: a warning, as the cookbook flags it
    # (message_unrecognized_key) without any vendor refusing the file for it.
    (
        "unknown_message_key",
        [j({"messages": [{"role": "user", "content": "a", "foo": 1}, REPLY]})],
        "sft",
        [(1, "unknown_key", "messages[0].foo")],
    ),
    # DPO learns nothing from an identical pair, but no vendor refuses it.
    ("identical_preference", [pref("Hello!", "Hi there"), pref("Same", "Same")], "dpo",
     [(2, "identical_preference", "preferred_output")]),
    (
        "name_not_a_string",
        [j({"messages": [{"role": "user", "content": "a", "name": 7}, REPLY]})],
        "sft",
        [(1, "invalid_value", "messages[0].name")],
    ),
    ("extra_key", [chat(("user", "u"), ("assistant", "a reply"), id=7)], "sft", [(1, "unknown_key", "id")]),
    # Providers truncate over-long examples: reported with the count that would be cut.
    (
        "over_token_limit",
        [OK, chat(("user", "word " * 200), ("assistant", "a reply"))],
        "sft",
        [(2, "too_many_tokens", None)],
    ),
    (
        "near_token_limit",
        [OK, chat(("user", "word " * 85), ("assistant", "a reply"))],
        "sft",
        [(2, "long_example", None)],
    ),
    (
        "mixed_formats",
        [OK, j({"instruction": "i", "input": "", "output": "an answer"})],
        "sft",
        [(2, "mixed_formats", None)],
    ),
]


@pytest.mark.parametrize("case", WARNINGS, ids=[c[0] for c in WARNINGS])
def test_warnings_are_reported_and_do_not_block(case: tuple, tmp_path: Path) -> None:
    require_tiktoken()  # exact OpenAI token counts
    _, lines, method, expected = case
    provider = OpenAILike(min_examples=1, max_tokens=100)
    report = validate(write_lines(tmp_path, lines), provider=provider, model="m", method=method)
    assert report.ok, [str(p) for p in report.errors]
    assert [(p.line, p.code, p.field) for p in report.warnings] == expected
