"""A tiny chat model and tokenizer built entirely on this machine (no download).

Used by ``anytune quickstart``, by the tests and by the CPU smoke benchmark. The model has
random weights from a small Llama config; the tokenizer is a byte-level BPE trained on the
text it will see, with a ChatML chat template that carries ``{% generation %}`` markers so
assistant-only loss works out of the box.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "CHAT_TEMPLATE",
    "FORMAT_PATTERN",
    "build_tiny_model",
    "format_dataset",
    "preference_dataset",
]

#: ChatML with generation markers around what the assistant says (including its end-of-turn
#: token, so the model also learns to stop).
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}"
    "{{- message['content'] + '<|im_end|>\\n' }}"
    "{%- endgeneration %}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]

_ITEMS = (
    "apple banana cherry grape lemon mango melon olive peach pear plum berry carrot onion "
    "potato tomato pepper garlic ginger radish turnip celery spinach lettuce cabbage bean "
    "pea corn rice wheat oat barley bread cheese butter milk cream yogurt honey sugar salt"
).split()
_HELD_OUT_ITEMS = "kiwi lime fig date walnut almond cashew pecan hazelnut chestnut".split()
_COLOURS = "red green blue yellow orange purple brown white black pink".split()
_PROMPTS = (
    "Tell me about the {item}.",
    "What colour is the {item}?",
    "Describe a {item} please.",
    "I have a {item}, what now?",
    "Is the {item} tasty?",
)

#: What a trained model's answer looks like; a random model never produces it.
FORMAT_PATTERN = r'^\{"item": "[^"]*", "colour": "[^"]*"\}$'


def _answer(item: str, colour: str) -> str:
    return json.dumps({"item": item, "colour": colour})


def format_dataset(n: int, *, seed: int = 0, held_out: bool = False) -> list[dict[str, Any]]:
    """``n`` chat records whose assistant answers in a fixed JSON format.

    ``held_out=True`` draws items never seen in training, to test generalisation."""
    rng = random.Random(seed)
    items = _HELD_OUT_ITEMS if held_out else _ITEMS
    records = []
    for _ in range(n):
        item, colour = rng.choice(items), rng.choice(_COLOURS)
        messages = [
            {"role": "system", "content": "You answer in JSON."},
            {"role": "user", "content": rng.choice(_PROMPTS).format(item=item)},
            {"role": "assistant", "content": _answer(item, colour)},
        ]
        records.append({"messages": messages})
    return records


def preference_dataset(n: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` preference records (OpenAI DPO format): the JSON answer is preferred."""
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        item, colour = rng.choice(_ITEMS), rng.choice(_COLOURS)
        prompt = rng.choice(_PROMPTS).format(item=item)
        records.append(
            {
                "input": {"messages": [{"role": "user", "content": prompt}]},
                "preferred_output": [{"role": "assistant", "content": _answer(item, colour)}],
                "non_preferred_output": [{"role": "assistant", "content": f"the {item} is {colour}"}],
            }
        )
    return records


def _corpus() -> Iterable[str]:
    for rec in format_dataset(400, seed=1) + format_dataset(100, seed=2, held_out=True):
        for m in rec["messages"]:
            yield m["content"]
    for rec in preference_dataset(50, seed=3):
        yield rec["non_preferred_output"][0]["content"]
    yield "system user assistant You answer in JSON. What is the answer?"


def build_tokenizer(path: Path, *, vocab_size: int = 512) -> Any:
    """Train a byte-level BPE tokenizer on the built-in corpus and save it to ``path``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<pad>",
        bos_token="<|endoftext|>",
        unk_token=None,
    )
    hf.chat_template = CHAT_TEMPLATE
    hf.save_pretrained(str(path))
    return hf


def build_tiny_model(
    path: str | Path,
    *,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    seed: int = 0,
) -> Path:
    """Write a tiny random Llama chat model and its tokenizer to ``path`` (safetensors).

    Returns ``path``. Takes about a second on CPU."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(path)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=512,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    # A trained model's output head can produce confident logits; a random one at the
    # usual init scale cannot, and LoRA does not train the head. Widen it so a tiny model
    # can learn a format in a few dozen CPU steps.
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, 2.0 / hidden_size**0.5)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(str(path), safe_serialization=True)
    return path


def write_jsonl(records: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write ``records`` as JSON Lines to ``path``."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
    return path
