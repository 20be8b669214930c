"""The plots panel on its own: history, smoothing, log scale, hover readout, many points."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from ganstudio.app.plots import PlotsPanel


def _rows(count: int, start: int = 1):
    for step in range(start, start + count):
        yield {"step": step * 10, "d_loss": 1.0 + 0.1 * np.sin(step), "g_loss": 2.0,
               "d_real": 0.7, "d_fake": 0.3, "grad_norm_d": 1.5, "grad_norm_g": 0.5}


def test_history_smoothing_log_scale_and_hover_readout(qtbot):
    panel = PlotsPanel(smoothing=0.0)
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    panel.set_history(list(_rows(50)))
    steps, values = panel.curve_data("d_loss")
    assert len(steps) == 50 and steps[-1] == 500
    np.testing.assert_allclose(values, panel.store.column("d_loss"))

    panel.smoothing_slider.setValue(90)
    _steps, smoothed = panel.curve_data("d_loss")
    assert smoothed.std() < values.std()                 # smoothing flattens the wiggle
    assert panel.raw_curves["d_loss"].isVisible()        # the raw curve stays, faint

    panel.log_check.setChecked(True)
    assert panel.plots["loss"].getAxis("left").logMode
    assert not panel.plots["output"].getAxis("left").logMode  # probabilities stay linear

    plot = panel.plots["loss"]
    qtbot.waitExposed(panel)
    plot.vb.autoRange()
    scene_point = plot.sceneBoundingRect().center()
    step = plot.vb.mapSceneToView(scene_point).x()
    panel.view.scene().sigMouseMoved.emit(scene_point)
    nearest = int(round(step / 10) * 10)
    qtbot.waitUntil(lambda: f"step {nearest:,}" in panel.readout.text())
    assert "G loss 2.0000" in panel.readout.text()


def test_a_million_step_run_is_drawn_as_an_envelope_and_zooming_shows_raw_points(qtbot):
    panel = PlotsPanel(smoothing=0.6)
    qtbot.addWidget(panel)
    rows = list(_rows(100_000))                  # a million steps, reported every 10
    rows[77_777]["g_loss"] = 9.0                 # one spike the envelope must keep
    panel.append(rows)
    panel.redraw(force=True)
    assert panel.point_count == 100_000
    steps, g_loss = panel.curve_data("g_loss")
    raw_x, raw_y = panel.raw_curves["g_loss"].xData, panel.raw_curves["g_loss"].yData
    assert len(raw_x) < 5000 and raw_x[-1] == 1_000_000 and raw_y.max() == 9.0
    assert len(steps) < 5000 and steps[-1] == 1_000_000

    panel.append(list(_rows(10, start=100_001)))  # appending stays incremental
    panel.redraw(force=True)
    assert panel.curve_data("g_loss")[0][-1] == 1_000_100

    box = panel.plots["loss"].vb                 # zoom in, as the mouse wheel does
    box.setXRange(500_000, 510_000, padding=0)
    box.sigRangeChangedManually.emit([True, False])
    panel.redraw(force=True)
    raw_x = panel.raw_curves["g_loss"].xData
    assert 1000 <= len(raw_x) <= 1010 and np.all(np.diff(raw_x) == 10)  # every report
    qtbot.mouseClick(panel.fit_button, Qt.MouseButton.LeftButton)
    panel.redraw(force=True)
    assert panel.raw_curves["g_loss"].xData[-1] == 1_000_100
