"""The error hierarchy: exported, mapped by status code, with exit codes and messages
that say what and where."""

from __future__ import annotations

import inspect

import pytest

import anytune
from anytune import _errors
from anytune._errors import malformed_answer, retry_after_seconds, status_error_class


def test_every_error_class_is_exported_from_anytune() -> None:
    classes = {n for n, o in inspect.getmembers(_errors, inspect.isclass)
               if issubclass(o, _errors.AnytuneError)}
    assert classes <= set(anytune.__all__)
    assert classes <= set(dir(anytune))


def test_hierarchy_matches_the_design() -> None:
    E = anytune
    assert issubclass(E.MissingCredentialsError, E.ConfigurationError)
    assert issubclass(E.UnknownProviderError, E.ConfigurationError)
    for cls in (E.ProviderConnectionError, E.ProviderTimeoutError, E.ProviderStatusError):
        assert issubclass(cls, E.ProviderError)
    for cls in (E.AuthenticationError, E.PermissionDeniedError, E.InvalidRequestError,
                E.NotFoundError, E.ConflictError, E.RateLimitError, E.ServerError):
        assert issubclass(cls, E.ProviderStatusError)
    for cls in (E.ConfigurationError, E.DatasetError, E.BudgetExceededError, E.UnsupportedError,
                E.ProviderError, E.JobFailedError, E.WaitTimeoutError):
        assert issubclass(cls, E.AnytuneError)


@pytest.mark.parametrize(
    ("code", "cls"),
    [(400, "InvalidRequestError"), (401, "AuthenticationError"), (403, "PermissionDeniedError"),
     (404, "NotFoundError"), (409, "ConflictError"), (422, "InvalidRequestError"),
     (429, "RateLimitError"), (500, "ServerError"), (502, "ServerError"), (503, "ServerError"),
     (418, "InvalidRequestError")],
)
def test_status_codes_map_to_one_class_each(code: int, cls: str) -> None:
    assert status_error_class(code) is getattr(anytune, cls)


@pytest.mark.parametrize(
    ("err", "exit_code"),
    [
        (anytune.ConfigurationError("x"), 2),
        (anytune.UnknownProviderError("x", []), 2),
        (anytune.DatasetError("bad"), 1),
        (anytune.BudgetExceededError(30.0, 20.0), 1),
        (anytune.UnsupportedError("local", "qlora"), 2),
        (anytune.ServerError("x", provider="p", status_code=500), 3),
        (anytune.ProviderConnectionError("x", provider="p"), 3),
    ],
)
def test_exit_codes_follow_the_design(err: anytune.AnytuneError, exit_code: int) -> None:
    assert err.exit_code == exit_code


def test_missing_credentials_names_the_variable_and_the_argument() -> None:
    err = anytune.MissingCredentialsError("together", env_var="TOGETHER_API_KEY", argument="api_key")
    assert "TOGETHER_API_KEY" in str(err) and "api_key=" in str(err)


def test_dataset_error_carries_every_problem_with_its_location() -> None:
    problems = [anytune.Problem(code="invalid_json", message="Expecting value", line=3, file="t.jsonl"),
                anytune.Problem(code="unknown_role", message="role 'bot'", line=9, field="messages[1].role")]
    err = anytune.DatasetError("t.jsonl failed validation", problems)
    assert err.problems == problems
    assert "t.jsonl:3" in str(err) and "1 more" in str(err)
    assert err.to_dict()["errors"][1] == {
        "code": "unknown_role", "message": "role 'bot'", "line": 9,
        "field": "messages[1].role", "file": None, "severity": "error"}


def test_budget_error_says_nothing_was_spent() -> None:
    err = anytune.BudgetExceededError(31.5, 20.0)
    assert "$31.50" in str(err) and "$20.00" in str(err) and "nothing was uploaded" in str(err)


def test_retry_after_reads_milliseconds_and_seconds_and_ignores_dates() -> None:
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    # An HTTP date (or anything but a non-negative number) leaves the backoff to anytune.
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None
    assert retry_after_seconds({"retry-after": "-1"}) is None
    assert retry_after_seconds(None) is None and retry_after_seconds({}) is None


def test_a_malformed_answer_becomes_a_provider_error_naming_what_was_read() -> None:
    @malformed_answer("acme", "fine-tuning job")
    def read(answer: dict) -> str:
        return str(answer["id"])

    assert read({"id": "ft-1"}) == "ft-1"
    with pytest.raises(anytune.ProviderError) as info:
        read({"status": "running"})  # no id: a KeyError deep inside the mapper
    assert info.value.provider == "acme" and "unexpected fine-tuning job" in str(info.value)

    @malformed_answer("acme", "event")
    def boom() -> None:
        raise RuntimeError("a bug, not a malformed answer")

    with pytest.raises(RuntimeError):  # bugs are not disguised as provider errors
        boom()
