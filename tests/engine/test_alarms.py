"""Health alarms from real training: divergence, NaN, collapse; and silence on a healthy run."""

from __future__ import annotations

import math

import numpy as np
import torch

from ganstudio.engine.checkpoint import list_checkpoints, load_checkpoint
from ganstudio.engine.control import LiveSettings, TrainingControl
from ganstudio.engine.events import (
    CheckpointSaved,
    CollectingObserver,
    HealthAlarm,
    SamplesReady,
    StepMetrics,
    TrainingFinished,
    TrainingPaused,
)
from ganstudio.engine.health import sample_diversity
from ganstudio.engine.runs import read_status
from ganstudio.engine.trainer import Trainer, read_metric_lines, read_metrics

from .conftest import make_tiny_config

QUIET = {"metrics.enabled": False, "train.checkpoint_every": 1000}


class _StopWhenPaused(CollectingObserver):
    """Stops training as soon as it pauses (what a person does after reading the banner)."""

    def __init__(self, control: TrainingControl):
        super().__init__()
        self.control = control

    def on_event(self, event):
        super().on_event(event)
        if isinstance(event, TrainingPaused):
            self.control.stop()


class _NaNAt(Trainer):
    """Puts a NaN into one of D's weights right after step ``poison_step`` (a bad update)."""

    poison_step = 5

    def train_step(self, measure_grad_norms: bool = False) -> None:
        super().train_step(measure_grad_norms)
        if self.step + 1 == self.poison_step:  # the loop counts the step after this returns
            with torch.no_grad():
                weight = next(self.D.parameters())
                weight[(0,) * weight.dim()] = float("nan")


class _CollapseAt(Trainer):
    """From ``collapse_step`` on, G's last layer is zero: every sample is the same image."""

    collapse_step = 8

    def train_step(self, measure_grad_norms: bool = False) -> None:
        super().train_step(measure_grad_norms)
        if self.step + 1 >= self.collapse_step:
            with torch.no_grad():
                last = [m for m in self.G.modules() if hasattr(m, "weight")][-1]
                last.weight.zero_()


def test_a_healthy_tiny_run_raises_no_alarm(tmp_path):
    observer = CollectingObserver()
    config = make_tiny_config(**{**QUIET, "data.name": "glyphs", "train.steps": 60,
                                 "train.log_every": 1, "train.sample_every": 5,
                                 "train.sample_grid": 4})
    final = Trainer(config, run_dir=tmp_path, observer=observer).run()
    assert isinstance(final, TrainingFinished) and final.reason == "completed"
    assert len(observer.of_type(StepMetrics)) == 60   # really looked at every report
    assert observer.of_type(HealthAlarm) == []
    assert not [r for r in read_metric_lines(tmp_path) if r.get("kind") == "alarm"]


def test_a_learning_rate_pushed_to_1_mid_run_raises_exploding_gradients_and_pauses(tmp_path):
    control = TrainingControl()

    class Driver(_StopWhenPaused):
        def on_event(self, event):
            super().on_event(event)
            if isinstance(event, StepMetrics) and event.step == 24:
                self.control.update(LiveSettings(lr_g=1.0, lr_d=1.0))  # divergence on purpose

    observer = Driver(control)
    config = make_tiny_config(**{**QUIET, "objective.loss": "lsgan", "train.steps": 200,
                                 "train.log_every": 1, "train.sample_every": 1000})
    final = Trainer(config, run_dir=tmp_path, observer=observer, control=control,
                    threaded_observer=False).run()
    (alarm,) = observer.of_type(HealthAlarm)
    assert alarm.kind == "exploding_gradients" and alarm.step == 25 and alarm.paused
    assert alarm.value > alarm.threshold and "gradient norm" in alarm.message
    assert observer.of_type(TrainingPaused)[0].step == 25      # paused right there
    assert isinstance(final, TrainingFinished) and final.reason == "stopped" and final.step == 25
    (line,) = [r for r in read_metric_lines(tmp_path) if r.get("kind") == "alarm"]
    assert line["alarm"] == "exploding_gradients" and line["step"] == 25


def test_a_frozen_generator_lets_d_overpower_it_and_the_alarm_says_so(tmp_path):
    control = TrainingControl()
    observer = _StopWhenPaused(control)
    config = make_tiny_config(**{**QUIET, "train.steps": 500, "train.log_every": 1,
                                 "train.sample_every": 1000, "optim.lr_g": 0.0,
                                 "optim.lr_d": 0.005})   # D learns, G cannot: D wins outright
    final = Trainer(config, run_dir=tmp_path, observer=observer, control=control,
                    threaded_observer=False).run()
    (alarm,) = observer.of_type(HealthAlarm)
    assert alarm.kind == "d_overpowering" and alarm.paused and final.step == alarm.step
    recent = [m for m in observer.of_type(StepMetrics) if m.step > alarm.step - 20]
    assert len(recent) == 20                                  # sustained, not one report
    assert all(m.d_real >= 0.99 and m.d_fake <= 0.01 for m in recent)
    assert "20 reports in a row" in alarm.message


