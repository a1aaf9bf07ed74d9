"""The I/O-free parts of ``create`` around its POST, shared by the sync ``create`` and the
async ``acreate`` so the two cannot disagree: the checks before anything is sent, the
estimate-price request, the error context of the POST, and the note Together's own
estimate leaves on the created job."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from anytune.errors import ConfigurationError, ProviderError, redact
from anytune.provider import CreateRequest, JobSnapshot
from anytune_together import _catalog
from anytune_together._errors import translating
from anytune_together._mapping import as_dict, create_params

__all__ = [
    "DEFAULT_LORA_RANK",
    "accepted_estimate",
    "creating",
    "estimate_kwargs",
    "prepared_params",
    "wandb_options",
    "with_estimate",
    "with_lora_settings",
]

#: LoRA rank when neither the hyperparameters nor Together's model limits give one:
#: ``default_rank`` is optional in Together's ``FineTuneModelLimits`` schema (openapi.yaml,
#: /work/shared/specs/together, checked 2026-11-29), and 8 is the rank Together's limits
#: answer for its usual models and the emulator's.
DEFAULT_LORA_RANK = 8


def prepared_params(request: CreateRequest) -> dict[str, Any]:
    """``fine_tuning.create``'s arguments, after the catalog's checks (no network)."""
    params = create_params(request)
    _catalog.check_create(request.model, request.method, full=not params["lora"])
    return params


def with_lora_settings(params: dict[str, Any], limits: Any, model: str) -> dict[str, Any]:
    """``params`` with every LoRA setting explicit, so that ``fine_tuning.create`` never
    computes one from an optional field of the model-limits answer (the SDK does
    ``lora_alpha = lora_r * 2`` with ``lora_r`` from ``lora_training.default_rank``, which
    Together's spec lets the answer omit: a bare ``TypeError`` otherwise)."""
    if not params.get("lora"):
        return params
    lora_training = getattr(limits, "lora_training", None)
    if lora_training is None:
        from anytune.errors import UnsupportedError

        raise UnsupportedError("together", "lora", f"Together's limits for {model} list no LoRA "
                               "training; pass full=True for full fine-tuning")
    out = dict(params)
    if out.get("lora_r") is None:
        rank = getattr(lora_training, "default_rank", None)
        if not (isinstance(rank, int) and not isinstance(rank, bool) and rank > 0):
            rank = DEFAULT_LORA_RANK
        max_rank = getattr(lora_training, "max_rank", None)
        if isinstance(max_rank, int) and not isinstance(max_rank, bool) and 0 < max_rank < rank:
            rank = max_rank
        out["lora_r"] = rank
    out.setdefault("lora_alpha", 2 * int(out["lora_r"]))  # Together's documented default
    out.setdefault("lora_dropout", 0.0)
    out.setdefault("lora_trainable_modules", "all-linear")
    return out


def estimate_kwargs(request: CreateRequest) -> dict[str, Any]:
    """Arguments of ``fine_tuning.estimate_price`` (``POST /fine-tunes/estimate-price``)
    for ``request``'s uploaded file."""
    params = create_params(request)
    rank = int(params.get("lora_r", 8))  # 8: the emulated and usual default_rank
    training_type: dict[str, Any] = {
        "type": "Lora", "lora_r": rank, "lora_alpha": int(params.get("lora_alpha", 2 * rank)),
    }
    if not params["lora"]:
        training_type = {"type": "Full"}
    method: dict[str, Any] = {"method": request.method}
    if request.method == "sft":
        method["train_on_inputs"] = params["train_on_inputs"]
    kwargs: dict[str, Any] = dict(
        training_file=request.training_file, model=request.model, n_epochs=params.get("n_epochs", 1),
        n_evals=params.get("n_evals", 0), training_method=method, training_type=training_type,
    )
    if request.validation_file:
        kwargs["validation_file"] = request.validation_file
    return kwargs


def accepted_estimate(answer: Any) -> dict[str, Any] | None:
    """The estimate-price answer as a dict, or ``None`` when Together cannot estimate (yet)."""
    d = as_dict(answer)
    return d if d.get("estimation_available") else None


@contextlib.contextmanager
def creating(secrets: tuple[str, ...], request: CreateRequest) -> Iterator[None]:
    """The error context of the create POST: SDK errors mapped with the job's W&B key
    (a job option) redacted too, and the SDK's local checks against the model's limits
    (``ValueError``) turned into ``ConfigurationError``."""
    wandb_key = str(request.options.get("wandb_api_key") or "")
    secrets = (*secrets, *([wandb_key] if wandb_key else []))
    try:
        with translating(secrets):
            yield
    except ValueError as exc:
        raise ConfigurationError(redact(f"together: {exc}", secrets)) from None
    except (TypeError, AttributeError, KeyError) as exc:
        # The SDK's local checks read the model-limits answer: one lacking a field it
        # needs is Together's answer, not the user's mistake.
        raise ProviderError(redact(f"the model-limits answer could not be used ({type(exc).__name__}: "
                                   f"{exc})", secrets), provider="together") from None


def with_estimate(snap: JobSnapshot, estimate: dict[str, Any] | None) -> JobSnapshot:
    """``snap`` with Together's own estimate said in ``message`` and kept in ``raw``."""
    if estimate is None:
        return snap
    price = estimate.get("estimated_total_price")
    note = f"Together estimates ${price} for {estimate.get('estimated_train_token_count')} tokens"
    if estimate.get("allowed_to_proceed") is False:
        note += " (Together says the balance does not cover it)"
    raw = {**snap.raw, "anytune_vendor_estimate": estimate}
    return snap.model_copy(update={"message": note, "raw": raw})


def wandb_options(tracker: str, request: CreateRequest, context: Any) -> CreateRequest | None:
    """``request`` with Together's W&B fields, or ``None`` when ``tracker`` is not W&B or
    no ``WANDB_API_KEY`` is set (anytune then syncs the job to W&B itself).

    The fields are ``fine_tuning.create``'s ``wandb_api_key``, ``wandb_base_url``,
    ``wandb_project_name``, ``wandb_name`` and ``wandb_entity`` (together SDK 3.1.1,
    ``resources/fine_tuning.py``; Together's OpenAPI ``POST /fine-tunes`` has the same
    names; checked 2026-11-29). The key comes from W&B's own variable and goes into the
    request only; fields the user gave as options win."""
    key = os.environ.get("WANDB_API_KEY")
    if tracker != "wandb" or not key:
        return None
    fields: dict[str, Any] = {"wandb_api_key": key, "wandb_project_name": context.project}
    if context.name:
        fields["wandb_name"] = context.name
    if context.entity:
        fields["wandb_entity"] = context.entity
    if os.environ.get("WANDB_BASE_URL"):
        fields["wandb_base_url"] = os.environ["WANDB_BASE_URL"]
    return request.model_copy(update={"options": {**fields, **request.options}})
