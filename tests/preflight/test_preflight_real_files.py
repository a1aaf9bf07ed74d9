"""Validation of the real datasets in tests/data (sources and licences in its README):
the valid files pass, and the known defects of the others are reported at their exact
lines."""

from __future__ import annotations

import json

import pytest
from preflight_helpers import OpenAILike, alpaca_with_text, real

from anytune import estimate, validate
from anytune.testing import require_tiktoken


def codes(problems: list) -> list[tuple[int | None, str]]:
    return [(p.line, p.code) for p in problems]


@pytest.mark.parametrize(
    ("rel", "method", "records", "fmt"),
    [
        ("chat_sft/openai_cookbook_drone_training.jsonl", "sft", 103, "openai_chat"),
        ("instruction_alpaca/alpacadatacleaned_gsm_8k_train.first2000.jsonl", "sft", 2000, "alpaca"),
        ("instruction_alpaca/alpacadatacleaned_gsm_8k_train.json.gz", "sft", 7473, "alpaca"),
        ("preference/torchtune_stack_exchange_paired_tiny.json", "dpo", 25, "stack_exchange_paired"),
        ("vertex_gemini/gcp_generative_ai_training_data_wrong.jsonl", "sft", 36, "openai_chat"),
    ],
)
def test_valid_real_files_pass(rel: str, method: str, records: int, fmt: str, provider: OpenAILike) -> None:
    report = validate(real(rel), provider=provider, model="m", method=method)
    assert report.ok, [str(p) for p in report.errors[:5]]
    assert report.records == report.valid == records
    assert report.formats == {fmt: records}


def test_drone_tool_calling_file_has_no_problem_at_all(provider: OpenAILike) -> None:
    report = validate(real("chat_sft/openai_cookbook_drone_training.jsonl"), provider=provider, model="m")
    assert report.errors == [] and report.warnings == []


def test_cookbook_toy_file_defects(provider: OpenAILike) -> None:
    require_tiktoken()  # exact OpenAI token counts
    # Line 4 has no user message; line 5 is "Eat a banana!" x 2000 (8031 tokens by the
    # cookbook's own count), over a 4096-token model; 5 examples are under OpenAI's 10.
    path = real("chat_sft/openai_cookbook_toy_chat_fine_tuning.jsonl")
    report = validate(path, provider=OpenAILike(max_tokens=4096), model="m")
    assert codes(report.errors) == [(None, "too_few_examples")]
    assert codes(report.warnings) == [(4, "missing_user_message"), (5, "too_many_tokens")]
    assert (
        "8031 tokens" in report.warnings[1].message
        and "3935 tokens would be truncated" in report.warnings[1].message
    )


def test_legacy_vertex_model_role_is_read_as_assistant(provider: OpenAILike) -> None:
    report = validate(
        real("vertex_gemini/gcp_generative_ai_training_data_wrong.jsonl"), provider=provider, model="m"
    )
    assert {p.code for p in report.warnings} == {"role_alias"}
    assert [p.line for p in report.warnings] == list(range(1, 37))


def test_gemini_single_record_without_trailing_newline() -> None:
    path = real("vertex_gemini/gcp_generative_ai_patient_1_glucose_examples.jsonl")
    report = validate(path, provider=OpenAILike(), model="m")
    assert codes(report.errors) == [(None, "too_few_examples")]
    assert report.formats == {"gemini": 1} and report.valid == 1


def test_pretty_printed_cookbook_file() -> None:
    # Not JSONL (objects over many lines); object 7 holds a raw control character at
    # line 125 column 265, where strict JSON stops.
    report = validate(
        real("edge_cases/openai_cookbook_01-testing-example.jsonl"),
        provider=OpenAILike(min_examples=1),
        model="m",
    )
    assert codes(report.errors) == [(1, "not_jsonl"), (125, "invalid_json")]
    assert (
        "Invalid control character" in report.errors[1].message and "column 265" in report.errors[1].message
    )
    assert report.valid == 7


def test_sharegpt_empty_assistant_turn() -> None:
    report = validate(
        real("edge_cases/axolotl_conversation.missingturns.json"),
        provider=OpenAILike(min_examples=1),
        model="m",
    )
    assert report.ok
    assert [(p.line, p.code, p.field) for p in report.warnings] == [(1, "empty_content", "conversations[1]")]


