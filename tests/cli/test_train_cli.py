"""ganstudio-train as a person uses it: flags, files, errors, resume, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ganstudio.cli.train import main
from ganstudio.config import RunConfig
from ganstudio.engine.checkpoint import latest_checkpoint, load_checkpoint
from ganstudio.engine.trainer import read_metrics

TINY = ["--set", "model.g_width=8", "--set", "model.d_width=8", "--set", "model.nz=16",
        "--batch-size", "8", "--device", "cpu", "--no-progress"]


def test_trains_and_writes_a_complete_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["--dataset", "shapes", "--steps", "4", "--log-every", "2", "--sample-every", "2",
                 "--checkpoint-every", "2", "--seed", "3", "--out", str(out), *TINY])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Finished at step 4" in printed and str(out) in printed
    config = RunConfig.from_toml(out / "config.toml")
    assert config.train.seed == 3 and config.model.g_width == 8
    assert [r["step"] for r in read_metrics(out)] == [2, 4]
    assert len(list((out / "samples").glob("*.png"))) == 3
    assert (out / "generator.safetensors").is_file()


def test_config_file_and_flags_override_it(tmp_path):
    config = RunConfig()
    config.set("train.steps", 99)
    config.set("data.name", "ring")
    config.set("train.log_every", 1)
    path = tmp_path / "c.toml"
    config.save(path)
    out = tmp_path / "run"
    assert main([str(path), "--steps", "2", "--out", str(out), *TINY]) == 0
    saved = RunConfig.from_toml(out / "config.toml")
    assert saved.train.steps == 2 and saved.data.name == "ring" and saved.train.log_every == 1


@pytest.mark.parametrize("args,expected", [
    (["--batch-size", "0"], "--batch-size: must be an integer from 1 to 65536 (got 0)"),
    (["--steps", "-5"], "--steps: must be an integer from 1 to"),
    (["--loss", "gan"], "--loss: must be one of nonsaturating, hinge, wgan-gp, lsgan"),
    (["--device", "gpu"], "--device: must be auto, cpu, cuda, cuda:N or mps"),
    (["--image-size", "48"], "--image-size: dcgan makes 32, 64 or 128"),
    (["--set", "optim.ema_decay=2"], "--set optim.ema_decay: must be a number from 0 to"),
    (["--set", "nonsense"], "expected SECTION.KEY=VALUE"),
])
def test_bad_values_are_rejected_naming_the_flag_and_range(args, expected, capsys):
    if "--image-size" in args:
        args = [*args, "--model", "dcgan"]
    assert main(args) == 2
    assert expected in capsys.readouterr().err


def test_unknown_dataset_fails_with_exit_status_one_and_a_clear_message(tmp_path, capsys):
    code = main(["--dataset", str(tmp_path / "nowhere"), "--steps", "2",
                 "--out", str(tmp_path / "r"), *TINY])
    assert code == 1
    err = capsys.readouterr().err
    assert "unknown dataset" in err and "nowhere" in err


def test_lists(capsys):
    assert main(["--list-datasets"]) == 0
    listed = capsys.readouterr().out
    for name in ("shapes", "glyphs", "ring", "grid", "spiral", "mnist", "fashion-mnist", "cifar10"):
        assert name in listed
    assert main(["--list-models"]) == 0
    assert "dcgan" in capsys.readouterr().out


def test_resume_extends_a_run_and_refuses_model_changes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--dataset", "ring", "--steps", "3", "--log-every", "1",
                 "--out", str(out), *TINY]) == 0
    assert main(["--resume", str(out), "--steps", "5", "--no-progress"]) == 0
    assert load_checkpoint(latest_checkpoint(out / "checkpoints"))["step"] == 5
    assert [r["step"] for r in read_metrics(out)] == [1, 2, 3, 4, 5]
    capsys.readouterr()
    assert main(["--resume", str(out), "--set", "model.nz=3"]) == 2
    assert "model.nz" in capsys.readouterr().err
    assert main(["--dataset", "ring", "--out", str(out), *TINY]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganstudio.cli.train", "--dataset", "ring", "--steps", "1000000",
         "--log-every", "1", "--out", str(out), *TINY],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # Wait until training is really under way (a report line), then press Ctrl-C.
    for line in proc.stdout:
        if line.startswith("step "):
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "Stopped at step" in stdout and "--resume" in stdout
    state = load_checkpoint(latest_checkpoint(out / "checkpoints"))
    assert state["step"] >= 1


def test_a_toy_dataset_brings_its_recommended_settings_unless_chosen(tmp_path):
    out = tmp_path / "ring"
    assert main(["--dataset", "ring", "--steps", "2", "--out", str(out), "--no-progress",
                 "--device", "cpu"]) == 0
    saved = RunConfig.from_toml(out / "config.toml")
    assert saved.train.batch_size == 256 and saved.optim.lr_g == 1e-3
    out2 = tmp_path / "ring2"
    assert main(["--dataset", "ring", "--steps", "2", "--batch-size", "64", "--out", str(out2),
                 "--no-progress", "--device", "cpu"]) == 0
    saved = RunConfig.from_toml(out2 / "config.toml")
    assert saved.train.batch_size == 64 and saved.optim.lr_d == 1e-3


def test_a_run_killed_at_any_moment_keeps_a_loadable_checkpoint_and_resumes(tmp_path):
    """SIGKILL while checkpoints are written every step: the newest readable one survives."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganstudio.cli.train", "--dataset", "shapes", "--steps", "100000",
         "--log-every", "1", "--checkpoint-every", "1", "--out", str(out), *TINY],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    reports = 0
    for line in proc.stdout:
        reports += line.startswith("step ")
        if reports == 5:  # several checkpoints written, more being written right now
            break
    proc.kill()
    proc.wait(timeout=60)
    newest = latest_checkpoint(out / "checkpoints")
    assert newest is not None
    step = load_checkpoint(newest)["step"]
    assert step >= 3
    assert main(["--resume", str(out), "--steps", str(step + 2), "--no-progress"]) == 0
    assert load_checkpoint(latest_checkpoint(out / "checkpoints"))["step"] == step + 2


def test_trains_on_a_folder_of_images_and_says_what_was_skipped(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(12):
        pixels = rng.integers(0, 255, (40 + i, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / ("nested" if i % 2 else ".") / f"img{i}.png")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "run"
    assert main(["--dataset", str(folder), "--steps", "2", "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "12 items" in printed
    assert "Skipped 2 of 14 files" in printed and "empty.jpg" in printed
    assert (out / "generator.safetensors").is_file()
