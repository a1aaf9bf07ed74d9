"""A canary API key, at debug log level, through success and failure paths: it appears
nowhere in output, logs, reprs, errors or files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from anytune import AuthenticationError, Job
from anytune._log import RedactingFilter, redact
from anytune.testing import CanaryCLI, write_chat_examples

CANARY = "sk-canary-7f3a9c2e41d84b6fa0c1"


def test_canary_key_never_leaks_through_the_cli(isolated: Path) -> None:
    cli = CanaryCLI(isolated, {}, credential_env="FAKE_API_KEY")
    data = write_chat_examples(isolated / "t.jsonl")
    created = cli.run("create", str(data), "-p", "fake", "-m", "fake-small", "--json", credential=CANARY)
    job = json.loads(created.stdout)
    for cmd in (["get", job["id"]], ["wait", job["id"]], ["events", job["id"]], ["list"],
                ["get", "fake:ft-missing"], ["create", str(data), "-p", "fake", "-m", "fake-fail", "--wait"],
                ["create", str(data), "-p", "fake", "-m", "fake-small", "--max-cost", "0.000001"]):
        cli.run(*cmd, credential=CANARY)
        cli.run(*cmd, "--json", credential=CANARY)
    assert "DEBUG anytune: call fake.create" in cli.text  # debug logging was really on
    cli.assert_nowhere(CANARY)


def test_the_canary_harness_catches_a_leak_in_output_or_files(isolated: Path) -> None:
    cli = CanaryCLI(isolated, {}, credential_env="FAKE_API_KEY")
    assert cli.run("models", "--provider", "fake", "--json", credential=CANARY).returncode == 0
    cli.assert_nowhere(CANARY)
    cli.outputs.append(f"Authorization: {CANARY}")
    with pytest.raises(AssertionError, match="output"):
        cli.assert_nowhere(CANARY)
    (isolated / "leak.txt").write_text("sk-other-9f8e7d6c5b4a")
    with pytest.raises(AssertionError, match=r"leak\.txt"):
        cli.assert_nowhere("sk-other-9f8e7d6c5b4a")


def test_provider_error_messages_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_API_KEY", CANARY)
    err = AuthenticationError(f"Incorrect API key provided: {CANARY}", provider="x", status_code=401)
    assert CANARY not in str(err) and CANARY not in repr(err)
    partial = AuthenticationError("Incorrect API key provided: sk-proj-abcdefgh1234****wxyz",
                                  provider="x", status_code=401)
    assert "abcdefgh1234" not in str(partial)


def test_reprs_hold_no_settings(isolated: Path) -> None:
    job = Job.create(provider="fake", model="fake-small", api_key=CANARY,
                     training_file=write_chat_examples(isolated / "t.jsonl"))
    assert CANARY not in repr(job) and CANARY not in repr(job._provider)
    assert CANARY not in str(job.to_dict())


@pytest.mark.parametrize("text", [
    f"Authorization: Bearer {CANARY}",
    f"headers={{'Authorization': 'Bearer {CANARY}'}}",
    f"GET https://x.invalid/v1/models?key={CANARY}&a=1",
    f"{{'api-key': '{CANARY}'}}",
    f"x-goog-api-key: {CANARY}",
])
def test_redaction_covers_headers_and_urls(text: str) -> None:
    assert CANARY not in redact(text)


@pytest.mark.parametrize(
    "key", ["sk-proj-Abc123XYZ987", "sk-abc***wxyz", "sess-0123456789ab", "tgp_v1_Q2xE9vT0"]
)
def test_vendor_key_shapes_are_redacted_even_when_not_configured(key: str) -> None:
    # A key in a vendor's error message that this process never set (e.g. a masked one
    # echoed back by OpenAI, or a Together key from another machine's log line).
    assert key[6:] not in redact(f"Incorrect API key provided: {key}. See the docs.")


def test_redacting_filter_rewrites_log_records() -> None:
    record = logging.LogRecord("httpx", logging.DEBUG, __file__, 1,
                               "Request headers: %s", ({"authorization": f"Bearer {CANARY}"},), None)
    RedactingFilter().filter(record)
    assert CANARY not in record.getMessage()


def test_a_known_secret_is_scrubbed_from_any_loggers_record_by_anytunes_handler() -> None:
    # A vendor SDK's own logger (not anytune's, not an HTTP library's) logging a request
    # body with a secret of no recognisable shape: the handler's filter scrubs it.
    import io

    from anytune._log import remember_secret

    secret = "plain-canary-1b2c3d4e5f60"
    remember_secret(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    vendor = logging.getLogger("some_vendor_sdk._base_client")
    vendor.addHandler(handler)
    vendor.setLevel(logging.DEBUG)
    try:
        vendor.debug("Request options: %s", {"json_data": {"webhook_secret": secret}})
    finally:
        vendor.removeHandler(handler)
    assert "Request options" in stream.getvalue() and secret not in stream.getvalue()


def test_create_remembers_the_values_a_provider_names_secret(isolated: Path) -> None:
    secret = "plain-canary-9a8b7c6d5e4f"
    assert secret in redact(f"echo {secret}")
    Job.create(provider="fake", model="fake-small", api_key=secret,
               training_file=write_chat_examples(isolated / "t.jsonl"))
    assert secret not in redact(f"echo {secret}")


@pytest.mark.parametrize("text", [
    "Request options: {'json_data': {'wandb_key': 'k-0123456789abcdef'}}",
    '{"wandb_api_key": "k-0123456789abcdef", "model": "m"}',
    "{'client_secret': 'k-0123456789abcdef'}",
])
def test_secret_fields_of_logged_request_bodies_are_redacted_even_when_unknown(text: str) -> None:
    assert "k-0123456789abcdef" not in redact(text)
