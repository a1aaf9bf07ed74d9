"""Together's spec checker keeps its knobs: the SDK's upload flow is skipped, the spec's
``lr_scheduler_args`` defect is ignored (and nothing else), ``/v1`` is stripped and a
literal path wins over ``{id}``. The session-wide check of every recorded exchange is in
conftest."""

from __future__ import annotations

from typing import Any

import pytest
from together_spec import SPEC_PATH, TOGETHER_SPEC

pytestmark = pytest.mark.skipif(not SPEC_PATH.is_file(), reason="Together spec not available")


def _create(**extra: Any) -> dict[str, Any]:
    request = {"training_file": "file-1", "model": "m", **extra}
    return {
        "method": "POST",
        "path": "/v1/fine-tunes",
        "query": "",
        "content_type": "application/json",
        "request": request,
        "status": None,
    }


def test_the_upload_flow_is_skipped_and_other_unknown_paths_are_not() -> None:
    for method, path in [
        ("POST", "/v1/files"),
        ("PUT", "/v1/_emulator/uploads/u-1"),
        ("POST", "/v1/files/file-1/preprocess"),
    ]:
        assert TOGETHER_SPEC.validate({"method": method, "path": path, "status": 302}) == []
    assert TOGETHER_SPEC.validate({"method": "PUT", "path": "/v1/files/file-1", "status": 200})


def test_only_the_lr_scheduler_args_defect_is_ignored() -> None:
    cosine = {"lr_scheduler_type": "cosine", "lr_scheduler_args": {"min_lr_ratio": 0.0, "num_cycles": 0.5}}
    assert TOGETHER_SPEC.validate(_create(lr_scheduler=cosine)) == []
    problems = TOGETHER_SPEC.validate(_create(lr_scheduler=cosine, n_epochs="three"))
    assert len(problems) == 1 and "n_epochs" in problems[0]


def test_errors_follow_error_data_and_literal_paths_win() -> None:
    found = TOGETHER_SPEC.operation("POST", "/v1/fine-tunes/estimate-price")
    assert found is not None and found[0] == "/paths/~1fine-tunes~1estimate-price/post"
    missing = {"method": "GET", "path": "/v1/fine-tunes/ft-1", "status": 404, "response": {"detail": "x"}}
    assert any("404" in p for p in TOGETHER_SPEC.validate(missing))
