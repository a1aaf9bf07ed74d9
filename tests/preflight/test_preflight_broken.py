"""A table of deliberately broken inputs: each must be reported at the exact line, with
the exact code and field, and nothing else may be reported as an error."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from preflight_helpers import OpenAILike
from preflight_records import CALL, OK, OK2, TOOLS, chat, j, pref, tool_chat, write_lines

from anytune import validate

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
    # ({"text"} alone is Together's plain-text format: see test_preflight_parity.py.)
    ("unknown_format", [j({"body": "free text"})], "sft", {}, [(1, "unknown_format", None)]),
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
        # [TOGETHER-FC]: tool calls are fine in Together's format, after tool results...
        "together_tool_result_out_of_order",
        [
            j(
                {
                    "messages": [
                        {"role": "user", "content": "add 1"},
                        {"role": "assistant", "tool_calls": [CALL]},
                        {"role": "user", "content": "well?"},
                        {"role": "assistant", "content": "It is 1."},
                    ],
                    "tools": TOOLS,
                }
            )
        ],
        "sft",
        {"fmt": "together"},
        [(1, "role_order", "messages[2].role")],
    ),
    (
        # ...but a model that cannot be trained on tools refuses them, wherever they are.
        "model_without_tool_training",
        [OK, tool_chat(CALL), j({"messages": [{"role": "user", "content": "x"},
                                                {"role": "assistant", "tool_calls": [CALL]}]})],
        "sft",
        {"fmt": "together", "tools": False},
        [(2, "tools_not_supported", "tools"), (3, "tools_not_supported", "messages[1]")],
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


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_input_is_reported_at_its_line(case: tuple, tmp_path: Path) -> None:
    _, lines, method, kwargs, expected = case
    provider = OpenAILike(**{"min_examples": 1, **kwargs})
    report = validate(write_lines(tmp_path, lines), provider=provider, model="m", method=method)
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
    path = write_lines(tmp_path, ["{bad"] * 12)
    report = validate(path, provider=OpenAILike(min_examples=1), model="m")
    assert [p.line for p in report.errors[:5]] == [1, 2, 3, 4, 5]
    assert report.errors[-1].code == "too_many_problems"
    assert "7 more errors" in report.errors[-1].message
