"""Chat and evaluate against each cloud provider's emulator, through the official SDKs and
the public API and CLI, as a user would: create with a holdout, wait, then evaluate the
tuned model against its base on the held-out prompts."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anytune import BudgetExceededError, Hyperparameters, Job
from anytune.schemas import validate_output
from anytune.testing import running_emulator

MODELS = {
    "openai": "gpt-4.1-mini-2025-04-14",
    "together": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
    "vertex": "gemini-3.5-flash",
}
ITEMS = "apple banana cherry grape lemon mango melon olive peach pear plum carrot onion potato".split()
COLOURS = "red green blue yellow orange purple".split()


def write_json_task(path: Path, n: int = 40) -> Path:
    """Questions answered in a fixed JSON format (what the tuned model learns)."""
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            item, colour = ITEMS[i % len(ITEMS)], rng.choice(COLOURS)
            fh.write(
                json.dumps(
                    {
                        "messages": [
                            {"role": "system", "content": "You answer in JSON."},
                            {"role": "user", "content": f"What colour is the {item} number {i}?"},
                            {
                                "role": "assistant",
                                "content": json.dumps({"item": item, "colour": colour, "n": i}),
                            },
                        ]
                    }
                )
                + "\n"
            )
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ANYTUNE_PROFILE", raising=False)
    monkeypatch.delenv("ANYTUNE_PROVIDER", raising=False)
    return tmp_path / "home"


@pytest.fixture(params=sorted(MODELS))
def cloud(request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A running emulator of each cloud provider, its variables set as a user would."""
    with running_emulator(request.param, job_seconds=0.5) as emu:
        for key, value in emu.env.items():
            monkeypatch.setenv(key, value)
        yield request.param


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from anytune.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.mark.slow
def test_tuned_model_beats_its_base_on_held_out_prompts(cloud: str, tmp_path: Path, home: Path) -> None:
    data = write_json_task(tmp_path / "train.jsonl")
    job = Job.create(
        provider=cloud,
        model=MODELS[cloud],
        training_file=data,
        holdout=0.2,
        seed=1,
        hyperparameters=Hyperparameters(epochs=2),
        progress=False,
    )
    job2 = Job.create(
        provider=cloud,
        model=MODELS[cloud],
        training_file=data,
        holdout=0.2,
        seed=2,
        hyperparameters=Hyperparameters(epochs=1),
        progress=False,
        suffix="second",
    )
    job.wait(timeout=60, progress=False).raise_for_status()

    # chat: the tuned model answers in the trained format, the base model does not
    tuned = job.chat("What colour is the plum number 12?", max_tokens=64)
    base = job.chat("What colour is the plum number 12?", base=True, max_tokens=64)
    assert json.loads(tuned.text)["item"] == "plum"
    assert not base.text.startswith("{")
    assert tuned.completion_tokens > 0

    # the held-out records were never uploaded: 8 of 40 kept apart, reproducibly
    report = job.evaluate(scorers=["json", "exact"], baseline="base", concurrency=4)
    assert report.samples == 8 and report.source == "holdout"
    assert report.tuned.score_of("json") == 1.0 and report.baseline is not None
    assert report.baseline.score_of("json") == 0.0
    lo, hi = report.tuned.ci95
    assert lo > 0.6 and hi == 1.0  # Wilson's interval for 8/8
    assert report.tuned.tokens > 0 and report.baseline.tokens > 0

    # one command, both jobs side by side with their cost columns (--json per DESIGN §3)
    job2.wait(timeout=60, progress=False).raise_for_status()
    out = _cli("evaluate", job.id, job2.id, "--scorer", "json", "--json")
    assert out.exit_code == 0, out.output
    validate_output("evaluate", json.loads(out.stdout))  # the published schema (anytune.schemas)
    rows = json.loads(out.stdout)["jobs"]
    assert [r["job"] for r in rows] == [job.id, job2.id]
    for row in rows:
        assert set(row) >= {
            "job",
            "provider",
            "model",
            "scorer",
            "samples",
            "tuned",
            "baseline",
            "tuning_cost_usd",
            "eval_cost_usd",
            "seconds",
        }
        assert row["tuned"]["score"] > row["baseline"]["score"]
        assert row["baseline"]["model"] == MODELS[cloud]
    table = _cli("evaluate", job.id, job2.id, "--scorer", "json", "--plot", str(tmp_path / "eval.png"))
    assert table.exit_code == 0, table.output
    assert job.id in table.stdout and job2.id in table.stdout
    assert "tuning cost" in table.stdout and "eval cost" in table.stdout
    assert (tmp_path / "eval.png").read_bytes()[:4] == b"\x89PNG"

    chat = _cli("chat", job.id, "What colour is the plum number 12?", "--json")
    assert chat.exit_code == 0, chat.output
    doc = json.loads(chat.stdout)
    validate_output("chat", doc)
    assert doc["job"] == job.id and json.loads(doc["text"])["item"] == "plum"


