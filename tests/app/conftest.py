"""Fixtures that drive the real main window offscreen (settings and runs in temp folders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLineEdit, QWidget

# A DCGAN-32 small enough that a step takes milliseconds on a 2-core CPU.
TINY = {
    "model.g_width": 8, "model.d_width": 8, "model.nz": 16, "train.batch_size": 8,
    "train.log_every": 2, "train.sample_every": 10, "train.checkpoint_every": 20,
    "train.sample_grid": 2, "train.device": "cpu", "train.threads": 1,
}
ENGINE_TIMEOUT_MS = 120_000
RUN_TIMEOUT_MS = 60_000


@pytest.fixture(autouse=True)
def _garbage_collected_on_the_gui_thread(qapp):
    """As the app does (ganstudio.app.gc_guard): Qt objects of one test must never be collected
    on a worker thread of the next, where Qt and PySide6 deadlock."""
    from ganstudio.app import gc_guard

    gc_guard.install(qapp)
    yield
    import gc

    gc.collect()


def set_field(qtbot, window, path: str, value: Any) -> None:
    """Change a run-panel field the way a person does (typing, picking, ticking)."""
    widget: QWidget = window.run_panel.input_widget(path)
    assert widget.isEnabled(), f"{path} is disabled"
    if isinstance(widget, QCheckBox):
        if widget.isChecked() != bool(value):
            qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    elif isinstance(widget, QComboBox):
        index = widget.findData(value)
        assert index >= 0, f"{value!r} is not offered for {path}"
        widget.setCurrentIndex(index)
    elif isinstance(widget, QAbstractSpinBox):
        widget.setValue(int(value))
    elif isinstance(widget, QLineEdit):
        widget.selectAll()
        qtbot.keyClicks(widget, str(value))
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    else:
        raise AssertionError(f"no way to set {type(widget).__name__} for {path}")


def set_fields(qtbot, window, values: dict[str, Any]) -> None:
    for path, value in values.items():
        set_field(qtbot, window, path, value)


@pytest.fixture
def runs_folder(tmp_path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def make_window(qtbot, runs_folder) -> Callable[..., Any]:
    """Open the real window (engine loaded), ready to train into ``runs_folder``."""
    from ganstudio.app.settings import Settings
    from ganstudio.app.window import MainWindow

    windows = []

    def make(open_path: Path | None = None, wait_for_preview: bool = True) -> Any:
        settings = Settings()
        settings.runs_folder = runs_folder
        window = MainWindow(settings, open_path=open_path)
        windows.append(window)
        window.show()
        qtbot.waitUntil(lambda: window.engine_ready, timeout=ENGINE_TIMEOUT_MS)
        if wait_for_preview and open_path is None:
            qtbot.waitUntil(lambda: window.run_panel.preview is not None, timeout=ENGINE_TIMEOUT_MS)
        return window

    yield make
    for window in windows:
        controller = window.controller
        if controller is not None and controller.is_running:
            with qtbot.waitSignals([controller.running_changed], timeout=RUN_TIMEOUT_MS):
                controller.stop()
        window.close()
        assert not window.isVisible(), "the window refused to close"
        window.deleteLater()


@pytest.fixture
def tiny_window(make_window, qtbot):
    """A window whose run panel holds a tiny, fast config."""

    def make(steps: int = 40, **extra: Any) -> Any:
        window = make_window()
        set_fields(qtbot, window, {**TINY, "train.steps": steps, **extra})
        assert window.run_panel.is_valid, window.run_panel.errors
        return window

    return make


def make_run(run_dir: Path, steps: int = 6, **overrides: Any) -> Path:
    """A finished tiny run made by the engine alone (what ganstudio-train leaves behind)."""
    from ganstudio.config import RunConfig
    from ganstudio.engine.trainer import Trainer

    config = RunConfig()
    values = {**TINY, "train.steps": steps, "train.log_every": 2, "train.sample_every": 3,
              "train.checkpoint_every": 3, **overrides}
    for key, value in values.items():
        config.set(key, value)
    final = Trainer(config, run_dir=run_dir, threaded_observer=False).run()
    assert final.__class__.__name__ == "TrainingFinished", final
    return run_dir
