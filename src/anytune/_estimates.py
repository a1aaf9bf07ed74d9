"""How sure an estimate is, and what the provider reported after the job (issue 16).

- An approximate token count (no tokenizer offline) carries ``Estimate.approximation``:
  why it is approximate and by how much it may be low.
- A budget (``max_cost_usd``) checked on an approximate count allows for that error:
  the count is raised by :data:`APPROX_MARGIN`, the worst under-count measured on the
  real datasets (``bench/approx_tokens.py``, figures in docs/benchmarks.md).
- :func:`actual_of` puts the provider's own figures (trained tokens, cost) next to the
  estimate once a job is done.
"""

from __future__ import annotations

from anytune._types import Actual, Estimate, JobResult

__all__ = ["APPROX_MARGIN", "actual_of", "budget_figure", "with_approximation"]

#: How far the 1-token-per-4-characters approximation may be below the exact count.
#: Measured by ``bench/approx_tokens.py`` on the 11 real datasets of ../shared/data with
#: o200k_base and cl100k_base (2026-11-29, table in docs/benchmarks.md): the worst file
#: is Google's glucose-summary sample, mostly CSV numbers, counted at half its true size
#: (+103 %); English prose and chat were within +22 % (the cookbook's toy file; GSM8K
#: +7 to +8 %), and 8 of the 11 files were over-counted. A budget must hold for the
#: worst, so an approximate cost is checked as if 110 % higher.
APPROX_MARGIN = 1.10


def with_approximation(est: Estimate, counter_note: str) -> Estimate:
    """``est`` with ``approximation`` set when its tokens are not exact (else as is)."""
    if est.exact_tokens:
        return est
    why = counter_note or "no tokenizer for this model: 1 token per 4 characters"
    text = (f"{why}; the true count may be up to {APPROX_MARGIN:.0%} higher (the worst "
            "error measured on real datasets, on numbers; English text within 22 %)")
    return est.model_copy(update={"approximation": text})


def budget_figure(est: Estimate) -> tuple[float, str]:
    """The cost a budget is checked against, and how it was derived ("" when exact).

    An exact estimate is its own figure. An approximate one is raised by
    :data:`APPROX_MARGIN`, so that a job whose exact cost is over the budget is not
    passed because its tokens were under-counted."""
    assert est.cost_usd is not None
    if est.exact_tokens:
        return est.cost_usd, ""
    bound = est.cost_usd * (1 + APPROX_MARGIN)
    return bound, (
        f"the token count is approximate ({est.approximation or 'no tokenizer'}), so the "
        f"budget is checked against ${est.cost_usd:.2f} + {APPROX_MARGIN:.0%} = ${bound:.2f}"
    )


def actual_of(result: JobResult | None, estimate: Estimate | None) -> Actual | None:
    """What the provider reported for a finished job, next to the launch estimate.

    The cost is the provider's own figure when it bills one; else, where an estimate
    with a price exists, the reported tokens at the estimate's price per token (every
    catalog price here is linear in tokens); else unknown."""
    if result is None or result.trained_tokens is None:
        return None
    tokens = int(result.trained_tokens)
    cost, source = result.cost_usd, "provider" if result.cost_usd is not None else None
    vs = None
    if estimate is not None and estimate.trained_tokens > 0:
        vs = round(tokens / estimate.trained_tokens - 1, 4)
        if cost is None and estimate.cost_usd is not None:
            cost = round(estimate.cost_usd * tokens / estimate.trained_tokens, 6)
            source = "estimate rate"
    return Actual(trained_tokens=tokens, cost_usd=cost, cost_source=source, vs_estimate=vs)
