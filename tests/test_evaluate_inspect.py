"""inspect-ai runs anytune jobs: ``anytune/<job id>`` models and a task from the job's
held-out records, scored by anytune's scorers, against the OpenAI emulator through the SDK."""

from __future__ import annotations

from pathlib import Path

import pytest

from anytune import Job
from anytune.testing import running_emulator

inspect_ai = pytest.importorskip("inspect_ai")


@pytest.mark.slow
def test_inspect_eval_scores_tuned_and_base_models_on_the_holdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_evaluate_emulators import write_json_task

    from anytune.inspect import holdout_task

    monkeypatch.setenv("ANYTUNE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("INSPECT_LOG_DIR", str(tmp_path / "logs"))
    with running_emulator("openai", job_seconds=0.3) as emu:
        for key, value in emu.env.items():
            monkeypatch.setenv(key, value)
        job = Job.create(
            provider="openai",
            model="gpt-4.1-mini-2025-04-14",
            training_file=write_json_task(tmp_path / "train.jsonl"),
            holdout=0.2,
            progress=False,
        )
        job.wait(timeout=30, progress=False).raise_for_status()
        logs = inspect_ai.eval(
            holdout_task(job.id, scorer="json", max_tokens=64),
            model=[f"anytune/{job.id}", f"anytune/{job.id}@base"],
            log_dir=str(tmp_path / "logs"),
            display="none",
        )
    by_model = {log.eval.model: log for log in logs}
    assert set(by_model) == {f"anytune/{job.id}", f"anytune/{job.id}@base"}
    for log in logs:
        assert log.status == "success", log.error
        assert log.eval.dataset.samples == 8  # the 20 % held out of 40 records
    tuned = by_model[f"anytune/{job.id}"].results.scores[0].metrics["accuracy"].value
    base = by_model[f"anytune/{job.id}@base"].results.scores[0].metrics["accuracy"].value
    assert tuned == 1.0 and base == 0.0
    assert emu.requests["chat"] == 16
    assert any((tmp_path / "logs").iterdir())  # the logs inspect-ai's viewer reads
