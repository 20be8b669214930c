"""The latent explorer driven offscreen: sliders, seeds, variations, classes, points, exports."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QPushButton,
    QSlider,
    QToolButton,
    QWidget,
)

from ganstudio.app.latent.export_dialog import LatentExportDialog
from ganstudio.app.latent.panel import LatentPanel
from ganstudio.app.latent.state import slider_limit
from ganstudio.app.settings import LAST_EXPORT_FOLDER, Settings
from ganstudio.engine.sampling import latent_batch, render
from ganstudio.export.images import label_tensor, rerender
from ganstudio.export.png import read_png_metadata
from tests.export.tiny_generators import tiny_export, tiny_source

TIMEOUT_MS = 10_000


@pytest.fixture
def panel(qtbot):
    widget = LatentPanel()
    widget.renderer.neighbour_delay_s = 0.0   # variations at once: tests need not wait
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    yield widget
    widget.shutdown()


def wait_for_preview(qtbot, panel: LatentPanel) -> np.ndarray | None:
    """Wait until the newest request is on screen; returns its image (None for points)."""
    qtbot.waitUntil(lambda: panel.preview_is_current, timeout=TIMEOUT_MS)
    frame = panel.current_frame
    return None if frame.image is None else frame.image.copy()


def open_dialog(panel: LatentPanel) -> LatentExportDialog:
    shown = [d for d in panel.findChildren(LatentExportDialog, "latentExportDialog")
             if d.isVisible()]
    assert len(shown) == 1
    return shown[0]


def direct_render(source, latent, label=None) -> np.ndarray:
    return render(source.build_for_inference(), np.asarray(latent)[None], label_tensor(label))[0]


def test_moving_a_slider_changes_the_preview(qtbot, panel):
    source = tiny_source()
    panel.set_source(source)
    before = wait_for_preview(qtbot, panel)
    slider = panel.findChild(QSlider, "latentSlider_3")
    assert slider.accessibleName() == "Latent dimension 3" and slider.toolTip()
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)          # a person nudging it by keyboard
    after = wait_for_preview(qtbot, panel)
    assert not np.array_equal(before, after)
    assert panel.state.latent[3] == pytest.approx(slider.value() / 100)
    np.testing.assert_array_equal(after, direct_render(source, panel.state.latent))
    with qtbot.waitSignal(panel.preview.frame_painted, timeout=TIMEOUT_MS):
        slider.setValue(-250)
    assert panel.findChild(QLabel, "latentValue_3").text() == "−2.50"


def test_stale_requests_are_dropped_and_the_last_one_is_shown(qtbot, panel, monkeypatch):
    source = tiny_source()
    panel.set_source(source)
    wait_for_preview(qtbot, panel)
    renderer = panel.renderer
    gate = threading.Event()
    original = renderer._render_preview

    def held(*args):
        gate.wait(5)                  # the thread is busy while the hand keeps dragging
        original(*args)
    monkeypatch.setattr(renderer, "_render_preview", held)
    renders, requests = renderer.renders, renderer.requests
    slider = panel.sliders.sliders[0]
    for value in range(-250, 250, 10):                 # 50 slider events
        slider.setValue(value)
    gate.set()
    final = wait_for_preview(qtbot, panel)
    assert renderer.requests - requests == 50
    assert renderer.renders - renders <= 2             # the one in progress, then the newest
    assert panel.state.latent[0] == pytest.approx(2.4)
    np.testing.assert_array_equal(final, direct_render(source, panel.state.latent))


def test_reset_one_dimension_and_all(qtbot, panel):
    source = tiny_source()
    panel.set_source(source)
    wait_for_preview(qtbot, panel)
    seed_latent = latent_batch(source.nz, [0])[0].numpy()
    panel.sliders.sliders[1].setValue(200)
    panel.sliders.sliders[2].setValue(-200)
    assert panel.state.edited
    qtbot.mouseClick(panel.findChild(QToolButton, "latentReset_1"), Qt.MouseButton.LeftButton)
    assert panel.state.latent[1] == seed_latent[1] and panel.state.latent[2] == np.float32(-2)
    assert panel.sliders.sliders[1].value() == round(seed_latent[1] * 100)
    qtbot.mouseClick(panel.findChild(QToolButton, "latentResetAll"), Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(panel.state.latent, seed_latent)
    assert not panel.state.edited
    np.testing.assert_array_equal(wait_for_preview(qtbot, panel),
                                  direct_render(source, seed_latent))


def test_seed_box_and_randomise(qtbot, panel, monkeypatch):
    source = tiny_source()
    panel.set_source(source)
    first = wait_for_preview(qtbot, panel)
    panel.seed_spin.setValue(1234)
    np.testing.assert_array_equal(panel.state.latent, latent_batch(source.nz, [1234])[0].numpy())
    shown = wait_for_preview(qtbot, panel)
    assert not np.array_equal(first, shown) and panel.current_frame.tag == 1234
    monkeypatch.setattr("ganstudio.app.latent.panel.random.randrange", lambda _n: 987654321)
    qtbot.mouseClick(panel.findChild(QToolButton, "latentRandomise"), Qt.MouseButton.LeftButton)
    assert panel.seed_spin.value() == 987654321 and panel.state.seed == 987654321
    np.testing.assert_array_equal(wait_for_preview(qtbot, panel),
                                  direct_render(source, latent_batch(source.nz, [987654321])[0]))


def test_clicking_a_variation_makes_it_the_current_latent(qtbot, panel):
    source = tiny_source()
    panel.set_source(source)
    wait_for_preview(qtbot, panel)
    qtbot.waitUntil(lambda: len(panel._tile_latents) == 9, timeout=TIMEOUT_MS)
    button = panel.findChild(QToolButton, "latentNeighbour_4")
    assert button.isEnabled() and not button.icon().isNull() and button.toolTip()
    expected = panel.state.neighbour_latents()[4]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(panel.state.latent, expected)
    assert panel.sliders.sliders[0].value() == round(float(expected[0]) * 100)
    np.testing.assert_array_equal(wait_for_preview(qtbot, panel), direct_render(source, expected))
    panel.grid_combo.setCurrentIndex(1)                  # 4x4
    qtbot.waitUntil(lambda: len(panel._tile_latents) == 16, timeout=TIMEOUT_MS)
    assert len(panel.neighbours.buttons) == 16


def test_conditional_generator_offers_its_classes(qtbot, panel):
    source = tiny_source(class_names=("disc", "square", "triangle"))
    panel.set_source(source)
    first = wait_for_preview(qtbot, panel)
    combo = panel.class_combo
    assert combo.isVisibleTo(panel) and combo.objectName() == "latentClass"
    assert [combo.itemText(i) for i in range(combo.count())] == ["disc", "square", "triangle"]
    combo.setCurrentIndex(2)
    shown = wait_for_preview(qtbot, panel)
    assert panel.current_frame.label == 2 and not np.array_equal(first, shown)
    np.testing.assert_array_equal(shown, direct_render(source, panel.state.latent, 2))
    panel.set_source(tiny_source())                       # unconditional: no selector
    wait_for_preview(qtbot, panel)
    assert not combo.isVisibleTo(panel) and panel.current_frame.label is None


def test_points_generator_shows_its_distribution_and_the_current_point(qtbot, panel):
    source = tiny_source("points", nz=4)
    panel.set_source(source)
    assert wait_for_preview(qtbot, panel) is None
    assert panel.view_stack.currentWidget() is panel.points
    qtbot.waitUntil(lambda: len(panel.points.cloud_item.data) == 1000, timeout=TIMEOUT_MS)
    generator = source.build_for_inference()
    np.testing.assert_allclose(panel.points.current, render(generator, panel.state.latent[None])[0],
                               rtol=1e-6)
    qtbot.waitUntil(lambda: len(panel._tile_latents) == 9, timeout=TIMEOUT_MS)
    assert len(panel.points.neighbour_item.data) == 9
    assert not panel.export_grid_button.isEnabled()
    panel.points.chosen.emit(2)                             # a variation point clicked
    np.testing.assert_array_equal(panel.state.latent, panel._tile_latents[2])
    wait_for_preview(qtbot, panel)
    np.testing.assert_allclose(panel.points.current,
                               render(generator, panel.state.latent[None])[0], rtol=1e-6)


def test_a_new_snapshot_of_the_same_run_keeps_the_latent(qtbot, panel):
    first = tiny_source(seed=0, step=100)
    panel.set_source(first)
    wait_for_preview(qtbot, panel)
    panel.seed_spin.setValue(77)
    panel.sliders.sliders[5].setValue(180)
    latent = panel.state.latent.copy()
    wait_for_preview(qtbot, panel)
    later = tiny_source(seed=1, step=200)                 # same spec, trained further
    panel.set_source(later)
    shown = wait_for_preview(qtbot, panel)
    assert panel.current_frame.source is later and panel.state.seed == 77
    np.testing.assert_array_equal(panel.state.latent, latent)
    assert panel.sliders.sliders[5].value() == 180
    np.testing.assert_array_equal(shown, direct_render(later, latent))
    other = tiny_source(nz=12)                            # a different generator: new sliders
    panel.set_source(other)
    wait_for_preview(qtbot, panel)
    assert len(panel.sliders.sliders) == 12 and panel.state.seed == 77
    np.testing.assert_array_equal(panel.state.latent, latent_batch(12, [77])[0].numpy())


def test_uniform_latents_get_unit_sliders(qtbot, panel):
    source = tiny_source()
    source.metadata["latent_distribution"] = "uniform"
    panel.set_source(source)
    wait_for_preview(qtbot, panel)
    assert slider_limit("uniform") == 1.0
    assert panel.sliders.sliders[0].maximum() == 100
    assert np.abs(panel.state.latent).max() <= 1.0


def test_without_a_generator_the_panel_says_so(qtbot, panel):
    assert not panel.seed_spin.isEnabled() and not panel.export_preview_button.isEnabled()
    panel.set_source(tiny_source())
    wait_for_preview(qtbot, panel)
    assert panel.seed_spin.isEnabled() and panel.export_preview_button.isEnabled()
    panel.set_source(None)
    assert panel.current_frame is None and panel.preview.image() is None
    assert not panel.sliders.isEnabled() and panel.header.title.text() == "No generator"


@pytest.mark.parametrize("scale,smooth", [(1, False), (4, False), (3, True)])
def test_exported_preview_carries_provenance_and_renders_again(qtbot, panel, tmp_path, scale,
                                                               smooth):
    source = tiny_export(tmp_path, step=321)
    panel.set_source(source)
    panel.seed_spin.setValue(9)
    panel.sliders.sliders[0].setValue(150)
    shown = wait_for_preview(qtbot, panel)
    target = tmp_path / f"preview-{scale}.png"
    with qtbot.waitSignal(panel.image_exported, timeout=TIMEOUT_MS) as exported:
        panel.export_preview_to(target, scale, smooth)
    assert exported.args == [str(target)]
    meta = read_png_metadata(target)
    assert (meta["step"], meta["seed"], meta["scale"], meta["smooth"]) == (321, 9, scale, smooth)
    assert meta["checkpoint"] == str(tmp_path / "generator.safetensors")
    assert meta["generator"] == source.label and meta["latent_edited"] is True
    np.testing.assert_array_equal(np.asarray(meta["latent"], np.float32), panel.state.latent)
    with Image.open(target) as image:
        pixels = np.asarray(image)
    assert pixels.shape == (32 * scale, 32 * scale, 3)
    if not smooth:
        np.testing.assert_array_equal(pixels[::scale, ::scale], shown)
    np.testing.assert_array_equal(rerender(meta), pixels)


def test_export_dialogs_write_a_grid_and_remember_the_folder(qtbot, panel, tmp_path):
    source = tiny_export(tmp_path, class_names=("a", "b"))
    panel.set_source(source)
    panel.seed_spin.setValue(40)
    panel.class_combo.setCurrentIndex(1)
    wait_for_preview(qtbot, panel)
    out = tmp_path / "exports"
    out.mkdir()

    qtbot.mouseClick(panel.findChild(QPushButton, "latentExportGrid"), Qt.MouseButton.LeftButton)
    dialog = open_dialog(panel)
    dialog.path_edit.setText(str(out / "grid.png"))
    dialog.grid_spin.setValue(3)
    dialog.scale_spin.setValue(2)
    assert dialog.size_label.text() == "208 × 208 pixels, 9 images"
    with qtbot.waitSignal(panel.image_exported, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.findChild(QPushButton, "latentExportOk"),
                         Qt.MouseButton.LeftButton)
    meta = read_png_metadata(out / "grid.png")
    assert meta["seeds"] == [40, 48] and meta["class_name"] == "b" and meta["scale"] == 2
    with Image.open(out / "grid.png") as image:
        np.testing.assert_array_equal(rerender(meta), np.asarray(image))
    assert Settings().folder(LAST_EXPORT_FOLDER) == out

    # The next dialog starts in the remembered folder, with the remembered scale.
    qtbot.mouseClick(panel.findChild(QPushButton, "latentExportPreview"),
                     Qt.MouseButton.LeftButton)
    dialog = open_dialog(panel)
    assert Path(dialog.path_edit.text()).parent == out and dialog.scale_spin.value() == 2
    dialog.path_edit.setText(str(out / "not-a-png.jpg"))
    assert not dialog.findChild(QPushButton, "latentExportOk").isEnabled()
    assert "must end in .png" in dialog.error_label.text()
    dialog.reject()


def test_every_control_is_named_and_explained(qtbot, panel):
    panel.set_source(tiny_source(class_names=("a", "b")))
    wait_for_preview(qtbot, panel)
    interactive = [w for w in panel.findChildren(QWidget)
                   if isinstance(w, (QSlider, QToolButton, QPushButton, QAbstractSpinBox,
                                     QComboBox))]
    assert len(interactive) > 8 * 3                      # 8 latent dimensions, 3 widgets each
    for widget in interactive:
        assert widget.objectName().startswith("latent"), type(widget).__name__
        assert widget.accessibleName(), widget.objectName()
        assert widget.toolTip(), widget.objectName()


def test_works_inside_a_dock(qtbot, tmp_path):
    window = QMainWindow()
    qtbot.addWidget(window)
    dock = QDockWidget("Latent space", window)
    panel = LatentPanel()
    dock.setWidget(panel)
    window.setCentralWidget(QLabel("the training view"))
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.resize(1200, 800)
    window.show()
    window.resizeDocks([dock], [420], Qt.Orientation.Horizontal)
    try:
        panel.set_source(tiny_export(tmp_path))
        wait_for_preview(qtbot, panel)
        assert window.findChild(LatentPanel, "latentPanel") is panel
        qtbot.waitUntil(lambda: panel.width() < panel.height())
        assert panel.splitter.orientation() == Qt.Orientation.Vertical   # tall and narrow
        with qtbot.waitSignal(panel.status_message, timeout=TIMEOUT_MS):
            panel.export_preview_to(tmp_path / "dock.png")
    finally:
        panel.shutdown()


def test_shutdown_returns_promptly_and_stops_rendering(qtbot, panel, tmp_path):
    panel.set_source(tiny_source())
    wait_for_preview(qtbot, panel)
    panel.export_grid_to(tmp_path / "big.png", 16)       # 256 renders, stopped half way
    start = time.monotonic()
    panel.shutdown()
    assert time.monotonic() - start < 1.0
    assert not (tmp_path / "big.png").exists()
    assert not panel.renderer.is_running
    requests = panel.renderer.requests
    panel.sliders.sliders[0].setValue(100)           # ignored after shutdown, no error
    panel.set_source(tiny_source(seed=3))
    assert panel.renderer.requests == requests


def test_following_a_training_run_through_its_snapshots(qtbot, panel, tmp_path):
    from ganstudio.data.base import DatasetInfo, ImageDataset
    from ganstudio.engine.events import CollectingObserver, GeneratorSnapshot
    from ganstudio.engine.trainer import Trainer
    from tests.engine.conftest import make_tiny_config

    # 32 random images instead of the built-in set: the test is about snapshots, not data.
    images = np.random.default_rng(0).integers(0, 256, (32, 3, 32, 32), dtype=np.uint8)
    dataset = ImageDataset(images, DatasetInfo("noise", "image", (3, 32, 32), 32))
    observer = CollectingObserver()
    Trainer(make_tiny_config(**{"optim.ema": True}), run_dir=tmp_path / "run",
            observer=observer, threaded_observer=False, generator_snapshots=True,
            dataset=dataset).run()
    snapshots = [event.source for event in observer.of_type(GeneratorSnapshot)][-2:]
    assert [s.step for s in snapshots] == [3, 6]
    panel.set_source(snapshots[0])
    panel.seed_spin.setValue(5)
    panel.sliders.sliders[1].setValue(-120)
    wait_for_preview(qtbot, panel)
    assert "step 3" in panel.header.title.text() and "EMA" in panel.header.title.text()
    panel.set_source(snapshots[1])                      # the next sample step arrives
    shown = wait_for_preview(qtbot, panel)
    assert panel.state.seed == 5 and panel.state.latent[1] == np.float32(-1.2)
    np.testing.assert_array_equal(shown, direct_render(snapshots[1], panel.state.latent))
    with qtbot.waitSignal(panel.image_exported, timeout=TIMEOUT_MS):
        panel.export_preview_to(tmp_path / "live.png", 2)
    meta = read_png_metadata(tmp_path / "live.png")
    assert meta["run"] == str(tmp_path / "run") and meta["step"] == 6 and meta["ema"] is True
    assert meta["checkpoint"] == str(tmp_path / "run" / "checkpoints" / "step-000000006.pt")
    with Image.open(tmp_path / "live.png") as image:
        np.testing.assert_array_equal(rerender(meta), np.asarray(image))


def test_a_failed_export_is_reported_with_the_file(qtbot, panel, tmp_path):
    panel.set_source(tiny_source())
    wait_for_preview(qtbot, panel)
    exported = []
    panel.image_exported.connect(exported.append)
    with qtbot.waitSignal(panel.status_message, timeout=TIMEOUT_MS) as message:
        panel.export_preview_to(tmp_path)                 # a folder, not a file
    assert message.args[0].startswith("Could not export the preview")
    assert str(tmp_path) in message.args[0] and not exported
