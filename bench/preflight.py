"""Preflight benchmark: validate + count tokens + estimate a large generated JSONL.

Compares, on the same file and in the same run (each in its own process so peak RSS is
measured separately):

- ``anytune``: ``anytune._preflight.preflight`` (full validation, OpenAI token counting,
  conversion check, duplicate detection, estimate), using every core;
- ``cookbook``: OpenAI cookbook's method: ``json.loads`` per line and
  ``tiktoken.encode`` per field value (3 tokens per message, +1 per name, +3 per example),
  one process, as the notebook does;
- ``tiktoken-batch``: ``encode_ordinary_batch`` alone on the same texts (parsing is done
  outside the timed region; tiktoken spreads each batch over a thread pool);
- ``tiktoken-single``: the tokenizer core's ``encode_ordinary`` one string at a time, one
  core, also timed alone: the fastest exact single-core count.

The data is generated from sentences of real datasets (so the text is English as tiktoken
sees it): ``../shared/data`` when it lies beside the clone (GSM8K and LLaMA-Factory's
Alpaca demo: the figures in docs/benchmarks.md were made so), else the GSM8K sample in
``tests/data``. Every record carries a unique id and a random mix of sentences, so no
record repeats.

    TIKTOKEN_CACHE_DIR=../shared/data/tiktoken .venv/bin/python bench/preflight.py --size-mb 1024

Prints one JSON document with MB/s and peak RSS of each method.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANYTUNE_SHARED_DIR") or REPO / ".." / "shared").resolve()
DATA = SHARED / "data" if (SHARED / "data").is_dir() else REPO / "tests" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"


def _sentences() -> list[str]:
    """Sentences from the real datasets in ``DATA`` (GSM8K, and Alpaca where present)."""
    out: list[str] = []
    for rel in ("instruction_alpaca/alpacadatacleaned_gsm_8k_train.first2000.jsonl",):
        for line in (DATA / rel).open(encoding="utf-8"):
            rec = json.loads(line)
            out.extend(
                s.strip() + "." for s in (rec["instruction"] + " " + rec["output"]).split(".") if s.strip()
            )
    for rel in ("instruction_alpaca/llamafactory_alpaca_en_demo.json",):
        if not (DATA / rel).is_file():  # not in tests/data: its licence is unclear
            continue
        for rec in json.loads((DATA / rel).read_text(encoding="utf-8")):
            out.extend(
                s.strip() + "." for s in (rec["instruction"] + " " + rec["output"]).split(".") if s.strip()
            )
    return out


def generate(path: Path, size_bytes: int, seed: int = 1) -> int:
    """Write a chat JSONL of about ``size_bytes`` with no repeated record; return records."""
    rng = random.Random(seed)
    sents = _sentences()
    # Real fine-tuning sets repeat one system prompt (or a few) in every record, as the
    # cookbook's drone set does: 40 prompts of 4 to 10 sentences here.
    systems = [
        f"You are tutor #{i}. " + " ".join(rng.choices(sents, k=rng.randint(4, 10))) for i in range(40)
    ]
    n = 0
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        while written < size_bytes:
            n += 1
            user = f"[{n}] " + " ".join(rng.choices(sents, k=rng.randint(2, 12)))
            reply = " ".join(rng.choices(sents, k=rng.randint(3, 30)))
            rec = {
                "messages": [
                    {"role": "system", "content": rng.choice(systems)},
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": reply},
                ]
            }
            line = json.dumps(rec, ensure_ascii=False) + "\n"
            fh.write(line)
            written += len(line.encode("utf-8"))
    return n


# --- the three methods, each run in a child process ---------------------------------
def run_cookbook(path: str) -> dict:
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base")
    c0 = _cpu()
    t0 = time.perf_counter()
    total = records = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            ex = json.loads(line)
            records += 1
            n = 0
            for message in ex["messages"]:
                n += 3
                for key, value in message.items():
                    n += len(enc.encode(value))
                    if key == "name":
                        n += 1
            total += n + 3
    return {"seconds": time.perf_counter() - t0, "timed_cpu_s": round(_cpu() - c0, 2),
            "tokens": total, "records": records}


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (anytune's workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_floor(path: str) -> dict:
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base")
    spent = 0.0
    total = 0
    batch: list[str] = []

    def flush() -> None:
        nonlocal spent, total
        t = time.perf_counter()
        total += sum(map(len, enc.encode_ordinary_batch(batch)))
        spent += time.perf_counter() - t
        batch.clear()

    with open(path, encoding="utf-8") as fh:
        for line in fh:
            for m in json.loads(line)["messages"]:
                batch.append(m["role"])
                batch.append(m["content"])
            if len(batch) >= 8192:
                flush()
    flush()
    return {"seconds": spent, "tokens": total}


def run_single(path: str) -> dict:
    """The tokenizer's core, one string at a time, one core: the fastest exact count."""
    import tiktoken

    encode = tiktoken.get_encoding("o200k_base")._core_bpe.encode_ordinary
    spent = 0.0
    total = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            texts = [t for m in json.loads(line)["messages"] for t in (m["role"], m["content"])]
            t = time.perf_counter()
            total += sum(len(encode(x)) for x in texts)
            spent += time.perf_counter() - t
    return {"seconds": spent, "tokens": total}


