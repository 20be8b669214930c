"""Shared test setup: offscreen Qt, isolated settings and caches, and the real MNIST files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Qt must never try to reach a display in tests, and must never read the user's settings.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MNIST_T10K = PROJECT_ROOT.parent / "shared" / "data" / "mnist-t10k"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Point every per-user folder (caches, settings, runs) at a temporary place."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GANSTUDIO_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("GANSTUDIO_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    yield


@pytest.fixture
def mnist_t10k() -> Path:
    """The real MNIST test split (IDX, gzip) from ../shared; skips where it is absent."""
    if not (MNIST_T10K / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST test split not found at {MNIST_T10K} "
                    "(../shared/data/mnist-t10k is only present in the development checkout)")
    return MNIST_T10K
