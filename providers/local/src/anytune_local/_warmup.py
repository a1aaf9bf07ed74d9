"""A time estimate for a local run, from a short measured warm-up on this machine.

Local runs cost no money, so the useful estimate is time. It is measured, not guessed:
load the model as the worker would (same precision, LoRA or QLoRA), run a few training
steps on random tokens of the planned shape, and divide the trained tokens by the
tokens/s of the later steps (the first ones pay for kernel selection and caches).
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["measure_tokens_per_s"]


def measure_tokens_per_s(
    model_path: str,
    *,
    max_seq_length: int = 1024,
    batch_size: int = 4,
    steps: int = 8,
    quantization: str | None = None,
    full: bool = False,
    trust_remote_code: bool = False,
) -> float:
    """Training tokens/s of ``model_path`` on this machine (LoRA unless ``full``)."""
    import torch
    from peft import LoraConfig, get_peft_model

    from anytune_local._train import _load, _precision

    prec = _precision({})
    spec: dict[str, Any] = {
        "model_path": model_path,
        "options": {"quantization": quantization, "trust_remote_code": trust_remote_code},
    }
    model, _ = _load(spec, prec)
    if not full:
        config = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
        model = get_peft_model(model, config)
    device = "cuda" if prec["device"] == "cuda" else "cpu"
    if quantization is None:
        model.to(device)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)
    vocab = int(model.config.get_text_config().vocab_size)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (batch_size, max_seq_length), generator=generator).to(device)
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=bool(prec["bf16"]))
    times = []
    for _ in range(max(4, steps)):
        start = time.perf_counter()
        with autocast:
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    # The first steps pay for allocator growth and kernel selection: time the later half.
    later = sorted(times[len(times) // 2 :])
    per_step = later[len(later) // 2]
    return batch_size * max_seq_length / per_step
