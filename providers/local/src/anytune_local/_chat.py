"""Chat with a local job's model (``job.chat``, ``job.evaluate``): in this process with
transformers + peft, or through a running vLLM server's OpenAI-compatible route.

In process: a tuned model is a LoRA adapter folder (the job's result or a checkpoint
folder) loaded over its base model (``adapter_config.json``'s ``base_model_name_or_path``);
a full fine-tune or base model is loaded as is. Loaded models are kept per provider
instance (an evaluation asks hundreds of times) and generation is serialised: one CPU or
GPU model is not made faster by threads. Greedy decoding unless a temperature > 0 is
given, so the same prompt gets the same answer.

With ``vllm_url`` (setting, or ``ANYTUNE_VLLM_URL``): ``POST {vllm_url}/v1/chat/completions``
with ``model`` set to the adapter folder for a tuned model (vLLM's ``--lora-modules
NAME=PATH`` with NAME the folder path) or the base model's name, the way vLLM's
OpenAI-compatible server names what it serves.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from anytune.errors import ProviderConnectionError, status_error_class
from anytune.provider import ChatReply

__all__ = ["InProcessChat", "vllm_chat"]


class InProcessChat:
    """Models loaded once per path; ``chat`` generates one answer."""

    def __init__(self) -> None:
        self._models: dict[str, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def _load(self, model: str) -> tuple[Any, Any]:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from anytune_local._create import resolve_model

        path = Path(model)
        adapter = path / "adapter_config.json"
        net: Any
        if adapter.is_file():
            from peft import PeftModel

            base_path = json.loads(adapter.read_text())["base_model_name_or_path"]
            base = AutoModelForCausalLM.from_pretrained(str(resolve_model(base_path)))
            net = PeftModel.from_pretrained(base, str(path))
            tok_dir = path if (path / "tokenizer_config.json").is_file() else resolve_model(base_path)
        else:
            folder = path if path.is_dir() else resolve_model(model)
            net = AutoModelForCausalLM.from_pretrained(str(folder))
            tok_dir = folder
        net.eval()
        return net, AutoTokenizer.from_pretrained(str(tok_dir))

    def chat(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> ChatReply:
        """Generate the answer to ``messages`` with ``model`` (a folder or a cached id)."""
        import torch

        with self._lock:
            if model not in self._models:
                self._models[model] = self._load(model)
            net, tok = self._models[model]
            inputs = tok.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            temperature = float(params.get("temperature") or 0.0)
            gen: dict[str, Any] = {"max_new_tokens": int(params.get("max_tokens") or 256)}
            if temperature > 0:
                gen.update(do_sample=True, temperature=temperature, top_p=float(params.get("top_p") or 1.0))
                if params.get("seed") is not None:
                    torch.manual_seed(int(params["seed"]))
            else:
                gen["do_sample"] = False
            with torch.no_grad():
                out = net.generate(**inputs, **gen, pad_token_id=tok.pad_token_id or tok.eos_token_id)
        new = out[0][inputs["input_ids"].shape[1] :]
        text = str(tok.decode(new, skip_special_tokens=True)).strip()
        pin, pout = int(inputs["input_ids"].shape[1]), int(new.shape[0])
        return ChatReply(
            text=text,
            model=model,
            usage={"prompt_tokens": pin, "completion_tokens": pout, "total_tokens": pin + pout},
        )


def vllm_chat(
    url: str, model: str, messages: list[dict[str, Any]], params: dict[str, Any], timeout: float = 300.0
) -> ChatReply:
    """One request to a vLLM server's OpenAI-compatible chat route. ``VLLM_API_KEY`` (the
    variable vLLM's server reads for its ``--api-key``) is sent as a bearer token when set."""
    body = json.dumps({"model": model, "messages": messages, **params}).encode()
    headers = {"Content-Type": "application/json"}
    key = os.environ.get("VLLM_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(
        url.rstrip("/") + "/v1/chat/completions", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            doc = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        cls = status_error_class(exc.code)
        raise cls(
            f"vLLM at {url} answered {exc.code}: {detail}", provider="local", status_code=exc.code
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ProviderConnectionError(
            f"vLLM at {url} is not reachable ({exc}); start it with `anytune serve JOB_ID` or drop vllm_url",
            provider="local",
        ) from None
    choice = (doc.get("choices") or [{}])[0]
    usage = doc.get("usage")
    return ChatReply(
        text=str((choice.get("message") or {}).get("content") or ""),
        model=str(doc.get("model", model)),
        usage={k: int(usage[k]) for k in ("prompt_tokens", "completion_tokens", "total_tokens") if k in usage}
        if usage
        else None,
        raw=doc,
    )
