"""Forking from the window: a plot point or a snapshot -> the dialog -> a new run that trains."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ganstudio.config import RunConfig
from ganstudio.engine.runs import read_lineage
from ganstudio.engine.trainer import read_metrics

from .conftest import RUN_TIMEOUT_MS, make_run, set_fields


def _type(qtbot, line_edit, text: str) -> None:
    line_edit.selectAll()
    qtbot.keyClicks(line_edit, text)
    qtbot.keyClick(line_edit, Qt.Key.Key_Tab)


def _open(make_window, qtbot, run):
    window = make_window(open_path=run, wait_for_preview=False)
    qtbot.waitSignal(window.history_loaded, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.run_dir == run and window.plots.point_count > 0,
                    timeout=RUN_TIMEOUT_MS)
    return window


def test_fork_from_a_plot_point_with_a_new_learning_rate(make_window, qtbot, runs_folder):
    parent = make_run(runs_folder / "parent", steps=8, **{"train.snapshot_every": 2})
    window = _open(make_window, qtbot, parent)
    assert window.plots.point_count == 4                      # reports at 2, 4, 6, 8

    menu = window.plots.context_menu_at(4.6)                  # right-click near step 4
    action = next(a for a in menu.actions() if a.objectName() == "plotForkAction")
    assert action.text() == "Fork from step 4…" and action.isEnabled()
    with qtbot.waitSignal(window.run_tools.fork_dialog_opened, timeout=RUN_TIMEOUT_MS) as opened:
        action.trigger()
    dialog = opened.args[0]
    assert dialog.restore_point.step == 4 and dialog.restore_point.kind == "snapshot"
    assert "snapshots/step-000000004.pt" in dialog.findChild(object, "forkPointInfo").text()
    name = dialog.findChild(object, "forkRunName")
    assert name.text() == "parent-fork-4"
    assert dialog.editor("optim.lr_g").value() == "0.0002"  # prefilled from the snapshot

    _type(qtbot, dialog.findChild(object, "fork_optim_lr_g"), "0.0004")
    dialog.editor("train.steps").set_value(12)
    dialog._validate()
    assert "G learning rate 0.0002 → 0.0004" in dialog.findChild(object, "forkChanges").text()
    accept = dialog.findChild(object, "forkAcceptButton")
    assert accept.isEnabled()
    with qtbot.waitSignal(window.controller.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        qtbot.mouseClick(accept, Qt.MouseButton.LeftButton)
    assert done.args[0].step == 12

    child = runs_folder / "parent-fork-4"
    assert window.run_dir == child and window.windowTitle().startswith("parent-fork-4")
    lineage = read_lineage(child)
    assert lineage.parent == parent and lineage.fork_step == 4
    assert RunConfig.from_toml(child / "config.toml").optim.lr_g == 4e-4
    assert [r["step"] for r in read_metrics(child)] == [2, 4, 6, 8, 10, 12]
    # On screen: the parent's curve up to the fork, then the fork's; a line marks the fork.
    qtbot.waitUntil(lambda: window.plots.point_count == 6, timeout=RUN_TIMEOUT_MS)
    assert list(window.plots.store.steps) == [2, 4, 6, 8, 10, 12]
    assert window.plots.fork_point == (4, "parent")
    assert [s for s, _ in window.gallery.snapshots()] == [0, 3, 6, 9, 12]  # 0, 3 inherited
    assert window.train_action.text() == "Resume Run"   # the fork is the open run now


def test_fork_from_a_gallery_snapshot_and_the_dialog_checks_the_rules(make_window, qtbot,
                                                                      runs_folder):
    parent = make_run(runs_folder / "parent", steps=6, **{"train.snapshot_every": 2})
    window = _open(make_window, qtbot, parent)
    qtbot.waitUntil(lambda: window.gallery.count == 3, timeout=RUN_TIMEOUT_MS)  # 0, 3, 6
    menu = window.gallery.fork_menu_for_row(1)                                 # step 3
    action = menu.findChild(object, "galleryForkAction")
    assert action.text() == "Fork from step 3…" and action.isEnabled()
    with qtbot.waitSignal(window.run_tools.fork_dialog_opened, timeout=RUN_TIMEOUT_MS) as opened:
        action.trigger()
    dialog = opened.args[0]
    # The newest restore point at or before step 3: the run's step-3 checkpoint.
    assert (dialog.restore_point.step, dialog.restore_point.kind) == (3, "checkpoint")

    loss = dialog.editor("objective.loss")
    loss.set_value("wgan-gp")                                 # would swap D's batch norm
    dialog._validate()
    assert "normalisation" in loss.error
    assert not dialog.findChild(object, "forkAcceptButton").isEnabled()
    loss.set_value("hinge")                                   # same D: allowed
    dialog._validate()
    assert loss.error is None and dialog.findChild(object, "forkAcceptButton").isEnabled()
    _type(qtbot, dialog.findChild(object, "forkRunName"), "parent")   # taken
    assert "already exists" in dialog.findChild(object, "forkRunNameError").text()
    assert not dialog.findChild(object, "forkAcceptButton").isEnabled()
    dialog.reject()


def test_rewinding_a_running_training_stops_it_then_trains_the_fork(tiny_window, qtbot):
    window = tiny_window(steps=1_000_000)
    set_fields(qtbot, window, {"train.snapshot_every": 2, "metrics.enabled": False})
    controller = window.controller
    with qtbot.waitSignal(controller.snapshot_saved, timeout=RUN_TIMEOUT_MS):
        window.train_action.trigger()
    parent = window.run_dir
    with qtbot.waitSignal(window.run_tools.fork_dialog_opened, timeout=RUN_TIMEOUT_MS) as opened:
        window.plots.fork_requested.emit(3)
    dialog = opened.args[0]
    assert dialog.restore_point.step == 2
    dialog.editor("train.steps").set_value(20)
    dialog._validate()
    finished = []
    controller.training_finished.connect(finished.append)
    with qtbot.waitSignal(controller.training_started, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda event: event.parent is not None) as started:
        dialog.findChild(object, "forkAcceptButton").click()
    # The running training was stopped (with a checkpoint) before the fork began.
    assert finished and finished[0].reason == "stopped" and finished[0].checkpoint.is_file()
    event = started.args[0]
    assert event.parent == parent and event.fork_step == 2 and event.start_step == 2
    qtbot.waitUntil(lambda: window.state == "idle", timeout=RUN_TIMEOUT_MS)
    assert finished[-1].step == 20 and window.run_dir.name == f"{parent.name}-fork-2"
    assert read_lineage(window.run_dir).parent == parent
