"""Rewind and fork: the snapshot ring, fork rules, lineage, and forks compared with parents."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganstudio.config import RunConfig
from ganstudio.engine.checkpoint import list_checkpoints, load_checkpoint
from ganstudio.engine.events import (
    CollectingObserver,
    QualityMetrics,
    SamplesReady,
    StepMetrics,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
)
from ganstudio.engine.runs import (
    fork_config,
    fork_run_dir,
    read_lineage,
    read_status,
    restore_point_at,
    restore_points,
    scan_runs,
)
from ganstudio.engine.trainer import Trainer, read_metric_lines, read_metrics
from ganstudio.errors import ConfigError, GanStudioError

from .conftest import make_tiny_config

PARENT = {"train.steps": 12, "train.log_every": 1, "train.sample_every": 3,
          "train.snapshot_every": 1, "train.snapshot_keep": 100,
          "train.checkpoint_every": 100, "metrics.every": 6, "metrics.samples": 20}


def _losses(observer, after: int = 0):
    return [(m.step, m.d_loss, m.g_loss) for m in observer.of_type(StepMetrics) if m.step > after]


def _params(path):
    state = load_checkpoint(path)["G"]
    return {k: v for k, v in state.items() if k.endswith(("weight", "bias"))}


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    """A finished 12-step run with a snapshot after every step."""
    run = tmp_path_factory.mktemp("parent") / "parent"
    observer = CollectingObserver()
    final = Trainer(make_tiny_config(**PARENT), run_dir=run, observer=observer).run()
    assert isinstance(final, TrainingFinished)
    return run, observer


def test_a_fork_without_changes_continues_exactly_like_its_parent(parent, tmp_path):
    run, parent_events = parent
    point = restore_point_at(run, 7)             # "fork from step 7": the newest at or before
    assert point.step == 7 and point.kind == "snapshot"
    config = fork_config(RunConfig.from_toml(run / "config.toml"), {}, point.step)
    child = tmp_path / "child"
    observer = CollectingObserver()
    final = Trainer(config, run_dir=child, observer=observer, fork_from=point.path).run()
    assert isinstance(final, TrainingFinished), getattr(final, "details", "")

    started = observer.of_type(TrainingStarted)[0]
    assert (started.start_step, started.parent, started.fork_step) == (7, run, 7)
    # Bit-exact on the CPU: the same losses at the same steps, the same final samples.
    assert _losses(observer) == _losses(parent_events, after=7)
    np.testing.assert_array_equal(observer.of_type(SamplesReady)[-1].images,
                                  parent_events.of_type(SamplesReady)[-1].images)
    for key, value in _params(child / "snapshots" / "step-000000012.pt").items():
        torch.testing.assert_close(value, _params(run / "snapshots" / "step-000000012.pt")[key],
                                   rtol=0, atol=0)

    # Lineage: lineage.json, a note in config.toml, and the parent's history up to step 7.
    lineage = read_lineage(child)
    assert (lineage.parent, lineage.fork_step, lineage.restore_point) == (run, 7, point.path)
    assert lineage.changes == {}
    data = json.loads((child / "lineage.json").read_text())
    assert data["parent_name"] == "parent" and data["fork_step"] == 7
    assert "# [fork] forked from" in (child / "config.toml").read_text()
    assert RunConfig.from_toml(child / "config.toml") == config
    rows = read_metrics(child)
    assert [r["step"] for r in rows] == list(range(1, 13))
    assert all(r.get("inherited") for r in rows if r["step"] <= 7)
    assert not any(r.get("inherited") for r in rows if r["step"] > 7)
    # The parent's quality lines up to step 7 (its step-6 evaluation, unless a busy thread
    # replaced it), then the fork's own at step 12.
    inherited = [r["step"] for r in read_metric_lines(run)
                 if r.get("kind") == "quality" and r["step"] <= 7]
    assert inherited in ([6], [])
    assert [r["step"] for r in read_metric_lines(child)
            if r.get("kind") == "quality"] == [*inherited, 12]
    assert sorted(p.name for p in (child / "samples").glob("*.png")) == [
        f"step-{s:09d}.png" for s in (0, 3, 6, 9, 12)]
    assert read_status(child)["state"] == "completed"


def test_a_fork_with_a_higher_g_learning_rate_moves_g_by_that_factor(parent, tmp_path):
    run, parent_events = parent
    point = restore_point_at(run, 6)
    config = fork_config(RunConfig.from_toml(run / "config.toml"),
                         {"optim.lr_g": 8e-4}, point.step)        # 4x the parent's 2e-4
    child = tmp_path / "fast-g"
    observer = CollectingObserver()
    Trainer(config, run_dir=child, observer=observer, fork_from=point.path).run()
    assert read_lineage(child).changes == {"optim.lr_g": [2e-4, 8e-4]}

    parent_rows, child_rows = _losses(parent_events, after=6), _losses(observer)
    # Step 7's losses are measured before G's first update with the new rate: equal...
    assert child_rows[0] == parent_rows[0]
    # ...and from then on the runs part ways.
    assert all(c != p for c, p in zip(child_rows[1:], parent_rows[1:]))
    assert all(m.lr_g == pytest.approx(8e-4) for m in observer.of_type(StepMetrics))
    # Adam's step is proportional to the learning rate; with the same gradients and moments,
    # G's first update in the fork is exactly 4x the parent's.
    before = _params(point.path)
    parent_after = _params(run / "snapshots" / "step-000000007.pt")
    child_after = _params(child / "snapshots" / "step-000000007.pt")
    for key in before:
        step_parent = parent_after[key] - before[key]
        # Float32 weights carry ~1e-7 relative rounding; the steps are ~1e-4, far above it.
        rounding = 4 * torch.finfo(torch.float32).eps * before[key].abs().max().item()
        assert step_parent.abs().max() > 100 * rounding, key
        torch.testing.assert_close(child_after[key] - before[key], 4 * step_parent,
                                   rtol=1e-4, atol=rounding)


def test_a_fork_with_a_new_seed_draws_new_batches(parent, tmp_path):
    run, parent_events = parent
    point = restore_point_at(run, 9)
    config = fork_config(RunConfig.from_toml(run / "config.toml"), {"train.seed": 5}, 9)
    observer = CollectingObserver()
    Trainer(config, run_dir=tmp_path / "seed5", observer=observer, fork_from=point.path).run()
    child, original = _losses(observer), _losses(parent_events, after=9)
    assert [r[0] for r in child] == [10, 11, 12]
    assert all(c != p for c, p in zip(child, original))
    # Quality metrics keep the first seed's real subset and latents: comparable across the
    # fork, and the parent's real features are reused (the linked file, not a new one).
    name = "quality/real-random-conv-v1-n20.npz"
    assert (tmp_path / "seed5" / name).stat().st_ino == (run / name).stat().st_ino
    assert [q.step for q in observer.of_type(QualityMetrics)] == [12]


def test_fork_rules_name_the_setting_that_cannot_change(parent, tmp_path):
    run, _ = parent
    base = RunConfig.from_toml(run / "config.toml")
    with pytest.raises(ConfigError) as error:
        fork_config(base, {"model.g_width": 16}, 6)
    assert error.value.field == "model.g_width" and "cannot change in a fork" in str(error.value)
    with pytest.raises(ConfigError) as error:
        fork_config(base, {"objective.loss": "wgan-gp"}, 6)   # batch norm -> layer norm in D
    assert error.value.field == "objective.loss" and "normalisation" in str(error.value)
    with pytest.raises(ConfigError) as error:
        fork_config(base, {"train.steps": 6}, 6)
    assert error.value.field == "train.steps" and "more than the fork step 6" in str(error.value)
    allowed = fork_config(base, {"objective.loss": "hinge", "optim.beta1_d": 0.0,
                                 "train.batch_size": 16, "optim.ema": True}, 6)
    assert allowed.objective.loss == "hinge" and allowed.train.batch_size == 16

    # The engine checks the same rules whatever built the config.
    changed = base.copy()
    changed.set("model.d_width", 16)
    final = Trainer(changed, run_dir=tmp_path / "bad",
                    fork_from=restore_point_at(run, 6).path).run()
    assert isinstance(final, TrainingFailed) and "model.d_width" in final.message


def test_forks_may_change_the_loss_batch_size_and_ema_and_still_train(parent, tmp_path):
    run, _ = parent
    point = restore_point_at(run, 6)
    config = fork_config(RunConfig.from_toml(run / "config.toml"),
                         {"objective.loss": "hinge", "train.batch_size": 4, "optim.ema": True,
                          "optim.beta1_g": 0.0}, 6)
    observer = CollectingObserver()
    final = Trainer(config, run_dir=tmp_path / "hinge", observer=observer,
                    fork_from=point.path).run()
    assert isinstance(final, TrainingFinished), getattr(final, "details", "")
    assert final.step == 12 and load_checkpoint(final.checkpoint)["G_ema"] is not None
    assert all(np.isfinite(m.d_loss) for m in observer.of_type(StepMetrics))


def test_the_snapshot_ring_and_restore_points(tmp_path):
    run = tmp_path / "ring"
    config = make_tiny_config(**{"train.steps": 12, "train.snapshot_every": 2,
                                 "train.snapshot_keep": 3, "train.checkpoint_every": 3,
                                 "metrics.enabled": False})
    Trainer(config, run_dir=run).run()
    assert [s for s, _ in list_checkpoints(run / "snapshots")] == [8, 10, 12]
    assert [s for s, _ in list_checkpoints(run / "checkpoints")] == [6, 9, 12]
    assert [(p.step, p.kind) for p in restore_points(run)] == [
        (6, "checkpoint"), (8, "snapshot"), (9, "checkpoint"), (10, "snapshot"),
        (12, "checkpoint")]
    assert restore_point_at(run, 7).step == 6 and restore_point_at(run, 11).step == 10
    with pytest.raises(GanStudioError, match="earliest is at step 6"):
        restore_point_at(run, 5)
    # A step that is both a checkpoint and a snapshot is written once (a hard link).
    same = (run / "snapshots" / "step-000000012.pt", run / "checkpoints" / "step-000000012.pt")
    assert same[0].stat().st_ino == same[1].stat().st_ino
    assert load_checkpoint(same[0])["step"] == 12


def test_the_runs_of_a_folder_show_their_lineage(parent, tmp_path):
    run, _ = parent
    base = run.parent
    config = fork_config(RunConfig.from_toml(run / "config.toml"), {"optim.lr_d": 1e-4}, 3)
    child = fork_run_dir(run, 3)
    assert child == base / "parent-fork-3"
    Trainer(config, run_dir=child, fork_from=restore_point_at(run, 3).path).run()
    assert fork_run_dir(run, 3) == base / "parent-fork-3-2"   # never an existing folder
    runs = {s.name: s for s in scan_runs(base)}
    assert runs["parent"].parent is None and runs["parent"].status == "completed"
    assert runs["parent-fork-3"].parent == run and runs["parent-fork-3"].fork_step == 3
    assert runs["parent-fork-3"].steps_done == 12 and runs["parent-fork-3"].total_steps == 12
    assert runs["parent"].dataset == "shapes"
