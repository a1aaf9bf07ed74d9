"""Local training throughput: anytune's local provider against a plain TRL + peft script.

Both runs train the same model, on the same data, with the same sequence length, batch,
LoRA settings, precision and seed, one after the other in fresh processes, and report
tokens/s (non-padding tokens, after warm-up steps) and peak memory (GPU: peak allocated;
CPU: the training process's peak RSS). On a GPU it also reports model FLOPs utilisation
(6 x parameters x tokens/s over the GPU's peak dense bf16 FLOP/s).

    # CPU smoke size (what CI runs)
    python bench/local_train.py --model-config tiny --steps 20 --seq-len 128
    # GPU: a Llama-3-8B-shaped model with random weights, LoRA bf16, then QLoRA
    python bench/local_train.py --model-config llama3-8b --steps 30 --seq-len 2048 --batch-size 4
    python bench/local_train.py --model-config llama3-8b --steps 30 --seq-len 2048 \
        --batch-size 4 --quantization 4bit

Prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

#: Model shapes: "tiny" is built by anytune_local._tiny; the others are Llama configs.
SHAPES: dict[str, dict[str, Any]] = {
    # ~19M parameters: big enough on a CPU that the step, not the overhead, dominates.
    "cpu-small": dict(
        hidden_size=256,
        intermediate_size=688,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=4,
        vocab_size=32000,
        max_position_embeddings=2048,
    ),
    "llama3-8b": dict(
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
        rope_theta=500000.0,
        max_position_embeddings=8192,
    ),
    "llama3-1b": dict(
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=16,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
        rope_theta=500000.0,
        max_position_embeddings=8192,
    ),
}

#: Peak dense bf16 FLOP/s by GPU name fragment, for MFU.
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12}


def build_model(shape: str, out: Path) -> Path:
    """A model of ``shape`` with random weights and the tiny tokenizer, saved to ``out``."""
    from anytune_local._tiny import build_tiny_model, build_tokenizer

    if shape == "tiny":
        return build_tiny_model(out)
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(out)
    config = LlamaConfig(
        **SHAPES[shape],
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):  # initialising 8B parameters on the GPU takes seconds
        model = LlamaForCausalLM._from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(str(out), safe_serialization=True)
    return out


def write_data(path: Path, rows: int, seq_len: int, seed: int) -> Path:
    """Chat records long enough to fill ``seq_len`` tokens (truncated by both runs)."""
    from anytune_local._tiny import _COLOURS, _ITEMS

    rng = random.Random(seed)
    words = _ITEMS + _COLOURS
    with path.open("w") as fh:
        for _ in range(rows):
            user = " ".join(rng.choice(words) for _ in range(seq_len // 4))
            answer = " ".join(rng.choice(words) for _ in range(seq_len // 3))
            msgs = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
            fh.write(json.dumps({"messages": msgs}) + "\n")
    return path


def _throughput(points: list[tuple[float, float]], warmup: int) -> dict[str, float]:
    """Tokens/s from (time, tokens seen) at the end of each step, leaving out the first
    ``warmup`` steps: over the whole span, and the median of the steps (robust to a noisy
    neighbour slowing a few steps down)."""
    points = points[min(warmup, len(points) - 2) :]
    (t0, n0), (t1, n1) = points[0], points[-1]
    per_step = sorted((b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(points))
    return {
        "tokens_per_s": (n1 - n0) / (t1 - t0),
        "median_step_tokens_per_s": per_step[len(per_step) // 2],
    }


# --- the plain TRL script (runs in its own process) ----------------------------------------
def plain(args: argparse.Namespace) -> dict[str, Any]:
    """What a user would write by hand with TRL's SFTTrainer and peft."""
    import resource

    import torch
    from datasets import load_dataset
    from peft import LoraConfig, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    gpu = torch.cuda.is_available()
    bf16 = gpu and torch.cuda.is_bf16_supported()
    kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if bf16 else torch.float32}
    if args.quantization == "4bit":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        kwargs["device_map"] = {"": 0}
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, **kwargs)
    if args.quantization == "4bit":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gpu)
    points: list[tuple[float, float]] = []

    class Clock(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, a: Any, state: Any, control: Any, **kw: Any) -> None:
            if gpu:
                torch.cuda.synchronize()
            points.append((time.perf_counter(), float(state.num_input_tokens_seen)))

    config = SFTConfig(
        output_dir=str(Path(args.workdir) / "plain"),
        max_steps=args.steps,
        per_device_train_batch_size=args.batch_size,
        learning_rate=2e-4,
        max_length=args.seq_len,
        assistant_only_loss=True,
        bf16=bf16,
        use_cpu=not gpu,
        gradient_checkpointing=gpu,
        gradient_checkpointing_kwargs={"use_reentrant": False} if gpu else None,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=args.seed,
        include_num_input_tokens_seen="non_padding",
        dataloader_num_workers=0,
    )
    peft_config = LoraConfig(
        r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM"
    )
    data = load_dataset("json", data_files=args.data, split="train")
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=data,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[Clock()],
    )
    trainer.train()
    memory = (
        {"peak_gpu_memory_gb": torch.cuda.max_memory_allocated() / 2**30}
        if gpu
        else {"peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}
    )
    return {**_throughput(points, args.warmup), "steps": len(points), **memory}


# --- anytune's local provider ---------------------------------------------------------------
def anytune_run(args: argparse.Namespace) -> dict[str, Any]:
    """The same training through ``Job.create(provider="local")`` (a detached worker)."""
    os.environ["ANYTUNE_HOME"] = str(Path(args.workdir) / "home")
    from anytune import Hyperparameters, Job, LoRA

    options: dict[str, Any] = {"max_steps": args.steps, "max_seq_length": args.seq_len}
    if args.quantization:
        options["quantization"] = args.quantization
    job = Job.create(
        provider="local",
        model=args.model,
        training_file=args.data,
        seed=args.seed,
        idempotency_key=f"bench-{uuid.uuid4().hex}",  # each repeat is a new job
        hyperparameters=Hyperparameters(
            epochs=1, learning_rate=2e-4, batch_size=args.batch_size, lora=LoRA(r=16, alpha=32, dropout=0.0)
        ),
        **options,
    )
    job.wait(progress=False)
    job.raise_for_status()
    rows = [m for m in job.metrics() if m.train_loss is not None]
    # Each row's tokens_per_s covers the one step since the previous row (logging_steps=1):
    # rebuild (time, tokens seen) at the end of each step, as the plain run records them.
    points, clock, seen = [], 0.0, 0.0
    for m in rows:
        if "tokens_per_s" not in m.extra:  # no new tokens counted in that interval
            continue
        step_tokens = m.extra["tokens_seen"] - seen
        clock += step_tokens / m.extra["tokens_per_s"]
        seen = m.extra["tokens_seen"]
        points.append((clock, seen))
    last = rows[-1].extra
    memory = (
        {"peak_gpu_memory_gb": last["gpu_memory_gb"]}
        if "gpu_memory_gb" in last
        else {"peak_rss_gb": last["peak_rss_gb"]}
    )
    return {**_throughput(points, args.warmup), "steps": len(rows), "job": job.id, **memory}


def plain_run(args: argparse.Namespace) -> dict[str, Any]:
    """The plain script in a fresh process (as the local provider's worker is)."""
    cmd = [
        sys.executable, __file__, "--plain", *sys.argv[1:],
        "--model", args.model, "--data", args.data, "--workdir", args.workdir,
    ]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}  # as the worker has
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"plain TRL run failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _params(model: str) -> int:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):
        m = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model))
    return sum(p.numel() for p in m.parameters())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-config", default="tiny", choices=["tiny", *SHAPES])
    parser.add_argument("--model", help="use this model folder instead of building one")
    parser.add_argument("--quantization", choices=["4bit"], default=None)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3, help="steps left out of tokens/s")
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--only", choices=["anytune", "plain"], default=None)
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs of each side")
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain:  # the child process of the plain run
        print(json.dumps(plain(args)))
        return
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="anytune-bench-")
    work = Path(args.workdir)
    started = time.perf_counter()
    args.model = args.model or str(build_model(args.model_config, work / "model"))
    args.data = str(write_data(work / "train.jsonl", args.steps * args.batch_size, args.seq_len, args.seed))
    report: dict[str, Any] = {
        "model_config": args.model_config,
        "quantization": args.quantization,
        "steps": args.steps,
        "warmup": args.warmup,
        "seq_len": args.seq_len,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "parameters": _params(args.model),
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
    }
    # Runs alternate, and the order flips every repeat (anytune, plain, plain, anytune,
    # ...): a noisy neighbour hurts both sides alike, and a machine that speeds up as it
    # warms (page cache, clocks) favours neither side.
    samples: dict[str, list[dict[str, Any]]] = {"anytune": [], "plain_trl": []}
    for i in range(args.repeat):
        order = ("anytune", "plain") if i % 2 == 0 else ("plain", "anytune")
        for side in order:
            if args.only not in (None, side):
                continue
            if side == "anytune":
                samples["anytune"].append(anytune_run(args))
            else:
                samples["plain_trl"].append(plain_run(args))
    for run, runs in samples.items():
        if runs:
            best = max(runs, key=lambda r: r["median_step_tokens_per_s"])
            report[run] = {
                **best,
                "tokens_per_s_samples": [round(r["tokens_per_s"], 1) for r in runs],
                "median_step_samples": [round(r["median_step_tokens_per_s"], 1) for r in runs],
            }
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name()
        report["device"] = name
        peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
        for run in ("anytune", "plain_trl"):
            if peak and run in report:
                report[run]["mfu"] = 6 * report["parameters"] * report[run]["tokens_per_s"] / peak
    else:
        report["device"] = f"cpu ({os.cpu_count()} cores)"
    if "anytune" in report and "plain_trl" in report:
        a, p = report["anytune"], report["plain_trl"]
        report["speed_ratio"] = a["tokens_per_s"] / p["tokens_per_s"]
        report["speed_ratio_median_step"] = (
            a["median_step_tokens_per_s"] / p["median_step_tokens_per_s"]
        )
    report["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
