"""The latent explorer beyond raw sliders: directions, truncation, seeds by keyboard, locks,
interpolation (play, export, cancel), restoring dropped PNGs, Copy as command, follow/freeze."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QPushButton, QSlider, QToolButton

from ganstudio.app.latent.panel import LatentPanel
from ganstudio.app.latent.state import DIRECTIONS, RAW, STRIP_VALUES
from ganstudio.engine.sampling import latent_batch, render
from ganstudio.explore.paths import interpolate
from ganstudio.export.animation import count_frames
from ganstudio.export.png import read_png_metadata
from tests.export.tiny_generators import tiny_export, tiny_source

TIMEOUT_MS = 20_000


@pytest.fixture
def panel(qtbot):
    widget = LatentPanel()
    widget.renderer.neighbour_delay_s = 0.0
    widget.fit_samples = 60                     # a quick fit: the tests are about the panel
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    yield widget
    widget.shutdown()


def shown_image(qtbot, panel) -> np.ndarray:
    qtbot.waitUntil(lambda: panel.preview_is_current, timeout=TIMEOUT_MS)
    return panel.current_frame.image.copy()


def direct(source, latent, label=None) -> np.ndarray:
    from ganstudio.export.images import label_tensor

    return render(source.build_for_inference(), np.asarray(latent)[None], label_tensor(label))[0]


def fit(qtbot, panel):
    with qtbot.waitSignal(panel.directions_ready, timeout=TIMEOUT_MS) as ready:
        panel.set_mode(DIRECTIONS)
    return ready.args[0]


def test_directions_mode_fits_labels_sliders_and_fills_their_strips(qtbot, panel):
    source = tiny_source()
    panel.set_source(source)
    shown_image(qtbot, panel)
    directions = fit(qtbot, panel)
    assert panel.state.mode == DIRECTIONS and directions.count == 8
    assert panel.slider_stack.currentWidget() is panel.direction_sliders
    name = panel.findChild(object, "latentDirectionName_0").text()
    assert name.startswith("PC1 · ") and name.endswith("%")
    strip = panel.direction_sliders.strips[2]
    qtbot.waitUntil(lambda: all(b.isEnabled() and not b.icon().isNull() for b in strip),
                    timeout=TIMEOUT_MS)
    slider = panel.findChild(QSlider, "latentDirection_2")
    slider.setValue(150)                                   # +1.5 sigma along PC3
    expected = panel.state.latent + np.float32(1.5) * directions.sigma[2] * directions.components[2]
    np.testing.assert_allclose(panel.state.shown(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(shown_image(qtbot, panel), direct(source, panel.state.shown()))
    qtbot.mouseClick(panel.findChild(QToolButton, "latentStrip_1_4"), Qt.MouseButton.LeftButton)
    assert panel.state.direction_values[1] == np.float32(STRIP_VALUES[4])
    assert panel.findChild(QSlider, "latentDirection_1").value() == 300
    panel.set_mode(RAW)
    assert panel.slider_stack.currentWidget() is panel.sliders
    assert panel.state.direction_values[2] == np.float32(1.5)      # kept while hidden


def test_a_fit_is_cached_per_generator_and_can_be_cancelled(qtbot, panel):
    source = tiny_source()
    panel.set_source(source)
    first = fit(qtbot, panel)
    assert list(panel.directions_cache.folder.glob(f"{source.sha256[:32]}-*.npz"))
    panel.state.set_directions(None)
    with qtbot.waitSignal(panel.directions_ready, timeout=TIMEOUT_MS) as again:
        panel.fit_directions()
    assert again.args[0].basis_id == first.basis_id
    panel.fit_samples = 200_000                     # long enough to be cancelled
    panel.fit_directions(refit=True)
    assert panel.fitting and panel.fit_progress.isVisible()
    qtbot.mouseClick(panel.findChild(QToolButton, "latentFitCancel"), Qt.MouseButton.LeftButton)
    assert not panel.fitting and not panel.fit_progress.isVisible()
    assert panel.findChild(QPushButton, "latentFitDirections").isEnabled()


def test_truncation_pulls_the_preview_towards_the_mean(qtbot, panel):
    source = tiny_source()
    panel.set_source(source)
    panel.set_seed(21)
    before = shown_image(qtbot, panel)
    panel.findChild(QSlider, "latentTruncation").setValue(40)
    z = latent_batch(source.nz, [21])[0].numpy()
    np.testing.assert_array_equal(panel.state.shown(), z * np.float32(0.4))
    after = shown_image(qtbot, panel)
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, direct(source, z * np.float32(0.4)))
    assert panel.findChild(object, "latentTruncationValue").text() == "0.40"


def test_arrow_keys_step_through_seeds(qtbot, panel):
    source = tiny_source()
    panel.set_source(source)
    panel.set_seed(10)
    shown_image(qtbot, panel)
    panel.setFocus()
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    assert panel.state.seed == 12 and panel.seed_spin.value() == 12
    np.testing.assert_array_equal(shown_image(qtbot, panel),
                                  direct(source, latent_batch(source.nz, [12])[0]))
    qtbot.keyClick(panel, Qt.Key.Key_Left)
    assert panel.state.seed == 11


def test_locked_sliders_survive_a_random_seed(qtbot, panel, monkeypatch):
    source = tiny_source()
    panel.set_source(source)
    shown_image(qtbot, panel)
    panel.sliders.sliders[2].setValue(-222)
    qtbot.mouseClick(panel.findChild(QToolButton, "latentLock_2"), Qt.MouseButton.LeftButton)
    assert panel.state.locked_dims == {2}
    directions = fit(qtbot, panel)
    panel.direction_sliders.sliders[0].setValue(200)
    panel.direction_sliders.sliders[1].setValue(-100)
    panel.findChild(QToolButton, "latentDirectionLock_0").click()
    monkeypatch.setattr("ganstudio.app.latent.panel.random.randrange", lambda _n: 4242)
    qtbot.mouseClick(panel.findChild(QToolButton, "latentRandomise"), Qt.MouseButton.LeftButton)
    fresh = latent_batch(source.nz, [4242])[0].numpy()
    assert panel.state.seed == 4242 and panel.state.latent[2] == np.float32(-2.22)
    np.testing.assert_array_equal(np.delete(panel.state.latent, 2), np.delete(fresh, 2))
    np.testing.assert_array_equal(panel.state.direction_values[:2], [2.0, 0.0])
    assert panel.direction_sliders.sliders[1].value() == 0
    shown = fresh.copy()
    shown[2] = np.float32(-2.22)
    np.testing.assert_array_equal(shown_image(qtbot, panel),
                                  direct(source, shown + directions.offset(
                                      panel.state.direction_values)))


def test_interpolation_scrubs_plays_and_exports(qtbot, panel, tmp_path):
    source = tiny_export(tmp_path)
    panel.set_source(source)
    panel.set_seed(5)
    shown_image(qtbot, panel)
    qtbot.mouseClick(panel.findChild(QPushButton, "latentShowAnimation"),
                     Qt.MouseButton.LeftButton)
    panel.findChild(QAbstractSpinBox, "latentEndASeed").setValue(3)
    panel.sliders.sliders[0].setValue(250)                       # B: this edited latent
    qtbot.mouseClick(panel.findChild(QToolButton, "latentEndBCurrent"), Qt.MouseButton.LeftButton)
    panel.path.frames_spin.setValue(9)
    method = panel.findChild(QComboBox, "latentPathMethod")
    method.setCurrentIndex(method.findData("lerp"))
    expected = interpolate(latent_batch(source.nz, [3])[0].numpy(), panel.state.shown(), 9, "lerp")
    np.testing.assert_array_equal(panel.path_latents(), expected)
    panel.findChild(QSlider, "latentPathPosition").setValue(4)
    np.testing.assert_array_equal(shown_image(qtbot, panel), direct(source, expected[4]))
    qtbot.mouseClick(panel.findChild(QToolButton, "latentPathPlay"), Qt.MouseButton.LeftButton)
    assert panel.playing
    qtbot.waitUntil(lambda: panel.path.position != 4, timeout=TIMEOUT_MS)
    qtbot.mouseClick(panel.findChild(QToolButton, "latentPathPlay"), Qt.MouseButton.LeftButton)
    assert not panel.playing
    with qtbot.waitSignal(panel.animation_exported, timeout=TIMEOUT_MS) as done:
        panel.export_animation_to(tmp_path / "morph.gif", size=64, fps=12)
    assert done.args == [str(tmp_path / "morph.gif")] and count_frames(tmp_path / "morph.gif") == 9
    assert not panel.path.progress.isVisible()
    with qtbot.waitSignal(panel.animation_exported, timeout=TIMEOUT_MS):
        panel.export_animation_to(tmp_path / "frames", size=32)
    frame = tmp_path / "frames" / "frame-0004.png"
    with Image.open(frame) as image:
        np.testing.assert_array_equal(np.asarray(image), direct(source, expected[4]))


def test_an_animation_export_can_be_cancelled_and_leaves_nothing(qtbot, panel, tmp_path):
    panel.set_source(tiny_source())
    shown_image(qtbot, panel)
    panel.animation_button.click()
    panel.path.frames_spin.setValue(2000)
    target = tmp_path / "long.gif"
    panel.export_animation_to(target, size=256)
    job = panel._animation_job
    qtbot.waitUntil(lambda: panel.path.progress.value() >= 1, timeout=TIMEOUT_MS)
    assert panel.path.cancel_button.isVisible()
    with qtbot.waitSignal(panel.animation_cancelled, timeout=TIMEOUT_MS):
        qtbot.mouseClick(panel.findChild(QToolButton, "latentAnimationCancel"),
                         Qt.MouseButton.LeftButton)
    job.join(10)
    assert list(tmp_path.iterdir()) == [] and not panel.path.progress.isVisible()
    assert panel.path.export_button.isEnabled()


def test_walks_follow_a_direction_through_the_current_latent(qtbot, panel):
    source = tiny_source()
    panel.set_source(source)
    directions = fit(qtbot, panel)
    panel.animation_button.click()
    kind = panel.findChild(QComboBox, "latentPathKind")
    kind.setCurrentIndex(kind.findData("walk"))
    panel.findChild(QComboBox, "latentWalkDirection").setCurrentIndex(1)
    panel.path.frames_spin.setValue(5)
    latents = panel.path_latents()
    coordinates = (latents - panel.state.latent) @ directions.components[1] / directions.sigma[1]
    np.testing.assert_allclose(coordinates, [-3, -1.5, 0, 1.5, 3], atol=1e-4)


def _export_view(qtbot, panel, path: Path) -> np.ndarray:
    shown = shown_image(qtbot, panel)
    with qtbot.waitSignal(panel.image_exported, timeout=TIMEOUT_MS):
        panel.export_preview_to(path, 2)
    return shown


def test_a_dropped_png_restores_seed_latent_directions_and_truncation(qtbot, panel, tmp_path):
    source = tiny_export(tmp_path, step=33)
    panel.set_source(source)
    panel.set_seed(77)
    panel.sliders.sliders[4].setValue(130)
    fit(qtbot, panel)
    panel.direction_sliders.sliders[3].setValue(-170)
    panel.set_truncation(0.7)
    view = (panel.state.latent.copy(), panel.state.direction_values.copy(), panel.state.shown())
    shown = _export_view(qtbot, panel, tmp_path / "view.png")
    meta = read_png_metadata(tmp_path / "view.png")
    assert meta["generator_sha256"] == source.sha256 and meta["truncation"] == 0.7
    assert meta["directions"]["values"][3] == pytest.approx(-1.7)
    panel.set_seed(1)
    panel.set_truncation(1.0)
    panel.reset_all()
    with qtbot.waitSignal(panel.state_restored, timeout=TIMEOUT_MS):
        assert panel.restore_png(tmp_path / "view.png")
    assert panel.state.seed == 77 and panel.seed_spin.value() == 77
    np.testing.assert_array_equal(panel.state.latent, view[0])
    np.testing.assert_array_equal(panel.state.direction_values, view[1])
    np.testing.assert_array_equal(panel.state.shown(), view[2])
    assert panel.truncation_slider.value() == 70 and panel.state.mode == DIRECTIONS
    np.testing.assert_array_equal(shown_image(qtbot, panel), shown)


def test_a_dropped_png_of_another_generator_opens_it_first(qtbot, panel, tmp_path):
    source = tiny_export(tmp_path, step=5, nz=12)
    panel.set_source(source)
    panel.set_seed(8)
    panel.set_truncation(0.5)
    shown = _export_view(qtbot, panel, tmp_path / "other.png")
    panel.set_source(tiny_source())                       # something else entirely
    shown_image(qtbot, panel)
    with qtbot.waitSignal(panel.state_restored, timeout=TIMEOUT_MS):
        panel.restore_png(tmp_path / "other.png")
    assert panel.state.source.sha256 == source.sha256 and panel.state.nz == 12
    np.testing.assert_array_equal(shown_image(qtbot, panel), shown)
    not_ours = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(not_ours)
    with qtbot.waitSignal(panel.status_message) as message:
        assert not panel.restore_png(not_ours)
    assert "no GAN Studio provenance" in message.args[0]


@pytest.mark.parametrize("edit", ["seed", "truncation", "directions"])
def test_copy_as_command_reproduces_the_preview_bit_for_bit(qtbot, panel, tmp_path,
                                                            monkeypatch, edit):
    from ganstudio.cli.sample import main

    source = tiny_export(tmp_path, class_names=("a", "b"))
    panel.set_source(source)
    panel.set_seed(31)
    panel.class_combo.setCurrentIndex(1)
    if edit != "seed":
        panel.set_truncation(0.65)
    if edit == "directions":
        fit(qtbot, panel)
        panel.direction_sliders.sliders[0].setValue(-120)
        panel.sliders.sliders[1].setValue(90)
    shown = shown_image(qtbot, panel)
    with qtbot.waitSignal(panel.command_copied, timeout=TIMEOUT_MS):
        qtbot.mouseClick(panel.findChild(QToolButton, "latentCopyCommand"),
                         Qt.MouseButton.LeftButton)
    line = QGuiApplication.clipboard().text()
    args = shlex.split(line)
    assert args[0] == "ganstudio-sample" and args[1] == str(tmp_path / "generator.safetensors")
    assert ("--latent" in args) == (edit == "directions")
    assert ("--truncation" in args) == (edit == "truncation")
    monkeypatch.chdir(tmp_path)
    assert main(args[1:] + ["-q"]) == 0
    out = tmp_path / args[args.index("--out") + 1]
    with Image.open(out) as image:
        np.testing.assert_array_equal(np.asarray(image), shown)


def test_copy_as_command_for_a_torchscript_program(qtbot, panel, tmp_path, monkeypatch):
    from ganstudio.cli.sample import main
    from ganstudio.engine.sampling import GeneratorSource
    from tests.foreign_generators import save_all

    files = save_all(tmp_path / "foreign")
    panel.set_source(GeneratorSource.open(files["mlp_scripted"]))
    panel.set_seed(4)
    panel.sliders.sliders[7].setValue(-50)
    shown = shown_image(qtbot, panel)
    args = shlex.split(panel.copy_command())
    assert "--latent-shape" in args and "--output-range" in args
    monkeypatch.chdir(tmp_path)
    assert main(args[1:] + ["-q"]) == 0
    with Image.open(tmp_path / args[args.index("--out") + 1]) as image:
        np.testing.assert_array_equal(np.asarray(image), shown)


def test_follow_training_or_freeze_on_a_snapshot(qtbot, panel, tmp_path):
    first, second = tiny_source(seed=0, step=100), tiny_source(seed=1, step=200)
    panel.set_live_source(first)
    follow = panel.findChild(object, "latentFollow")
    assert follow.isVisible() and follow.isChecked() and panel.state.source is first
    follow.setChecked(False)                                      # freeze
    panel.set_live_source(second)
    assert panel.state.source is first and "200" in follow.text()
    follow.setChecked(True)                                       # follow again
    assert panel.state.source is second
    shown_image(qtbot, panel)
    opened = tiny_export(tmp_path)                                # opening a file freezes
    panel.set_source(opened)
    assert not follow.isChecked()
    panel.set_live_source(tiny_source(seed=2, step=300))
    assert panel.state.source is opened


def test_every_new_control_is_named_and_explained(qtbot, panel):
    panel.set_source(tiny_source())
    fit(qtbot, panel)
    panel.animation_button.click()
    widgets = [w for w in panel.findChildren(object)
               if isinstance(w, (QSlider, QToolButton, QPushButton, QAbstractSpinBox,
                                 QComboBox))]
    names = {w.objectName() for w in widgets}
    for expected in ("latentMode", "latentTruncation", "latentFitDirections", "latentFitCancel",
                     "latentDirectionLayer", "latentDirection_0", "latentDirectionLock_0",
                     "latentStrip_0_0", "latentLock_0", "latentPathPlay", "latentPathPosition",
                     "latentEndASeed", "latentEndBCurrent", "latentExportAnimation",
                     "latentAnimationCancel", "latentCopyCommand", "latentExportModel"):
        assert expected in names
    for widget in widgets:
        assert widget.objectName().startswith("latent"), type(widget).__name__
        assert widget.accessibleName(), widget.objectName()
        assert widget.toolTip(), widget.objectName()


def test_the_animation_dialog_names_formats_and_writes_what_it_says(qtbot, panel, tmp_path):
    from ganstudio.app.latent.export_dialog import AnimationExportDialog
    from ganstudio.app.settings import LAST_EXPORT_FOLDER, Settings

    Settings().set_folder(LAST_EXPORT_FOLDER, tmp_path)
    panel.set_source(tiny_source())
    shown_image(qtbot, panel)
    panel.animation_button.click()
    panel.path.frames_spin.setValue(4)
    qtbot.mouseClick(panel.findChild(QPushButton, "latentExportAnimation"),
                     Qt.MouseButton.LeftButton)
    dialog = panel.findChild(AnimationExportDialog, "latentAnimationDialog")
    assert dialog.isVisible() and Path(dialog.path_edit.text()).suffix == ".gif"
    formats = dialog.findChild(QComboBox, "latentAnimationFormat")
    formats.setCurrentIndex(formats.findData("mp4"))
    assert dialog.path_edit.text().endswith(".mp4")
    formats.setCurrentIndex(formats.findData("frames"))
    assert Path(dialog.path_edit.text()).suffix == ""
    dialog.path_edit.setText(str(tmp_path / "x.gif"))
    assert "no suffix" in dialog.error_label.text()
    assert not dialog.findChild(QPushButton, "latentAnimationOk").isEnabled()
    formats.setCurrentIndex(formats.findData("gif"))
    dialog.findChild(QAbstractSpinBox, "latentAnimationSize").setValue(48)
    assert dialog.size_label.text().startswith("48 px frames, 4 frames")
    with qtbot.waitSignal(panel.animation_exported, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.findChild(QPushButton, "latentAnimationOk"),
                         Qt.MouseButton.LeftButton)
    with Image.open(tmp_path / "x.gif") as gif:
        assert gif.n_frames == 4 and gif.size == (48, 48)


def test_the_window_opens_foreign_generators_and_restores_dropped_pngs(make_window, qtbot,
                                                                       tmp_path):
    from tests.app.test_window_runs import _drop
    from tests.foreign_generators import save_all

    files = save_all(tmp_path / "foreign")
    window = make_window()
    panel = window.latent_panel
    with qtbot.waitSignal(window.generator_opened, timeout=TIMEOUT_MS) as opened:
        window.open_path(files["scripted"])
    assert opened.args[0].metadata["format"] == "torchscript"
    assert "TorchScript" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.generator_opened, timeout=TIMEOUT_MS) as opened:
        _drop(window, files["state_dict"])                    # dropped like any file
    assert opened.args[0].spec.out_shape == (3, 64, 64)
    panel.set_seed(123)
    panel.set_truncation(0.8)
    shown = _export_view(qtbot, panel, tmp_path / "netg-view.png")
    panel.set_seed(5)
    panel.set_truncation(1.0)
    shown_image(qtbot, panel)
    with qtbot.waitSignal(panel.state_restored, timeout=TIMEOUT_MS):
        _drop(window, tmp_path / "netg-view.png")
    assert panel.state.seed == 123 and panel.state.truncation == 0.8
    np.testing.assert_array_equal(shown_image(qtbot, panel), shown)
    window.open_path(files["pickle"])
    qtbot.waitUntil(lambda: window.failure_dialog is not None
                    and window.failure_dialog.isVisible(), timeout=TIMEOUT_MS)
    assert "refused" in window.failure_dialog.text() + window.failure_dialog.informativeText()
    window.failure_dialog.close()
