"""Health alarms and quality metrics in the window: banner, markers, pause, Quality plot."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt

from ganstudio.app.plots import PlotsPanel
from ganstudio.engine.checkpoint import list_checkpoints, load_checkpoint
from ganstudio.engine.trainer import Trainer, read_metric_lines

from .conftest import RUN_TIMEOUT_MS, make_run, set_fields


class _NaNAfterStep5(Trainer):
    """A run that goes bad: a NaN lands in one of D's weights after step 5."""

    def train_step(self, measure_grad_norms: bool = False) -> None:
        super().train_step(measure_grad_norms)
        if self.step + 1 == 5:
            with torch.no_grad():
                weight = next(self.D.parameters())
                weight[(0,) * weight.dim()] = float("nan")


def _click(qtbot, widget) -> None:
    assert widget is not None and widget.isVisible() and widget.isEnabled()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_a_nan_shows_the_banner_and_markers_pauses_and_keeps_the_good_checkpoint(
        tiny_window, qtbot, monkeypatch):
    monkeypatch.setattr("ganstudio.engine.trainer.Trainer", _NaNAfterStep5)
    window = tiny_window(steps=100_000)
    set_fields(qtbot, window, {"train.checkpoint_every": 3, "train.snapshot_every": 2,
                               "metrics.enabled": False})
    controller = window.controller
    alarms = []
    controller.health_alarm.connect(alarms.append)
    with qtbot.waitSignals([controller.health_alarm, controller.training_paused],
                           timeout=RUN_TIMEOUT_MS):
        window.train_action.trigger()
    (alarm,) = alarms
    assert (alarm.kind, alarm.step, alarm.paused) == ("nan", 6, True)
    qtbot.waitUntil(lambda: window.state == "paused", timeout=RUN_TIMEOUT_MS)

    banner = window.findChild(object, "alarmBanner")
    assert banner.isVisible()
    assert window.findChild(object, "alarmTitle").text() == "NaN or Inf in training at step 6"
    message = window.findChild(object, "alarmMessage").text()
    assert "NaN" in message and "Training is paused." in message
    assert window.findChild(object, "alarmContinueButton").isVisible()
    assert window.findChild(object, "pauseButton").text() == "Continue"

    # A red marker at step 6 on every plot, and the readout names it when hovering there.
    (marker,) = window.plots.alarm_markers
    assert marker.step == 6 and len(marker.lines) == len(window.plots.plots) == 4
    assert all(line.value() == 6 for line in marker.lines)
    assert "NaN or Inf" in marker.lines[0].toolTip()
    window.plots.redraw(force=True)
    window.plots.show_readout_at(6)
    assert "⚠ NaN or Inf in training at step 6" in window.plots.readout.text()

    # Rewind… offers a fork from the last snapshot before the alarm (step 4: 6 was not saved).
    with qtbot.waitSignal(window.run_tools.fork_dialog_opened, timeout=RUN_TIMEOUT_MS) as opened:
        _click(qtbot, window.findChild(object, "alarmRewindButton"))
    dialog = opened.args[0]
    assert dialog.restore_point.step == 4 and dialog.restore_point.kind == "snapshot"
    dialog.reject()

    # Stop: the NaN state is not written; the step-3 checkpoint is the one that stays.
    run_dir = window.run_dir
    with qtbot.waitSignal(controller.training_finished, timeout=RUN_TIMEOUT_MS) as finished:
        window.stop_action.trigger()
    event = finished.args[0]
    good = run_dir / "checkpoints" / "step-000000003.pt"
    assert event.checkpoint == good and "NaN" in event.note
    assert [s for s, _ in list_checkpoints(run_dir / "checkpoints")] == [3]
    assert load_checkpoint(good)["step"] == 3
    assert "NaN" in window.statusBar().currentMessage()
    assert "from step 3" in window.run_panel.findChild(object, "runTargetLabel").text()

    # Dismiss hides the banner; the marker stays.
    _click(qtbot, window.findChild(object, "alarmDismissButton"))
    assert not banner.isVisible() and len(window.plots.alarm_markers) == 1


def test_continue_on_the_banner_resumes_training(tiny_window, qtbot, monkeypatch):
    monkeypatch.setattr("ganstudio.engine.trainer.Trainer", _NaNAfterStep5)
    window = tiny_window(steps=100_000)
    set_fields(qtbot, window, {"metrics.enabled": False})
    controller = window.controller
    with qtbot.waitSignal(controller.training_paused, timeout=RUN_TIMEOUT_MS):
        window.train_action.trigger()
    with qtbot.waitSignal(controller.training_resumed, timeout=RUN_TIMEOUT_MS):
        _click(qtbot, window.findChild(object, "alarmContinueButton"))
    assert window.state == "training"
    assert not window.findChild(object, "alarmContinueButton").isVisible()
    assert window.findChild(object, "alarmBanner").isVisible()   # still says what happened


