"""Together through anytune's public API and the official SDK against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from anytune_together import TogetherProvider
from anytune_together.emulator import TogetherEmulator
from together_helpers import DATA, MODEL, TEST_KEY, write_preference

from anytune import (
    BudgetExceededError,
    ConfigurationError,
    Hyperparameters,
    Job,
    JobStatus,
    LoRA,
    MissingCredentialsError,
    convert,
    estimate,
    validate,
)
from anytune.provider import CreateRequest
from anytune.testing import write_chat_examples

CHAT = DATA / "chat_sft" / "openai_cookbook_toy_chat_fine_tuning.jsonl"


def test_estimate_on_real_data_uses_the_price_table() -> None:
    est = estimate(CHAT, provider="together", model=MODEL, epochs=2)
    # line 4 of the cookbook file has no user message: Together's check accepts it (it only
    # refuses a role repeated twice in a row), so it is priced and warned about
    assert est.records == 5 and est.epochs == 2
    assert est.trained_tokens == 2 * est.tokens_per_epoch > 0
    import anytune_together

    table = json.loads(Path(anytune_together.__file__).with_name("models.json").read_text("utf-8"))
    rate = table["price_bands"][0]["price_per_million_tokens"]["lora"]["sft"]  # 8B: the first band
    assert est.cost_usd == pytest.approx(rate * est.trained_tokens / 1e6, abs=1e-6)
    assert est.price_source and est.price_as_of
    assert any("no minimum charge" in n for n in est.notes)


def test_dpo_is_priced_higher_than_sft_and_bands_differ(tmp_path: Path) -> None:
    prefs = write_preference(tmp_path / "p.jsonl")
    p = TogetherProvider()
    hp = Hyperparameters()
    small = p.price_usd(MODEL, "sft", 1_000_000, hp)
    dpo = p.price_usd(MODEL, "dpo", 1_000_000, hp)
    big = p.price_usd("meta-llama/Meta-Llama-3.1-70B-Instruct-Reference", "sft", 1_000_000, hp)
    assert small is not None and dpo is not None and big is not None
    assert small < dpo and small < big
    assert estimate(prefs, provider="together", model=MODEL, method="dpo").cost_usd


def test_full_training_is_priced_and_budgeted_at_the_full_rate(
    env: TogetherEmulator, tmp_path: Path
) -> None:
    data = write_chat_examples(tmp_path / "t.jsonl", 40)
    lora = estimate(data, provider="together", model=MODEL, epochs=3)
    full = estimate(data, provider="together", model=MODEL, epochs=3, full=True)
    assert lora.cost_usd is not None and full.cost_usd is not None
    assert full.cost_usd > lora.cost_usd and any("priced as full" in n for n in full.notes)
    # A budget between the two rates lets the LoRA job through and stops the full one
    # before anything is uploaded. An approximate count is budgeted with its measured
    # margin (Estimate.budget_cost_usd), so the budget sits between the two margined figures.
    assert lora.budget_cost_usd is not None and full.budget_cost_usd is not None
    budget = (lora.budget_cost_usd + full.budget_cost_usd) / 2
    with pytest.raises(BudgetExceededError):
        Job.create(provider="together", model=MODEL, training_file=data, full=True,
                   hyperparameters=Hyperparameters(epochs=3), max_cost_usd=budget)
    assert env.requests.get("upload", 0) == 0 and env.requests.get("create", 0) == 0
    job = Job.create(provider="together", model=MODEL, training_file=data,
                     hyperparameters=Hyperparameters(epochs=3), max_cost_usd=budget)
    assert job.estimate is not None and job.estimate.cost_usd == pytest.approx(lora.cost_usd)


def test_validate_applies_together_limits(tmp_path: Path) -> None:
    report = validate(CHAT, provider="together", model="meta-llama/Llama-3.3-70B-Instruct-Reference")
    # the system+assistant-only record: a warning for Together, whose check accepts it
    assert report.ok and "missing_user_message" in {p.code for p in report.warnings}
    p = TogetherProvider()
    limits = p.limits("meta-llama/Llama-3.3-70B-Instruct-Reference", "sft")
    assert limits.data_format == "together" and limits.max_tokens_per_example == 24576
    assert limits.min_examples == 1 and "docs.together.ai" in limits.source
    # DPO allows shorter examples than SFT on the 70B models (8,192-12,288: the smaller kept)
    assert p.limits("meta-llama/Llama-3.3-70B-Instruct-Reference", "dpo").max_tokens_per_example == 8192


def test_tokenizer_is_approx_without_a_cached_tokenizer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert TogetherProvider().tokenizer(MODEL) == "approx"
    snap = tmp_path / "models--meta-llama--Llama-3.1-8B-Instruct" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "tokenizer.json").write_text("{}")
    assert TogetherProvider().tokenizer(MODEL) == "hf:meta-llama/Llama-3.1-8B-Instruct"


def test_estimate_counts_exactly_with_the_models_cached_tokenizer_and_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    # A tiny tokenizer with a chat template, saved where the Hugging Face cache keeps
    # meta-llama/Llama-3.1-8B-Instruct (nothing is downloaded, ever).
    words = ["<unk>", "<s>", "</s>", ":", "system", "user", "assistant"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    fast.chat_template = "{% for m in messages %}<s> {{ m['role'] }} : {{ m['content'] }} </s> {% endfor %}"
    repo = tmp_path / "models--meta-llama--Llama-3.1-8B-Instruct"
    fast.save_pretrained(repo / "snapshots" / ("0" * 40))
    # AutoTokenizer reads the model's config too; a cache filled by from_pretrained has it.
    (repo / "snapshots" / ("0" * 40) / "config.json").write_text('{"model_type": "llama"}')
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    data = write_chat_examples(tmp_path / "t.jsonl", 12)
    # A fresh process, as a user runs it: the hub reads its cache location at import.
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "anytune", "estimate", str(data), "--provider", "together",
         "--model", MODEL, "--epochs", "1", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    est = json.loads(out.stdout)
    assert est["exact_tokens"] is True
    # Each record: system, user and assistant turns rendered as "<s> role : content </s>",
    # each word of the content one (unknown) token.
    expected = 0
    for line in data.read_text().splitlines():
        for m in json.loads(line)["messages"]:
            expected += 4 + len(fast.backend_tokenizer.pre_tokenizer.pre_tokenize_str(m["content"]))
    assert est["tokens_per_epoch"] == expected


def test_function_calling_data_trains_where_the_model_supports_it(env: TogetherEmulator) -> None:
    drone = DATA / "chat_sft" / "openai_cookbook_drone_training.jsonl"
    # Mistral 7B is not among Together's function-calling models: refused, by line,
    # before anything is uploaded.
    report = validate(drone, provider="together", model="mistralai/Mistral-7B-Instruct-v0.2")
    assert {p.code for p in report.errors} == {"tools_not_supported"}
    assert report.errors[0].line == 1 and report.errors[0].field == "tools"
    # Llama 3.1 8B is: the tools, calls and results reach Together in OpenAI's shape.
    job = Job.create(provider="together", model=MODEL, training_file=drone,
                     hyperparameters=Hyperparameters(epochs=1))
    uploaded = next(iter(env.state.files.values())).content or b""
    first = json.loads(uploaded.decode().splitlines()[0])
    original = json.loads(drone.read_text().splitlines()[0])
    assert first["tools"] == original["tools"]
    assert first["messages"][2]["tool_calls"][0]["function"]["name"] == "takeoff_drone"
    assert job.id.startswith("together:")


def test_missing_key_names_variable_and_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError) as info:
        TogetherProvider().get("ft-x")
    assert "TOGETHER_API_KEY" in str(info.value) and "api_key=" in str(info.value)


def test_job_life_cycle_through_public_api(env: TogetherEmulator, tmp_path: Path) -> None:
    data = write_chat_examples(tmp_path / "train.jsonl", 12)
    job = Job.create(provider="together", model=MODEL, training_file=data, suffix="bot",
                     hyperparameters=Hyperparameters(epochs=2, lora=LoRA(r=16, alpha=32)), n_checkpoints=2)
    assert job.id.startswith("together:ft-") and job.status is JobStatus.QUEUED
    job.wait(timeout=30, progress=False)
    assert job.status is JobStatus.SUCCEEDED and job.result is not None
    assert "bot-at" in job.result.model
    raw = Job.get(job.id).provider_raw
    assert raw["training_type"] == {"type": "Lora", "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05,
                                    "lora_trainable_modules": "all-linear"}
    from anytune_together.emulator.state import file_tokens

    per_epoch = file_tokens(env.state.files[raw["training_file"]].content or b"")[0]
    assert job.result.trained_tokens == raw["token_count"] == 2 * per_epoch > 0  # Together's rule
    # What Together billed, next to the estimate: total_price is in nanodollars.
    actual, est = job.actual, job.estimate
    assert actual is not None and est is not None and est.cost_usd is not None
    assert actual.trained_tokens == raw["token_count"] and actual.cost_source == "provider"
    assert actual.cost_usd == pytest.approx(raw["total_price"] / 1e9) and actual.cost_usd > 0
    assert actual.vs_estimate == pytest.approx(raw["token_count"] / est.trained_tokens - 1, abs=1e-4)
    doc = job.to_dict()["actual"]
    assert doc["trained_tokens"] == raw["token_count"] and doc["cost_usd"] == actual.cost_usd
    types = [e.type for e in job.events()]
    assert types[0] == "job_pending" and "job_complete" in types
    assert [c.step for c in job.checkpoints()] == [10, 20]
    assert job.metrics() and job.metrics()[-1].train_loss is not None


def test_full_training_and_dpo_reach_together(env: TogetherEmulator, tmp_path: Path) -> None:
    prefs = write_preference(tmp_path / "prefs.jsonl")
    job = Job.create(provider="together", model=MODEL, training_file=prefs, method="dpo", full=True,
                     hyperparameters=Hyperparameters(epochs=1, beta=0.2))
    raw = Job.get(job.id).provider_raw
    assert raw["training_type"] == {"type": "Full"}
    assert raw["training_method"]["method"] == "dpo" and raw["training_method"]["dpo_beta"] == 0.2
    with pytest.raises(ConfigurationError):
        Job.create(provider="together", model=MODEL, training_file=prefs, method="dpo", full=True,
                   hyperparameters=Hyperparameters(lora=LoRA()))


def test_cancel(env: TogetherEmulator, tmp_path: Path) -> None:
    env.state.job_seconds = 5.0
    data = write_chat_examples(tmp_path / "t.jsonl")
    job = Job.create(provider="together", model=MODEL, training_file=data)
    job.cancel()
    assert job.status in (JobStatus.CANCELLING, JobStatus.CANCELLED)
    job.wait(timeout=10, progress=False)
    assert job.status is JobStatus.CANCELLED
    job.cancel()  # idempotent on an ended job
    assert job.status is JobStatus.CANCELLED


def test_convert_to_together_then_create(env: TogetherEmulator, tmp_path: Path) -> None:
    out = tmp_path / "together.jsonl"
    report = convert(CHAT, to="together", output=out)
    assert report.records == 5 and out.is_file()
    job = Job.create(provider="together", model=MODEL, training_file=out, validation_file=out)
    raw = Job.get(job.id).provider_raw
    assert raw["validation_file"] and raw["n_evals"] == 1
    stored = env.state.files[raw["training_file"]].content
    assert stored is not None and [json.loads(x) for x in stored.splitlines()] == [
        json.loads(x) for x in out.read_bytes().splitlines()
    ]


def test_lost_create_is_recovered_by_the_suffix_tag(env: TogetherEmulator, tmp_path: Path) -> None:
    env.add_fault("create:drop")
    job = Job.create(provider="together", model=MODEL, idempotency_key="my-key-1",
                     training_file=write_chat_examples(tmp_path / "t.jsonl"))
    assert env.counts["jobs_created"] == 1
    assert Job.get(job.id).status in set(JobStatus)


def test_vendor_estimate_is_attached_at_create(provider: TogetherProvider, tmp_path: Path) -> None:
    fid = provider.upload(write_chat_examples(tmp_path / "t.jsonl"), purpose="train")
    snap = provider.create(CreateRequest(model=MODEL, training_file=fid, idempotency_key="k"))
    vendor = snap.raw["anytune_vendor_estimate"]
    assert vendor["estimated_total_price"] > 0 and "Together estimates" in (snap.message or "")


def test_upload_is_stored_once(
    provider: TogetherProvider, emulator: TogetherEmulator, tmp_path: Path
) -> None:
    data = write_chat_examples(tmp_path / "t.jsonl")
    seen: list[tuple[int, int]] = []
    provider.upload_progress = lambda sent, total: seen.append((sent, total))
    assert provider.upload(data, purpose="train") == provider.upload(data, purpose="train")
    assert emulator.counts["files_created"] == 1
    # The SDK's own byte progress reaches anytune's bar, ending at the whole file.
    size = data.stat().st_size
    assert seen and seen[-1] == (size, size)


def test_suffix_too_long_is_refused_before_anything(provider: TogetherProvider) -> None:
    with pytest.raises(ConfigurationError):
        request = CreateRequest(model=MODEL, training_file="file-x", suffix="x" * 30, idempotency_key="k")
        provider.create(request)


def test_unknown_emulator_key_is_refused(emulator: TogetherEmulator) -> None:
    from anytune import AuthenticationError

    p = TogetherProvider(api_key="tgp_v1_wrong", base_url=emulator.env["TOGETHER_BASE_URL"])
    with pytest.raises(AuthenticationError) as info:
        p.list()
    assert "TOGETHER_API_KEY" in str(info.value) and "tgp_v1_wrong" not in str(info.value)
    assert TEST_KEY not in repr(p)
