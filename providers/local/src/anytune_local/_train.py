"""One training run with TRL, driven by a job's ``spec.json`` (runs inside the worker).

SFT uses assistant-only loss through the chat template (``{% generation %}`` markers; TRL
patches the templates of known model families), completion-only loss for prompt/completion
data; DPO uses the frozen base model as reference (the adapter switched off). LoRA via
peft; QLoRA loads the base in 4-bit NF4 through bitsandbytes. CPU runs are fp32 without
gradient checkpointing; GPU runs use bf16 where the GPU supports it.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from anytune_local._callback import StreamCallback
from anytune_local._data import load_records, split_prompt_completion
from anytune_local._state import JobRecorder
from anytune_local._tracking import report_to

__all__ = ["train"]


def _precision(opts: dict[str, Any]) -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        return {
            "dtype": torch.float32,
            "bf16": False,
            "fp16": False,
            "use_cpu": True,
            "device": "cpu",
        }
    if torch.cuda.is_bf16_supported():
        return {
            "dtype": torch.bfloat16,
            "bf16": True,
            "fp16": False,
            "use_cpu": False,
            "device": "cuda",
        }
    # Older GPUs: fp32 master weights with fp16 autocast.
    return {"dtype": torch.float32, "bf16": False, "fp16": True, "use_cpu": False, "device": "cuda"}


def _load(spec: dict[str, Any], prec: dict[str, Any]) -> tuple[Any, Any]:
    import os

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    opts = spec["options"]
    common = {"local_files_only": True, "trust_remote_code": bool(opts.get("trust_remote_code"))}
    tokenizer = AutoTokenizer.from_pretrained(spec["model_path"], **common)
    if opts.get("chat_template"):
        tokenizer.chat_template = Path(opts["chat_template"]).read_text(encoding="utf-8")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    kwargs: dict[str, Any] = dict(common, dtype=prec["dtype"])
    if not opts.get("allow_pickle"):
        kwargs["use_safetensors"] = True
    if opts.get("quantization") == "4bit":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16 if prec["bf16"] else torch.float16,
        )
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    if opts.get("attn_implementation"):
        kwargs["attn_implementation"] = opts["attn_implementation"]
    model = AutoModelForCausalLM.from_pretrained(spec["model_path"], **kwargs)
    if opts.get("quantization") == "4bit":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(  # type: ignore[no-untyped-call]
            model, use_gradient_checkpointing=bool(opts.get("gradient_checkpointing", True))
        )
    return model, tokenizer


def _sft_rows(rows: list[dict[str, Any]], tokenizer: Any, rec: JobRecorder) -> tuple[list[Any], bool]:
    """The SFT rows and whether assistant-only loss applies (else prompt/completion)."""
    if not rows or "messages" not in rows[0]:
        return rows, False
    from trl.chat_template_utils import get_training_chat_template

    if not tokenizer.chat_template:
        raise ValueError("the model's tokenizer has no chat template; pass chat_template=PATH (a Jinja file)")
    try:
        get_training_chat_template(tokenizer)
        return rows, True
    except ValueError:
        rec.event(
            "the chat template cannot mark assistant turns; training on the last assistant "
            "turn of each conversation (prompt/completion) instead",
            level="warning",
        )
        return [split_prompt_completion(r) for r in rows], False


def _config(spec: dict[str, Any], prec: dict[str, Any], *, has_eval: bool, assistant_only: bool) -> Any:
    hp, opts = spec["hyperparameters"], spec["options"]
    full = bool(opts.get("full"))
    dpo = spec["method"] == "dpo"
    # trl's lazy top-level module hides its names from type checkers.
    from trl import DPOConfig, SFTConfig  # type: ignore[attr-defined]

    config_class = DPOConfig if dpo else SFTConfig
    if dpo:
        default_lr = 5e-6 if full else 5e-5
    else:
        default_lr = 2e-5 if full else 2e-4
    on_cpu = prec["device"] == "cpu"
    save_steps = opts.get("save_steps")
    eval_steps = opts.get("eval_steps")
    kwargs: dict[str, Any] = {
        "output_dir": str(Path(spec["folder"]) / "checkpoints"),
        "num_train_epochs": hp.get("epochs") or 3,
        # max_steps, when given, overrides the epochs (benchmarks, smoke runs).
        "max_steps": int(opts.get("max_steps") or -1),
        "learning_rate": hp.get("learning_rate") or default_lr,
        "per_device_train_batch_size": hp.get("batch_size") or 4,
        "per_device_eval_batch_size": hp.get("batch_size") or 4,
        "gradient_accumulation_steps": int(opts.get("gradient_accumulation_steps") or 1),
        # transformers 5 reads a float below 1 as a fraction of the total steps.
        "warmup_steps": hp.get("warmup_ratio") or 0.0,
        "max_length": int(opts.get("max_seq_length") or 1024),
        "logging_steps": int(opts.get("logging_steps") or 1),
        "save_strategy": "steps" if save_steps else "epoch",
        "save_steps": int(save_steps or 500),
        "save_total_limit": opts.get("save_total_limit"),
        "eval_strategy": ("steps" if eval_steps else "epoch") if has_eval else "no",
        "eval_steps": int(eval_steps) if eval_steps else None,
        "seed": spec.get("seed") or 42,
        "bf16": prec["bf16"],
        "fp16": prec["fp16"],
        "use_cpu": prec["use_cpu"],
        # CPU: checkpointing only slows things down; GPU: on unless switched off.
        "gradient_checkpointing": False if on_cpu else bool(opts.get("gradient_checkpointing", True)),
        "report_to": report_to(spec),  # "none" unless the job tracks to W&B
        "run_name": f"local:{spec['id']}",
        "disable_tqdm": True,
        "include_num_input_tokens_seen": "non_padding",
        "dataloader_num_workers": 0,
        "use_liger_kernel": bool(opts.get("liger")),
    }
    if kwargs["gradient_checkpointing"]:
        kwargs["gradient_checkpointing_kwargs"] = {"use_reentrant": False}
    if dpo:
        kwargs["beta"] = hp.get("beta") or 0.1
    else:
        kwargs["packing"] = bool(opts.get("packing"))
        kwargs["assistant_only_loss"] = assistant_only
    return config_class(**kwargs)


def _peft_config(spec: dict[str, Any]) -> Any:
    if spec["options"].get("full"):
        return None
    from peft import LoraConfig

    lora = spec["hyperparameters"].get("lora") or {}
    targets = lora.get("target_modules", "all-linear")
    return LoraConfig(
        r=lora.get("r", 16),
        lora_alpha=lora.get("alpha", 32),
        lora_dropout=lora.get("dropout", 0.05),
        target_modules=targets if isinstance(targets, str) else list(targets),
        task_type="CAUSAL_LM",
    )


def _merge(spec: dict[str, Any], adapter: Path, out: Path, prec: dict[str, Any]) -> None:
    """Merge the adapter into a full-precision copy of the base (never into 4-bit weights)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    opts = spec["options"]
    base = AutoModelForCausalLM.from_pretrained(
        spec["model_path"],
        dtype=prec["dtype"],
        local_files_only=True,
        trust_remote_code=bool(opts.get("trust_remote_code")),
    )
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    merged.save_pretrained(str(out), safe_serialization=True)


