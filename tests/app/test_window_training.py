"""Training from the window: curves and snapshots arrive, controls work, closing is safe."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt

from ganstudio.engine.checkpoint import list_checkpoints

from .conftest import RUN_TIMEOUT_MS, set_field


def _click(qtbot, window, name: str) -> None:
    button = window.findChild(object, name)
    assert button is not None, name
    assert button.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_train_on_the_builtin_dataset_shows_curves_snapshots_and_status(tiny_window, qtbot):
    window = tiny_window(steps=40)
    assert window.run_panel.editor("data.name").value() == "glyphs"  # the default
    controller = window.controller
    with qtbot.waitSignal(controller.training_finished, timeout=RUN_TIMEOUT_MS) as finished:
        _click(qtbot, window, "runTrainButton")
    event = finished.args[0]
    assert event.reason == "completed" and event.step == 40

    qtbot.waitUntil(lambda: window.plots.point_count == 20)  # a report every 2 steps
    window.plots.redraw()
    steps, d_loss = window.plots.curve_data("d_loss")
    assert steps[-1] == 40 and np.isfinite(d_loss).all()
    assert window.gallery.count == 5            # steps 0, 10, 20, 30, 40
    assert window.gallery.current_step == 40 and window.gallery.shown_image is not None
    assert (window.run_dir / "samples" / "step-000000040.png").is_file()
    assert [s for s, _ in list_checkpoints(window.run_dir / "checkpoints")][-1] == 40
    assert window.findChild(object, "statusStep").text() == "step 40 / 40"
    assert "CPU" in window.findChild(object, "statusDevice").text()
    # The finished run stays open: Train now resumes it (after raising the steps).
    assert window.train_action.text() == "Resume Run"
    assert "train.steps" in window.run_panel.errors


def test_pause_continue_step_and_stop_from_buttons_and_space(tiny_window, qtbot):
    window = tiny_window(steps=1_000_000)
    controller = window.controller
    with qtbot.waitSignal(controller.metrics_received, timeout=RUN_TIMEOUT_MS):
        _click(qtbot, window, "trainButton")
    window.activateWindow()

    with qtbot.waitSignal(controller.training_paused, timeout=RUN_TIMEOUT_MS) as paused:
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.state == "paused"
    assert window.findChild(object, "pauseButton").text() == "Continue"
    at = paused.args[0]
    _click(qtbot, window, "stepButton")
    assert window.findChild(object, "statusStep").text().startswith(f"step {at + 1:,} ")

    with qtbot.waitSignal(controller.training_resumed, timeout=RUN_TIMEOUT_MS):
        _click(qtbot, window, "pauseButton")
    assert window.state == "training"
    with qtbot.waitSignal(controller.training_paused, timeout=RUN_TIMEOUT_MS):
        _click(qtbot, window, "pauseButton")
    with qtbot.waitSignal(controller.training_resumed, timeout=RUN_TIMEOUT_MS):
        qtbot.keyClick(window, Qt.Key.Key_Space)

    with qtbot.waitSignal(controller.training_finished, timeout=RUN_TIMEOUT_MS) as finished:
        _click(qtbot, window, "stopButton")
    event = finished.args[0]
    assert event.reason == "stopped" and event.step > at
    assert event.checkpoint is not None and event.checkpoint.is_file()
    assert window.state == "idle"


def test_learning_rates_and_k_changed_while_training_reach_the_trainer(tiny_window, qtbot):
    window = tiny_window(steps=1_000_000)
    controller = window.controller
    seen = []
    controller.metrics_received.connect(lambda batch: seen.extend(batch))
    with qtbot.waitSignal(controller.metrics_received, timeout=RUN_TIMEOUT_MS):
        _click(qtbot, window, "trainButton")
    assert not window.run_panel.input_widget("model.g_width").isEnabled()  # fixed while training

    set_field(qtbot, window, "optim.lr_g", "0.0005")
    set_field(qtbot, window, "objective.g_steps", 2)
    qtbot.waitUntil(lambda: any(m.lr_g == 0.0005 and m.g_steps == 2 for m in seen),
                    timeout=RUN_TIMEOUT_MS)
    assert all(m.lr_d == 2e-4 for m in seen)


def test_closing_during_training_asks_then_stops_saves_and_closes(tiny_window, qtbot):
    window = tiny_window(steps=1_000_000)
    controller = window.controller
    with qtbot.waitSignal(controller.metrics_received, timeout=RUN_TIMEOUT_MS):
        _click(qtbot, window, "trainButton")
    run_dir = window.run_dir

    window.close()
    assert window.isVisible(), "closed without asking while training"
    dialog = window.close_dialog
    qtbot.waitUntil(dialog.isVisible)
    stop = dialog.findChild(object, "closeStopButton")
    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
    assert not controller.is_running
    assert list_checkpoints(run_dir / "checkpoints"), "no checkpoint was saved on close"
    assert (run_dir / "generator.safetensors").is_file()
    assert math.isfinite(window.plots.store.last("d_loss"))
