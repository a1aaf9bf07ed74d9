"""``anytune.testing.SpecAnswers`` itself: it passes a provider that maps every answer or
fails typed, and fails one that lets a vendor's surprise escape as a bare exception."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from anytune.errors import malformed_answer
from anytune.provider import JobSnapshot, JobStatus, Provider
from anytune.testing.answers import answers, serving
from anytune.testing.spec_answers import Operation, SpecAnswers, checks, serve

# Hypothesis builds its text alphabet once per process (about 15 s on a loaded core).
pytestmark = pytest.mark.slow

#: A vendor's job answer: an id and a status from a short list (which may grow).
JOB_SCHEMA = {"type": "object", "required": ["id", "status"],
              "properties": {"id": {"type": "string"}, "status": {"enum": ["running", "done"]}}}
STATUSES = {"running": JobStatus.RUNNING, "done": JobStatus.SUCCEEDED}


def _snapshot(body: dict[str, Any]) -> JobSnapshot:
    return JobSnapshot(id=body["id"], status=STATUSES[body["status"]], model="m",
                       created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))


class _Vendor(Provider):
    """A provider on an httpx client whose transport serves generated answers."""

    name = "fuzzed"

    def __init__(self, routes: dict[str, Any]) -> None:
        super().__init__()
        self.client = httpx.Client(transport=serving(routes), base_url="http://fuzz.invalid")

    def close(self) -> None:
        self.client.close()


class _Guarded(_Vendor):
    def get(self, job_id: str) -> JobSnapshot:
        return malformed_answer("fuzzed", "job")(_snapshot)(self.client.get(f"/jobs/{job_id}").json())


class _Careless(_Vendor):
    def get(self, job_id: str) -> JobSnapshot:
        return _snapshot(self.client.get(f"/jobs/{job_id}").json())  # KeyError on a new status


class _Suite(SpecAnswers):
    provider = "fuzzed"
    examples = 40
    operations = {"get": Operation(serve("GET /jobs/j-1", lambda: answers(JOB_SCHEMA)),
                                   lambda p: p.get("j-1"), checks.job)}
    vendor: type[_Vendor] = _Guarded

    def provider_serving(self, routes: dict[str, Any]) -> Provider:
        return self.vendor(routes)


def test_a_provider_that_maps_or_fails_typed_passes() -> None:
    _Suite().test_any_answer_the_spec_allows_maps_or_fails_typed("get")


def test_a_provider_that_crashes_on_an_unknown_status_fails() -> None:
    suite = _Suite()
    suite.vendor = _Careless
    with pytest.raises(KeyError):  # Hypothesis finds the new status and shows the bare error
        suite.test_any_answer_the_spec_allows_maps_or_fails_typed("get")


def test_a_wrong_result_fails_its_check() -> None:
    suite = _Suite()
    suite.operations = {"get": Operation(suite.operations["get"].answers, lambda p: p.get("j-1"),
                                         checks.jobs)}  # a snapshot is not a list of them
    with pytest.raises(AssertionError):
        suite.test_any_answer_the_spec_allows_maps_or_fails_typed("get")
