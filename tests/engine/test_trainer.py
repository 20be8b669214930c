"""The trainer: run folder, determinism, exact resume, controls, every objective and option."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest
import torch

from ganstudio.config import RunConfig
from ganstudio.engine.checkpoint import list_checkpoints, load_checkpoint
from ganstudio.engine.control import LiveSettings, TrainingControl
from ganstudio.engine.events import (
    CheckpointSaved,
    CollectingObserver,
    PointsReady,
    SamplesReady,
    StepMetrics,
    TrainingFailed,
    TrainingFinished,
    TrainingPaused,
    TrainingResumed,
    TrainingStarted,
)
from ganstudio.engine.trainer import Trainer, read_metrics
from ganstudio.export.png import read_png_metadata

from .conftest import make_tiny_config


def _losses(observer):
    return [(e.step, e.d_loss, e.g_loss) for e in observer.of_type(StepMetrics)]


def test_a_run_folder_holds_config_metrics_samples_checkpoints_and_an_export(tmp_path):
    config = make_tiny_config()
    observer = CollectingObserver()
    final = Trainer(config, run_dir=tmp_path / "run", observer=observer).run()
    assert isinstance(final, TrainingFinished) and final.reason == "completed"
    run = tmp_path / "run"
    assert RunConfig.from_toml(run / "config.toml") == config
    rows = read_metrics(run)
    assert [r["step"] for r in rows] == [2, 4, 6]
    assert all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in rows)
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step-000000000.png", "step-000000003.png", "step-000000006.png"]
    assert read_png_metadata(run / "samples" / "step-000000006.png")["step"] == 6
    assert [s for s, _ in list_checkpoints(run / "checkpoints")] == [3, 6]
    assert (run / "generator.safetensors").is_file()
    kinds = [type(e) for e in observer.events]
    assert kinds[0] is TrainingStarted and kinds[-1] is TrainingFinished
    samples = observer.of_type(SamplesReady)
    assert samples[-1].images.shape == (4, 32, 32, 3) and samples[-1].images.dtype == np.uint8
    assert [e.step for e in observer.of_type(CheckpointSaved)] == [3, 6]


def test_same_seed_gives_the_same_run_on_cpu(tmp_path):
    a, b = CollectingObserver(), CollectingObserver()
    Trainer(make_tiny_config(), run_dir=tmp_path / "a", observer=a).run()
    Trainer(make_tiny_config(), run_dir=tmp_path / "b", observer=b).run()
    assert _losses(a) == _losses(b)
    np.testing.assert_array_equal(a.of_type(SamplesReady)[-1].images,
                                  b.of_type(SamplesReady)[-1].images)
    c = CollectingObserver()
    Trainer(make_tiny_config(**{"train.seed": 1}), run_dir=tmp_path / "c", observer=c).run()
    assert _losses(c) != _losses(a)


@pytest.mark.parametrize("overrides", [
    {},
    {"optim.ema": True, "objective.diffaugment": "color,translation,cutout"},
    {"data.name": "ring", "model.architecture": "mlp", "model.g_width": 16},
    {"model.conditional": True, "objective.loss": "hinge", "objective.g_steps": 2},
], ids=["dcgan", "ema-diffaugment", "points", "conditional-k2"])
def test_resume_continues_exactly(tmp_path, overrides):
    # N + M steps in one go == N steps, stop, resume for M (same losses, same samples).
    full = CollectingObserver()
    Trainer(make_tiny_config(**{**overrides, "train.steps": 8}), run_dir=tmp_path / "full",
            observer=full).run()
    Trainer(make_tiny_config(**{**overrides, "train.steps": 3}), run_dir=tmp_path / "split").run()
    second = CollectingObserver()
    final = Trainer(make_tiny_config(**{**overrides, "train.steps": 8}),
                    run_dir=tmp_path / "split", observer=second, resume=True).run()
    assert isinstance(final, TrainingFinished), getattr(final, "details", "")
    assert second.of_type(TrainingStarted)[0].start_step == 3
    tail = [row for row in _losses(full) if row[0] > 3]
    assert _losses(second)[-len(tail):] == tail
    # The first part ended between reports, so its partial window is on record too.
    assert [r["step"] for r in read_metrics(tmp_path / "split")] == [2, 3, 4, 6, 8]
    a = full.of_type(SamplesReady)[-1].images
    b = second.of_type(SamplesReady)[-1].images
    np.testing.assert_array_equal(a, b)


def test_every_objective_and_option_trains_with_finite_losses(tmp_path):
    variants = [
        {"objective.loss": "wgan-gp", "objective.d_steps": 2},
        {"objective.loss": "lsgan", "model.spectral_norm": True},
        {"objective.loss": "nonsaturating", "objective.r1_gamma": 10.0},
        {"optim.lr_g": 1e-4, "optim.lr_d": 4e-4, "optim.beta1_g": 0.0, "optim.beta2_d": 0.9},
        {"model.latent_distribution": "uniform"},
        {"data.name": "glyphs", "model.architecture": "mlp", "model.image_size": 28,
         "model.g_width": 4, "model.d_width": 4},
        {"model.image_size": 64},
    ]
    for i, overrides in enumerate(variants):
        observer = CollectingObserver()
        final = Trainer(make_tiny_config(**{**overrides, "train.steps": 4,
                                            "train.sample_every": 100}),
                        run_dir=tmp_path / str(i), observer=observer).run()
        assert isinstance(final, TrainingFinished), (overrides, getattr(final, "details", ""))
        for m in observer.of_type(StepMetrics):
            assert math.isfinite(m.d_loss) and math.isfinite(m.g_loss), overrides
            assert m.grad_norm_d > 0 and m.grad_norm_g > 0, overrides
        if overrides.get("objective.loss") == "wgan-gp":
            assert observer.of_type(StepMetrics)[-1].penalty > 0


def test_points_runs_report_real_fake_and_a_heatmap(tmp_path):
    observer = CollectingObserver()
    Trainer(make_tiny_config(**{"data.name": "ring", "train.steps": 3}), run_dir=tmp_path,
            observer=observer).run()
    snap = observer.of_type(PointsReady)[-1]
    assert snap.real.shape == (1000, 2) and snap.fake.shape == (1000, 2)
    assert snap.heatmap.shape == (64, 64) and 0 <= snap.heatmap.min() <= snap.heatmap.max() <= 1
    assert (tmp_path / "samples" / "step-000000003.npz").is_file()


class _BlockingObserver:
    """Blocks on its first event until released: a stand-in for a frozen window."""

    def __init__(self):
        self.release = threading.Event()
        self.events = []

    def on_event(self, event):
        self.release.wait()
        self.events.append(event)


class _SignallingTrainer(Trainer):
    """Sets ``trained`` once the final generator export is written (the loop's last act)."""

    trained = None

    def export_generator(self, path=None):
        out = super().export_generator(path)
        self.trained.set()
        return out


def test_a_stuck_observer_never_blocks_training(tmp_path):
    observer = _BlockingObserver()
    trainer = _SignallingTrainer(make_tiny_config(**{"train.steps": 12}), run_dir=tmp_path,
                                 observer=observer)
    trainer.trained = threading.Event()
    thread = threading.Thread(target=trainer.run)
    thread.start()
    assert trainer.trained.wait(120), "training did not finish while the observer was stuck"
    assert observer.events == []  # nothing delivered yet: the trainer never waited for it
    assert trainer.step == 12
    observer.release.set()
    thread.join(60)
    assert isinstance(observer.events[-1], TrainingFinished)
    assert len([e for e in observer.events if isinstance(e, StepMetrics)]) == 6


def test_pause_single_step_live_settings_and_stop(tmp_path):
    control = TrainingControl()
    paused, single_steps_done, resumed = threading.Event(), threading.Event(), threading.Event()

    class Driver(CollectingObserver):
        pause_step = None

        def on_event(self, event):
            super().on_event(event)
            if isinstance(event, StepMetrics) and event.step == 2:
                control.pause()
            elif isinstance(event, TrainingPaused):
                self.pause_step = event.step
                control.update(LiveSettings(lr_g=1e-3, lr_d=5e-5, g_steps=2))
                control.step_once()
                control.step_once()
                paused.set()
            elif isinstance(event, StepMetrics) and self.pause_step is not None:
                if event.step == self.pause_step + 2:
                    single_steps_done.set()
            elif isinstance(event, TrainingResumed):
                resumed.set()

    observer = Driver()
    trainer = Trainer(make_tiny_config(**{"train.steps": 100_000, "train.log_every": 1,
                                          "train.checkpoint_every": 100_000}),
                      run_dir=tmp_path, observer=observer, control=control,
                      threaded_observer=False)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    assert paused.wait(60) and single_steps_done.wait(60)
    assert control.paused  # single steps leave training paused
    control.resume()
    assert resumed.wait(60)
    control.stop()
    thread.join(60)
    final = observer.events[-1]
    assert isinstance(final, TrainingFinished) and final.reason == "stopped"
    assert final.checkpoint is not None and final.checkpoint.exists()
    assert load_checkpoint(final.checkpoint)["step"] == final.step
    after = [m for m in observer.of_type(StepMetrics) if m.step > observer.pause_step]
    assert after[0].lr_g == pytest.approx(1e-3) and after[0].lr_d == pytest.approx(5e-5)
    assert after[0].g_steps == 2
    assert len(observer.of_type(TrainingPaused)) == 1
    assert len(observer.of_type(TrainingResumed)) == 1


def test_stop_before_the_first_step_still_saves_a_checkpoint(tmp_path):
    control = TrainingControl()
    control.stop()
    final = Trainer(make_tiny_config(), run_dir=tmp_path, control=control).run()
    assert isinstance(final, TrainingFinished) and final.reason == "stopped"
    assert final.step == 0 and final.checkpoint.exists()


def test_setup_errors_become_one_clear_failure_event(tmp_path):
    observer = CollectingObserver()
    config = make_tiny_config(**{"data.name": str(tmp_path / "missing-folder")})
    final = Trainer(config, run_dir=tmp_path / "run", observer=observer).run()
    assert isinstance(final, TrainingFailed)
    assert "missing-folder" in final.message and "Traceback" in final.details
    assert observer.events[-1] is final
    config = make_tiny_config(**{"data.name": "ring", "model.conditional": True})
    final = Trainer(config, run_dir=tmp_path / "run2").run()
    assert isinstance(final, TrainingFailed) and "model.conditional" in final.message


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    final = Trainer(make_tiny_config(), run_dir=tmp_path, resume=True).run()
    assert isinstance(final, TrainingFailed) and "nothing to resume" in final.message


def test_metrics_lines_are_standard_json(tmp_path):
    Trainer(make_tiny_config(), run_dir=tmp_path).run()
    for line in (tmp_path / "metrics.jsonl").read_text().splitlines():
        assert "NaN" not in line
        json.loads(line)


def test_checkpoint_holds_everything_needed_to_continue(tmp_path):
    Trainer(make_tiny_config(**{"optim.ema": True}), run_dir=tmp_path).run()
    state = load_checkpoint(sorted((tmp_path / "checkpoints").iterdir())[-1])
    for key in ("G", "D", "G_ema", "opt_G", "opt_D", "rng", "step", "config", "fixed_noise"):
        assert state[key] is not None, key
    assert isinstance(state["rng"]["torch"], torch.Tensor)
    assert set(state["rng"]["sampler"]) == {"generator", "epoch", "position", "order"}


def test_generator_snapshots_are_detached_copies_that_reproduce_the_samples(tmp_path):
    from ganstudio.engine.events import GeneratorSnapshot
    from ganstudio.engine.sampling import render

    observer = CollectingObserver()
    trainer = Trainer(make_tiny_config(**{"optim.ema": True}), run_dir=tmp_path,
                      observer=observer, generator_snapshots=True)
    trainer.run()
    snaps = observer.of_type(GeneratorSnapshot)
    assert [s.step for s in snaps] == [0, 3, 6]
    last = snaps[-1].source
    assert "EMA" in last.label and last.metadata["ema"] is True
    images = render(last.build(), trainer.fixed_noise)
    np.testing.assert_array_equal(images, observer.of_type(SamplesReady)[-1].images)
    first = snaps[0].source.state["main.0.weight"]
    assert not np.array_equal(first, last.state["main.0.weight"])  # not a live view
