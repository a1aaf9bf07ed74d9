"""Both upload paths (Files API, Uploads API in parts), progress, and no file stored
twice when an answer is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from anytune_openai import OpenAIProvider
from anytune_openai._upload import Uploader
from anytune_openai.emulator import OpenAIEmulator
from openai_helpers import TEST_KEY, write_chat

from anytune.errors import ProviderConnectionError, RateLimitError, ServerError
from anytune.provider import Backoff


def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Uploader, "backoff", Backoff(initial=0.01, cap=0.05))


def _stored(emulator: OpenAIEmulator, file_id: str) -> bytes:
    return emulator.state.contents[file_id]


def test_small_file_goes_through_the_files_api(
    provider: OpenAIProvider, emulator: OpenAIEmulator, chat_file: Path
) -> None:
    seen: list[tuple[int, int]] = []
    provider.upload_progress = lambda done, total: seen.append((done, total))
    file_id = provider.upload(chat_file, purpose="train")
    assert _stored(emulator, file_id) == chat_file.read_bytes()
    meta = emulator.state.file(file_id)
    assert meta["purpose"] == "fine-tune" and meta["filename"].startswith("train-")
    assert emulator.counts == {"jobs_created": 0, "files_created": 1, "uploads_created": 0}
    size = chat_file.stat().st_size
    assert seen == [(size, size)]


def test_big_file_goes_through_the_uploads_api_in_parts(
    provider: OpenAIProvider, emulator: OpenAIEmulator, tmp_path: Path
) -> None:
    data = write_chat(tmp_path / "big.jsonl", 40)
    size = data.stat().st_size
    provider.upload_threshold_bytes = 1000  # lowered so a test file counts as "above 512 MB"
    provider.upload_part_bytes = 1024  # and "64 MB parts"
    seen: list[tuple[int, int]] = []
    provider.upload_progress = lambda done, total: seen.append((done, total))
    file_id = provider.upload(data, purpose="train")
    assert _stored(emulator, file_id) == data.read_bytes()
    assert emulator.counts["uploads_created"] == 1 and emulator.counts["files_created"] == 1
    parts = -(-size // 1024)
    assert emulator.requests["upload"] == 1 + parts + 1  # create, parts, complete
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and seen[-1] == (size, size) and len(seen) >= parts


def test_the_default_thresholds_are_openais() -> None:
    assert OpenAIProvider.upload_threshold_bytes == 512 * 1024 * 1024
    assert OpenAIProvider.upload_part_bytes == 64 * 1024 * 1024


@pytest.mark.parametrize("kind", ["drop", "500", "503"])
def test_a_lost_answer_never_stores_the_file_twice(
    provider: OpenAIProvider,
    emulator: OpenAIEmulator,
    chat_file: Path,
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fast(monkeypatch)
    emulator.faults.add(f"upload:{kind}")
    file_id = provider.upload(chat_file, purpose="train")
    assert emulator.counts["files_created"] == 1
    assert _stored(emulator, file_id) == chat_file.read_bytes()


@pytest.mark.emulator(slow_seconds=1.5)
def test_a_slow_answer_is_recovered_not_resent(
    provider: OpenAIProvider, emulator: OpenAIEmulator, chat_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast(monkeypatch)
    provider.config["timeout"] = 0.5
    emulator.faults.add("upload:slow")
    file_id = provider.upload(chat_file, purpose="train")
    assert emulator.counts["files_created"] == 1 and file_id in emulator.state.files


def test_rate_limited_upload_is_retried(
    provider: OpenAIProvider, emulator: OpenAIEmulator, chat_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast(monkeypatch)
    emulator.faults.add("upload:429:2")
    provider.upload(chat_file, purpose="train")
    assert emulator.counts["files_created"] == 1 and emulator.requests["upload"] == 3


def test_persistent_failure_ends_in_a_typed_error(
    provider: OpenAIProvider, emulator: OpenAIEmulator, chat_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast(monkeypatch)
    emulator.faults.add("upload:500:10")
    with pytest.raises(ServerError):
        provider.upload(chat_file, purpose="train")
    assert emulator.counts["files_created"] == 0
    emulator.faults.clear()
    emulator.faults.add("upload:429:10")
    with pytest.raises(RateLimitError):
        provider.upload(chat_file, purpose="train")


def test_when_the_lookup_fails_too_the_upload_is_not_resent(
    provider: OpenAIProvider, emulator: OpenAIEmulator, chat_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast(monkeypatch)
    provider.config["max_retries"] = 0
    emulator.faults.add("upload:drop,list:500")
    with pytest.raises(ProviderConnectionError):
        provider.upload(chat_file, purpose="train")
    assert emulator.counts["files_created"] == 1  # stored once, never twice


def test_dropped_complete_of_a_multipart_upload_is_recovered(
    provider: OpenAIProvider, emulator: OpenAIEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast(monkeypatch)
    data = write_chat(tmp_path / "big.jsonl", 30)
    provider.upload_threshold_bytes, provider.upload_part_bytes = 100, 1500
    parts = -(-data.stat().st_size // 1500)
    # Upload requests are 1 "create upload", then the parts, then the complete: drop
    # only the complete's answer (the plan's COUNT cannot single out the last request).
    from anytune.emulator import Fault

    seen = {"upload": 0}
    original = emulator.faults.take

    def take(operation: str) -> Fault | None:
        if operation == "upload":
            seen["upload"] += 1
            if seen["upload"] == parts + 2:
                return Fault("upload", "drop", 0)
        return original(operation)

    monkeypatch.setattr(emulator.faults, "take", take)
    file_id = provider.upload(data, purpose="train")
    assert emulator.counts["files_created"] == 1
    assert _stored(emulator, file_id) == data.read_bytes()


def test_upload_reads_credentials_lazily(
    monkeypatch: pytest.MonkeyPatch, emulator: OpenAIEmulator, chat_file: Path
) -> None:
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    provider = OpenAIProvider()  # nothing given: OPENAI_API_KEY and OPENAI_BASE_URL are read now
    assert provider.upload(chat_file, purpose="train").startswith("file-")
    assert provider.scope() == emulator.env["OPENAI_BASE_URL"]
    assert TEST_KEY not in provider.scope()


def test_the_threshold_itself_still_uses_the_files_api(
    provider: OpenAIProvider, emulator: OpenAIEmulator, chat_file: Path
) -> None:
    size = chat_file.stat().st_size
    provider.upload_threshold_bytes = size  # "512 MB" exactly: one request
    provider.upload(chat_file, purpose="train")
    assert emulator.counts["uploads_created"] == 0
    provider.upload_threshold_bytes = size - 1  # one byte more than the limit: parts
    provider.upload(chat_file, purpose="validation")
    assert emulator.counts["uploads_created"] == 1
