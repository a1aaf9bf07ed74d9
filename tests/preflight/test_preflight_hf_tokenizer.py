"""Counting with a model's own Hugging Face tokenizer and chat template, built locally
(no model hub): what Together and local runs use when the tokenizer is on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from anytune.data import Example, Message, make_counter

TEMPLATE = "{% for m in messages %}<s> {{ m['role'] }} : {{ m['content'] }} </s> {% endfor %}"


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<unk>", "<s>", "</s>", ":", "system", "user", "assistant", "hello", "there", "be", "brief"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    fast.chat_template = TEMPLATE
    out = tmp_path_factory.mktemp("tok")
    fast.save_pretrained(out)
    return out


def test_chat_template_count_is_what_the_model_reads(tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    counter = make_counter(f"hf:{tokenizer_dir}")
    assert counter.exact and counter.note == ""
    msgs = [Message("system", "be brief"), Message("user", "hello"), Message("assistant", "hello there")]
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    rendered = tok.apply_chat_template([{"role": m.role, "content": m.content} for m in msgs], tokenize=True)
    ids = rendered["input_ids"] if hasattr(rendered, "keys") else rendered
    # <s> role : content </s> per turn: 4 + words of the content.
    assert counter.example(Example("chat", msgs, "openai_chat")) == len(ids) == 4 * 3 + 2 + 1 + 2


def test_preference_counts_both_rendered_sequences(tokenizer_dir: Path) -> None:
    counter = make_counter(f"hf:{tokenizer_dir}")
    ex = Example(
        "preference",
        [Message("user", "hello")],
        "prompt_chosen_rejected",
        chosen=[Message("assistant", "hello there")],
        rejected=[Message("assistant", "brief")],
    )
    assert counter.example(ex) == (5 + 6) + (5 + 5)
