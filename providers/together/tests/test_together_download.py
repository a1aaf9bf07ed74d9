"""``job.download(DIR)`` through the official SDK against the emulator's
``/v1/finetune/download``: the .tar.zst archive is fetched and unpacked into the folder."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest
from anytune_together._download import build_archive, extract_archive
from anytune_together.emulator import TogetherEmulator
from together_helpers import MODEL

from anytune import AsyncJob, ConfigurationError, Job, JobStatus, UnsupportedError
from anytune.testing import write_chat_examples


def _finished_job(tmp_path: Path, emulator: TogetherEmulator, **options: object) -> Job:
    emulator.state.job_seconds = 0.2
    data = write_chat_examples(tmp_path / "t.jsonl")
    job = Job.create(provider="together", model=MODEL, training_file=data, progress=False, **options)
    time.sleep(0.4)
    return job.wait(timeout=10, progress=False)


def test_download_unpacks_the_lora_adapter(env: TogetherEmulator, tmp_path: Path) -> None:
    job = _finished_job(tmp_path, env)
    assert job.status is JobStatus.SUCCEEDED
    out = job.download(tmp_path / "weights")
    assert out == tmp_path / "weights"
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["base_model_name_or_path"] == MODEL
    # a valid safetensors file: 8-byte little-endian header length, then the JSON header
    blob = (out / "adapter_model.safetensors").read_bytes()
    assert json.loads(blob[8: 8 + int.from_bytes(blob[:8], "little")])["__metadata__"]["emulator"]
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]


def test_async_download_and_a_full_job_gets_its_whole_model(env: TogetherEmulator, tmp_path: Path) -> None:
    import asyncio

    job = _finished_job(tmp_path, env, full=True)

    async def fetch() -> Path:
        ajob = await AsyncJob.get(job.id)
        return await ajob.download(tmp_path / "full")

    out = asyncio.run(fetch())
    assert (out / "config.json").exists() and (out / "model.safetensors").exists()
    # a full fine-tune has no adapter to ask for: refused before any request
    with pytest.raises(UnsupportedError, match="full fine-tune"):
        job._provider.download(job._snapshot.id, tmp_path / "x", checkpoint="adapter")


def test_download_refuses_a_folder_that_is_not_empty(env: TogetherEmulator, tmp_path: Path) -> None:
    job = _finished_job(tmp_path, env)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigurationError, match="not an empty folder"):
        job.download(tmp_path / "busy")
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


def test_extract_refuses_paths_that_escape_the_folder(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    archive = tmp_path / "a.tar"
    archive.write_bytes(buf.getvalue())
    (tmp_path / "out").mkdir()
    with pytest.raises(tarfile.FilterError):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_gzip_archives_unpack_too(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(build_archive({"config.json": b"{}"}, zstd=False))
    assert extract_archive(archive, tmp_path / "out") == ["config.json"]
