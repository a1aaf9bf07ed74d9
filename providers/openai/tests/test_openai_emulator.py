"""The emulator validates requests as OpenAI does, with OpenAI's error shape; driven
through the raw official SDK so that nothing on the provider side checks first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest
from anytune_openai.emulator import OpenAIEmulator
from openai_helpers import MODEL, TEST_KEY, write_chat


@pytest.fixture
def client(emulator: OpenAIEmulator) -> Any:
    return openai.OpenAI(api_key=TEST_KEY, base_url=emulator.env["OPENAI_BASE_URL"], max_retries=0)


@pytest.fixture
def file_id(client: Any, chat_file: Path) -> str:
    with chat_file.open("rb") as fh:
        return str(client.files.create(file=fh, purpose="fine-tune").id)


def _sft(**hp: Any) -> dict[str, Any]:
    return {"type": "supervised", "supervised": {"hyperparameters": hp}}


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"model": "gpt-2"}, "model"),
        ({"model": "gpt-3.5-turbo-0125"}, "model"),  # retired: no longer tunable
        ({"training_file": "file-nope"}, "training_file"),
        ({"validation_file": "file-nope"}, "validation_file"),
        ({"method": _sft(n_epochs=0)}, "method.supervised.hyperparameters.n_epochs"),
        ({"method": _sft(n_epochs=51)}, "method.supervised.hyperparameters.n_epochs"),
        ({"method": _sft(batch_size="8")}, "method.supervised.hyperparameters.batch_size"),
        (
            {"method": _sft(learning_rate_multiplier=0)},
            "method.supervised.hyperparameters.learning_rate_multiplier",
        ),
        ({"method": _sft(beta=0.1)}, "method.supervised.hyperparameters.beta"),
        (
            {"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 2.5}}}},
            "method.dpo.hyperparameters.beta",
        ),
        ({"method": {"type": "reinforcement"}}, "method.type"),
        ({"suffix": "x" * 65}, "suffix"),
        ({"seed": -1}, "seed"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ],
)
def test_bad_create_requests_get_openais_400(
    client: Any, file_id: str, emulator: OpenAIEmulator, kwargs: dict[str, Any], param: str
) -> None:
    body = {"model": MODEL, "training_file": file_id, **kwargs}
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(**body)
    err = info.value
    assert err.param == param
    assert err.type == "invalid_request_error" and err.message
    assert emulator.counts["jobs_created"] == 0


def test_a_results_file_is_not_a_training_file(client: Any, file_id: str) -> None:
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=file_id)
    import time

    time.sleep(1.1)
    result = client.fine_tuning.jobs.retrieve(job.id).result_files[0]
    assert client.files.retrieve(result).purpose == "fine-tune-results"
    text = client.files.content(result).read()
    import base64

    assert base64.b64decode(text).startswith(b"step,train_loss,")
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(model=MODEL, training_file=result)
    assert info.value.param == "training_file"


def test_missing_or_other_key_is_401(emulator: OpenAIEmulator) -> None:
    for key in ("sk-other", "x"):
        bad = openai.OpenAI(api_key=key, base_url=emulator.env["OPENAI_BASE_URL"], max_retries=0)
        with pytest.raises(openai.AuthenticationError) as info:
            bad.fine_tuning.jobs.list()
        assert info.value.code == "invalid_api_key" and key not in str(info.value)


def test_any_key_is_accepted_without_api_key() -> None:
    with OpenAIEmulator(job_seconds=1) as emu:
        assert emu.env["OPENAI_API_KEY"].startswith("sk-")
        c = openai.OpenAI(api_key="sk-whatever", base_url=emu.env["OPENAI_BASE_URL"])
        assert c.fine_tuning.jobs.list().data == []


def test_uploads_check_size_and_checksum(client: Any, tmp_path: Path) -> None:
    data = write_chat(tmp_path / "d.jsonl").read_bytes()
    upload = client.uploads.create(
        bytes=len(data) + 1, filename="d.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=data)
    with pytest.raises(openai.BadRequestError, match="bytes"):
        client.uploads.complete(upload.id, part_ids=[part.id])
    upload = client.uploads.create(
        bytes=len(data), filename="d.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=data)
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.complete(upload.id, part_ids=[part.id], md5="0" * 32)
    assert info.value.param == "md5"
    done = client.uploads.complete(upload.id, part_ids=[part.id])
    assert done.status == "completed" and done.file.bytes == len(data)
    with pytest.raises(openai.BadRequestError):  # completing twice
        client.uploads.complete(upload.id, part_ids=[part.id])
    with pytest.raises(openai.BadRequestError, match="mime_type"):
        client.uploads.create(bytes=1, filename="x", mime_type="image/png", purpose="fine-tune")


def test_files_list_paginates_newest_first(client: Any, tmp_path: Path) -> None:
    ids = []
    for i in range(5):
        with write_chat(tmp_path / f"f{i}.jsonl", tag=str(i)).open("rb") as fh:
            ids.append(client.files.create(file=fh, purpose="fine-tune").id)
    first = client.files.list(purpose="fine-tune", limit=2)
    assert [f.id for f in first.data] == ids[::-1][:2] and first.has_more
    rest = client.files.list(purpose="fine-tune", limit=10, after=first.data[-1].id)
    assert [f.id for f in rest.data] == ids[::-1][2:] and not rest.has_more
    assert [f.id for f in client.files.list(purpose="fine-tune", order="asc").data] == ids