def run_anytune(path: str) -> dict:
    sys.path.insert(0, str(REPO / "src"))
    from anytune._preflight import preflight

    provider = _provider()
    import tiktoken

    tiktoken.get_encoding("o200k_base")  # loaded before the clock starts, as for the cookbook
    c0, m0 = _cpu(), time.process_time()
    t0 = time.perf_counter()
    report, est = preflight(path, provider=provider, model=MODEL, method="sft")
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        # On a busy machine wall time is the scheduler's; CPU in the timed region
        # (workers included: the pool has exited and been reaped) is the code's.
        "timed_cpu_s": round(_cpu() - c0, 2),
        # The main process's part: plan, forking, merging, duplicates (workers excluded).
        "main_cpu_s": round(time.process_time() - m0, 2),
        "tokens": est.tokens_per_epoch,
        "records": report.records,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "cost_usd": est.cost_usd,
        "provider": provider.name,
        "workers_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _provider():
    """The installed OpenAI provider when there is one, else the same rules inline."""
    try:
        from anytune._registry import create_provider

        return create_provider("openai")
    except Exception:
        from anytune.provider import Limits, Provider

        class _OpenAIRules(Provider):
            name = "openai-rules"

            def limits(self, model: str, method: str) -> Limits:
                return Limits(
                    min_examples=10,
                    max_file_bytes=512 << 20,
                    max_tokens_per_example=65536,
                    data_format="openai",
                )

            def tokenizer(self, model: str) -> str:
                return "tiktoken:o200k_base"

        return _OpenAIRules()


def _child(method: str, path: str) -> None:
    fn = {
        "cookbook": run_cookbook,
        "tiktoken-batch": run_floor,
        "tiktoken-single": run_single,
        "anytune": run_anytune,
    }[method]
    out = fn(path)
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out["peak_rss_mb"] = round(me.ru_maxrss / 1024, 1)
    out["cpu_s"] = round(me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, 1)
    print(json.dumps(out))


def _tree(pid: int) -> list[int]:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid] + [p for k in kids for p in _tree(int(k))]


def _proc_kb(pid: int, path: str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _run_child(method: str, file: Path) -> dict:
    """Run one method in a child process; on Linux, sample the memory of its whole
    process tree every 0.1 s: PSS (shared pages split between the processes that share
    them, so forked workers are not counted twice) and the plain sum of RSS."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", method, str(file)], stdout=subprocess.PIPE, text=True
    )
    pss = rss = 0
    while proc.poll() is None:
        pids = _tree(proc.pid)
        pss = max(pss, sum(_proc_kb(p, "smaps_rollup", "Pss:") for p in pids))
        rss = max(rss, sum(_proc_kb(p, "status", "VmRSS:") for p in pids))
        time.sleep(0.1)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode:
        raise SystemExit(f"{method} failed with exit code {proc.returncode}")
    r = json.loads(out.strip().splitlines()[-1])
    if pss:
        r["tree_peak_pss_mb"] = round(pss / 1024, 1)
        r["tree_peak_rss_sum_mb"] = round(rss / 1024, 1)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, default=1024)
    ap.add_argument("--file", type=Path, default=Path("/tmp/anytune-bench-preflight.jsonl"))
    ap.add_argument("--keep", action="store_true", help="reuse the file if it has the size")
    ap.add_argument("--methods", default="anytune,cookbook,tiktoken-batch,tiktoken-single")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the methods round-robin N times; report each one's best run",
    )
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if (SHARED / "data" / "tiktoken").is_dir():  # offline copy; else tiktoken downloads
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED / "data" / "tiktoken"))
    if args.child:
        _child(*args.child)
        return
    size = int(args.size_mb * (1 << 20))
    t = time.perf_counter()
    if not (args.keep and args.file.exists() and abs(args.file.stat().st_size - size) < (1 << 20)):
        generate(args.file, size)
    gen_s = time.perf_counter() - t
    file_mb = args.file.stat().st_size / (1 << 20)
    results = {
        "file": str(args.file),
        "file_mb": round(file_mb, 1),
        "generate_s": round(gen_s, 1),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
    # Round-robin, so that each method sees the same share of a busy machine's load;
    # the best run of each is reported, with every run's wall time alongside.
    for _ in range(args.repeat):
        for method in args.methods.split(","):
            r = _run_child(method, args.file)
            r["mb_per_s"] = round(file_mb / r["seconds"], 2)
            r["loadavg_after"] = round(os.getloadavg()[0], 2)
            print(method, json.dumps(r), file=sys.stderr, flush=True)
            best = results.get(method)
            runs = [*best["runs_s"], round(r["seconds"], 1)] if best else [round(r["seconds"], 1)]
            if best is None or r["seconds"] < best["seconds"]:
                best = r
            best["runs_s"] = runs
            results[method] = best
    if "anytune" in results and "cookbook" in results:
        results["speedup_vs_cookbook"] = round(
            results["cookbook"]["seconds"] / results["anytune"]["seconds"], 2
        )
        # CPU the cookbook spends per CPU second of anytune's, in the timed regions of the
        # reported runs: what the ratio tends to when the machine's cores are all busy.
        results["cpu_ratio_vs_cookbook"] = round(
            results["cookbook"]["timed_cpu_s"] / max(results["anytune"]["timed_cpu_s"], 1e-9), 2
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
