"""2. Price one dataset on every cloud provider and model, and print the cheapest.

    python examples/cheapest_provider.py [train.jsonl]

Runs offline with no credentials: tokens are counted with each model's tokenizer (or a
documented approximation) and priced from each provider's price table, whose source and
date are printed. Nothing is uploaded.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from anytune import UnsupportedError, estimate
from anytune.testing import write_chat_examples

CANDIDATES = {
    "openai": ["gpt-4.1-mini-2025-04-14", "gpt-4o-mini-2024-07-18"],
    "together": ["meta-llama/Llama-3.2-1B-Instruct", "Qwen/Qwen3.5-9B",
                 "Qwen/Qwen2.5-7B-Instruct"],
    "vertex": ["gemini-3.1-flash-lite", "gemini-3.5-flash-lite", "gemini-3.5-flash"],
}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="anytune-example-") as tmp:
        data = Path(sys.argv[1]) if len(sys.argv) > 1 else write_chat_examples(Path(tmp) / "d.jsonl", 200)
        quotes = []
        for provider, models in CANDIDATES.items():
            for model in models:
                try:
                    est = estimate(data, provider=provider, model=model, epochs=3)
                except UnsupportedError as exc:  # e.g. a model past its training shutdown
                    print(f"{provider:>8} {model:<48} skipped: {exc}")
                    continue
                if est.cost_usd is None:  # no published price: said, never guessed
                    why = est.notes[0] if est.notes else "no published price"
                    print(f"{provider:>8} {model:<48} price unknown: {why}")
                    continue
                quotes.append((est.cost_usd, provider, model, est))
                approx = "" if est.exact_tokens else " (approx. tokens)"
                print(f"{provider:>8} {model:<48} ${est.cost_usd:>9.4f}  "
                      f"{est.trained_tokens:>9,} tokens{approx}")
        cost, provider, model, est = min(quotes, key=lambda q: q[0])
        print(f"cheapest: {provider} {model} at ${cost:.4f} (prices: {est.price_source}, {est.price_as_of})")
        print("(the local provider costs nothing but your own machine's time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
