"""anytune-local: fine-tune on this machine (LoRA, QLoRA, full) as a detached job.

Registered as the ``local`` provider of anytune::

    from anytune import Job
    job = Job.create(provider="local", model="path/or/cached-hf-id", training_file="chat.jsonl",
                     quantization="4bit", validation_split=0.1, early_stopping_patience=2)
    job.wait()
    job.result.model   # the adapter folder (safetensors)

Importing this package is cheap: torch, transformers, trl and peft load only in the worker.
"""

from anytune_local._provider import LocalProvider

__all__ = ["LocalProvider"]
