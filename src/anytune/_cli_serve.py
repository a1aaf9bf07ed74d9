"""``anytune export`` and ``anytune serve``: the tuned weights on disk, and behind vLLM."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer

from anytune._cli_render import console
from anytune._errors import ConfigurationError
from anytune.cli import JsonOpt, _emit, _run, app


@app.command("export")
def export_cmd(
    job_id: str,
    merged: Annotated[Path | None, typer.Option(
        "--merged", help="Write the adapter merged into the base model (safetensors + tokenizer).",
    )] = None,
    adapter: Annotated[Path | None, typer.Option(
        "--adapter", help="Download the tuned weights the provider offers into this folder.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a job's tuned model to disk: merged into its base, or as the provider's download."""
    from anytune import Job

    def body() -> tuple[Any, int]:
        if (merged is None) == (adapter is None):
            raise ConfigurationError("export needs exactly one of --merged DIR or --adapter DIR")
        job = Job.get(job_id)
        if merged is not None:
            return {"job": job_id, "merged": str(job.export_merged(merged))}, 0
        assert adapter is not None
        return {"job": job_id, "adapter": str(job.download(adapter))}, 0

    _run(as_json, body, lambda doc: console().print(
        f"wrote {doc.get('merged') or doc.get('adapter')}", highlight=False))


@app.command()
def serve(
    job_id: str,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1: this machine only).")] = "127.0.0.1",
    as_json: JsonOpt = False,
) -> None:
    """Serve the job's adapter with vLLM's OpenAI-compatible server until Ctrl-C."""
    from anytune import Job
    from anytune._serve import INSTALL_HINT, find_vllm

    def body() -> tuple[Any, int]:
        exe = find_vllm()
        if exe is None:  # before anything else: nothing to do without it
            raise ConfigurationError(INSTALL_HINT)
        cmd = Job.get(job_id).serve_command(host=host, port=port)
        argv = [exe, *cmd.argv[1:]]
        if as_json:
            _emit({"job": job_id, **cmd.to_dict(), "argv": argv})
        else:
            console().print(
                f"serving {job_id} at {cmd.base_url} as model {cmd.model!r} (Ctrl-C stops)",
                highlight=False,
            )
        proc = subprocess.Popen(argv)
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to vLLM too (same process group): let it shut down.
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            return None, 0
        return None, 0 if code == 0 else 3

    _run(as_json, body, lambda doc: None)
