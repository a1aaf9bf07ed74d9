"""The layout shows the architecture (docs/architecture.md, "The architecture contract"):
each provider's emulator lives in its own ``emulator/`` subpackage, apart from the code
users run, and is loaded only when asked for."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from anytune._registry import provider_class

ROOT = Path(__file__).resolve().parents[1]
#: Providers whose ``emulator()`` hook serves their API from ``anytune_<name>/emulator/``.
WITH_EMULATOR = ("openai", "together", "vertex", "ray")


@pytest.mark.parametrize("name", WITH_EMULATOR)
def test_the_emulator_hook_serves_the_emulator_subpackage(name: str) -> None:
    package = importlib.import_module(f"anytune_{name}.emulator")
    emulator = provider_class(name).emulator(port=0)  # built, not started
    assert type(emulator).__module__.startswith(f"anytune_{name}.emulator.")
    assert type(emulator).__name__ in package.__all__  # exported where users look for it
    assert (ROOT / "providers" / name / "src" / f"anytune_{name}" / "emulator" / "__init__.py").is_file()
    assert not list((ROOT / "providers" / name / "src" / f"anytune_{name}").glob("_emulator*.py"))


def test_using_a_provider_does_not_load_its_emulator() -> None:
    """The emulator (an HTTP server, its state, vendor routes) is not code a user runs:
    importing a provider and building it leaves it unloaded."""
    code = (
        "import sys\n"
        f"names = {WITH_EMULATOR!r}\n"
        "from anytune._registry import provider_class\n"
        "for n in names:\n"
        "    provider_class(n)()\n"
        "emulators = tuple(f'anytune_{n}.emulator' for n in names)\n"
        "print(sorted(m for m in sys.modules if m.startswith(emulators)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout
