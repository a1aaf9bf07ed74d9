"""Provider discovery through the entry-point group, lazily."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from anytune import ConfigurationError, UnknownProviderError, _registry
from anytune.provider import Provider


def test_a_third_party_provider_is_found_through_its_entry_point() -> None:
    assert "fake" in _registry.available()
    cls = _registry.provider_class("fake")
    assert issubclass(cls, Provider) and cls.name == "fake"
    assert _registry.create_provider("fake").name == "fake"


def test_providers_are_imported_only_when_used(fake_site: Path) -> None:
    code = (
        "import sys, anytune\n"
        "from anytune import _registry\n"
        "assert 'fake' in _registry.available()\n"
        "assert 'anytune_fake' not in sys.modules, 'listed providers must not be imported'\n"
        "_registry.provider_class('fake')\n"
        "assert 'anytune_fake' in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(fake_site)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_importing_anytune_imports_no_provider_sdk_or_torch() -> None:
    code = (
        "import sys, anytune\n"
        "heavy = [m for m in ('torch', 'transformers', 'openai', 'together', 'google', 'trl',"
        " 'peft', 'tiktoken', 'rich', 'typer', 'pydantic', 'httpx') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_provider_names_the_installed_ones_and_no_package_that_does_not_exist() -> None:
    with pytest.raises(UnknownProviderError) as info:
        _registry.provider_class("acme")
    msg = str(info.value)
    # No anytune-acme package exists: no advice to install one (issue 16).
    assert "fake" in msg and "pip install" not in msg
    assert isinstance(info.value, ConfigurationError)


def _register(site: Path, name: str, target: str, module: str, source: str) -> None:
    (site / f"{module}.py").write_text(source)
    dist = site / f"{module}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[anytune.providers]\n{name} = {target}\n")


def test_entry_point_that_is_not_a_provider_is_refused(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _register(tmp_path, "bogus", "bogus_mod:Thing", "bogus_mod", "class Thing:\n    pass\n")
    _register(tmp_path, "misnamed", "misnamed_mod:P", "misnamed_mod",
              "from anytune.provider import Provider\nclass P(Provider):\n    name = 'other'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _registry.refresh()
    try:
        with pytest.raises(ConfigurationError, match=r"not an anytune\.provider\.Provider"):
            _registry.provider_class("bogus")
        with pytest.raises(ConfigurationError, match="must match"):
            _registry.provider_class("misnamed")
    finally:
        monkeypatch.undo()
        _registry.refresh()
