"""Spec-driven fuzzing of a provider: every answer its vendor's spec allows maps or fails typed.

A provider must turn *any* answer its vendor may send into a correct result or a typed
:class:`~anytune.ProviderError` naming the provider, never a crash. :class:`SpecAnswers`
runs that check for each operation of a provider: answers are drawn from the vendor's
schemas (:mod:`anytune.testing.answers`), served to the vendor's official SDK through an
``httpx`` transport (:func:`~anytune.testing.answers.serving`, no network), and the
provider's method is called on each. A provider's tests keep only what is theirs: which
route answers each operation, the call, and the provider built on a served client::

    from anytune.testing.spec_answers import Operation, SpecAnswers, checks, serve

    class TestAcmeSpecAnswers(SpecAnswers):
        provider = "acme"
        operations = {
            "get": Operation(serve("GET .*/jobs/j-1", job_schema), lambda p: p.get("j-1"), checks.job),
        }

        def provider_serving(self, routes):
            p = AcmeProvider(api_key="k")
            p._client = acme.Client(api_key="k", http_client=httpx.Client(transport=serving(routes)))
            return p

Each operation draws :attr:`SpecAnswers.examples` answers (200: issue 15) and must map at
least one of them (the generator reaches valid answers too). Hypothesis is imported only
when a test runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from anytune.errors import AnytuneError, ProviderError
from anytune.provider import Checkpoint, JobEvent, JobSnapshot, JobStatus, Provider

__all__ = ["Operation", "SpecAnswers", "checks", "serve"]


@dataclass(frozen=True)
class Operation:
    """One provider operation under fuzzing."""

    #: A Hypothesis strategy (built when the test runs) of ``{"METHOD /path regex": body}``:
    #: the answers served for one call (several routes for an operation that reads more).
    answers: Callable[[], Any]
    #: The provider method called on each example.
    call: Callable[[Any], Any]
    #: Asserts that a result that came back is correct (raising fails the test).
    check: Callable[[Any], None]


def serve(route: str, schema: Callable[[], Any]) -> Callable[[], Any]:
    """The :attr:`Operation.answers` of an operation that reads one route: each answer
    drawn from ``schema()`` (a strategy, e.g. :func:`~anytune.testing.answers.answers`)
    served at ``route``."""
    return lambda: schema().map(lambda body: {route: body})


def _job(snap: Any) -> None:
    assert isinstance(snap, JobSnapshot) and isinstance(snap.id, str), repr(snap)
    assert isinstance(snap.status, JobStatus) and isinstance(snap.model, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in snap.metadata.items())
    assert snap.created_at is None or isinstance(snap.created_at, datetime)


def _jobs(snaps: Any) -> None:
    assert isinstance(snaps, list)
    for snap in snaps:
        _job(snap)


def _events(events: Any) -> None:
    assert all(isinstance(e, JobEvent) and isinstance(e.created_at, datetime) for e in events)
    assert [e.created_at for e in events] == sorted(e.created_at for e in events), "not oldest first"


def _events_any_order(events: Any) -> None:
    assert all(isinstance(e, JobEvent) and isinstance(e.created_at, datetime) for e in events)


def _checkpoints(cps: Any) -> None:
    assert all(isinstance(c, Checkpoint) for c in cps)


def _true(result: Any) -> None:
    assert result is True, result


#: The checks of the provider methods' results, as the SPI types them: ``job`` (a
#: :class:`JobSnapshot`), ``jobs`` (a list of them), ``events`` (oldest first),
#: ``events_any_order``, ``checkpoints`` and ``true`` (``upload_exists``).
checks = SimpleNamespace(job=_job, jobs=_jobs, events=_events, events_any_order=_events_any_order,
                         checkpoints=_checkpoints, true=_true)


class SpecAnswers:
    """Base class of a provider's spec-driven fuzzing tests (see the module docstring)."""

    #: The provider's name, as a typed error carries it.
    provider: ClassVar[str] = ""
    #: Operation name -> :class:`Operation`; one test per operation.
    operations: ClassVar[Mapping[str, Operation]] = {}
    #: Examples drawn per operation.
    examples: ClassVar[int] = 200
    #: Typed errors a provider may also raise before any request (e.g. an
    #: :class:`~anytune.UnsupportedError` said from a generated model's limits).
    also_typed: ClassVar[tuple[type[AnytuneError], ...]] = ()

    def provider_serving(self, routes: dict[str, Any]) -> Provider:
        """A provider whose official SDK client is answered from ``routes`` through
        :func:`~anytune.testing.answers.serving` (read at each request: the test changes
        it between examples, so build the client once)."""
        raise NotImplementedError(f"{type(self).__name__} must define provider_serving(routes)")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One test per entry of :attr:`operations`."""
        if "operation" in metafunc.fixturenames:
            metafunc.parametrize("operation", sorted(self.operations))

    @pytest.mark.slow
    def test_any_answer_the_spec_allows_maps_or_fails_typed(self, operation: str) -> None:
        from hypothesis import HealthCheck, given, settings

        op = self.operations[operation]
        outcomes = {"mapped": 0, "typed": 0}
        served: dict[str, Any] = {}
        provider = self.provider_serving(served)  # one client: building one costs ~0.3 s

        @settings(max_examples=self.examples, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
        @given(op.answers())
        def run(routes: dict[str, Any]) -> None:
            served.clear()
            served.update(routes)
            try:
                result = op.call(provider)
            except self.also_typed:
                outcomes["typed"] += 1
                return
            except AnytuneError as exc:
                assert isinstance(exc, ProviderError) and exc.provider == self.provider, repr(exc)
                outcomes["typed"] += 1
                return
            op.check(result)
            outcomes["mapped"] += 1

        try:
            run()
        finally:
            provider.close()
        assert outcomes["mapped"] > 0, outcomes  # the generator reaches valid answers too
        assert sum(outcomes.values()) >= self.examples, outcomes
