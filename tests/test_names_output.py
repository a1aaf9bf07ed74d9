"""Names, ids and output a person can use (issue 16): provider names forgiven their case
and typos, job ids that say what to type, tables that never split an id, vendor and
file text printed literally, and a visible ``wait`` off a terminal."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anytune import Job, UnknownProviderError, estimate
from anytune._cli_render import print_jobs
from anytune._progress import ProgressDisplay
from anytune._types import JobSnapshot, JobStatus
from anytune.cli import app
from anytune.testing import write_chat_examples


@pytest.fixture
def data(isolated: Path) -> Path:
    return write_chat_examples(isolated / "train.jsonl", 12)


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, Any, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        doc = None
    return result.exit_code, doc, result.output


# --- provider names ------------------------------------------------------------------
def test_a_mistyped_provider_gets_did_you_mean_and_no_install_advice(data: Path) -> None:
    code, doc, _ = cli("estimate", str(data), "-p", "faek", "-m", "fake-small", "--json")
    assert code == 2 and doc["error"]["type"] == "UnknownProviderError"
    msg = doc["error"]["message"]
    assert "Did you mean 'fake'?" in msg and "pip install" not in msg
    with pytest.raises(UnknownProviderError) as info:
        estimate(data, provider="nonsense-provider", model="m")
    assert "pip install" not in str(info.value) and info.value.suggestions == []


def test_a_published_provider_that_is_not_installed_gets_install_advice() -> None:
    err = UnknownProviderError("ray", installed=["fake", "openai"], installable=["openai", "ray"])
    assert "pip install anytune-ray" in str(err)


def test_provider_names_are_case_insensitive(data: Path) -> None:
    assert estimate(data, provider="FAKE", model="fake-small").provider == "fake"
    code, doc, _ = cli("create", str(data), "-p", "Fake", "-m", "fake-small", "--json")
    assert code == 0 and doc["id"].startswith("fake:")
    native = doc["id"].split(":", 1)[1]
    assert Job.get(f"FAKE:{native}").id == doc["id"]
    code, doc, _ = cli("list", "--provider", "FaKe", "--json")
    assert code == 0 and len(doc) == 1


# --- job ids -------------------------------------------------------------------------
def test_a_bare_id_says_how_to_qualify_it_and_never_advises_a_missing_option() -> None:
    code, doc, _ = cli("get", "ftjob-abc123", "--json")
    assert code == 2
    msg = doc["error"]["message"]
    assert "--provider" not in msg and "PROVIDER:ID" in msg
    pytest.importorskip("anytune_openai")
    assert "Did you mean 'openai:ftjob-abc123'?" in msg


# --- tables --------------------------------------------------------------------------
LONG_ID = "vertex:projects/my-project-123456/locations/us-central1/tuningJobs/1234567890123456789"


def _jobs_doc(n: int = 3) -> list[dict[str, Any]]:
    return [{"id": LONG_ID[:-1] + str(i), "status": "running",
             "model": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
             "created_at": "2026-11-29T20:00:00+00:00",
             "result": {"model": f"org/Meta-Llama-3.1-8B-Instruct-Reference-ft-{i}"}} for i in range(n)]


def test_job_tables_never_split_ids_in_80_columns(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    docs = _jobs_doc()
    print_jobs(docs)
    lines = capsys.readouterr().out.splitlines()
    for d in docs:
        assert any(d["id"] in line for line in lines), lines  # each id whole on one line
        assert any(d["model"] in line for line in lines)
        assert any(d["result"]["model"] in line for line in lines)
    assert all(len(line) <= 80 or any(d["id"] in line for d in docs) for line in lines)
    # A wide terminal keeps the table.
    monkeypatch.setenv("COLUMNS", "250")
    print_jobs(docs)
    out = capsys.readouterr().out
    assert "┃ id" in out or "id " in out.splitlines()[1]


def test_models_table_keeps_every_model_name_whole_in_80_columns() -> None:
    code, doc, _ = cli("models", "--json")
    assert code == 0
    code, _, out = cli("models", env={"COLUMNS": "80"})
    assert code == 0
    lines = out.splitlines()
    for m in doc:
        assert any(m["model"] in line for line in lines), m["model"]


# --- literal text --------------------------------------------------------------------
def test_markup_in_file_text_and_errors_is_printed_literally(isolated: Path) -> None:
    (isolated / "odd[").mkdir()
    bad = isolated / "odd[" / "x].jsonl"  # the path reads "odd[/x].jsonl": a closing tag
    bad.write_text(json.dumps({"messages": [{"role": "[/x]", "content": "[bold]hi[/bold]"},
                                            {"role": "assistant", "content": "ok"}]}) + "\n")
    code, _, out = cli("validate", str(bad))
    assert code == 1 and "odd[/x].jsonl" in out and "[bold]" not in out
    code, _, out = cli("estimate", str(isolated / "odd[" / "x]-missing.jsonl"), "-p", "fake", "-m",
                       "fake-small")
    assert code == 1 and "odd[/x]-missing.jsonl" in out


# --- wait, off a terminal ------------------------------------------------------------
class Clock:
    t = 0.0

    def now(self) -> float:
        return self.t


def snap(status: JobStatus, **kw: Any) -> JobSnapshot:
    return JobSnapshot(id="ft-1", status=status, model="m", **kw)


def test_wait_off_a_terminal_prints_a_line_on_each_change_and_each_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    clock = Clock()
    display = ProgressDisplay("fake:ft-1", now=clock.now)
    display.update(snap(JobStatus.QUEUED))
    clock.t = 10
    display.update(snap(JobStatus.QUEUED))  # no change, under a minute: quiet
    clock.t = 20
    display.update(snap(JobStatus.RUNNING, progress=0.1, message="[/x] step 1"))
    clock.t = 79
    display.update(snap(JobStatus.RUNNING, progress=0.1, message="[/x] step 1"))
    clock.t = 81
    display.update(snap(JobStatus.RUNNING, progress=0.1, message="[/x] step 1"))  # a minute on
    clock.t = 90
    display.update(snap(JobStatus.SUCCEEDED, progress=1.0))
    display.close()
    lines = err.getvalue().splitlines()
    assert out.getvalue() == ""  # stdout stays clean for results
    assert lines == [
        "fake:ft-1 · queued · 0m00s",
        "fake:ft-1 · running · 0m20s · 10% · [/x] step 1",
        "fake:ft-1 · running · 1m21s · 10% · [/x] step 1",
        "fake:ft-1 · succeeded · 1m30s · 100%",
    ]
    quiet = ProgressDisplay("fake:ft-1", enabled=False, now=clock.now)
    quiet.update(snap(JobStatus.RUNNING))
    assert len(err.getvalue().splitlines()) == 4


@pytest.mark.slow
def test_ctrl_c_in_python_prints_the_same_resume_hint_as_the_cli(data: Path, isolated: Path) -> None:
    Path("anytune.toml").write_text(
        'default_profile = "dev"\n[profiles.dev]\nprovider = "fake"\njob_seconds = 3600\n')
    job = Job.create(model="fake-small", training_file=data, progress=False)
    hint = f"resume with: anytune wait {job.id}"
    script = f"from anytune import Job\nJob.get({job.id!r}).wait()\n"
    ascript = (f"import asyncio\nfrom anytune import AsyncJob\n"
               f"async def main():\n    await (await AsyncJob.get({job.id!r})).wait()\n"
               "asyncio.run(main())\n")
    runs = {"python": [sys.executable, "-c", script], "async": [sys.executable, "-c", ascript],
            "cli": [sys.executable, "-m", "anytune", "wait", job.id]}
    for name, argv in runs.items():
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ), cwd=isolated)
        assert proc.stderr is not None
        # Off a terminal, wait prints a status line once it polled: it is waiting now
        # (a fixed sleep would hit a slow start-up on a loaded machine instead).
        first = proc.stderr.readline()
        assert first.startswith(job.id), (name, first)
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
        err = first + rest
        assert hint in err, (name, err)
        assert err.count(hint) == 1, (name, err)