def train(spec: dict[str, Any], rec: JobRecorder, *, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Run the job described by ``spec``; return the fields of its final state.

    ``callbacks`` are extra ``TrainerCallback`` objects: the ray provider runs this very
    function on each Ray Train worker and adds the one that reports checkpoints to Ray."""
    from datasets import Dataset

    prec = _precision(spec["options"])
    method = spec["method"]
    rec.update(phase="loading", message=f"loading {spec['model']}")
    rec.event(f"loading model {spec['model']} on {prec['device']}", type="loading")
    model, tokenizer = _load(spec, prec)
    rows = load_records(Path(spec["training_file"]), method)
    val_rows = load_records(Path(spec["validation_file"]), method) if spec.get("validation_file") else None
    assistant_only = False
    if method == "sft":
        rows, assistant_only = _sft_rows(rows, tokenizer, rec)
        if val_rows is not None and not assistant_only:
            val_rows = [split_prompt_completion(r) for r in val_rows]
    train_ds = Dataset.from_list(rows)
    eval_ds = Dataset.from_list(val_rows) if val_rows else None
    config = _config(spec, prec, has_eval=eval_ds is not None, assistant_only=assistant_only)
    opts = spec["options"]
    cb = StreamCallback(
        rec,
        patience=opts.get("early_stopping_patience"),
        threshold=float(opts.get("early_stopping_threshold") or 0.0),
    )
    if cb.patience is not None and eval_ds is None:
        raise ValueError(
            "early_stopping_patience needs validation data (validation_file or validation_split)"
        )
    from trl import DPOTrainer, SFTTrainer  # type: ignore[attr-defined]

    trainer = (DPOTrainer if method == "dpo" else SFTTrainer)(
        model=model,
        args=config,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=_peft_config(spec),
        callbacks=[cb, *callbacks],
    )
    assert trainer.model is not None
    kept = len(trainer.train_dataset) if trainer.train_dataset is not None else 0
    if kept == 0:
        # TRL drops examples whose trained tokens were all cut by truncation; without this
        # the user would see torch's "num_samples=0" instead of what to change.
        raise ValueError(
            f"none of the {len(train_ds)} training examples has tokens left to learn from "
            f"after truncation to max_seq_length={config.max_length}; raise max_seq_length"
        )
    params = list(trainer.model.parameters())
    trainable = sum(int(p.numel()) for p in params if p.requires_grad)
    total = sum(int(p.numel()) for p in params)
    rec.event(
        f"{method} on {len(train_ds)} records ({len(eval_ds) if eval_ds else 0} validation); "
        f"{trainable:,} of {total:,} parameters trainable",
        type="prepared",
        records=len(train_ds),
        trainable_parameters=trainable,
    )
    rec.update(message="training")
    trainer.train(resume_from_checkpoint=spec.get("resume_checkpoint"))
    rec.update(phase="saving", message="saving")
    folder = Path(spec["folder"])
    out = folder / ("model" if opts.get("full") else "adapter")
    trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out))
        # Trainer pickles its arguments next to the weights; the output folder is meant to
        # be loaded anywhere, so it holds safetensors and JSON only.
        (out / "training_args.bin").unlink(missing_ok=True)
    rec.event(f"{'model' if opts.get('full') else 'adapter'} saved to {out}", type="saved", path=str(out))
    tokens = int(trainer.state.num_input_tokens_seen or 0) or None
    if cb.cancelled:
        return {"status": "cancelled", "result": {"model": str(out), "trained_tokens": tokens}}
    if opts.get("merge") and not opts.get("full") and trainer.is_world_process_zero():
        del trainer, model
        gc.collect()
        _merge(spec, out, folder / "merged", prec)
        tokenizer.save_pretrained(str(folder / "merged"))
        rec.event(f"merged model saved to {folder / 'merged'}", type="merged", path=str(folder / "merged"))
    return {
        "status": "succeeded",
        "stopped_early": cb.stopped_early,
        "result": {"model": str(out), "trained_tokens": tokens},
    }
