"""Window state remembered between sessions (QSettings), kept apart from run hyperparameters.

Hyperparameters live in each run's ``config.toml``; QSettings only holds UI state: geometry,
dock layout, last folders, theme. ``GANSTUDIO_CONFIG_DIR`` (set by the tests) redirects the file,
so tests never read or write a person's real settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

ORGANIZATION = "GAN Studio"
APPLICATION = "ganstudio"
SETTINGS_FILE = "ganstudio.ini"

# Keys, in one place so a typo cannot silently create a second setting.
GEOMETRY = "window/geometry"
WINDOW_STATE = "window/state"
THEME = "window/theme"
RUNS_FOLDER = "paths/runs_folder"
LAST_RUN_FOLDER = "paths/last_run_folder"
LAST_DATASET_FOLDER = "paths/last_dataset_folder"
LAST_TORCHVISION_ROOT = "paths/last_torchvision_root"
LAST_EXPORT_FOLDER = "paths/last_export_folder"
PLOT_SMOOTHING = "plots/smoothing"
PLOT_LOG_SCALE = "plots/log_scale"
EXPORT_SCALE = "export/scale"
EXPORT_SMOOTH = "export/smooth"


def settings_path() -> Path | None:
    """The INI file used when ``GANSTUDIO_CONFIG_DIR`` is set, else None (Qt's default place)."""
    folder = os.environ.get("GANSTUDIO_CONFIG_DIR")
    return Path(folder) / SETTINGS_FILE if folder else None


def open_settings() -> QSettings:
    path = settings_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION,
                     APPLICATION)


def default_runs_folder() -> Path:
    return Path.home() / "GAN Studio runs"


class Settings:
    """Typed access to the few values the window keeps (always read with a default)."""

    def __init__(self, qsettings: QSettings | None = None):
        self.qsettings = qsettings or open_settings()

    def value(self, key: str, default: Any, kind: type) -> Any:
        try:
            value = self.qsettings.value(key, default, type=kind)
        except (TypeError, ValueError):  # a hand-edited INI with a wrong type
            return default
        return default if value is None else value

    def set(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, value)

    def folder(self, key: str, default: Path | None = None) -> Path:
        text = self.value(key, "", str)
        if text and Path(text).expanduser().is_dir():
            return Path(text).expanduser()
        return default if default is not None else Path.home()

    def set_folder(self, key: str, folder: Path | str) -> None:
        self.set(key, str(Path(folder)))

    @property
    def runs_folder(self) -> Path:
        text = self.value(RUNS_FOLDER, "", str)
        return Path(text).expanduser() if text else default_runs_folder()

    @runs_folder.setter
    def runs_folder(self, folder: Path | str) -> None:
        self.set(RUNS_FOLDER, str(Path(folder)))

    def sync(self) -> None:
        self.qsettings.sync()
