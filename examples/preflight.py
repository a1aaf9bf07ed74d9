"""Check and price a dataset on several providers before anything is uploaded.

    python examples/preflight.py [train.jsonl]

Without an argument it writes a small demo dataset. Nothing here touches the network or
reads a credential: validation, token counts and prices all run locally.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from anytune import convert, estimate, validate
from anytune.testing import write_chat_examples

TARGETS = [
    ("openai", "gpt-4.1-mini-2025-04-14"),
    ("openai", "gpt-4.1-2025-04-14"),
    ("together", "Qwen/Qwen3.5-9B"),
    ("together", "Qwen/Qwen3.5-9B"),
    ("vertex", "gemini-3.5-flash"),
]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="anytune-example-") as tmp:
        return run(Path(tmp))


def run(workdir: Path) -> int:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else write_chat_examples(workdir / "demo.jsonl", 50)

    report = validate(data, provider="openai", model=TARGETS[0][1])
    print(f"{data}: {report.records} records, {len(report.errors)} errors, {len(report.warnings)} warnings")
    for problem in report.errors[:10]:
        print(f"  line {problem.line}: {problem.field or ''} {problem.message} [{problem.code}]")
    if not report.ok:
        return 1

    for provider, model in TARGETS:
        est = estimate(data, provider=provider, model=model, epochs=3)
        cost = "unknown" if est.cost_usd is None else f"${est.cost_usd:.4f}"
        exact = "" if est.exact_tokens else " (approx.)"
        source = f"prices: {est.price_source}, {est.price_as_of}" if est.price_source else "no catalog price"
        print(f"{provider:>8} {model:<48} {est.trained_tokens:>9,} trained tokens{exact:<10} {cost:>10}"
              f"  ({source})")
        for note in est.notes[:1]:  # e.g. why there is no price, or that the catalog is old
            print(f"{'':>10}note: {note}")

    out = workdir / "gemini.jsonl"
    converted = convert(data, to="vertex", output=out)
    print(f"converted {converted.records} records to Vertex's Gemini format: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
