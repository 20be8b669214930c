"""Open GAN Studio in the states of the health and fork screenshots (not part of the app).

    ../shared/scripts/xshot.sh /tmp/h.png 75 .venv/bin/python docs/screenshots/health_fork.py health
    .venv/bin/python docs/screenshots/health_fork.py prepare   # ~3 minutes: three short runs
    ../shared/scripts/xshot.sh /tmp/f.png 25 .venv/bin/python docs/screenshots/health_fork.py fork

``health`` trains glyphs and, at step 260, types learning rates of 1.0 into the run panel (a
live change): the run breaks down and an alarm pauses it. ``prepare`` trains a baseline and two
forks of it from step 400 (``ganstudio-train --fork``); ``fork`` opens one fork with its parent
ticked for comparison. take.sh's palette reduction keeps the PNGs small.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

BASE = Path(os.environ.get("GANSTUDIO_SHOT_RUNS", Path(tempfile.gettempdir()) / "ganstudio-shots"))
RUNS = BASE / "runs"


def prepare() -> int:
    train = [sys.executable, "-m", "ganstudio.cli.train", "--no-progress", "-q"]
    parent = RUNS / "glyphs-baseline"
    steps = [
        [*train, "--dataset", "glyphs", "--steps", "800", "--out", str(parent),
         "--set", "train.snapshot_every=100", "--set", "metrics.every=200",
         "--set", "metrics.samples=500"],
        [*train, "--fork", str(parent), "--from-step", "400", "--set", "optim.lr_g=0.0006",
         "--set", "optim.lr_d=0.0001", "--out", str(RUNS / "glyphs-baseline-fork-400")],
        [*train, "--fork", str(parent), "--from-step", "400", "--set", "objective.loss=hinge",
         "--out", str(RUNS / "glyphs-baseline-hinge")],
    ]
    for command in steps:
        subprocess.run(command, check=True)
    return 0


def main() -> int:
    scene = sys.argv[1] if len(sys.argv) > 1 else "health"
    if scene == "prepare":
        return prepare()
    os.environ["GANSTUDIO_CONFIG_DIR"] = str(BASE / f"config-{scene}")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from ganstudio.app import settings as keys
    from ganstudio.app.theme import ThemeManager
    from ganstudio.app.window import MainWindow

    settings = keys.Settings()
    theme = ThemeManager(app, "light")
    if scene == "health":
        settings.runs_folder = BASE / "health-runs"
        window = MainWindow(settings, theme=theme)
    else:
        settings.runs_folder = RUNS
        window = MainWindow(settings, theme=theme, open_path=RUNS / "glyphs-baseline-fork-400")
    window.show()

    def start_health() -> None:
        panel = window.run_panel
        for path, value in {"train.steps": 100000, "train.sample_every": 50,
                            "train.log_every": 5, "metrics.every": 100,
                            "metrics.samples": 400, "train.snapshot_every": 50}.items():
            panel.editor(path).set_value(value)
        panel._validate()
        window.start_training()
        pushed = []

        def on_metrics(batch) -> None:
            if not pushed and batch[-1].step >= 260:
                pushed.append(True)
                for path in ("optim.lr_g", "optim.lr_d"):   # typed while training: live
                    panel.editor(path).set_value("1.0")
                    panel._on_field_edited(path)

        window.controller.metrics_received.connect(on_metrics)

    def show_fork() -> None:
        window.runs_dock.show()
        window.runs_dock.raise_()
        window.runs_panel.set_compared(RUNS / "glyphs-baseline", True)
        window.runs_panel.tree.setCurrentItem(
            window.runs_panel.item_for(RUNS / "glyphs-baseline-fork-400"))

    def when_ready() -> None:
        if scene == "health" and window.engine_ready and window.run_panel.preview is not None:
            QTimer.singleShot(300, start_health)
        elif scene == "fork" and window.run_dir is not None and window.plots is not None \
                and window.plots.point_count > 0 and len(window.runs_panel.items()) >= 3:
            QTimer.singleShot(300, show_fork)
        else:
            QTimer.singleShot(200, when_ready)

    when_ready()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
