"""Vendor parity: real files and single-defect mutations of them, with the verdict each
provider's rules give and the source that says so.

Each case changes one thing in a real file of ``tests/data/corpus`` (README there) and
states, per provider, ``("ok", warning code or None)`` or ``("error", code)``, and why.
The providers are the installed ones (``openai``, ``together``, ``vertex``) with models
of their catalogs, asked offline. Sources cited below:

- [T-1.5.17] together 1.5.17 (the last SDK with client-side format checks; wheel from
  PyPI) ``together/utils/files.py``; line numbers of that file.
- [T-PREF] together-python ``src/together/utils/files.py`` ``validate_preference_openai``
  (2025): "The last message in the input conversation must not be from the assistant".
- [T-3.1.1] the installed together 3.1.1 ``together/lib/utils/files.py`` (UTF-8 and JSON
  checks only: "Semantic checks run on the server after upload").
- [OAI-SPEC] OpenAI's OpenAPI spec: ``weight`` is a field of assistant messages only.
- [COOKBOOK] OpenAI cookbook ``Chat_finetuning_data_prep.ipynb`` format checks.
- [OAI-DPO] OpenAI's DPO guide: examples are one user turn (a warning, not a refusal).
- [RFC8259] JSON: control characters must be escaped (§7); unpaired surrogates give
  unpredictable behaviour (§8.2), and UTF-8 (§8.1) cannot carry them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anytune import validate

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
MODELS = {
    "openai": "gpt-4.1-mini-2025-04-14",
    "together": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
    "vertex": "gemini-2.5-flash",
}
OK: tuple[str, str | None] = ("ok", None)


def _lines(name: str) -> list[bytes]:
    return (CORPUS / name).read_bytes().splitlines()


def _edit(line: int, fn: Callable[[dict[str, Any]], None]) -> Callable[[list[bytes]], list[bytes]]:
    """A mutation that decodes line ``line`` (1-based), applies ``fn`` and writes it back."""

    def mutate(lines: list[bytes]) -> list[bytes]:
        rec = json.loads(lines[line - 1])
        fn(rec)
        lines[line - 1] = json.dumps(rec, ensure_ascii=False).encode()
        return lines

    return mutate


def _raw(line: int, fn: Callable[[bytes], bytes]) -> Callable[[list[bytes]], list[bytes]]:
    def mutate(lines: list[bytes]) -> list[bytes]:
        lines[line - 1] = fn(lines[line - 1])
        return lines

    return mutate


def _user(rec: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in rec["messages"] if m["role"] == "user")


def _text_format(lines: list[bytes]) -> list[bytes]:
    out = []
    for raw in lines:
        rec = json.loads(raw)
        out.append(json.dumps({"text": f"{rec['instruction']}\n{rec['output']}"}).encode())
    return out


# (id, corpus file, method, mutation or None, {provider: verdict}, line of the verdict, why)
CASES: list[tuple[str, str, str, Any, dict[str, tuple[str, str | None]], int | None, str]] = [
    ("drone_as_is", "cookbook_drone.jsonl", "sft", None, {"openai": OK, "together": OK}, None,
     "OpenAI's own function-calling example; Together documents tools in OpenAI's shape"),
    ("gsm8k_alpaca_as_is", "gsm8k.alpaca.jsonl", "sft", None,
     {"openai": OK, "together": OK, "vertex": OK}, None,
     "Alpaca records are converted to each upload format before upload"),
    ("hh_preference_as_is", "hh_rlhf.openai_preference.jsonl", "dpo", None,
     {"openai": ("ok", "multi_turn_preference"), "together": OK}, 1,
     "[OAI-DPO] one-turn prompts (hh-rlhf prompts are multi-turn: a warning); [T-PREF] passes"),
    ("hh_gemini_as_is", "hh_rlhf.gemini.jsonl", "dpo", None, {"vertex": OK}, None,
     "Gemini preference format: prompt ends with a user turn, two scored completions"),
    ("toy_chat_as_is", "cookbook_toy_chat.jsonl", "sft", None,
     {"openai": ("error", "too_few_examples"), "together": ("ok", "role_order")}, None,
     "OpenAI needs at least 10 examples (fine-tuning guide); Together needs 1 "
     "[T-3.1.1 constants MIN_SAMPLES]; line 4 is system -> assistant, which [T-1.5.17] "
     "files.py:165-171 lets through (it refuses a repeated role only): a warning"),
    ("lone_surrogate", "cookbook_drone.jsonl", "sft",
     _raw(3, lambda b: b.replace(b'"role": "user", "content": "', b'"role": "user", "content": "\\ud800', 1)),
     {"openai": ("error", "invalid_unicode"), "together": ("error", "invalid_unicode")}, 3,
     "[RFC8259] 8.2: a lone surrogate is no character; UTF-8 cannot carry it"),
    ("invalid_utf8", "cookbook_drone.jsonl", "sft",
     _raw(5, lambda b: b.replace(b'"content": "', b'"content": "\xff', 1)),
     {"openai": ("error", "invalid_utf8"), "together": ("error", "invalid_utf8")}, 5,
     "[T-3.1.1] files.py:208-232 _check_utf8 refuses the file; OpenAI reads UTF-8 JSONL"),
    ("nul_byte", "cookbook_drone.jsonl", "sft",
     _raw(2, lambda b: b.replace(b'"content": "', b'"content": "\x00', 1)),
     {"openai": ("error", "nul_byte"), "together": ("error", "nul_byte")}, 2,
     "[RFC8259] 7: control characters must be escaped; [T-3.1.1] files.py:349 json.loads fails"),
    ("truncated_line", "cookbook_drone.jsonl", "sft", _raw(7, lambda b: b[: len(b) // 2]),
     {"openai": ("error", "invalid_json"), "together": ("error", "invalid_json")}, 7,
     "[T-3.1.1] files.py:349/375-381 'Error parsing json payload'; [COOKBOOK] json.loads"),
    ("deep_nesting", "cookbook_drone.jsonl", "sft", _raw(11, lambda b: b"[" * 100_000),
     {"openai": ("error", "too_deep"), "together": ("error", "too_deep")}, 11,
     "no format nests past a dozen levels; Python's json raises RecursionError on this"),
    ("weight_on_user", "cookbook_drone.jsonl", "sft", _edit(4, lambda r: _user(r).update(weight=1)),
     {"openai": ("error", "invalid_weight"), "together": OK}, 4,
     "[OAI-SPEC] weight on assistant messages only; [T-1.5.17] files.py:143-156 checks "
     "0/1 on every role and Together trains on it"),
    ("no_assistant", "cookbook_drone.jsonl", "sft",
     _edit(6, lambda r: r.update(messages=[m for m in r["messages"] if m["role"] != "assistant"])),
     {"openai": ("error", "no_assistant_message"), "together": ("error", "no_assistant_message")}, 6,
     "[COOKBOOK] example_missing_assistant_message; [T-PREF file] validate_messages "
     "'At least one message with the assistant role must be present'"),
    ("repeated_user", "cookbook_drone.jsonl", "sft",
     _edit(8, lambda r: r["messages"].insert(1, dict(_user(r)))),
     {"openai": ("ok", "role_order"), "together": ("error", "role_order")}, 8,
     "[T-1.5.17] files.py:165-171 refuses the same role twice in a row; OpenAI does not"),
    ("unknown_message_key", "cookbook_drone.jsonl", "sft", _edit(9, lambda r: _user(r).update(foo="x")),
     {"openai": ("ok", "unknown_key"), "together": ("ok", "unknown_key")}, 9,
     "[COOKBOOK] counts message_unrecognized_key but no vendor refuses it; the writer drops it"),
    ("name_not_a_string", "cookbook_drone.jsonl", "sft", _edit(10, lambda r: _user(r).update(name=7)),
     {"openai": ("ok", "invalid_value"), "together": ("ok", "invalid_value")}, 10,
     "a name only labels the speaker; it is left out of the upload"),
    ("line_separator", "cookbook_drone.jsonl", "sft",
     _raw(12, lambda b: b.replace(b'"content": "', '"content": "\u2028'.encode(), 1)),
     {"openai": ("ok", "line_separator"), "together": ("ok", "line_separator")}, 12,
     "[RFC8259] U+2028 is valid in a JSON string; str.splitlines() ends a line there"),
    ("cr_only_line_ends", "cookbook_drone.jsonl", "sft", lambda ls: [b"\r".join(ls)],
     {"openai": ("ok", "cr_line_endings"), "together": ("ok", "cr_line_endings")}, 1,
     "[T-3.1.1] opens text with newline='', which splits at CR too; anytune uploads LF"),
    ("bom", "cookbook_drone.jsonl", "sft", _raw(1, lambda b: b"\xef\xbb\xbf" + b),
     {"openai": ("ok", "bom"), "together": ("ok", "bom")}, 1,
     "the BOM is removed in the file anytune uploads (json.loads in [T-3.1.1] would refuse it)"),
    ("text_format", "gsm8k.alpaca.jsonl", "sft", _text_format,
     {"openai": ("error", "not_expressible"), "together": OK}, 1,
     "[T-1.5.17] constants.py:46 DatasetFormat.GENERAL: {'text'}; OpenAI has no plain-text format"),
    ("prompt_ends_with_assistant", "hh_rlhf.openai_preference.jsonl", "dpo",
     _edit(2, lambda r: r["input"]["messages"].append({"role": "assistant", "content": "Sure."})),
     {"openai": OK, "together": ("error", "role_order")}, 2,
     "[T-PREF] the last input message must not be from the assistant"),
    ("two_preferred_messages", "hh_rlhf.openai_preference.jsonl", "dpo",
     _edit(3, lambda r: r["preferred_output"].append({"role": "assistant", "content": "More."})),
     {"openai": OK, "together": ("error", "invalid_preference")}, 3,
     "[T-1.5.17] files.py:209-214 'must contain exactly one message'"),
    ("identical_pair", "hh_rlhf.openai_preference.jsonl", "dpo",
     _edit(4, lambda r: r.update(non_preferred_output=r["preferred_output"])),
     {"openai": ("ok", "identical_preference"), "together": ("ok", "identical_preference")}, 4,
     "DPO learns nothing from it, but neither vendor's format refuses it"),
]


@pytest.mark.parametrize(
    ("case", "provider"),
    [(c, p) for c in CASES for p in c[4]],
    ids=[f"{c[0]}-{p}" for c in CASES for p in c[4]],
)
def test_verdict_matches_the_vendor(case: tuple, provider: str, tmp_path: Path) -> None:
    _, file, method, mutate, verdicts, line, why = case
    lines = _lines(file)
    if mutate is not None:
        lines = mutate(lines)
    path = tmp_path / file
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = validate(path, provider=provider, model=MODELS[provider], method=method)
    kind, code = verdicts[provider]
    errors = [(p.line, p.code) for p in report.errors]
    if kind == "ok":
        assert report.ok, (why, [str(p) for p in report.errors])
        if code is not None:
            hits = [p.line for p in report.warnings if p.code == code]
            assert hits and (line is None or line in hits), (why, [str(p) for p in report.warnings])
    else:
        assert not report.ok, why
        assert any(c == code and (line is None or ln == line) for ln, c in errors), (why, errors)
        # A single defect is a single error (no echo on other lines).
        assert {c for _, c in errors} == {code}, (why, errors)
