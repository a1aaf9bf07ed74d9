"""``create`` never makes two jobs: the SDK's retries are off for it, every fault ends
in a typed error, and a job whose answer was lost is found by its idempotency key."""

from __future__ import annotations

from pathlib import Path

import pytest
from anytune_openai import OpenAIProvider
from anytune_openai.emulator import OpenAIEmulator
from openai_helpers import MODEL

from anytune.emulator import parse_faults
from anytune.errors import (
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from anytune.provider import CreateRequest


@pytest.mark.parametrize(
    ("kind", "error", "created"),
    [
        ("drop", ProviderConnectionError, 1),
        ("slow", ProviderTimeoutError, 1),
        ("500", ServerError, 0),
        ("503", ServerError, 0),
        ("429", RateLimitError, 0),
    ],
)
@pytest.mark.emulator(slow_seconds=2.0)
def test_create_fault_gives_a_typed_error_and_at_most_one_job(
    emulator: OpenAIEmulator, chat_file: Path, kind: str, error: type[Exception], created: int
) -> None:
    # Default SDK retries (2) on the client: create must still send exactly one request.
    p = OpenAIProvider(
        api_key=emulator.env["OPENAI_API_KEY"], base_url=emulator.env["OPENAI_BASE_URL"], timeout=1.0
    )
    file_id = p.upload(chat_file, purpose="train")
    emulator.faults.add(f"create:{kind}")
    with pytest.raises(error):
        p.create(CreateRequest(model=MODEL, training_file=file_id, idempotency_key=f"fault-{kind}"))
    assert emulator.requests["create"] == 1
    assert emulator.counts["jobs_created"] == created
    found = p.find_by_idempotency_key(f"fault-{kind}")
    assert (found is not None) == bool(created)
    if found is not None:
        assert found.metadata["anytune_idempotency_key"] == f"fault-{kind}"


def test_async_create_has_retries_off_too(emulator: OpenAIEmulator, chat_file: Path) -> None:
    import asyncio

    p = OpenAIProvider(api_key=emulator.env["OPENAI_API_KEY"], base_url=emulator.env["OPENAI_BASE_URL"])
    file_id = p.upload(chat_file, purpose="train")
    emulator.faults.add("create:drop")
    with pytest.raises(ProviderConnectionError):
        asyncio.run(p.acreate(CreateRequest(model=MODEL, training_file=file_id)))
    assert emulator.counts["jobs_created"] == 1 and emulator.requests["create"] == 1


@pytest.mark.parametrize("operation", ["get", "list", "events", "cancel"])
@pytest.mark.parametrize("kind", ["429", "500", "503", "drop"])
def test_reads_and_cancel_survive_one_fault(
    provider: OpenAIProvider, emulator: OpenAIEmulator, chat_file: Path, operation: str, kind: str
) -> None:
    file_id = provider.upload(chat_file, purpose="train")
    job = provider.create(CreateRequest(model=MODEL, training_file=file_id))
    emulator.faults.add(f"{operation}:{kind}")
    if operation == "get":
        assert provider.get(job.id).id == job.id
    elif operation == "list":
        assert [s.id for s in provider.list()] == [job.id]
    elif operation == "events":
        assert provider.events(job.id)
    else:
        assert provider.cancel(job.id).status.value == "cancelled"
    assert emulator.faults.pending() == 0


def test_fault_spec_parsing() -> None:
    faults = parse_faults("upload:429, create:drop:2 ,get:slow,list:503:3,events:409")
    assert [(f.operation, f.kind, f.remaining) for f in faults] == [
        ("upload", "429", 1),
        ("create", "drop", 2),
        ("get", "slow", 1),
        ("list", "503", 3),
        ("events", "409", 1),
    ]
    assert faults[0].status == 429 and faults[1].status is None
    for bad in ("upload", "teleport:500", "get:explode", "get:500:0", "get:200", "a:b:c:d"):
        with pytest.raises(ValueError):
            parse_faults(bad)


def test_fault_counts_are_consumed_in_order(emulator: OpenAIEmulator) -> None:
    emulator.faults.add("get:500:2,*:503")
    taken = [emulator.faults.take("get") for _ in range(3)]
    assert [f.kind if f else None for f in taken] == ["500", "500", "503"]
    assert emulator.faults.take("get") is None


def test_a_taken_port_is_a_configuration_error(emulator: OpenAIEmulator) -> None:
    from anytune.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=str(emulator.port)):
        OpenAIEmulator(port=emulator.port).start()


def test_a_bad_fault_spec_is_a_configuration_error() -> None:
    from anytune.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="teleport"):
        OpenAIProvider.emulator(faults="teleport:500")


def test_emulator_options_reach_the_emulator() -> None:
    emu = OpenAIProvider.emulator(job_seconds=3, slow_seconds=0.2, retry_after=2)
    assert (emu.slow_seconds, emu.faults.pending(), emu.retry_after) == (0.2, 0, 2)
    assert emu.state.job_seconds == 3

    from anytune.provider import Emulator

    assert isinstance(emu, Emulator)  # the SPI's protocol: env, start(), stop()