def test_quality_metrics_are_plotted_per_extractor_and_never_mixed_with_losses(
        tiny_window, qtbot, make_window):
    window = tiny_window(steps=40)
    set_fields(qtbot, window, {"metrics.every": 10, "metrics.samples": 40,
                               "metrics.kid_subsets": 2})
    controller = window.controller
    seen = []
    controller.quality_metrics.connect(seen.append)
    with qtbot.waitSignal(controller.training_finished, timeout=RUN_TIMEOUT_MS):
        window.train_action.trigger()
    # Every 10 steps, or skipped while the previous evaluation still ran; the last always.
    evaluated = [q.step for q in seen]
    assert evaluated[-1] == 40 and set(evaluated) <= {10, 20, 30, 40}
    plots = window.plots
    assert plots.quality_extractors == ["random-conv-v1"]
    steps, fd = plots.quality_data("random-conv-v1", "fd")
    assert list(steps) == evaluated
    np.testing.assert_allclose(fd, [q.fd for q in seen])
    plots.redraw(force=True)
    assert "FD (random-conv-v1)" in plots.plots["quality"].titleLabel.text
    plots.set_quality_metric("recall")
    assert "Recall (random-conv-v1)" in plots.plots["quality"].titleLabel.text
    assert plots.point_count == 20                       # loss reports only
    # A healthy run: no banner, no marker.
    assert not window.findChild(object, "alarmBanner").isVisible()
    assert plots.alarm_markers == []

    # Opening the run again: quality lines go to the Quality plot, not into the loss curves.
    run_dir = window.run_dir
    again = make_window(open_path=run_dir, wait_for_preview=False)
    qtbot.waitUntil(lambda: again.plots.point_count == 20, timeout=RUN_TIMEOUT_MS)
    assert again.plots.quality_extractors == ["random-conv-v1"]
    assert list(again.plots.quality_data("random-conv-v1", "fd")[0]) == evaluated
    assert np.isfinite(again.plots.store.column("d_loss")).all()


def test_two_extractors_are_two_curves_each_named(qtbot):
    panel = PlotsPanel(smoothing=0.0)
    qtbot.addWidget(panel)
    panel.resize(1000, 300)
    panel.show()
    panel.append_quality([
        {"step": 500, "kind": "quality", "extractor": "random-conv-v1", "fd": 80.0},
        {"step": 1000, "kind": "quality", "extractor": "random-conv-v1", "fd": 40.0},
        {"step": 1000, "kind": "quality", "extractor": "inception-v3-fid", "fd": 120.0},
    ])
    panel.redraw(force=True)
    assert sorted(panel.quality_curves) == ["inception-v3-fid", "random-conv-v1"]
    curve = panel.quality_curves["random-conv-v1"]
    x, y = curve.xData, curve.yData
    assert list(x) == [500, 1000] and list(y) == [80.0, 40.0]
    x, y = panel.quality_curves["inception-v3-fid"].xData, \
        panel.quality_curves["inception-v3-fid"].yData
    assert list(x) == [1000] and list(y) == [120.0]
    title = panel.plots["quality"].titleLabel.text
    assert "FD (random-conv-v1)" in title and "FD (inception-v3-fid)" in title
    panel.append([{"step": 1000, "d_loss": 1.0}])
    panel.show_readout_at(1000)
    text = panel.readout.text()   # each value with the extractor that produced it
    assert "FD (random-conv-v1) 40.00 at step 1,000" in text
    assert "FD (inception-v3-fid) 120.00 at step 1,000" in text
    panel.set_history([{"step": 1000, "d_loss": 1.0}])   # another run: its own quality only
    assert panel.quality_extractors == [] and panel.quality_curves == {}


def test_opening_a_run_with_alarms_shows_markers_but_no_banner(make_window, qtbot, tmp_path):
    run = make_run(tmp_path / "alarmed", steps=6)
    with open(run / "metrics.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"step": 4, "kind": "alarm", "alarm": "mode_collapse", "title": '
                     '"Mode collapse", "message": "samples alike", "value": 0.1, '
                     '"threshold": 0.25, "paused": false}\n')
    assert [r["kind"] for r in read_metric_lines(run) if "kind" in r] == ["alarm"]
    window = make_window(open_path=run, wait_for_preview=False)
    qtbot.waitUntil(lambda: window.plots.point_count == 3, timeout=RUN_TIMEOUT_MS)
    assert [(m.step, m.title) for m in window.plots.alarm_markers] == [(4, "Mode collapse")]
    assert not window.findChild(object, "alarmBanner").isVisible()


def test_choosing_inception_without_its_file_says_how_to_get_it_at_the_field(tiny_window,
                                                                             qtbot, tmp_path):
    from .conftest import set_field

    window = tiny_window()
    set_field(qtbot, window, "metrics.extractor", "inception-v3-fid")
    error = window.run_panel.editor("metrics.inception_weights").error
    assert "No file is set" in error and "pt_inception-2015-12-05-6726825d.pth" in error
    assert "github.com/mseitzer/pytorch-fid/releases" in error and "never downloads" in error
    assert not window.train_action.isEnabled()
    weights = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    weights.write_bytes(b"x")                       # present (checked fully when training)
    set_field(qtbot, window, "metrics.inception_weights", str(weights))
    assert window.run_panel.editor("metrics.inception_weights").error is None
    set_field(qtbot, window, "metrics.extractor", "random-conv-v1")
    assert window.train_action.isEnabled()
