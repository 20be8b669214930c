"""The window benchmark script runs and reports its numbers (speed itself is not asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def test_launch_measurement_reports_a_first_paint_time():
    result = subprocess.run([sys.executable, "-m", "ganstudio.app.bench_window", "--launches", "1",
                             "--skip", "stall,slider", "--json"], capture_output=True, text=True,
                            timeout=300, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["launch"]["first_paint_s"]) == 1
    assert 0 < report["launch"]["median_s"] < 60


def test_training_measurement_pairs_window_and_headless_rounds(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ganstudio.app.bench_window", "--rounds", "2",
                             "--train-seconds", "4", "--skip", "launch,slider", "--json"],
                            capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-2000:]
    training = json.loads(result.stdout.strip().splitlines()[-1])["training"]
    assert len(training["window_img_s"]) == len(training["headless_img_s"]) == 2
    assert training["ticks"] > 100                      # the 5 ms probe ran while training
    assert 0 < training["lateness_p99_ms"] < 10_000
    ratios = [w / h for w, h in zip(training["window_img_s"], training["headless_img_s"])]
    assert min(ratios) <= training["window_vs_headless"] <= max(ratios)
