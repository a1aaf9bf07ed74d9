"""Request checks of ``POST /fine_tuning/jobs``, answered with 400s in OpenAI's shape.

What OpenAI checks synchronously (model, files, hyperparameter ranges, suffix,
metadata) is checked here; the content of the training file is checked later, while
the job is ``validating_files``, and makes the job fail, as on OpenAI.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, cast

from anytune_openai import _catalog
from anytune_openai.emulator.state import ApiError

if TYPE_CHECKING:
    from anytune_openai.emulator.state import State

__all__ = ["validate_create"]

# name -> (type check, lower bound, upper bound, lower bound exclusive)
_RANGES: dict[str, tuple[type | tuple[type, ...], float, float, bool]] = {
    "n_epochs": (int, 1, 50, False),
    "batch_size": (int, 1, 256, False),
    "learning_rate_multiplier": ((int, float), 0, float("inf"), True),
    "beta": ((int, float), 0, 2, True),
}


def _model_entry(model: Any) -> dict[str, Any]:
    if not isinstance(model, str) or not model:
        raise ApiError(
            400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
        )
    base = model[3:].split(":", 1)[0] if model.startswith("ft:") else model
    for entry in _catalog.catalog_data()["models"]:
        if entry["model"] == base and not entry.get("retired"):
            return dict(entry)
    raise ApiError(
        400,
        f"Model {model} is not available for fine-tuning or does not exist.",
        param="model",
        code="model_not_available",
    )


def _file(state: State, fid: Any, param: str) -> str:
    if not isinstance(fid, str) or not fid:
        raise ApiError(
            400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    with state.lock:
        meta = state.files.get(fid)
    if meta is None:
        raise ApiError(400, f"invalid {param}: {fid}", param=param, code="invalid_file")
    if meta["purpose"] != "fine-tune":
        raise ApiError(
            400,
            f"File {fid} has purpose {meta['purpose']!r}; fine-tuning needs purpose 'fine-tune'.",
            param=param,
            code="invalid_file_purpose",
        )
    return fid


def _hyperparameters(raw: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ApiError(400, f"'{where}' must be an object.", param=where)
    out: dict[str, Any] = {}
    for name, value in raw.items():
        param = f"{where}.{name}"
        if name not in allowed:
            raise ApiError(
                400, f"Unrecognized hyperparameter: '{name}'.", param=param, code="invalid_hyperparameters"
            )
        if value == "auto":
            out[name] = value
            continue
        kind, low, high, exclusive = _RANGES[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            expected = "an integer" if kind is int else "a number"
            raise ApiError(
                400,
                f"Invalid type for '{param}': expected {expected} or 'auto'.",
                param=param,
                code="invalid_hyperparameters",
            )
        number = float(cast(float, value))  # checked just above
        if (number <= low if exclusive else number < low) or number > high:
            bound = f"greater than {low:g}" if exclusive else f"at least {low:g}"
            raise ApiError(
                400,
                f"Invalid value for '{param}': must be {bound} and at most {high:g}.",
                param=param,
                code="invalid_hyperparameters",
            )
        out[name] = value
    return out


def _method(body: dict[str, Any], entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    method = body.get("method")
    legacy = _hyperparameters(
        body.get("hyperparameters"), "hyperparameters", ("n_epochs", "batch_size", "learning_rate_multiplier")
    )
    if method is None:
        return "supervised", legacy
    if not isinstance(method, dict) or method.get("type") not in ("supervised", "dpo", "reinforcement"):
        raise ApiError(
            400,
            "Invalid value for 'method.type': expected 'supervised', 'dpo' or 'reinforcement'.",
            param="method.type",
        )
    kind = method["type"]
    if kind == "reinforcement":
        raise ApiError(
            400,
            f"Model {entry['model']} does not support reinforcement fine-tuning.",
            param="method.type",
            code="unsupported_method",
        )
    if kind == "dpo" and "dpo" not in entry["methods"]:
        raise ApiError(
            400,
            f"Model {entry['model']} does not support DPO fine-tuning.",
            param="method.type",
            code="unsupported_method",
        )
    section = method.get(kind) or {}
    allowed = ("n_epochs", "batch_size", "learning_rate_multiplier") + (("beta",) if kind == "dpo" else ())
    hp = _hyperparameters(
        section.get("hyperparameters") if isinstance(section, dict) else None,
        f"method.{kind}.hyperparameters",
        allowed,
    )
    return kind, {**legacy, **hp}


def _metadata(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) > 16:
        raise ApiError(400, "'metadata' must be an object of at most 16 pairs.", param="metadata")
    for key, value in raw.items():
        if not isinstance(value, str) or len(key) > 64 or len(value) > 512:
            raise ApiError(
                400,
                "metadata keys are at most 64 characters and values strings of at most 512.",
                param=f"metadata.{key}",
            )
    return {str(k): v for k, v in raw.items()}


def _integrations(raw: Any) -> list[dict[str, Any]]:
    """``integrations`` as OpenAI takes it: at most 5 of ``{"type": "wandb", "wandb":
    {"project", "name"?, "entity"?, "tags"?}}`` (OpenAPI ``CreateFineTuningJobRequest``;
    ``FineTuningJob.integrations`` has ``maxItems: 5``; spec of 2026-11)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 5:
        raise ApiError(400, "'integrations' must be an array of at most 5 items.", param="integrations")
    for i, item in enumerate(raw):
        where = f"integrations[{i}]"
        if not isinstance(item, dict) or item.get("type") != "wandb":
            raise ApiError(400, "Only 'wandb' integrations are supported.", param=f"{where}.type")
        wandb = item.get("wandb")
        if not isinstance(wandb, dict) or not isinstance(wandb.get("project"), str) or not wandb["project"]:
            raise ApiError(400, "A wandb integration needs a 'project'.", param=f"{where}.wandb.project")
        for key in ("name", "entity"):
            if wandb.get(key) is not None and not isinstance(wandb[key], str):
                raise ApiError(400, f"'{key}' must be a string.", param=f"{where}.wandb.{key}")
        tags = wandb.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ApiError(400, "'tags' must be an array of strings.", param=f"{where}.wandb.tags")
    return raw


def validate_create(body: Any, state: State) -> dict[str, Any]:
    """The checked request, or :class:`ApiError` 400 naming the parameter."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    entry = _model_entry(body.get("model"))
    training = _file(state, body.get("training_file"), "training_file")
    validation = body.get("validation_file")
    if validation is not None:
        validation = _file(state, validation, "validation_file")
    kind, hp = _method(body, entry)
    suffix = body.get("suffix")
    if suffix is not None and (not isinstance(suffix, str) or not 1 <= len(suffix) <= 64):
        raise ApiError(400, "'suffix' must be a string of 1 to 64 characters.", param="suffix")
    seed = body.get("seed")
    if seed is None:
        seed = secrets.randbelow(2**31)
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2147483647:
        raise ApiError(400, "'seed' must be an integer between 0 and 2147483647.", param="seed")
    return {
        "entry": entry,
        "model": body["model"],
        "training_file": training,
        "validation_file": validation,
        "method": kind,
        "hp": hp,
        "suffix": suffix,
        "seed": seed,
        "metadata": _metadata(body.get("metadata")),
        "integrations": _integrations(body.get("integrations")),
    }
