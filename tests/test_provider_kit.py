"""The provider boundary is public: built-in providers and the examples import only what
a third-party provider can import (``anytune``, ``anytune.provider``, ``anytune.errors``,
``anytune.emulator``, ``anytune.testing``, ...), never a private core module, and each
provider package pins the core range whose kit it was written against."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
PROVIDERS = sorted(p for p in (ROOT / "providers").iterdir() if (p / "pyproject.toml").is_file())

#: White-box tests that drive a private core flow on purpose, with the reason.
ALLOWED = {
    # injects a clock into the core's create flow to prove OpenAI's shutdown refuses a
    # job before any request; the public API has no clock argument, and should not.
    "providers/openai/tests/test_openai_catalog.py": {"anytune._create", "anytune._flow", "anytune._store"},
}


def _sources() -> list[Path]:
    files = [p for d in PROVIDERS for p in d.rglob("*.py") if ".venv" not in p.parts]
    return files + sorted((ROOT / "examples").rglob("*.py"))


def private_imports(path: Path) -> set[str]:
    """Modules under ``anytune`` with a private component that ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        for name in names:
            parts = name.split(".")
            if parts[0] == "anytune" and any(p.startswith("_") for p in parts[1:]):
                found.add(name)
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_the_public_kit(path: Path) -> None:
    rel = str(path.relative_to(ROOT))
    extra = private_imports(path) - ALLOWED.get(rel, set())
    assert not extra, f"{rel} imports private core modules {sorted(extra)}: use the public kit"


def test_the_scanner_sees_private_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import anytune._log\nfrom anytune._types import JobSnapshot\nfrom anytune.provider import Provider\n"
        "def f():\n    from anytune.tracking._hooks import TrackingContext\n"
    )
    assert private_imports(probe) == {"anytune._log", "anytune._types", "anytune.tracking._hooks"}


@pytest.mark.parametrize("folder", PROVIDERS, ids=lambda p: p.name)
def test_each_provider_pins_a_compatible_core(folder: Path) -> None:
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    core = ROOT / "pyproject.toml"
    version = tomllib.loads(core.read_text())["project"]["version"]
    (pin,) = [d for d in project["dependencies"] if re.match(r"anytune\b(?!-)", d)]
    lower, upper = re.fullmatch(r"anytune>=([\d.]+),<([\d.]+)", pin.replace(" ", "")).groups()  # type: ignore[union-attr]

    def as_tuple(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in v.split("."))

    assert as_tuple(lower) <= as_tuple(version) < as_tuple(upper), f"{folder.name}: {pin}, core {version}"
