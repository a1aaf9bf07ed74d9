"""``anytune quickstart``: a real LoRA fine-tune of a tiny local model, on CPU, in < 2 min.

It builds a tiny chat model and tokenizer on this machine (nothing is downloaded), writes
a small dataset of its own (questions answered in a fixed JSON format), fine-tunes it
through the public API exactly as a user would (``Job.create(provider="local", ...)``),
shows the loss going down, and shows the same unseen questions answered by the model
before and after tuning: noise before, the trained format after.
"""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from typing import Any

__all__ = ["run"]


def _generate(model: Any, tokenizer: Any, question: str) -> str:
    messages = [
        {"role": "system", "content": "You answer in JSON."},
        {"role": "user", "content": question},
    ]
    inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**inputs, max_new_tokens=24, do_sample=False)
    return str(tokenizer.decode(out[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True))


def run(console: Any = None, *, workdir: str | Path | None = None) -> dict[str, Any]:
    """Run the quickstart; return where the adapter is and what the run showed.

    Progress goes to ``console`` (a ``rich`` console; stderr by default, so that
    ``anytune quickstart --json`` keeps stdout for the JSON document)."""
    import transformers
    from rich.console import Console

    from anytune import Hyperparameters, Job, LoRA
    from anytune.provider import state_dir as anytune_home
    from anytune_local._tiny import FORMAT_PATTERN, build_tiny_model, format_dataset, write_jsonl

    # Keep the output to what the user should read: no download-style progress bars.
    transformers.logging.set_verbosity_error()
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    transformers.logging.disable_progress_bar()
    con = console or Console(stderr=True, soft_wrap=True)
    start = time.monotonic()
    root = Path(workdir) if workdir else anytune_home() / "quickstart"
    root.mkdir(parents=True, exist_ok=True)
    con.print("[bold]anytune quickstart[/]: a LoRA fine-tune of a tiny model on this machine")
    model_dir = build_tiny_model(root / "tiny-chat-model")
    data = write_jsonl(format_dataset(200, seed=0), root / "train.jsonl")
    con.print(f"  built a tiny Llama chat model in {model_dir}")
    con.print(f"  wrote 200 training conversations to {data}")

    job = Job.create(
        provider="local",
        model=str(model_dir),
        training_file=data,
        validation_split=0.1,
        hyperparameters=Hyperparameters(
            epochs=3, learning_rate=1e-2, batch_size=8, lora=LoRA(r=16, alpha=32, dropout=0.0)
        ),
        seed=0,
        max_seq_length=128,
        devices="cpu",
    )
    con.print(f"  started job [cyan]{job.id}[/] (a detached worker; `anytune get {job.id}`)")
    shown = 0
    while True:
        done = job.refresh().status.terminal
        for m in job.metrics():
            # Every 5th step once: metrics() returns the whole history on each poll.
            if m.train_loss is not None and m.step > shown and (shown == 0 or m.step >= shown + 5):
                con.print(f"    step {m.step:>3}  epoch {m.epoch or 0:4.2f}  train loss {m.train_loss:.3f}")
                shown = m.step
        if done:
            break
        time.sleep(0.5)
    job.raise_for_status()
    losses = [m.train_loss for m in job.metrics() if m.train_loss is not None]
    valid = [m.valid_loss for m in job.metrics() if m.valid_loss is not None]
    assert job.result is not None
    adapter = job.result.model
    # Single steps are noisy: the summary averages the first and the last few, and says so.
    n = min(5, len(losses))
    first, last = sum(losses[:n]) / n, sum(losses[-n:]) / n
    con.print(
        f"  train loss {first:.3f} -> {last:.3f} (mean of the first {n} logged steps -> mean of "
        f"the last {n})"
        + (f"; validation loss {valid[0]:.3f} -> {valid[-1]:.3f} (first evaluation -> last)"
           if valid else "")
    )

    from peft import AutoPeftModelForCausalLM
    from rich.markup import escape
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(adapter)
    model = AutoPeftModelForCausalLM.from_pretrained(adapter)
    base = AutoModelForCausalLM.from_pretrained(model_dir)  # the same model, untuned
    # What changed is the behaviour: the untuned model answers noise, the tuned one the
    # trained JSON format. Shown side by side, so that the tuned answers naming the same
    # item (this tiny model learns the format, not the random items) do not read as a failure.
    con.print("  questions it never saw (items absent from the training data), before -> after:")
    ok = ok_before = 0
    for rec in format_dataset(3, seed=7, held_out=True):
        question = rec["messages"][1]["content"]
        before = _generate(base, tokenizer, question).strip()
        answer = _generate(model, tokenizer, question).strip()
        ok_before += bool(re.match(FORMAT_PATTERN, before))
        ok += bool(re.match(FORMAT_PATTERN, answer))
        # Model output is printed literally, never read as rich markup.
        con.print(f"    {escape(repr(question))}\n      before: {escape(repr(before))}\n"
                  f"      after:  {escape(repr(answer))}")
    con.print(
        f"  answers in the trained JSON format: {ok_before}/3 before tuning, {ok}/3 after. "
        "Items and colours are random in the training data, so a model this small learns the "
        "format, not which item or colour to name: the same item in every answer is expected."
    )
    seconds = time.monotonic() - start
    con.print(f"[bold green]done[/] in {seconds:.0f}s. The adapter is in [cyan]{adapter}[/]")
    con.print(
        "  use it:\n"
        "    from peft import AutoPeftModelForCausalLM\n"
        "    from transformers import AutoTokenizer\n"
        f"    model = AutoPeftModelForCausalLM.from_pretrained({adapter!r})\n"
        f"    tokenizer = AutoTokenizer.from_pretrained({adapter!r})"
    )
    return {
        "job": job.id,
        "adapter": adapter,
        "model": str(model_dir),
        "seconds": round(seconds, 1),
        "first_train_loss": first,
        "last_train_loss": last,
        "held_out_in_format": f"{ok}/3",
        "held_out_in_format_before": f"{ok_before}/3",
    }
