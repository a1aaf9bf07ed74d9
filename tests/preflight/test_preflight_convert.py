"""Conversion between formats: what each target gets, and what it cannot express is
reported (never dropped silently)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from preflight_helpers import OpenAILike, alpaca_with_text, real

from anytune import ConfigurationError, convert, validate

DRONE = "chat_sft/openai_cookbook_drone_training.jsonl"


def test_gemini_to_openai_keeps_system_user_and_model_turns(tmp_path: Path) -> None:
    src = real("vertex_gemini/gcp_generative_ai_patient_1_glucose_examples.jsonl")
    report = convert(src, to="openai", output=tmp_path / "out.jsonl")
    assert report.ok and report.records == 1 and report.losses == []
    rec = json.loads((tmp_path / "out.jsonl").read_text())
    original = json.loads(src.read_text())
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant"]
    assert rec["messages"][0]["content"] == original["systemInstruction"]["parts"][0]["text"]
    assert rec["messages"][2]["content"] == original["contents"][1]["parts"][0]["text"]


def test_openai_tools_to_vertex_and_back_keeps_calls(tmp_path: Path) -> None:
    src = real(DRONE)
    vertex = convert(src, to="vertex", output=tmp_path / "v.jsonl")
    assert vertex.ok and vertex.records == 103
    first = json.loads((tmp_path / "v.jsonl").open().readline())
    assert "systemInstruction" in first and first["tools"][0]["functionDeclarations"]
    original = json.loads(src.open().readline())
    call = original["messages"][-1]["tool_calls"][0]["function"]
    part = first["contents"][-1]["parts"][0]["functionCall"]
    assert part == {"name": call["name"], "args": json.loads(call["arguments"])}
    back = convert(tmp_path / "v.jsonl", to="openai")
    again = back.data[0]
    assert again["tools"] == original["tools"]
    got = again["messages"][-1]["tool_calls"][0]["function"]
    assert (got["name"], json.loads(got["arguments"])) == (call["name"], json.loads(call["arguments"]))


def test_tools_to_together_keep_calls_and_results_in_openais_shape(tmp_path: Path) -> None:
    # [TOGETHER-FC]: Together trains on tools, tool calls and tool results.
    report = convert(real(DRONE), to="together", output=tmp_path / "t.jsonl")
    assert report.ok and report.records == 103 and not report.losses
    original = json.loads(real(DRONE).read_text().splitlines()[0])
    first = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[0])
    assert first["tools"] == original["tools"]
    assert first["messages"][-1]["tool_calls"] == original["messages"][-1]["tool_calls"]
    assert validate(real(DRONE), provider=OpenAILike(fmt="together"), model="m").ok
    # A model that cannot be trained on tools refuses every such record, by line.
    vr = validate(real(DRONE), provider=OpenAILike(fmt="together", tools=False), model="m")
    assert {p.code for p in vr.errors} == {"tools_not_supported"}
    assert [p.line for p in vr.errors][:3] == [1, 2, 3]


def test_multi_turn_to_alpaca_reports_extra_turns() -> None:
    src = [
        {
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "q1"},
                {"role": "assistant", "content": "a1"},
                {"role": "user", "content": "q2"},
                {"role": "assistant", "content": "a2"},
            ]
        }
    ]
    report = convert(src, to="alpaca")
    assert report.data == [{"instruction": "q1", "input": "", "output": "a1"}]
    assert [(p.field, p.severity) for p in report.losses] == [
        ("messages[0]", "error"),
        ("messages[3]", "error"),
    ]


def test_alpaca_to_openai(tmp_path: Path) -> None:
    report = convert(alpaca_with_text(tmp_path / "alpaca.json"), to="openai", output=tmp_path / "o.jsonl")
    assert report.records == 100 and report.errors == []
    # The pre-rendered `text` key is reported, once per record.
    assert {(p.code, p.field) for p in report.losses} == {("unknown_key", "text")}
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
    assert validate(tmp_path / "o.jsonl", provider=OpenAILike(), model="m").ok


def test_preference_formats_convert_to_openai_preference() -> None:
    hh = convert(real("preference/hh_rlhf_harmless_base_test.prompt_chosen_rejected.jsonl"), to="openai")
    rec = hh.data[0]
    assert set(rec) == {"input", "preferred_output", "non_preferred_output"}
    assert rec["preferred_output"][0]["role"] == "assistant"
    se = convert(real("preference/torchtune_stack_exchange_paired_tiny.json"), to="vertex")
    scores = [c["score"] for c in se.data[0]["completions"]]
    assert scores == [1, 0] and se.ok


def test_sharegpt_dpo_to_openai_and_gemini_preference_round_trip() -> None:
    src = real("preference/llamafactory_dpo_en_demo.json")
    vertex = convert(src, to="vertex")
    back = convert(vertex.data, to="openai")
    direct = convert(src, to="openai")
    assert back.data == direct.data and back.records == 300


def test_records_with_errors_are_skipped_and_listed(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n{oops\n'
    )
    report = convert(src, to="vertex", output=tmp_path / "out.jsonl")
    assert report.records == 1 and report.skipped == 1
    assert [(p.line, p.code) for p in report.errors] == [(2, "invalid_json")]
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1


def test_unknown_target_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown target format"):
        convert([], to="gguf")


def test_converted_file_validates_for_each_target(tmp_path: Path) -> None:
    src = real("instruction_alpaca/alpacadatacleaned_gsm_8k_train.first2000.jsonl")
    for target in ("openai", "together", "vertex", "alpaca"):
        out = tmp_path / f"{target}.jsonl"
        report = convert(src, to=target, output=out)
        assert report.ok and report.records == 2000, target
        again = validate(out, provider=OpenAILike(fmt=target), model="m")
        assert again.ok and again.valid == 2000, (target, [str(p) for p in again.errors[:3]])
