"""Core test fixtures: a third-party provider installed through a real entry point, and
an isolated ANYTUNE_HOME for every test."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from anytune import _registry

HERE = Path(__file__).resolve().parent


def install_fake_site(site: Path) -> Path:
    """Make ``site`` a folder that holds the ``anytune-fake`` distribution, registered in
    the ``anytune.providers`` group exactly as a pip-installed third party would be."""
    shutil.copy(HERE / "fake_provider" / "anytune_fake.py", site / "anytune_fake.py")
    dist = site / "anytune_fake-0.1.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: anytune-fake\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[anytune.providers]\nfake = anytune_fake:FakeProvider\n"
    )
    return site


@pytest.fixture(scope="session", autouse=True)
def fake_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    site = install_fake_site(tmp_path_factory.mktemp("site"))
    sys.path.insert(0, str(site))
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), old]))
    _registry.refresh()
    yield site
    sys.path.remove(str(site))
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old
    _registry.refresh()


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own job store, fake-provider state and working folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("ANYTUNE_HOME", str(home))
    monkeypatch.setenv("ANYTUNE_FAKE_STATE", str(tmp_path / "fake-state.json"))
    monkeypatch.setenv("FAKE_API_KEY", "fake-key-for-tests")
    monkeypatch.setenv("ANYTUNE_CACHE_DIR", str(tmp_path / "cache"))  # never the user's catalog cache
    for var in ("ANYTUNE_PROVIDER", "ANYTUNE_PROFILE", "ANYTUNE_LOG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path