def test_openai_evaluation_is_priced_before_it_runs(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_emulator("openai", job_seconds=0.3) as emu:
        for key, value in emu.env.items():
            monkeypatch.setenv(key, value)
        job = Job.create(
            provider="openai",
            model=MODELS["openai"],
            training_file=write_json_task(tmp_path / "t.jsonl"),
            holdout=0.2,
            progress=False,
        )
        job.wait(timeout=30, progress=False)
        with pytest.raises(BudgetExceededError):
            job.evaluate(max_cost_usd=1e-7)
        assert emu.requests.get("chat", 0) == 0  # refused before any chat request was sent
        report = job.evaluate(max_cost_usd=1.0, max_tokens=64)
        assert report.estimate_usd is not None and 0 < report.eval_cost_usd <= report.estimate_usd  # type: ignore[operator]
        # the async twin: the same run on AsyncOpenAI, concurrently
        import asyncio

        from anytune import AsyncJob

        async def twin() -> Any:
            ajob = await AsyncJob.get(job.id)
            try:
                return await ajob.evaluate(max_cost_usd=1.0, max_tokens=64, concurrency=3)
            finally:
                await ajob.aclose()

        again = asyncio.run(twin())
        assert (
            (again.tuned.score, again.baseline.score)
            == (report.tuned.score, report.baseline.score)
            == (1.0, 0.0)
        )
        assert again.eval_cost_usd == report.eval_cost_usd


def test_held_out_records_are_never_uploaded(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_emulator("openai", job_seconds=30) as emu:
        for key, value in emu.env.items():
            monkeypatch.setenv(key, value)
        data = write_json_task(tmp_path / "train.jsonl")
        job = Job.create(
            provider="openai", model=MODELS["openai"], training_file=data, holdout=0.2, seed=3, progress=False
        )
        uploaded = b"".join(emu.state.contents.values()).decode()
    from anytune._holdout import find_holdout

    held = find_holdout(job.id, "openai")
    assert held is not None
    held_lines = held.read_text().splitlines()
    assert len(held_lines) == 8
    for line in held_lines:
        question = json.loads(line)["messages"][1]["content"]
        assert question not in uploaded  # never uploaded, so never trained on
    assert uploaded.count("\n") == 32
    # the estimate priced only what is trained
    assert job.estimate is not None and job.estimate.records == 32  # type: ignore[attr-defined]


def test_evaluation_retries_rate_limits_and_a_tuned_judge_grades(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anytune._emulator_chat import BASE_REPLY
    from anytune._scorers import JUDGE_PROMPT

    with running_emulator("openai", job_seconds=0.3, retry_after=0.01) as emu:
        for key, value in emu.env.items():
            monkeypatch.setenv(key, value)
        job = Job.create(
            provider="openai",
            model=MODELS["openai"],
            training_file=write_json_task(tmp_path / "train.jsonl"),
            holdout=0.2,
            progress=False,
        )
        # A judge fine-tuned to grade: JSON answers correct, the generic reply incorrect.
        judge_data = tmp_path / "judge.jsonl"
        with judge_data.open("w") as fh:
            for i, item in enumerate(ITEMS):
                for answer, grade in (
                    (json.dumps({"item": item, "colour": "red", "n": i}), "C"),
                    (BASE_REPLY, "I"),
                ):
                    prompt = JUDGE_PROMPT.format(
                        question=f"What colour is the {item}?", reference=answer, answer=answer
                    )
                    fh.write(
                        json.dumps(
                            {
                                "messages": [
                                    {"role": "user", "content": prompt},
                                    {"role": "assistant", "content": f"GRADE: {grade}"},
                                ]
                            }
                        )
                        + "\n"
                    )
        judge = Job.create(
            provider="openai", model=MODELS["openai"], training_file=judge_data, progress=False
        )
        job.wait(timeout=30, progress=False)
        judge.wait(timeout=30, progress=False)
        assert judge.result is not None
        emu.add_fault("chat:429:4")  # more than the SDK's own two retries absorb
        report = job.evaluate(scorers=["json", f"judge:openai:{judge.result.model}"], max_tokens=64)
    assert report.tuned.errors == [] and report.baseline is not None and report.baseline.errors == []
    assert report.tuned.score_of(f"judge:openai:{judge.result.model}") == 1.0
    assert report.baseline.score_of(f"judge:openai:{judge.result.model}") == 0.0
    assert emu.requests["chat"] == 8 * 2 * 2 + 4  # answers and verdicts, and the refused ones
    assert report.judge_cost_usd is not None and report.judge_cost_usd > 0
    assert report.eval_cost_usd == pytest.approx(
        report.tuned.cost_usd + report.baseline.cost_usd + report.judge_cost_usd,  # type: ignore[operator]
        abs=1e-6,
    )
