"""Fast checks of the local provider: what it refuses before a worker starts, how the worker
is launched, how data is converted, and that importing it stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from anytune_local import LocalProvider, _launch
from anytune_local._data import load_records, split_prompt_completion
from anytune_local._tiny import format_dataset, preference_dataset, write_jsonl

from anytune import Job, NotFoundError, UnsupportedError
from anytune.provider import Capability, CreateRequest


def _staged(provider: LocalProvider, records: list[dict], tmp_path: Path) -> str:
    return provider.upload(write_jsonl(records, tmp_path / "data.jsonl"), purpose="train")


def _no_jobs(home: Path) -> bool:
    return not [p for p in (home / "local").glob("*") if not p.name.startswith("_")]


def test_import_does_not_load_torch() -> None:
    code = (
        "import sys, anytune_local; from anytune_local import LocalProvider; "
        "LocalProvider().limits('m', 'sft'); "
        "print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_capabilities_and_preflight_hooks(tiny_model: Path) -> None:
    p = LocalProvider()
    for cap in (
        "SFT",
        "DPO",
        "LORA",
        "FULL",
        "VALIDATION_FILE",
        "LIST",
        "CANCEL",
        "EVENTS",
        "METRICS",
        "CHECKPOINTS",
        "RESUME",
    ):
        assert p.capabilities & Capability[cap]
    assert p.price_usd(str(tiny_model), "sft", 10**9, None) == 0.0  # type: ignore[arg-type]
    assert p.tokenizer(str(tiny_model)) == f"hf:{tiny_model.resolve()}"
    assert p.tokenizer("no-such-org/no-such-model") == "approx"
    assert p.limits(str(tiny_model), "sft").data_format == "openai"


def test_qlora_without_cuda_is_refused_before_any_worker(
    home: Path, tiny_model: Path, tmp_path: Path
) -> None:
    with pytest.raises(UnsupportedError, match=r"CUDA|bitsandbytes"):
        Job.create(
            provider="local",
            model=str(tiny_model),
            quantization="4bit",
            training_file=write_jsonl(format_dataset(4), tmp_path / "t.jsonl"),
        )
    assert _no_jobs(home)


def test_missing_model_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    p = LocalProvider()
    ref = _staged(p, format_dataset(4), tmp_path)
    with pytest.raises(NotFoundError, match="hf download acme/missing-7b"):
        p.create(CreateRequest(model="acme/missing-7b", training_file=ref))
    assert _no_jobs(home)


def test_dpo_on_promptless_data_is_unsupported(home: Path, tiny_model: Path, tmp_path: Path) -> None:
    p = LocalProvider()
    records = preference_dataset(3)
    records[1]["input"]["messages"] = []
    ref = _staged(p, records, tmp_path)
    with pytest.raises(UnsupportedError, match="prompt"):
        p.create(CreateRequest(model=str(tiny_model), training_file=ref, method="dpo"))
    assert _no_jobs(home)


def test_early_stopping_without_validation_data_is_refused(
    home: Path, tiny_model: Path, tmp_path: Path
) -> None:
    from anytune import ConfigurationError

    p = LocalProvider()
    ref = _staged(p, format_dataset(4), tmp_path)
    with pytest.raises(ConfigurationError, match="validation"):
        p.create(
            CreateRequest(model=str(tiny_model), training_file=ref, options={"early_stopping_patience": 2})
        )
    assert _no_jobs(home)


def test_unknown_job_is_not_found(home: Path) -> None:
    p = LocalProvider()
    for bad in ("0123456789ab", "_files", "../etc"):
        with pytest.raises(NotFoundError):
            p.get(bad)


def test_upload_stages_a_reference_that_survives_the_original(home: Path, tmp_path: Path) -> None:
    p = LocalProvider()
    src = write_jsonl(format_dataset(3), tmp_path / "prepared.jsonl")
    ref = p.upload(src, purpose="train")
    assert ref.startswith("file-") and "/" not in ref and "." not in ref
    content = src.read_bytes()
    src.unlink()
    assert (home / "local" / "_files" / f"{ref}.jsonl").read_bytes() == content


# --- launching ------------------------------------------------------------------------------
def test_one_process_runs_the_worker_module(tmp_path: Path) -> None:
    cmd = _launch.worker_command(tmp_path, processes=1, python="py")
    assert cmd == ["py", "-m", "anytune_local._worker", str(tmp_path)]
    assert _launch.worker_command(tmp_path, processes=0, python="py") == cmd


def test_several_gpus_go_through_accelerate_launch(tmp_path: Path) -> None:
    cmd = _launch.worker_command(tmp_path, processes=4, mixed_precision="bf16", python="py")
    assert cmd[:3] == ["py", "-m", "accelerate.commands.launch"]
    assert cmd[cmd.index("--num_processes") + 1] == "4"
    assert cmd[cmd.index("--mixed_precision") + 1] == "bf16"
    assert cmd[cmd.index("--main_process_port") + 1] == "0"  # two jobs never share a port
    assert "--multi_gpu" in cmd and "--use_fsdp" not in cmd
    assert cmd[-3:] == ["-m", "anytune_local._worker", str(tmp_path)]
    fsdp = _launch.worker_command(tmp_path, processes=2, fsdp=True, python="py")
    assert "--use_fsdp" in fsdp and "--multi_gpu" not in fsdp
    assert fsdp[fsdp.index("--fsdp_auto_wrap_policy") + 1] == "TRANSFORMER_BASED_WRAP"
    # accelerate itself must accept every flag we pass.
    from accelerate.commands.launch import launch_command_parser

    launch_command_parser().parse_args(cmd[3:])
    launch_command_parser().parse_args(fsdp[3:])


@pytest.mark.parametrize(
    ("devices", "available", "expected"),
    [
        ("auto", 0, (0, {})),
        (None, 4, (4, {})),
        ("cpu", 4, (0, {"CUDA_VISIBLE_DEVICES": ""})),
        (2, 4, (2, {"CUDA_VISIBLE_DEVICES": "0,1"})),
        ("1,3", 4, (2, {"CUDA_VISIBLE_DEVICES": "1,3"})),
        ([2], 4, (1, {"CUDA_VISIBLE_DEVICES": "2"})),
    ],
)
def test_devices_option(devices: object, available: int, expected: tuple) -> None:
    assert _launch.resolve_devices(devices, available) == expected


@pytest.mark.parametrize("devices", [3, "0,5", "gpu", True, 0])
def test_devices_beyond_the_machine_are_refused(devices: object) -> None:
    with pytest.raises(UnsupportedError):
        _launch.resolve_devices(devices, 2)


def test_no_gpu_is_detected_without_importing_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert _launch.gpu_count() == 0


# --- data -----------------------------------------------------------------------------------
def test_openai_records_become_trl_records(tmp_path: Path) -> None:
    chat = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": "yo", "weight": 1},
        ]
    }
    pref = preference_dataset(1)[0]
    sft = load_records(write_jsonl([chat], tmp_path / "c.jsonl"), "sft")[0]
    assert sft == {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    dpo = load_records(write_jsonl([pref], tmp_path / "p.jsonl"), "dpo")[0]
    assert dpo["prompt"] == pref["input"]["messages"]
    assert dpo["chosen"] == pref["preferred_output"]
    assert dpo["rejected"] == pref["non_preferred_output"]


def test_wrong_shape_names_the_line(tmp_path: Path) -> None:
    from anytune import DatasetError

    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(format_dataset(1)[0]) + "\n" + json.dumps({"text": "x"}) + "\n")
    with pytest.raises(DatasetError) as info:
        load_records(path, "sft")
    assert info.value.problems[0].line == 2


def test_template_without_markers_trains_on_the_last_assistant_turn() -> None:
    rec = format_dataset(1)[0]
    split = split_prompt_completion(rec)
    assert split["prompt"] == rec["messages"][:2]
    assert split["completion"] == rec["messages"][2:]


def test_missing_model_is_refused_before_any_upload(home: Path, tmp_path: Path) -> None:
    data = write_jsonl(format_dataset(4), tmp_path / "t.jsonl")
    with pytest.raises(NotFoundError, match="neither a local folder nor in the Hugging Face cache"):
        Job.create(provider="local", model="acme/missing-7b", training_file=data)
    assert not list((home / "local" / "_files").glob("*")), "nothing was staged"
    assert _no_jobs(home)


def test_time_estimate_from_a_measured_warmup(tiny_model: Path) -> None:
    p = LocalProvider()
    seconds = p.estimate_seconds(str(tiny_model), 100_000, max_seq_length=64, batch_size=4)
    # The tiny model trains thousands of tokens per second (well under a minute here when
    # quiet). The bound only catches a unit slip (ms for s, tokens for steps): the warm-up
    # is a few steps, so a machine loaded by other work stretches it a lot (20+ minutes
    # were seen at load 25), and no timing is asserted closely.
    assert 0 < seconds < 3 * 3600
    assert 0 < p.estimate_seconds(str(tiny_model), 100_000, max_seq_length=64, full=True) < 3 * 3600


def test_estimate_reports_tokens_exactly_and_a_measured_time(
    home: Path, tiny_model: Path, tmp_path: Path
) -> None:
    from anytune_local._tiny import format_dataset, write_jsonl

    from anytune import estimate

    data = write_jsonl(format_dataset(20, seed=1), tmp_path / "t.jsonl")
    est = estimate(data, provider="local", model=str(tiny_model), epochs=1)
    assert est.exact_tokens and est.cost_usd == 0.0 and est.trained_tokens > 0
    assert any("of training on this machine" in note for note in est.notes), est.notes
