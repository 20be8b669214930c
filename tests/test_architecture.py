"""The core (everything but ganstudio.app) never imports Qt."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

QT_MODULES = ("PySide6", "pyqtgraph", "superqt", "shiboken6")

_IMPORT_EVERY_CORE_MODULE = f"""
import importlib, pkgutil, sys
import ganstudio
names = [m.name for m in pkgutil.walk_packages(ganstudio.__path__, "ganstudio.")
         if not m.name.startswith("ganstudio.app") and m.name != "ganstudio.__main__"]
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {QT_MODULES!r})
print(len(names), "modules")
if loaded:
    raise SystemExit("core imported Qt: " + ", ".join(loaded))
"""


def test_importing_every_core_module_loads_no_qt():
    result = subprocess.run([sys.executable, "-c", _IMPORT_EVERY_CORE_MODULE],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout.split()[0]) >= 20  # really walked the package


def test_import_linter_contract_holds():
    lint = shutil.which("lint-imports", path=str(PROJECT_ROOT / ".venv" / "bin")) or shutil.which(
        "lint-imports")
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e .[dev])")
    result = subprocess.run([lint, "--no-cache"], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout
