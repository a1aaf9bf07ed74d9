"""Together's weights download: ``GET /v1/finetune/download`` unpacked into a folder.

Together answers with a compressed tar archive: zstd (``application/octet-stream``, named
``.tar.zst`` by the SDK) or gzip (a ``x-tar`` content type, ``.tar.gz``). Checked
2026-11-29 against the SDK (together 3.1.1, ``lib/resources/files.py`` ``_prepare_output``
and ``lib/cli/api/fine_tuning/download.py``) and the OpenAPI spec (``/finetune/download``:
``ft_id``, ``checkpoint`` = ``merged`` | ``adapter`` | ``model_output_path``,
``checkpoint_step``). LoRA jobs offer ``adapter`` and ``merged``; full fine-tunes only
``model_output_path`` (as the SDK's own CLI chooses).
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

from anytune.errors import ConfigurationError, UnsupportedError

__all__ = ["checkpoint_kind", "download_weights", "extract_archive"]

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def checkpoint_kind(training_type: Any, requested: str | None) -> str:
    """The ``checkpoint`` query value for a job of this training type."""
    full = getattr(training_type, "type", None) == "Full"
    if full:
        if requested not in (None, "model_output_path"):
            raise UnsupportedError(
                "together", f"download checkpoint={requested!r}",
                "a full fine-tune offers only its whole model (model_output_path)",
            )
        return "model_output_path"
    kind = requested or "adapter"
    if kind not in ("adapter", "merged"):
        raise UnsupportedError(
            "together", f"download checkpoint={kind!r}", "a LoRA job offers 'adapter' or 'merged'"
        )
    return kind


def extract_archive(archive: Path, out_dir: Path) -> list[str]:
    """Unpack ``archive`` (tar, compressed by zstd, gzip, bzip2 or xz) into ``out_dir`` with
    tarfile's ``data`` filter (no absolute paths, no ``..``, no links out, no devices);
    return the member names. A zstd archive is decompressed to a file first, streaming,
    so a model of many GB never sits in memory."""
    with archive.open("rb") as fh:
        zstd = fh.read(4) == _ZSTD_MAGIC
    tar_path = archive
    if zstd:
        import zstandard

        tar_path = archive.with_name(archive.name + ".tar")
        with archive.open("rb") as src, tar_path.open("wb") as dst:
            zstandard.ZstdDecompressor().copy_stream(src, dst)
    try:
        with tarfile.open(tar_path, mode="r:*") as tar:
            names = tar.getnames()
            tar.extractall(out_dir, filter="data")
    finally:
        if zstd:
            tar_path.unlink(missing_ok=True)
    return names


def download_weights(client: Any, job_id: str, out_dir: Path, *, checkpoint: str | None = None) -> Path:
    """Stream the job's weights archive to ``out_dir`` and unpack it there."""
    out_dir = out_dir.expanduser()
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ConfigurationError(f"{out_dir} exists and is not an empty folder: choose a new one")
    job = client.fine_tuning.retrieve(job_id)
    kind = checkpoint_kind(job.training_type, checkpoint)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / ".anytune-download.partial"
    try:
        with client.fine_tuning.with_streaming_response.content(ft_id=job_id, checkpoint=kind) as resp:
            resp.stream_to_file(archive)
        extract_archive(archive, out_dir)
    finally:
        archive.unlink(missing_ok=True)
    return out_dir


def build_archive(files: dict[str, bytes], *, zstd: bool = True) -> bytes:
    """A tar archive of ``files``, zstd-compressed (or gzip): what the emulator serves."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w" if zstd else "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    if not zstd:
        return buf.getvalue()
    import zstandard

    return bytes(zstandard.ZstdCompressor().compress(buf.getvalue()))
