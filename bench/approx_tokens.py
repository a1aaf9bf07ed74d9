"""How far the offline token approximation is from the exact count, on real datasets.

When a tokenizer cannot be loaded offline, anytune counts 1 token per 4 characters of
each field plus the same per-message overhead (``anytune.data._tokens``). A budget
(``max_cost_usd``) checked on such a count must allow for its error: this measures the
error on every real dataset in ``../shared/data`` against tiktoken's exact count, for
both encodings OpenAI's tunable models use, and prints the worst under-count, the figure
behind ``anytune._estimates.APPROX_MARGIN`` (see docs/benchmarks.md).

    TIKTOKEN_CACHE_DIR=../shared/data/tiktoken .venv/bin/python bench/approx_tokens.py

``--files`` measures other files instead (``tests/test_estimates_honest.py`` runs it on
the samples kept in ``tests/data/estimates``).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from anytune.data._plan import Plan, run_scan
from anytune.provider import Limits

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANYTUNE_SHARED_DIR") or REPO / ".." / "shared").resolve()
FILES = {
    "chat_sft/openai_cookbook_toy_chat_fine_tuning.jsonl": "sft",
    "chat_sft/openai_cookbook_drone_training.jsonl": "sft",
    "instruction_alpaca/alpacadatacleaned_gsm_8k_train.json": "sft",
    "instruction_alpaca/torchtune_alpaca_tiny.json": "sft",
    "instruction_alpaca/llamafactory_alpaca_en_demo.json": "sft",
    "vertex_gemini/gcp_generative_ai_patient_1_glucose_examples.jsonl": "sft",
    "vertex_gemini/gcp_generative_ai_training_data_wrong.jsonl": "sft",
    "edge_cases/openai_cookbook_01-testing-example.jsonl": "sft",
    "preference/hh_rlhf_harmless_base_test.prompt_chosen_rejected.jsonl": "dpo",
    "preference/llamafactory_dpo_en_demo.json": "dpo",
    "preference/torchtune_stack_exchange_paired_tiny.json": "dpo",
}
ENCODINGS = ("o200k_base", "cl100k_base")


def tokens(path: Path, method: str, tokenizer: str) -> tuple[int, int]:
    """(records, tokens) of ``path`` counted with ``tokenizer``, uncapped."""
    plan = Plan(None, None, method, Limits(), tokenizer, None)
    res, note = run_scan(path, plan)
    if tokenizer != "approx" and note:
        raise SystemExit(f"{tokenizer} is not available here: {note}")
    return res.valid, res.tokens


def measure(files: dict[Path, str]) -> dict[str, object]:
    """Per file and encoding: exact, approximate, and exact/approx - 1 (how far low)."""
    rows = []
    for path, method in files.items():
        records, approx = tokens(path, method, "approx")
        for enc in ENCODINGS:
            _, exact = tokens(path, method, f"tiktoken:{enc}")
            rows.append({"file": path.name, "method": method, "records": records, "encoding": enc,
                         "exact": exact, "approx": approx,
                         "under_count": round(exact / approx - 1, 4) if approx else None})
    worst = max(r["under_count"] for r in rows if r["under_count"] is not None)  # type: ignore[type-var]
    return {"rows": rows, "worst_under_count": worst}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", nargs="*", type=Path, help="FILE[:dpo] to measure instead")
    args = ap.parse_args()
    if args.files:
        files = {}
        for f in args.files:
            name, _, method = str(f).partition(":")
            files[Path(name)] = method or "sft"
    else:
        files = {SHARED / "data" / rel: method for rel, method in FILES.items()}
    print(json.dumps(measure(files), indent=2))


if __name__ == "__main__":
    main()
