"""Open GAN Studio in a state worth a screenshot (used by take.sh; not part of the app).

    python docs/screenshots/drive.py idle|training|points|dark [ganstudio args...]

``training`` and ``points`` press Train as soon as the engine has loaded; take.sh then waits
and captures the screen. Settings and runs go to temporary folders.
"""

from __future__ import annotations

import os
import sys
import tempfile

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

SCENES = {
    "idle": {},
    # Narrower nets and smaller batches than the defaults, so that a shared 2-core CPU reaches
    # recognisable shapes within the few minutes a screenshot waits.
    "training": {"data.name": "shapes", "model.g_width": 32, "model.d_width": 32,
                 "train.batch_size": 32, "train.sample_every": 50},
    "points": {"data.name": "ring", "train.steps": 20000, "train.batch_size": 256,
               "train.sample_every": 100},
    "dark": {},
}


def main() -> int:
    scene = sys.argv[1]
    scratch = tempfile.mkdtemp(prefix="ganstudio-shot-")
    os.environ.setdefault("GANSTUDIO_CONFIG_DIR", os.path.join(scratch, "config"))
    from ganstudio.app import main as app_main
    from ganstudio.app.settings import Settings

    Settings().runs_folder = os.path.join(scratch, "runs")

    def hook() -> None:
        window = next(w for w in QApplication.topLevelWidgets()
                      if w.objectName() == "mainWindow")

        def ready() -> None:
            values = dict(SCENES[scene])
            name = values.pop("data.name", None)
            if name:
                window.run_panel.set_dataset(name)
            for path, value in values.items():
                window.run_panel.editor(path).set_value(value)
            if scene in ("training", "points"):
                # Train once the dataset preview is in (the trainer then reuses it).
                def train_when_ready() -> None:
                    if window.train_action.isEnabled():
                        window.train_action.trigger()
                    else:
                        QTimer.singleShot(200, train_when_ready)

                QTimer.singleShot(500, train_when_ready)

        window.engine_loaded.connect(ready)

    QTimer.singleShot(0, hook)
    extra = ["--theme", "dark"] if scene == "dark" else []
    return app_main.main([*extra, *sys.argv[2:]])


if __name__ == "__main__":
    raise SystemExit(main())
