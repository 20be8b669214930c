"""Opening runs, resuming them, failures, validation at the field, dropped folders."""

from __future__ import annotations

import json
import warnings

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from ganstudio.engine.checkpoint import list_checkpoints
from ganstudio.engine.trainer import read_metrics

from .conftest import RUN_TIMEOUT_MS, make_run, set_field


def test_opening_a_run_shows_its_history_and_resume_continues_it(make_window, qtbot, tmp_path):
    run = make_run(tmp_path / "old-run", steps=6)
    window = make_window(open_path=run, wait_for_preview=False)
    qtbot.waitUntil(lambda: window.gallery.count == 3, timeout=RUN_TIMEOUT_MS)  # steps 0, 3, 6

    assert window.plots.point_count == 3                      # reports at 2, 4, 6
    assert window.run_dir == run and window.windowTitle().startswith("old-run")
    assert window.train_action.text() == "Resume Run"
    assert not window.run_panel.input_widget("model.g_width").isEnabled()
    # Six steps are done: resuming needs more, and the field says so before Train.
    assert "already at step 6" in window.run_panel.editor("train.steps").error
    assert not window.train_action.isEnabled()

    set_field(qtbot, window, "train.steps", 12)
    assert window.train_action.isEnabled()
    with qtbot.waitSignal(window.controller.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        qtbot.mouseClick(window.findChild(object, "runTrainButton"), Qt.MouseButton.LeftButton)
    assert done.args[0].step == 12
    assert [r["step"] for r in read_metrics(run)] == [2, 4, 6, 8, 10, 12]
    qtbot.waitUntil(lambda: window.plots.point_count == 6)
    assert window.gallery.snapshots()[-1][0] == 12
    assert list_checkpoints(run / "checkpoints")[-1][0] == 12


def test_a_failed_run_shows_a_dialog_with_details_and_stays_usable(make_window, qtbot,
                                                                   tmp_path):
    run = make_run(tmp_path / "damaged", steps=6)
    for _step, path in list_checkpoints(run / "checkpoints"):
        path.write_bytes(b"not a checkpoint")
    window = make_window(open_path=run, wait_for_preview=False)
    qtbot.waitSignal(window.history_loaded, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.train_action.text() == "Resume Run", timeout=RUN_TIMEOUT_MS)
    set_field(qtbot, window, "train.steps", 9)

    with qtbot.waitSignal(window.controller.training_failed, timeout=RUN_TIMEOUT_MS) as failed:
        window.train_action.trigger()
    message, details = failed.args
    assert "nothing to resume" in message and "Traceback" in details
    dialog = window.failure_dialog
    assert isinstance(dialog, QMessageBox) and dialog.isVisible()
    assert dialog.text() == message and "Traceback" in dialog.detailedText()
    assert window.state == "idle"
    qtbot.mouseClick(dialog.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    # Usable afterwards: a new run from the same settings trains.
    window.new_run_action.trigger()
    set_field(qtbot, window, "train.steps", 4)
    with qtbot.waitSignal(window.controller.training_finished, timeout=RUN_TIMEOUT_MS):
        window.train_action.trigger()
    assert window.run_dir != run


def test_invalid_values_are_shown_at_their_field_before_train(tiny_window, qtbot):
    window = tiny_window()
    panel = window.run_panel
    set_field(qtbot, window, "optim.lr_g", "fast")
    assert "must be a number from 0 to 1" in panel.editor("optim.lr_g").error
    assert panel.editor("optim.lr_g").error_label.isVisible()
    assert not window.train_action.isEnabled()
    assert "G learning rate" in window.train_action.toolTip()

    set_field(qtbot, window, "optim.lr_g", "3e-4")
    set_field(qtbot, window, "model.image_size", 48)
    assert "32/64/128" in panel.editor("model.image_size").error
    assert panel.editor("optim.lr_g").error is None
    assert not window.train_action.isEnabled()

    set_field(qtbot, window, "model.image_size", 32)
    assert panel.is_valid and window.train_action.isEnabled()
    assert panel.config().optim.lr_g == 3e-4


def test_a_folder_without_images_is_reported_at_the_dataset_field(tiny_window, qtbot,
                                                                  tmp_path):
    empty = tmp_path / "no-images"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    window = tiny_window()
    window.run_panel.set_dataset(str(empty))
    editor = window.run_panel.editor("data.name")
    qtbot.waitUntil(lambda: editor.error is not None, timeout=RUN_TIMEOUT_MS)
    assert "no usable images" in editor.error or "no images" in editor.error
    assert str(empty) in editor.error
    assert not window.train_action.isEnabled()


def _drop(window, path) -> None:
    """Drag ``path`` over the window and drop it, as a file manager does."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    buttons, modifiers = Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    with warnings.catch_warnings():  # Qt 6 still builds drag events from a QPoint
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(300, 300), Qt.DropAction.CopyAction, mime, buttons,
                                modifiers)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted(), "the window refused the drag"
    drop = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()


def test_dropping_a_folder_of_images_makes_it_the_dataset(tiny_window, qtbot, tmp_path):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(12):
        Image.new("RGB", (40, 30), (20 * i, 100, 255 - 20 * i)).save(folder / f"{i:02d}.png")
    window = tiny_window()
    _drop(window, folder)
    panel = window.run_panel
    assert panel.editor("data.name").value() == str(folder)
    qtbot.waitUntil(lambda: panel.preview is not None and panel.preview.info is not None,
                    timeout=RUN_TIMEOUT_MS)
    assert panel.preview.info.size == 12
    assert "12 images" in window.findChild(object, "datasetInfo").text()
    assert panel.is_valid


def test_dropping_a_run_folder_opens_it(tiny_window, qtbot, tmp_path):
    run = make_run(tmp_path / "dropped-run", steps=3)
    window = tiny_window()
    with qtbot.waitSignal(window.history_loaded, timeout=RUN_TIMEOUT_MS) as loaded:
        _drop(window, run)
    assert loaded.args[0].run_dir == run and window.gallery.count == 2
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert window.plots.point_count == len(rows)


def test_a_torchvision_set_from_a_local_folder_previews_and_trains(tiny_window, qtbot,
                                                                   mnist_t10k):
    window = tiny_window(steps=4)
    panel = window.run_panel
    set_field(qtbot, window, "data.name", "mnist")
    root = panel.input_widget("data.root")
    assert root.isVisibleTo(window), "the data folder field shows for torchvision sets"
    set_field(qtbot, window, "data.root", str(mnist_t10k))
    qtbot.waitUntil(lambda: panel.preview is not None and panel.preview.info is not None,
                    timeout=RUN_TIMEOUT_MS)
    assert panel.preview.info.size == 10_000 and panel.preview.info.shape == (1, 32, 32)
    assert "10,000 images" in window.findChild(object, "datasetInfo").text()
    with qtbot.waitSignal(window.controller.training_finished, timeout=RUN_TIMEOUT_MS):
        window.train_action.trigger()
    assert window.gallery.count == 2 and window.gallery.shown_image is not None
