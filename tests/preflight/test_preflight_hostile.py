"""Hostile bytes, shapes and sizes: every input gets a coded problem on its line (or a
reported conversion), through the Python API and the CLI, and never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from preflight_helpers import OpenAILike
from preflight_records import OK, OK2, write_lines
from typer.testing import CliRunner

from anytune import convert, validate
from anytune.cli import app
from anytune.data import _engine, _readers

MODEL = {"openai": "gpt-4.1-mini-2025-04-14", "together": "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"}
SURROGATE = (
    '{"messages": [{"role": "user", "content": "hi \\ud800"}, {"role": "assistant", "content": "Hello."}]}'
)

SEPARATED = OK2.replace("Paris.", "Par\u2028is.")

# (id, file bytes, [(line, code)] errors, [(line, code)] warnings)
BYTES = [
    ("lone_surrogate", f"{OK}\n{SURROGATE}\n".encode(), [(2, "invalid_unicode")], []),
    ("invalid_utf8", OK.encode() + b'\n{"messages": "\xc3\x28"}\n', [(2, "invalid_utf8")], []),
    ("nul_byte", f"{OK}\n".encode() + OK.encode().replace(b"2+2", b"2\x00+2") + b"\n", [(2, "nul_byte")], []),
    ("deep_nesting", f"{OK}\n".encode() + b"[" * 100_000 + b"\n", [(2, "too_deep")], []),
    ("deep_object", f"{OK}\n".encode() + b'{"a":' * 100_000 + b"\n", [(2, "too_deep")], []),
    ("line_separator", f"{OK}\n{SEPARATED}\n".encode(), [], [(2, "line_separator")]),
    ("bom", b"\xef\xbb\xbf" + f"{OK}\n{OK2}\n".encode(), [], [(1, "bom")]),
    ("cr_only", f"{OK}\r{OK2}\r".encode(), [], [(1, "cr_line_endings")]),
]


@pytest.mark.parametrize("provider", [None, "openai", "together"])
@pytest.mark.parametrize("case", BYTES, ids=[c[0] for c in BYTES])
def test_hostile_bytes_are_coded_problems(case: tuple, provider: str | None, tmp_path: Path) -> None:
    _, data, errors, warnings = case
    path = tmp_path / "data.jsonl"
    path.write_bytes(data)
    report = validate(path, provider=provider, model=MODEL.get(provider or ""))
    got = [(p.line, p.code) for p in report.errors if p.code != "too_few_examples"]
    assert got == errors, [str(p) for p in report.errors]
    assert [(p.line, p.code) for p in report.warnings if p.code in {c for _, c in warnings}] == warnings
    # Every good record around the bad one is still read and checked.
    assert report.records == 2 and report.valid == 2 - len(errors)


@pytest.mark.parametrize("provider", [None, "openai", "together"])
def test_in_memory_records_with_hostile_values(provider: str | None) -> None:
    ok = json.loads(OK)
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    bad = {"messages": [{"role": "user", "content": "x\ud800"}, ok["messages"][1]]}
    records = [ok, bad, {"messages": deep}]
    report = validate(records, provider=provider, model=MODEL.get(provider or ""))
    got = [(p.line, p.code) for p in report.errors if p.code != "too_few_examples"]
    assert got == [(2, "invalid_unicode"), (3, "too_deep")]


def test_conversion_of_cr_only_and_bom_files_writes_lf_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + f"{OK}\r{OK2}\r".encode())
    out = tmp_path / "out.jsonl"
    report = convert(path, to="openai", output=out)
    assert report.records == 2 and not report.errors
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw and raw.count(b"\n") == 2


def test_json_array_problems_carry_the_element_index(tmp_path: Path) -> None:
    recs = [json.loads(OK)] * 3 + [{"messages": []}, json.loads(SURROGATE)]
    path = tmp_path / "data.json"
    path.write_text(json.dumps(recs), encoding="utf-8")  # minified: every element on line 1
    report = validate(path, provider=OpenAILike(min_examples=1), model="m")
    assert [(p.line, p.element, p.code) for p in report.errors] == [
        (1, 3, "empty_messages"),
        (1, 4, "invalid_unicode"),
    ]
    assert "[3]" in str(report.errors[0])


def test_json_syntax_errors_read_plainly(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [OK, '{"messages": "unterminated'])
    report = validate(path)
    message = report.errors[0].message
    assert "at at" not in message and message.startswith("Unterminated string starting at (column 14)")


@pytest.mark.parametrize("parallel", [False, True])
def test_a_line_over_the_record_cap_is_refused_from_its_size(
    parallel: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if parallel:  # ranges of 1 MiB, so the big line spans several and a worker streams it
        monkeypatch.setattr(_engine, "PARALLEL_MIN_BYTES", 1)
        monkeypatch.setattr(_engine, "RANGE_BYTES", 1 << 20)
        monkeypatch.setenv("ANYTUNE_PREFLIGHT_WORKERS", "2")
    size = _readers.MAX_RECORD_BYTES + (1 << 20)
    huge = '{"messages": [{"role": "user", "content": "' + "a" * size + '"}]}'
    path = write_lines(tmp_path, [OK, huge, OK2, '{"messages": [}'])
    report = validate(path, provider=OpenAILike(min_examples=1), model="m")
    assert [(p.line, p.code) for p in report.errors] == [(2, "record_too_large"), (4, "invalid_json")]
    assert report.records == 4 and report.valid == 2
    assert "17.0 MiB" in report.errors[0].message


def _cli(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout


def test_cli_json_is_one_document_with_exit_1_for_bad_data(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(f"{OK}\n{SURROGATE}\n".encode())
    for extra in ([], ["--provider", "openai", "--model", MODEL["openai"]]):
        code, out = _cli(["validate", str(path), "--json", *extra])
        doc = json.loads(out)  # exactly one JSON document
        assert code == 1 and not doc["ok"]
        assert doc["errors"][0]["code"] == "invalid_unicode" and doc["errors"][0]["line"] == 2


def test_cli_json_says_the_input_format_and_what_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    recs = [{"instruction": f"Add {i} and 1.", "input": "", "output": f"It is {i + 1}."} for i in range(12)]
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(recs).encode())
    code, out = _cli(["validate", str(path), "--json", "--provider", "openai", "--model", MODEL["openai"]])
    doc = json.loads(out)
    assert code == 0 and doc["input_format"] == "alpaca" and doc["converted"] is True
    assert doc["conversions"] == [
        "the UTF-8 byte order mark is removed",
        "the JSON array is written as JSONL",
        "alpaca records are rewritten in the openai format",
    ]
    code, out = _cli(["validate", str(path), "--json"])
    assert json.loads(out)["converted"] is None  # no provider: no upload format to compare


def test_cli_crash_is_exit_3_with_a_json_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from anytune import _preflight

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(_preflight, "validate", broken)
    path = write_lines(tmp_path, [OK])
    code, out = _cli(["validate", str(path), "--json"])
    assert code == 3
    assert json.loads(out) == {"error": {"type": "InternalError", "message": "RuntimeError: boom"}}
    code, out = _cli(["validate", str(path)])
    assert code == 3 and out == ""  # the human message goes to stderr


def test_cli_human_output_labels_errors_and_warnings(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [OK, OK, '{"messages": [}'])
    code, out = _cli(["validate", str(path)])
    lines = out.splitlines()
    assert code == 1
    assert any(ln.startswith(f"error {path}:3 ") and "(invalid_json)" in ln for ln in lines), out
    assert any(ln.startswith(f"warning {path}:2 ") and "(duplicate)" in ln for ln in lines), out
