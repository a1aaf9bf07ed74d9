"""Inputs of every kind, token counting, the estimate, budget helpers and ``prepare``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from preflight_helpers import OpenAILike, real

from anytune import BudgetExceededError, ConfigurationError, DatasetError, Hyperparameters, estimate, validate
from anytune._preflight import affordable_epochs, check_budget, is_file_reference, prepare
from anytune.data import make_counter
from anytune.testing import require_tiktoken

GSM = "instruction_alpaca/alpacadatacleaned_gsm_8k_train.first2000.jsonl"


def records(n: int = 12) -> list[dict]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"What is {i} + {i}?"},
                {"role": "assistant", "content": f"It is {2 * i}."},
            ]
        }
        for i in range(n)
    ]


def test_every_input_kind_gives_the_same_estimate(tmp_path: Path) -> None:
    import pandas as pd

    recs = records()
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in recs))
    arr = tmp_path / "d.json"
    arr.write_text(json.dumps(recs, indent=2))
    parquet = tmp_path / "d.parquet"
    pd.DataFrame(recs).to_parquet(parquet)
    inputs = [recs, jsonl, str(arr), parquet, pd.DataFrame(recs)]
    try:
        import datasets

        inputs.append(datasets.Dataset.from_list(recs))
    except ImportError:  # pragma: no cover
        pass
    got = {estimate(x, provider=OpenAILike(), model="m").tokens_per_epoch for x in inputs}
    assert len(got) == 1


def test_in_memory_records_report_one_based_row_numbers() -> None:
    recs = records()
    recs[4] = {"messages": [{"role": "wizard", "content": "x"}]}
    report = validate(recs, provider=OpenAILike(), model="m")
    assert [(p.line, p.code, p.file) for p in report.errors] == [(5, "unknown_role", None)]


def test_tiktoken_counter_follows_the_cookbook_rule() -> None:
    require_tiktoken()  # exact OpenAI token counts
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base")
    counter = make_counter("tiktoken:o200k_base")
    assert counter.exact and counter.note == ""
    from anytune.data import Example, Message

    ex = Example(
        "chat",
        [Message("system", "Be terse."), Message("user", "Hi", name="bob"), Message("assistant", "Hello!")],
        "openai_chat",
    )
    expected = (
        3
        + sum(
            3 + len(enc.encode(r)) + len(enc.encode(c))
            for r, c in (("system", "Be terse."), ("user", "Hi"), ("assistant", "Hello!"))
        )
        + len(enc.encode("bob"))
        + 1
    )
    assert counter.example(ex) == expected


def test_unknown_tokenizer_is_approximate_and_says_so() -> None:
    counter = make_counter("hf:/nonexistent/tokenizer")
    assert not counter.exact and "not available locally" in counter.note
    assert counter.text("abcdefgh") == 2


class NoTokenizer(OpenAILike):
    def tokenizer(self, model: str) -> str:
        return "approx"


def test_estimate_fields_default_epochs_and_price() -> None:
    require_tiktoken()  # exact OpenAI token counts
    path = real(GSM)
    est = estimate(path, provider=OpenAILike(), model="m")
    assert est.records == 2000 and est.epochs == 3  # 2000 x 3 is within OpenAI's 100..25000 window
    assert est.trained_tokens == 3 * est.tokens_per_epoch
    assert est.cost_usd == pytest.approx(5.0 * est.trained_tokens / 1e6)
    assert (est.price_source, est.price_as_of, est.exact_tokens) == (
        "https://example.test/pricing",
        "2026-11-01",
        True,
    )
    assert (
        estimate(path, provider=OpenAILike(), model="m", hyperparameters=Hyperparameters(epochs=5)).epochs
        == 5
    )
    small = estimate(records(12), provider=OpenAILike(), model="m")
    assert small.epochs == 9  # ceil(100 / 12)
    approx = estimate(path, provider=NoTokenizer(), model="m")
    assert not approx.exact_tokens and approx.notes


def test_estimate_caps_examples_at_the_model_limit() -> None:
    require_tiktoken()  # exact OpenAI token counts
    path = real("chat_sft/openai_cookbook_toy_chat_fine_tuning.jsonl")
    est = estimate(path, provider=OpenAILike(max_tokens=4096, min_examples=1), model="m", epochs=1)
    # Line 5 has 8031 tokens: the provider truncates it, so 4096 are billed.
    assert est.records == 5 and est.tokens_per_epoch == 43 + 106 + 26 + 27 + 4096
    assert any("3935 tokens over the per-example limit" in n for n in est.notes)


def test_dpo_counts_both_sequences() -> None:
    recs = [{"prompt": "Say hi", "chosen": "Hi!", "rejected": "Go away."}] * 1
    counter = make_counter("tiktoken:o200k_base")
    est = estimate(recs, provider=OpenAILike(min_examples=1), model="m", method="dpo", epochs=1)
    prompt = 3 + counter.text("user") + counter.text("Say hi")
    assert est.tokens_per_epoch == 2 * (prompt + 3) + (
        3 + counter.text("assistant") + counter.text("Hi!")
    ) + (3 + counter.text("assistant") + counter.text("Go away."))
    assert est.cost_usd == pytest.approx(25.0 * est.trained_tokens / 1e6)


def test_budget_helpers() -> None:
    est = estimate(records(), provider=OpenAILike(), model="m", epochs=4)
    check_budget(est, None)
    check_budget(est, est.cost_usd)
    with pytest.raises(BudgetExceededError) as info:
        check_budget(est, est.cost_usd / 2)
    assert info.value.estimate is est
    assert affordable_epochs(est, est.cost_usd) == 4
    assert affordable_epochs(est, est.cost_usd / 4 * 2.5) == 2
    unpriced = estimate(records(), provider=OpenAILike(), model="not-in-catalog", epochs=1)
    assert unpriced.cost_usd is None
    with pytest.raises(ConfigurationError, match="cannot be checked"):
        check_budget(unpriced, 10.0)


def test_prepare_writes_the_upload_file_with_its_hash(tmp_path: Path) -> None:
    src = real("vertex_gemini/gcp_generative_ai_training_data_wrong.jsonl")
    prepared = prepare(
        src,
        provider=OpenAILike(),
        model="m",
        method="sft",
        hyperparameters=Hyperparameters(epochs=2),
        workdir=tmp_path / "w",
    )
    data = prepared.path.read_bytes()
    assert prepared.path == tmp_path / "w" / "train.jsonl"
    assert prepared.sha256 == hashlib.sha256(data).hexdigest() and prepared.records == 36
    first = json.loads(data.splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]  # "model" rewritten
    assert prepared.estimate is not None and prepared.estimate.epochs == 2
    vertex = prepare(
        src,
        provider=OpenAILike(fmt="vertex"),
        model="m",
        method="sft",
        hyperparameters=Hyperparameters(),
        workdir=tmp_path / "v",
        purpose="validation",
    )
    assert json.loads(vertex.path.read_bytes().splitlines()[0])["contents"][1]["role"] == "model"
    assert vertex.estimate is None


def test_prepare_raises_with_every_problem_and_leaves_no_file(tmp_path: Path) -> None:
    src = real("chat_sft/openai_cookbook_toy_chat_fine_tuning.jsonl")
    with pytest.raises(DatasetError) as info:
        prepare(
            src,
            provider=OpenAILike(max_tokens=4096),
            model="m",
            method="sft",
            hyperparameters=Hyperparameters(),
            workdir=tmp_path,
        )
    assert [(p.line, p.code) for p in info.value.problems] == [(None, "too_few_examples")]
    assert list(tmp_path.iterdir()) == []


def test_unreadable_inputs_raise_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        validate(tmp_path / "missing.jsonl")
    assert info.value.problems[0].code == "file_not_found"
    with pytest.raises(DatasetError):
        validate(42)


def test_file_references() -> None:
    assert is_file_reference("file-abc123")
    assert is_file_reference("gs://bucket/train.jsonl")
    assert not is_file_reference("train.jsonl")
    assert not is_file_reference("data/train")
    assert not is_file_reference(["x"])


def test_dpo_limit_applies_to_each_sequence() -> None:
    counter = make_counter("tiktoken:o200k_base")
    long_reply = "word " * 60
    rec = {"prompt": "Say hi", "chosen": long_reply, "rejected": "Hello."}
    prompt = 3 + counter.text("user") + counter.text("Say hi") + 3
    chosen_seq = prompt + 3 + counter.text("assistant") + counter.text(long_reply)
    rejected_seq = prompt + 3 + counter.text("assistant") + counter.text("Hello.")
    limit = chosen_seq - 5  # only the chosen sequence is over; the pair's sum is far over
    provider = OpenAILike(min_examples=1, max_tokens=limit)
    report = validate([rec], provider=provider, model="m", method="dpo")
    assert [(p.code, p.message) for p in report.warnings] == [
        (
            "too_many_tokens",
            f"the example has {chosen_seq} tokens, over the model's limit of {limit}: "
            "5 tokens would be truncated",
        )
    ]
    est = estimate([rec], provider=provider, model="m", method="dpo", epochs=1)
    assert est.tokens_per_epoch == limit + rejected_seq


class WithNotes(OpenAILike):
    def estimate_notes(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hp: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> list[str]:
        return [f"{trained_tokens} tokens would take about 1 hour here"]


def test_estimate_appends_the_providers_own_notes() -> None:
    est = estimate(records(), provider=WithNotes(), model="m", epochs=1)
    assert est.notes[-1] == f"{est.trained_tokens} tokens would take about 1 hour here"


class FullCostsMore(OpenAILike):
    """Prices full fine-tuning (the ``full=True`` create option) at twice the LoRA rate."""

    create_options = frozenset({"full"})

    def price_usd(
        self,
        model: str,
        method: str,
        trained_tokens: int,
        hyperparameters: Hyperparameters,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> float | None:
        rate = 2.0 if (options or {}).get("full") else 1.0
        return rate * trained_tokens / 1_000_000


def test_provider_options_reach_the_price_so_full_tuning_is_priced_as_full() -> None:
    lora = estimate(records(), provider=FullCostsMore(), model="m", epochs=1)
    full = estimate(records(), provider=FullCostsMore(), model="m", epochs=1, full=True)
    assert lora.cost_usd is not None and full.cost_usd == pytest.approx(2 * lora.cost_usd)
    # An option the provider does not take is refused, as Job.create refuses it.
    with pytest.raises(ConfigurationError, match="no option"):
        estimate(records(), provider=FullCostsMore(), model="m", epochs=1, ful=True)
