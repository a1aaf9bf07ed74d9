"""The progress line of ``wait``: drawn on a terminal, silent otherwise."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from anytune import Job
from anytune._progress import ProgressDisplay
from anytune._types import JobSnapshot, JobStatus
from anytune.testing import write_chat_examples


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def snap(status: JobStatus, **kw: object) -> JobSnapshot:
    return JobSnapshot(id="ft-1", status=status, model="m", **kw)  # type: ignore[arg-type]


def test_terminal_shows_status_progress_and_latest_message(monkeypatch: pytest.MonkeyPatch) -> None:
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    display = ProgressDisplay("fake:ft-1")
    display.update(snap(JobStatus.RUNNING, progress=0.42, message="Step 42/100: loss 0.9"))
    display.update(snap(JobStatus.SUCCEEDED, progress=1.0))
    display.close()
    out = term.getvalue()
    assert "fake:ft-1" in out and "running" in out and "42%" in out and "Step 42/100" in out
    assert "succeeded" in out


def test_pipes_and_logs_stay_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stdout", pipe)
    display = ProgressDisplay("fake:ft-1")
    display.update(snap(JobStatus.RUNNING))
    display.close()
    assert pipe.getvalue() == ""


def test_progress_false_is_silent_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    display = ProgressDisplay("fake:ft-1", enabled=False)
    display.update(snap(JobStatus.RUNNING))
    display.close()
    assert term.getvalue() == ""


@pytest.mark.parametrize("progress", [True, False])
def test_create_draws_the_upload_bar_on_a_terminal(
    progress: bool, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_chat_examples(isolated / "train.jsonl", 12)
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    job = Job.create(provider="fake", model="fake-small", training_file=data, progress=progress)
    out = term.getvalue()
    assert ("uploading train data" in out) is progress
    if progress:  # the bar reached the whole (converted) file
        size = int(out.split("train data (", 1)[1].split(" bytes", 1)[0].replace(",", ""))
        assert f"{size / 1000:.1f}/{size / 1000:.1f} kB" in out
    assert job._provider.upload_progress is None  # not left behind for a later upload
