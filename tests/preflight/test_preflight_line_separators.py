"""U+2028 and U+2029 are legal raw inside JSON strings, but line readers that follow
Python's ``str.splitlines()`` or JavaScript's rules end a line there. GSM8K record 2382
holds two: anytune reads such a file by ``\\n`` alone, and writes the separators escaped,
so its output is safe for any line reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from preflight_helpers import OpenAILike, real

from anytune import Hyperparameters, convert, validate
from anytune._preflight import prepare

SAMPLE = "instruction_alpaca/alpacadatacleaned_gsm_8k_train.2377-2388.jsonl"


def _record_2382() -> dict:
    return json.loads(real(SAMPLE).read_text(encoding="utf-8").split("\n")[5])


def test_the_sample_holds_raw_separators_and_validates_as_12_records() -> None:
    text = real(SAMPLE).read_text(encoding="utf-8")
    assert text.count("\u2028") == 2 and len(text.splitlines()) == 14  # what a naive reader sees
    report = validate(real(SAMPLE), provider=OpenAILike(), model="m")
    assert report.ok and report.records == report.valid == 12


@pytest.mark.parametrize("target", ["openai", "together", "vertex", "alpaca"])
def test_convert_escapes_the_separators(target: str, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert convert(real(SAMPLE), to=target, output=out).records == 12
    raw = out.read_bytes()
    assert "\u2028".encode() not in raw and b"\\u2028" in raw
    text = raw.decode("utf-8")
    assert len(text.splitlines()) == 12  # safe for str.splitlines() now
    # the escape reads back as the same character: the text is intact
    back = json.dumps([json.loads(line) for line in text.splitlines()], ensure_ascii=False)
    assert _record_2382()["instruction"] in back


def test_prepared_upload_file_escapes_the_separators_and_keeps_the_text(tmp_path: Path) -> None:
    prepared = prepare(real(SAMPLE), provider=OpenAILike(), model="m", method="sft",
                       hyperparameters=Hyperparameters(), workdir=tmp_path)
    raw = prepared.path.read_bytes()
    assert "\u2028".encode() not in raw and "\u2029".encode() not in raw
    records = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    assert len(records) == 12
    assert records[5]["messages"][0]["content"] == _record_2382()["instruction"]
    assert "\u2028" in records[5]["messages"][0]["content"]
