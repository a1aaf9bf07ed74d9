"""The parts of evaluate that need no provider: scorers, intervals, the holdout split,
prompts and references from every data format, and the checks done before any request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anytune import ConfigurationError, DatasetError
from anytune._chat import check_params, to_messages
from anytune._eval_report import ci95
from anytune._evaluate import load_samples
from anytune._holdout import split_holdout
from anytune._scorers import make_scorer, parse_verdict

REF = '{"item": "plum", "colour": "red"}'


def score(name: str, answer: str, reference: str | None = REF) -> float:
    scorer = make_scorer(name)
    assert scorer.fn is not None
    return scorer.fn(answer, reference, None)


def test_builtin_scorers() -> None:
    assert score("exact", f"  {REF}\n") == 1.0 and score("exact", REF.replace("red", "blue")) == 0.0
    assert score("json", '{"a": 1}') == 1.0 and score("json", "```json\n[1, 2]\n```") == 1.0
    assert score("json", '{"a": 1') == 0.0 and score("json", '"a string"') == 0.0
    # json-schema without a file: the reference's shape (keys and JSON types)
    assert score("json-schema", '{"item": "kiwi", "colour": "green"}') == 1.0
    assert score("json-schema", '{"item": "kiwi"}') == 0.0
    assert score("json-schema", '{"item": 3, "colour": "green"}') == 0.0
    assert score("contains", "It is PLUM, I think", reference="plum") == 1.0
    assert score("contains", "no idea", reference="plum") == 0.0


def test_json_schema_file_scorer(tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps({"type": "object", "required": ["item"], "properties": {"item": {"type": "string"}}})
    )
    assert score(f"json-schema:{schema}", '{"item": "x", "more": 1}') == 1.0
    assert score(f"json-schema:{schema}", '{"other": 1}') == 0.0
    with pytest.raises(ConfigurationError, match="not a readable JSON Schema"):
        make_scorer(f"json-schema:{tmp_path / 'missing.json'}")


def test_function_scorer_and_bad_names() -> None:
    with pytest.raises(ConfigurationError, match="cannot import"):
        make_scorer("no_such_module_xyz:fn")
    with pytest.raises(ConfigurationError, match="unknown scorer"):
        make_scorer("bleu")
    judge = make_scorer("judge:openai:gpt-4.1-mini-2025-04-14")
    assert judge.fn is None and judge.judge == ("openai", "gpt-4.1-mini-2025-04-14")
    assert make_scorer("judge:ft:gpt-4.1-mini:org::x").judge == (None, "ft:gpt-4.1-mini:org::x")


def test_function_scorers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_scorers.py").write_text(
        "def short(answer, ref, sample):\n    return len(answer) <= 5\n"
        "def half(answer, ref, sample):\n    return 0.5\n"
        "def bad(answer, ref, sample):\n    return 7\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert score("my_scorers:short", "abc") == 1.0 and score("my_scorers:short", "abcdef") == 0.0
    assert score("my_scorers:half", "x") == 0.5
    with pytest.raises(ConfigurationError, match=r"expected a bool or a number in 0\.\.1"):
        score("my_scorers:bad", "x")


def test_judge_verdicts() -> None:
    assert parse_verdict("The answer matches.\nGRADE: C") == 1.0
    assert parse_verdict("grade: i") == 0.0
    assert parse_verdict("I think it is fine") is None


def test_intervals() -> None:
    lo, hi = ci95([1.0] * 30)
    assert hi == 1.0 and 0.88 < lo < 0.9  # Wilson: not the degenerate [1, 1]
    lo, hi = ci95([0.0] * 30)
    assert lo == 0.0 and 0.1 < hi < 0.12
    lo, hi = ci95([0.5, 0.7, 0.9])  # graded scores: the normal approximation
    assert lo < 0.7 < hi
    assert ci95([]) == (0.0, 1.0)


def _records(n: int) -> list[dict[str, object]]:
    return [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
        for i in range(n)
    ]


def test_holdout_split_is_reproducible_and_disjoint(tmp_path: Path) -> None:
    kept, held, n = split_holdout(_records(40), 0.15, 7, tmp_path / "a")
    kept2, held2, _ = split_holdout(_records(40), 0.15, 7, tmp_path / "b")
    assert n == 6 and held.read_text() == held2.read_text() and kept.read_text() == kept2.read_text()
    kept_lines, held_lines = kept.read_text().splitlines(), held.read_text().splitlines()
    assert len(kept_lines) == 34 and not set(kept_lines) & set(held_lines)
    _, other, _ = split_holdout(_records(40), 0.15, 8, tmp_path / "c")
    assert other.read_text() != held.read_text()  # another seed, another split


def test_holdout_refuses_what_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="between 0 and 1"):
        split_holdout(_records(10), 1.5, 0, tmp_path)
    with pytest.raises(DatasetError, match="nothing to evaluate on"):
        split_holdout(_records(3), 0.1, 0, tmp_path)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"messages": []}\n{not json\n')
    with pytest.raises(DatasetError, match="could not be read"):
        split_holdout(broken, 0.5, 0, tmp_path)


def test_prompts_and_references_from_every_format() -> None:
    chat, alpaca, pref, prompt_only = load_samples(
        [
            {
                "messages": [
                    {"role": "system", "content": "s"},
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a"},
                ]
            },
            {"instruction": "Translate", "input": "chat", "output": "cat"},
            {
                "input": {"messages": [{"role": "user", "content": "p"}]},
                "preferred_output": [{"role": "assistant", "content": "good"}],
                "non_preferred_output": [{"role": "assistant", "content": "bad"}],
            },
            {"messages": [{"role": "user", "content": "only a question"}]},
        ]
    )
    assert [m["role"] for m in chat.messages] == ["system", "user"] and chat.reference == "a"
    assert alpaca.reference == "cat" and "Translate" in alpaca.question
    assert pref.reference == "good" and pref.question == "p"
    assert prompt_only.reference is None
    with pytest.raises(DatasetError):
        load_samples([{"neither": 1}])


def test_chat_input_is_checked_before_any_request() -> None:
    assert to_messages("hi") == [{"role": "user", "content": "hi"}]
    with pytest.raises(ConfigurationError, match="messages\\[0\\]"):
        to_messages([{"content": "no role"}])
    with pytest.raises(ConfigurationError, match="unknown parameter"):
        check_params({"max_tokens": 5, "logit_bias": {}})
