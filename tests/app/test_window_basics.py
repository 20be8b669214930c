"""The window as a whole: names and tooltips, settings, About, themes, launch, the 2-D view."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QScrollBar,
    QTabBar,
    QWidget,
)

from tests.conftest import PROJECT_ROOT

from .conftest import RUN_TIMEOUT_MS, TINY, set_fields

INTERACTIVE = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractSlider,
               QAbstractItemView)


def _inside(widget: QWidget, kinds: tuple) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parentWidget()
    return False


def _own_interactive_widgets(window) -> list[QWidget]:
    """Interactive widgets the window made (Qt's internals and the latent panel excluded)."""
    found = []
    latent = window.latent_panel
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE) or isinstance(widget, (QScrollBar, QTabBar)):
            continue
        if widget.objectName().startswith("qt_"):
            continue  # dock title buttons, spin box line edits, toolbar extension...
        if _inside(widget, (QAbstractSpinBox, QComboBox, QTabBar)):
            continue  # a spin box's line edit, a combo's popup, a tab bar's scroll arrows
        if latent is not None and (widget is latent or latent.isAncestorOf(widget)):
            continue  # named and tested by its own author
        if type(widget).__module__.startswith("pyqtgraph"):
            continue
        found.append(widget)
    return found


def test_every_interactive_widget_has_a_name_an_accessible_name_and_a_tooltip(make_window):
    window = make_window()
    widgets = _own_interactive_widgets(window)
    assert len(widgets) > 60  # really looked: every run setting has an input
    missing = [f"{type(w).__name__} {w.objectName()!r}" for w in widgets
               if not w.objectName() or not w.accessibleName() or not w.toolTip()]
    assert not missing, missing
    names = [w.objectName() for w in widgets]
    assert len(names) == len(set(names)), "object names must be unique"


def test_window_state_lives_in_the_test_settings_folder_and_comes_back(make_window, qtbot):
    import os

    from ganstudio.app.settings import settings_path

    window = make_window()
    qtbot.waitUntil(lambda: window.plots is not None)
    window.plots_dock.hide()
    window.plots.smoothing_slider.setValue(30)
    window.run_panel.set_runs_folder(str(PROJECT_ROOT / "no-such-runs-folder-for-tests"))
    window.close()
    ini = settings_path()
    assert ini is not None and ini.is_file()
    assert str(ini).startswith(os.environ["GANSTUDIO_CONFIG_DIR"])
    text = ini.read_text()
    assert "no-such-runs-folder-for-tests" in text and "geometry=" in text and "state=" in text

    again = make_window()
    assert not again.plots_dock.isVisible()
    assert again.plots.smoothing == 0.3


def test_about_lists_versions_and_the_device(make_window, qtbot):
    window = make_window()
    window.about_action.trigger()
    dialog = window.about_dialog
    qtbot.waitUntil(dialog.isVisible)
    text = dialog.text()
    for name in ("GAN Studio: 0.1.0", "PyTorch: 2", "PySide6: 6", "pyqtgraph: 0", "Python: 3"):
        assert name in text
    assert "CPU" in text
    dialog.reject()


def test_the_theme_can_be_switched_to_dark_and_back(make_window, qtbot):
    from PySide6.QtWidgets import QApplication

    from ganstudio.app.theme import ThemeManager, current_theme_is_dark

    app = QApplication.instance()
    theme = ThemeManager(app, "light")
    try:
        assert not current_theme_is_dark()
        theme.set_choice("dark")
        assert current_theme_is_dark()
        window = make_window()
        qtbot.waitUntil(lambda: window.plots is not None)
        background = window.plots.view.backgroundBrush().color()
        assert background.lightness() < 100
    finally:
        theme.set_choice("light")


def test_every_icon_loads_and_paints(qapp):
    from ganstudio.app.resources import icon, icon_names

    names = icon_names()
    assert {"train", "pause", "step", "stop", "ganstudio"} <= set(names)
    for name in names:
        image = icon(name).pixmap(QSize(32, 32), 2.0).toImage()
        assert image.width() == 64, name          # painted at device pixels (high DPI)
        assert any(image.pixelColor(x, y).alpha() > 0 for x in range(64) for y in range(64))
    assert not QIcon(icon("train")).isNull()


def test_the_window_module_shows_without_importing_torch_or_pyqtgraph():
    """Launch speed: PyTorch and pyqtgraph must load after the first paint, not before."""
    code = ("import sys; import ganstudio.app.main, ganstudio.app.window; "
            "heavy = [m for m in ('torch', 'pyqtgraph', 'numpy', 'superqt') if m in sys.modules];"
            "print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_command_line_version_and_help_need_no_display():
    result = subprocess.run([sys.executable, "-m", "ganstudio", "--version"],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == 0 and "GAN Studio 0.1.0" in result.stdout


@pytest.mark.parametrize("dataset", ["ring"])
def test_a_2d_toy_run_shows_points_over_ds_output(make_window, qtbot, dataset):
    window = make_window()
    window.run_panel.set_dataset(dataset)
    assert window.points_dock.isVisible()
    qtbot.waitUntil(lambda: window.run_panel.preview is not None
                    and window.run_panel.preview.kind == "points", timeout=RUN_TIMEOUT_MS)
    values = {k: v for k, v in TINY.items() if not k.startswith("model.")}
    set_fields(qtbot, window, {**values, "train.steps": 20, "train.batch_size": 64})
    assert window.run_panel.is_valid, window.run_panel.errors
    with qtbot.waitSignal(window.controller.training_finished, timeout=RUN_TIMEOUT_MS):
        window.train_action.trigger()
    view = window.points_view
    qtbot.waitUntil(lambda: view.step == 20, timeout=RUN_TIMEOUT_MS)
    assert view.fake_item.data.size == 1000 and view.real_item.data.size == 1000
    assert view.heatmap.image is not None and view.heatmap.image.shape == (64, 64)
    assert "of 8 modes" in view.status.text()
    assert window.gallery.count == 3          # the 2-D snapshots are in the gallery too


def test_void_qt_calls_do_not_leak_references_to_none(qapp):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every void Qt call, and a
    window that paints plots aborts within minutes ("none_dealloc"); pyproject.toml excludes
    that release. This guards against installing it (or a later release with the same bug)."""
    from PySide6.QtCore import QObject
    from PySide6.QtGui import QPen

    probe, pen = QObject(), QPen()
    before = sys.getrefcount(None)
    for _ in range(1000):
        probe.setObjectName("x")
        pen.setWidth(2)
    assert abs(sys.getrefcount(None) - before) < 50


def test_a_toy_dataset_fills_in_its_settings_but_never_overrides_the_persons(make_window, qtbot):
    from .conftest import set_field

    window = make_window()
    panel = window.run_panel
    set_field(qtbot, window, "data.name", "ring")
    assert panel.editor("train.batch_size").value() == 256
    assert float(panel.editor("optim.lr_g").value()) == pytest.approx(1e-3)
    set_field(qtbot, window, "optim.lr_d", 0.005)          # the person's own choice
    set_field(qtbot, window, "data.name", "glyphs")
    assert panel.editor("train.batch_size").value() == 32  # the suggestion is taken back
    assert float(panel.editor("optim.lr_g").value()) == pytest.approx(2e-4)
    assert float(panel.editor("optim.lr_d").value()) == pytest.approx(0.005)