def test_nan_pauses_and_never_overwrites_the_last_good_checkpoint(tmp_path):
    control = TrainingControl()
    observer = _StopWhenPaused(control)
    config = make_tiny_config(**{**QUIET, "train.steps": 100, "train.log_every": 2,
                                 "train.checkpoint_every": 3, "train.snapshot_every": 1,
                                 "train.snapshot_keep": 3})
    trainer = _NaNAt(config, run_dir=tmp_path, observer=observer, control=control,
                     threaded_observer=False)
    final = trainer.run()

    alarms = observer.of_type(HealthAlarm)
    assert [(a.kind, a.step, a.paused) for a in alarms] == [("nan", 6, True)]  # one banner
    assert "NaN" in alarms[0].message and "last good checkpoint" in alarms[0].message
    # Stopped while paused: the NaN state is not saved; the step-3 checkpoint is named.
    assert isinstance(final, TrainingFinished) and final.reason == "stopped"
    good = tmp_path / "checkpoints" / "step-000000003.pt"
    assert final.checkpoint == good and "NaN" in final.note and str(good) in final.note
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [3]
    assert [s for s, _ in list_checkpoints(tmp_path / "snapshots")] == [2, 3, 4]  # not 5, 6
    assert not (tmp_path / "generator.safetensors").exists()   # no NaN generator exported
    saved = [e.step for e in observer.of_type(CheckpointSaved)]
    assert 5 not in saved and 6 not in saved
    state = load_checkpoint(good)
    assert all(torch.isfinite(t).all() for t in state["D"].values() if t.is_floating_point())
    assert read_status(tmp_path)["state"] == "stopped"
    assert math.isnan(observer.of_type(StepMetrics)[-1].d_loss)
    assert all("kind" not in r for r in read_metrics(tmp_path))  # the alarm line is apart

    # The last good checkpoint still loads and trains on (resume from it, no poison now).
    again = CollectingObserver()
    resumed = Trainer(make_tiny_config(**{**QUIET, "train.steps": 9, "train.log_every": 2,
                                          "train.checkpoint_every": 3}),
                      run_dir=tmp_path, observer=again, resume=True).run()
    assert isinstance(resumed, TrainingFinished) and resumed.reason == "completed"
    assert all(math.isfinite(m.d_loss) for m in again.of_type(StepMetrics))
    assert again.of_type(HealthAlarm) == []


def test_nan_without_auto_pause_keeps_training_but_saves_nothing_more(tmp_path):
    observer = CollectingObserver()
    config = make_tiny_config(**{**QUIET, "train.steps": 9, "train.log_every": 2,
                                 "train.checkpoint_every": 3, "health.auto_pause": False})
    final = _NaNAt(config, run_dir=tmp_path, observer=observer).run()
    assert [(a.kind, a.paused) for a in observer.of_type(HealthAlarm)] == [("nan", False)]
    assert observer.of_type(TrainingPaused) == []
    assert final.reason == "completed" and final.step == 9
    assert final.checkpoint == tmp_path / "checkpoints" / "step-000000003.pt"
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [3]


def test_mode_collapse_is_caught_when_every_sample_becomes_the_same_image(tmp_path):
    control = TrainingControl()
    observer = _StopWhenPaused(control)
    # A fresh tiny G is barely diverse (a few per cent of real data), so the collapse rule is
    # armed from that level here; the default arms it once G reaches half of real diversity.
    config = make_tiny_config(**{**QUIET, "train.steps": 100, "train.log_every": 2,
                                 "train.sample_every": 2, "train.sample_grid": 4,
                                 "health.collapse_ratio": 0.0005})
    final = _CollapseAt(config, run_dir=tmp_path, observer=observer, control=control,
                        threaded_observer=False).run()
    (alarm,) = observer.of_type(HealthAlarm)
    assert alarm.kind == "mode_collapse" and alarm.paused
    assert alarm.step == 10    # samples at 8 and 10 are collapsed: two in a row
    assert alarm.value < alarm.threshold and "diverse" in alarm.message
    samples = {e.step: e.images for e in observer.of_type(SamplesReady)}
    assert sample_diversity(samples[10]) == 0.0 and sample_diversity(samples[6]) > 0
    assert final.reason == "stopped" and final.step == 10


def test_alarms_can_be_turned_off(tmp_path):
    observer = CollectingObserver()
    config = make_tiny_config(**{**QUIET, "train.steps": 6, "health.enabled": False,
                                 "train.checkpoint_every": 3})
    trainer = _NaNAt(config, run_dir=tmp_path, observer=observer)
    final = trainer.run()
    assert observer.of_type(HealthAlarm) == [] and trainer.health is None
    # Even unwatched, a NaN state is never written over the last good checkpoint.
    assert final.checkpoint == tmp_path / "checkpoints" / "step-000000003.pt"
    assert np.isnan(observer.of_type(StepMetrics)[-1].d_loss)


def test_a_flooded_observer_drops_metrics_but_never_an_alarm_or_quality_result():
    import threading

    from ganstudio.engine.events import QualityMetrics, ThreadedObserver

    release, received = threading.Event(), []

    class Slow:
        def on_event(self, event):
            release.wait(60)
            received.append(event)

    observer = ThreadedObserver(Slow(), max_backlog=4)
    metrics = [StepMetrics(s, 1, 1, 0.5, 0.5, 1, 1, 0, 1, 1, 1e-4, 1e-4, 1, 1)
               for s in range(1, 50)]
    alarm = HealthAlarm(25, "nan", "NaN or Inf in training", "NaN", math.nan, 0.0, True)
    quality = QualityMetrics(30, "random-conv-v1", 100, 1.0, None, None, None, None, 0.1)
    for event in metrics[:24] + [alarm] + metrics[24:29] + [quality] + metrics[29:]:
        observer.on_event(event)
    release.set()
    observer.close()
    assert observer.dropped > 0                       # the flood really overflowed
    assert alarm in received and quality in received
    assert received.index(alarm) < received.index(quality)
