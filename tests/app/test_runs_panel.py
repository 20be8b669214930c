"""The run list: lineage as a tree, opening runs, ticking runs to overlay their curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from ganstudio.app.runs_panel import RunsPanel
from ganstudio.config import RunConfig
from ganstudio.engine.runs import RunSummary, fork_config, restore_point_at
from ganstudio.engine.trainer import Trainer

from .conftest import RUN_TIMEOUT_MS, make_run


def _summary(folder: Path, name: str, parent: str | None = None, step: int | None = None):
    return RunSummary(folder / name, name, "glyphs", "dcgan", 40, 100, "completed",
                      folder / parent if parent else None, step, 0.0)


def test_forks_nest_under_their_parents_and_ticks_are_reported(qtbot, tmp_path):
    panel = RunsPanel()
    qtbot.addWidget(panel)
    runs = [_summary(tmp_path, "b-fork-20-fork-30", "b-fork-20", 30),
            _summary(tmp_path, "a"), _summary(tmp_path, "b"),
            _summary(tmp_path, "b-fork-20", "b", 20)]
    panel.set_runs(tmp_path, runs)
    tree = panel.tree
    assert [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())] == ["a", "b"]
    fork = tree.topLevelItem(1).child(0)
    # Under its parent a fork shows what its name adds ("b-fork-20" -> "…-fork-20").
    assert fork.text(0) == "…-fork-20" and fork.child(0).text(0) == "…-fork-30"
    assert fork.data(0, Qt.ItemDataRole.UserRole + 1) == str(tmp_path / "b-fork-20")
    assert fork.text(2) == "40/100" and fork.text(3) == "finished"
    assert "forked from b at step 20" in fork.toolTip(0)

    with qtbot.waitSignal(panel.compare_changed) as changed:
        fork.setCheckState(0, Qt.CheckState.Checked)
    assert changed.args[0] == [tmp_path / "b-fork-20"]
    panel.set_runs(tmp_path, runs)                       # a rescan keeps the ticks
    assert panel.compared() == [tmp_path / "b-fork-20"]
    panel.set_current(tmp_path / "b-fork-20")            # the open run is not compared to itself
    assert panel.compared() == []
    assert not panel.item_for(tmp_path / "b-fork-20").flags() & Qt.ItemFlag.ItemIsUserCheckable
    with qtbot.waitSignal(panel.open_requested) as opened:
        panel.tree.itemDoubleClicked.emit(panel.item_for(tmp_path / "a"), 0)
    assert opened.args[0] == tmp_path / "a"


def test_the_runs_dock_lists_lineage_opens_runs_and_overlays_curves(make_window, qtbot,
                                                                   runs_folder):
    parent = make_run(runs_folder / "parent", steps=8, **{"train.snapshot_every": 2})
    config = fork_config(RunConfig.from_toml(parent / "config.toml"), {"optim.lr_g": 1e-3}, 4)
    child = runs_folder / "parent-fork-4"
    Trainer(config, run_dir=child, fork_from=restore_point_at(parent, 4).path,
            threaded_observer=False).run()
    make_run(runs_folder / "other", steps=4)

    window = make_window(open_path=parent, wait_for_preview=False)
    panel = window.runs_panel
    qtbot.waitUntil(lambda: len(panel.items()) == 3 and window.run_dir == parent,
                    timeout=RUN_TIMEOUT_MS)
    assert window.findChild(object, "runsDock") is not None
    parent_item = panel.item_for(parent)
    assert parent_item.childCount() == 1 and parent_item.child(0).text(0) == "…-fork-4"
    assert parent_item.font(0).bold()                 # the open run
    assert parent_item.text(2) == "8/8"

    # Tick the fork: its curves are drawn dashed over the parent's.
    with qtbot.waitSignal(window.run_tools.overlays_shown, timeout=RUN_TIMEOUT_MS) as shown:
        panel.set_compared(child, True)
    assert shown.args[0] == ["parent-fork-4"]
    plots = window.plots
    assert plots.overlay_names == ["parent-fork-4"]
    assert "parent-fork-4" in window.findChild(object, "plotOverlayLegend").text()
    plots.smoothing_slider.setValue(0)
    plots.redraw(force=True)
    steps, values = plots.overlay_data("parent-fork-4", "d_loss")
    assert list(steps) == [2, 4, 6, 8]                # 2, 4 inherited from the parent
    assert np.isfinite(values).all()
    style = plots._overlays[0][1]["d_loss"].opts["pen"].style()
    assert style == Qt.PenStyle.DashLine
    with qtbot.waitSignal(window.run_tools.overlays_shown, timeout=RUN_TIMEOUT_MS) as shown:
        qtbot.mouseClick(window.findChild(object, "runsClearCompareButton"),
                         Qt.MouseButton.LeftButton)
    assert shown.args[0] == [] and plots.overlay_names == []

    # Double-click opens the fork: its lineage shows as the fork line on the plots.
    with qtbot.waitSignal(window.history_loaded, timeout=RUN_TIMEOUT_MS):
        panel.tree.itemDoubleClicked.emit(panel.item_for(child), 0)
    assert window.run_dir == child
    assert plots.fork_point == (4, "parent")
    qtbot.waitUntil(lambda: panel.item_for(child).font(0).bold(), timeout=RUN_TIMEOUT_MS)
