"""The window benchmark script runs and reports its numbers (speed itself is not asserted)."""

from __future__ import annotations

import json
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
