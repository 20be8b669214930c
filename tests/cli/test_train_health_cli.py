"""ganstudio-train and the health features: alarm lines, stopping on an alarm, quality lines,
--fork from a snapshot."""

from __future__ import annotations

import json

import torch

from ganstudio.cli.train import EXIT_ALARM, main
from ganstudio.config import RunConfig
from ganstudio.engine.runs import read_lineage
from ganstudio.engine.trainer import Trainer, read_metrics

TINY = ["--set", "model.g_width=8", "--set", "model.d_width=8", "--set", "model.nz=16",
        "--batch-size", "8", "--device", "cpu", "--no-progress"]


class _NaNAfterStep4(Trainer):
    def train_step(self, measure_grad_norms: bool = False) -> None:
        super().train_step(measure_grad_norms)
        if self.step + 1 == 5:
            with torch.no_grad():
                weight = next(self.D.parameters())
                weight[(0,) * weight.dim()] = float("nan")


def test_an_alarm_prints_a_warning_and_stops_the_run_with_its_last_good_checkpoint(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("ganstudio.engine.trainer.Trainer", _NaNAfterStep4)
    out = tmp_path / "run"
    code = main(["--dataset", "shapes", "--steps", "1000", "--log-every", "2",
                 "--checkpoint-every", "3", "--out", str(out), *TINY])
    printed = capsys.readouterr().out
    assert code == EXIT_ALARM == 3
    assert "WARNING: NaN or Inf in training at step 6:" in printed
    assert "Stopped at step 6" in printed
    assert f"checkpoint {out / 'checkpoints' / 'step-000000003.pt'}" in printed
    assert "no checkpoint was written there" in printed
    assert f"ganstudio-train --fork {out} --from-step 5" in printed
    alarms = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()
              if '"alarm"' in line]
    assert [a["alarm"] for a in alarms] == ["nan"]


def test_quality_lines_are_printed_and_written(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--dataset", "shapes", "--steps", "4", "--log-every", "2", "--out", str(out),
                 "--set", "metrics.every=4", "--set", "metrics.samples=30", *TINY]) == 0
    printed = capsys.readouterr().out
    assert "step 4: quality (random-conv-v1, 30 samples" in printed and "FD " in printed
    assert [r["step"] for r in read_metrics(out)] == [2, 4]


def test_fork_from_a_step_with_new_hyperparameters(tmp_path, capsys):
    parent = tmp_path / "parent"
    assert main(["--dataset", "shapes", "--steps", "6", "--log-every", "1", "--out", str(parent),
                 "--set", "train.snapshot_every=2", *TINY]) == 0
    child = tmp_path / "child"
    assert main(["--fork", str(parent), "--from-step", "5", "--set", "optim.lr_g=0.001",
                 "--steps", "8", "--out", str(child), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"Forked from {parent} at step 4" in printed and "Finished at step 8" in printed
    lineage = read_lineage(child)
    assert lineage.fork_step == 4 and lineage.parent == parent
    assert lineage.changes == {"optim.lr_g": [2e-4, 1e-3], "train.steps": [6, 8]}
    config = RunConfig.from_toml(child / "config.toml")
    assert config.optim.lr_g == 1e-3 and config.model.g_width == 8
    assert [r["step"] for r in read_metrics(child)] == list(range(1, 9))

    # Without --out the fork goes next to its parent; without --from-step, from the newest.
    assert main(["--fork", str(parent), "--steps", "7", "--no-progress"]) == 0
    assert read_lineage(tmp_path / "parent-fork-6").fork_step == 6


def test_fork_refuses_what_would_not_fit_naming_the_flag(tmp_path, capsys):
    parent = tmp_path / "parent"
    assert main(["--dataset", "shapes", "--steps", "4", "--out", str(parent),
                 "--set", "train.snapshot_every=2", *TINY]) == 0
    capsys.readouterr()
    assert main(["--fork", str(parent), "--set", "model.g_width=16"]) == 2
    assert "--set model.g_width: cannot change in a fork" in capsys.readouterr().err
    assert main(["--fork", str(parent), "--from-step", "1"]) == 2
    assert "earliest is at step 2" in capsys.readouterr().err
    assert main(["--from-step", "3"]) == 2
    assert "--from-step goes with --fork" in capsys.readouterr().err
    assert main(["--fork", str(parent), "--from-step", "4", "--steps", "4"]) == 2
    assert "--steps: must be more than the fork step 4" in capsys.readouterr().err
