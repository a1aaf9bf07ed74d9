"""A table of deliberately broken inputs: each must be reported at the exact line, with
the exact code and field, and nothing else may be reported as an error."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from preflight_helpers import OpenAILike

from anytune import validate


def j(obj: object) -> str:
    return json.dumps(obj)


def chat(*turns: tuple[str, str], **extra: object) -> str:
    return j({"messages": [{"role": r, "content": c} for r, c in turns], **extra})


OK = chat(("user", "What is 2+2?"), ("assistant", "It is 4."))
OK2 = chat(("system", "Be brief."), ("user", "Capital of France?"), ("assistant", "Paris."))
CALL = {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}
TOOLS = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]


def tool_chat(call: object, tool_msg: dict | None = None, tools: object = TOOLS) -> str:
    msgs = [{"role": "user", "content": "add 1"}, {"role": "assistant", "tool_calls": [call]}]
    msgs.append(tool_msg or {"role": "tool", "tool_call_id": "call_1", "content": "1"})
    msgs.append({"role": "assistant", "content": "It is 1."})
    return j({"messages": msgs, "tools": tools})


def pref(chosen: str, rejected: str) -> str:
    return j(
        {
            "input": {"messages": [{"role": "user", "content": "Hi"}]},
            "preferred_output": [{"role": "assistant", "content": chosen}],
            "non_preferred_output": [{"role": "assistant", "content": rejected}],
        }
    )


# (id, lines or bytes, method, provider kwargs, [(line, code, field)])
CASES = [
    ("invalid_json", [OK, '{"messages": [}'], "sft", {}, [(2, "invalid_json", None)]),
    ("invalid_utf8", [OK.encode(), b'{"messages": "\xff\xfe"}'], "sft", {}, [(2, "invalid_utf8", None)]),
    ("not_an_object", [OK, "[1, 2]"], "sft", {}, [(2, "not_an_object", None)]),
    ("missing_messages", [OK, j({"foo": 1})], "sft", {}, [(2, "missing_messages", "messages")]),
    ("messages_not_list", [j({"messages": "hi"})], "sft", {}, [(1, "missing_messages", "messages")]),
    ("empty_messages", [OK, j({"messages": []})], "sft", {}, [(2, "empty_messages", "messages")]),
    (
        "unknown_role",
        [chat(("user", "a"), ("robot", "b"), ("assistant", "c"))],
        "sft",
        {},
        [(1, "unknown_role", "messages[1].role")],
    ),
    (
        "unknown_message_key",
        [
            j(
                {
                    "messages": [
                        {"role": "user", "content": "a", "foo": 1},
                        {"role": "assistant", "content": "b"},
                    ]
                }
            )
        ],
        "sft",
        {},
        [(1, "unknown_key", "messages[0].foo")],
    ),
    (
        "content_not_string",
        [j({"messages": [{"role": "user", "content": 42}, {"role": "assistant", "content": "b"}]})],
        "sft",
        {},
        [(1, "invalid_content", "messages[0].content")],
    ),
    (
        "missing_content",
        [j({"messages": [{"role": "user"}, {"role": "assistant", "content": "b"}]})],
        "sft",
        {},
        [(1, "missing_content", "messages[0].content")],
    ),
    (
        "missing_role",
        [j({"messages": [{"content": "a"}, {"role": "assistant", "content": "b"}]})],
        "sft",
        {},
        [(1, "missing_role", "messages[0].role")],
    ),
    (
        "no_assistant",
        [OK, chat(("system", "s"), ("user", "u"))],
        "sft",
        {},
        [(2, "no_assistant_message", "messages")],
    ),
    (
        "all_weights_zero",
        [
            j(
                {
                    "messages": [
                        {"role": "user", "content": "u"},
                        {"role": "assistant", "content": "a", "weight": 0},
                    ]
                }
            )
        ],
        "sft",
        {},
        [(1, "no_assistant_message", "messages")],
    ),
    (
        "bad_weight",
        [
            j(
                {
                    "messages": [
                        {"role": "user", "content": "u"},
                        {"role": "assistant", "content": "a", "weight": 2},
                    ]
                }
            )
        ],
        "sft",
        {},
        [(1, "invalid_weight", "messages[1].weight")],
    ),
    (
        "weight_on_user",
        [
            j(
                {
                    "messages": [
                        {"role": "user", "content": "u", "weight": 1},
                        {"role": "assistant", "content": "a"},
                    ]
                }
            )
        ],
        "sft",
        {},
        [(1, "invalid_weight", "messages[0].weight")],
    ),
    (
        "arguments_not_json",
        [tool_chat({**CALL, "function": {"name": "add", "arguments": "{a: 1"}})],
        "sft",
        {},
        [(1, "invalid_tool_call", "messages[1].tool_calls[0].function.arguments")],
    ),
    (
        "arguments_object",
        [tool_chat({**CALL, "function": {"name": "add", "arguments": {"a": 1}}})],
        "sft",
        {},
        [(1, "invalid_tool_call", "messages[1].tool_calls[0].function.arguments")],
    ),
    (
        "tool_call_id_unknown",
        [tool_chat(CALL, {"role": "tool", "tool_call_id": "call_9", "content": "1"})],
        "sft",
        {},
        [(1, "invalid_tool_call", "messages[2].tool_call_id")],
    ),
    (
        "tools_invalid",
        [tool_chat(CALL, tools=[{"type": "function"}])],
        "sft",
        {},
        [(1, "invalid_tools", "tools[0]")],
    ),
    (
        "parallel_tool_calls_not_bool",
        [tool_chat(CALL)[:-1] + ', "parallel_tool_calls": "no"}'],
        "sft",
        {},
        [(1, "invalid_value", "parallel_tool_calls")],
    ),
    ("too_few_examples", [OK, OK2], "sft", {"min_examples": 10}, [(None, "too_few_examples", None)]),
    ("file_too_large", [OK, OK2], "sft", {"max_file_bytes": 100}, [(None, "file_too_large", None)]),
    ("empty_file", [], "sft", {}, [(None, "empty_dataset", None)]),
    (
        "identical_preference",
        [pref("Hello!", "Hi there"), pref("Same", "Same")],
        "dpo",
        {},
        [(2, "identical_preference", "preferred_output")],
    ),
    ("chat_for_dpo", [pref("a", "b"), OK], "dpo", {}, [(2, "wrong_method", None)]),
    ("preference_for_sft", [OK, pref("a", "b")], "sft", {}, [(2, "wrong_method", None)]),
    (
        "preference_side_not_assistant",
        [
            j(
                {
                    "input": {"messages": [{"role": "user", "content": "Hi"}]},
                    "preferred_output": [{"role": "user", "content": "a"}],
                    "non_preferred_output": [{"role": "assistant", "content": "b"}],
                }
            )
        ],
        "dpo",
        {},
        [(1, "invalid_preference", "preferred_output[0].role")],
    ),
    ("unknown_format", [j({"text": "free text"})], "sft", {}, [(1, "unknown_format", None)]),
    (
        "alpaca_missing_output",
        [j({"instruction": "a", "input": "", "output": "b"}), j({"instruction": "c", "input": ""})],
        "sft",
        {},
        [(2, "missing_content", "output")],
    ),
    (
        "gemini_unknown_role",
        [
            j(
                {
                    "contents": [
                        {"role": "user", "parts": [{"text": "a"}]},
                        {"role": "bot", "parts": [{"text": "b"}]},
                    ]
                }
            )
        ],
        "sft",
        {},
        [(1, "unknown_role", "contents[1].role")],
    ),
    (
        "sharegpt_unknown_speaker",
        [
            j(
                {
                    "conversations": [
                        {"from": "human", "value": "a"},
                        {"from": "robot", "value": "b"},
                        {"from": "gpt", "value": "c"},
                    ]
                }
            )
        ],
        "sft",
        {},
        [(1, "unknown_role", "conversations[1].from")],
    ),
    (
        "together_tool_calls",
        [tool_chat(CALL)],
        "sft",
        {"fmt": "together"},
        [
            (1, "not_expressible", "tools"),
            (1, "not_expressible", "messages[1]"),
            (1, "not_expressible", "messages[2]"),
        ],
    ),
    (
        "together_role_order",
        [chat(("user", "a"), ("user", "b"), ("assistant", "c"))],
        "sft",
        {"fmt": "together"},
        [(1, "role_order", "messages[1].role")],
    ),
    (
        "vertex_weight_zero",
        [
            j(
                {
                    "messages": [
                        {"role": "user", "content": "u"},
                        {"role": "assistant", "content": "a", "weight": 0},
                        {"role": "user", "content": "u2"},
                        {"role": "assistant", "content": "b"},
                    ]
                }
            )
        ],
        "sft",
        {"fmt": "vertex"},
        [(1, "not_expressible", "messages[1].weight")],
    ),
    ("blank_line_keeps_numbering", [OK, "", "  ", "{bad"], "sft", {}, [(4, "invalid_json", None)]),
]


def _write(tmp_path: Path, lines: list, suffix: str = ".jsonl") -> Path:
    path = tmp_path / f"data{suffix}"
    if lines and isinstance(lines[0], bytes):
        path.write_bytes(b"\n".join(lines) + b"\n")
    else:
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_input_is_reported_at_its_line(case: tuple, tmp_path: Path) -> None:
    _, lines, method, kwargs, expected = case
    opts = {"min_examples": 1, **kwargs}
    if "fmt" in opts:
        opts["fmt"] = opts["fmt"]
    provider = OpenAILike(**opts)
    report = validate(_write(tmp_path, lines), provider=provider, model="m", method=method)
    got = [(p.line, p.code, p.field) for p in report.errors]
    assert got == expected, [str(p) for p in report.errors]
    assert not report.ok
    assert all(p.file == str(tmp_path / "data.jsonl") for p in report.errors)


def test_crlf_bom_and_missing_final_newline_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + f"{OK}\r\n{OK2}\r\n{{oops".encode())
    report = validate(path, provider=OpenAILike(min_examples=1), model="m")
    assert [(p.line, p.code) for p in report.errors] == [(3, "invalid_json")]
    assert report.records == 3 and report.valid == 2


def test_gzip_jsonl_reports_lines_of_the_decompressed_text(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl.gz"
    path.write_bytes(gzip.compress(f"{OK}\n{OK2}\n[1]\n".encode()))
    report = validate(path, provider=OpenAILike(min_examples=1), model="m")
    assert [(p.line, p.code) for p in report.errors] == [(3, "not_an_object")]


def test_json_array_reports_the_line_where_the_element_starts(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(f"[\n  {OK},\n  5,\n  {OK2}\n]\n")
    report = validate(path, provider=OpenAILike(min_examples=1), model="m")
    assert [(p.line, p.code) for p in report.errors] == [(3, "not_an_object")]
    assert report.records == 3


def test_truncated_json_array_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(f"[\n  {OK},\n  {OK2[:20]}")
    report = validate(path, provider=OpenAILike(min_examples=1), model="m")
    assert [(p.line, p.code) for p in report.errors] == [(3, "invalid_json")]


def test_problem_cap_counts_what_it_does_not_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from anytune.data import _plan

    monkeypatch.setattr(_plan, "MAX_PROBLEMS", 5)
    path = _write(tmp_path, ["{bad"] * 12)
    report = validate(path, provider=OpenAILike(min_examples=1), model="m")
    assert [p.line for p in report.errors[:5]] == [1, 2, 3, 4, 5]
    assert report.errors[-1].code == "too_many_problems"
    assert "7 more errors" in report.errors[-1].message


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
    _, lines, method, expected = case
    provider = OpenAILike(min_examples=1, max_tokens=100)
    report = validate(_write(tmp_path, lines), provider=provider, model="m", method=method)
    assert report.ok, [str(p) for p in report.errors]
    assert [(p.line, p.code, p.field) for p in report.warnings] == expected