def test_hh_rlhf_transcripts_gzip() -> None:
    # The README lists source lines 1254, 1688, 1952, 2036 (0-based) as having no common
    # prompt, and 86, 516, 925, 1103 as having an empty chosen reply.
    report = validate(
        real("preference/hh_rlhf_harmless_base_test.jsonl.gz"),
        provider=OpenAILike(),
        model="m",
        method="dpo",
    )
    assert codes(report.errors) == [(n + 1, "invalid_preference") for n in (1254, 1688, 1952, 2036)]
    warnings = [w for w in codes(report.warnings) if w[1] != "multi_turn_preference"]
    assert warnings == [(n + 1, "empty_content") for n in (86, 516, 925, 1103)]
    # Multi-turn prompts: OpenAI's DPO guide shows one-turn ones; said once per file.
    multi = [w for w in codes(report.warnings) if w[1] == "multi_turn_preference"]
    assert multi == [(1, "multi_turn_preference")]
    assert report.records == 2312 and report.valid == 2308


def test_prompt_chosen_rejected_file() -> None:
    report = validate(
        real("preference/hh_rlhf_harmless_base_test.prompt_chosen_rejected.jsonl"),
        provider=OpenAILike(),
        model="m",
        method="dpo",
    )
    assert report.ok and report.valid == 2308
    assert codes(report.warnings) == [(n + 1, "empty_content") for n in (86, 516, 925, 1103)]


def test_preference_file_for_sft_is_refused_per_record() -> None:
    report = validate(
        real("preference/torchtune_stack_exchange_paired_tiny.json"),
        provider=OpenAILike(),
        model="m",
        method="sft",
    )
    # Once per file, at the first record, with the count: not 25 copies of one message.
    assert [(p.line, p.code, p.element) for p in report.errors] == [(1, "wrong_method", 0)]
    assert "(25 records; the first is here)" in report.errors[0].message


def test_dpo_sharegpt_file_and_its_duplicates(provider: OpenAILike) -> None:
    path = real("preference/llamafactory_dpo_en_demo.json")
    report = validate(path, provider=provider, model="m", method="dpo")
    assert report.ok and report.valid == 300 and report.formats == {"sharegpt": 300}
    assert codes(report.warnings)[0] == (70, "multi_turn_preference")  # once per file
    dups = [p for p in report.warnings if p.code == "duplicate"]
    assert len(dups) == 5
    assert (dups[0].line, dups[0].message) == (3830, "the same example as line 254")
    # The lines point at the real records of the JSON array: each element starts on the
    # line of its "{", and the two named are equal.
    records = json.loads(path.read_text(encoding="utf-8"))
    starts, line = {}, 1
    for i, rec in enumerate(records):
        starts[line + 1] = i
        line += json.dumps(rec, indent=2, ensure_ascii=False).count("\n") + 1
    assert records[starts[3830]] == records[starts[254]]


def test_alpaca_text_key_is_reported_not_dropped_silently(provider: OpenAILike, tmp_path) -> None:
    report = validate(alpaca_with_text(tmp_path / "alpaca.json"), provider=provider, model="m")
    text_keys = [p for p in report.warnings if p.code == "unknown_key"]
    assert len(text_keys) == 100 and all(p.field == "text" for p in text_keys)


def test_estimate_on_real_file_matches_cookbook_count() -> None:
    require_tiktoken()  # exact OpenAI token counts
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base")
    path = real("chat_sft/openai_cookbook_toy_chat_fine_tuning.jsonl")
    expected = 0
    for line in path.open(encoding="utf-8"):
        n = 3
        for m in json.loads(line)["messages"]:
            n += 3 + sum(len(enc.encode(v)) for v in m.values())
        expected += n
    est = estimate(path, provider=OpenAILike(min_examples=1), model="m", epochs=2)
    assert est.tokens_per_epoch == expected == 43 + 106 + 26 + 27 + 8031
    assert est.trained_tokens == 2 * expected and est.exact_tokens


def test_without_a_provider_only_the_format_and_method_are_checked() -> None:
    report = validate(real("preference/llamafactory_dpo_en_demo.json"), method="dpo")
    assert report.ok and report.valid == 300
    toy = validate(real("chat_sft/openai_cookbook_toy_chat_fine_tuning.jsonl"))
    assert toy.ok  # no minimum count and no token limit without a provider
    assert codes(toy.warnings) == [(4, "missing_user_message")]
