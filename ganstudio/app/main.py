"""``ganstudio [RUN_DIR | CHECKPOINT | GENERATOR_EXPORT | IMAGE_FOLDER]`` — open the window.

The window must appear within a couple of seconds on a small CPU, so this module and everything
the window imports before its first paint use only Qt and the config: PyTorch, the engine and
pyqtgraph are imported on a background thread after the window is on screen (see
:meth:`MainWindow._start_loading`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from ganstudio import __version__

log = logging.getLogger("ganstudio.app")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganstudio",
        description="GAN Studio: train, watch and explore generative adversarial networks.",
        epilog="With no argument the window opens ready to train on the built-in 'glyphs' "
               "dataset. Qt options (e.g. -platform offscreen) are passed on to Qt.")
    parser.add_argument("path", nargs="?", type=Path,
                        help="a run folder to open (and resume), a checkpoint (.pt) or "
                             "generator export (.safetensors) to explore, or a folder of "
                             "images to train on")
    parser.add_argument("--theme", choices=("system", "light", "dark"),
                        help="colour theme (remembered; default: follow the system)")
    parser.add_argument("--reset-layout", action="store_true",
                        help="forget the remembered window size and panel layout")
    parser.add_argument("--version", action="version", version=f"GAN Studio {__version__}")
    return parser


def _configure_logging(buffer: logging.Handler) -> None:
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("ganstudio: %(levelname)s: %(message)s"))
    root.addHandler(console)
    root.addHandler(buffer)


def _install_qt_message_handler() -> None:
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("qt")
    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}

    def handler(kind, _context, message: str) -> None:
        if message.startswith("This plugin does not support"):
            return  # the offscreen/minimal platforms' notes about features they lack
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def _install_excepthook(window) -> None:
    """An error in a slot reaches the person as a dialog (and the log), not a silent stderr."""
    import traceback

    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        details = "".join(traceback.format_exception(kind, value, tb))
        logging.getLogger("ganstudio.app").error("unexpected error: %s", value)
        try:
            window.show_failure("Unexpected error", f"{kind.__name__}: {value}", details,
                                informative="GAN Studio keeps running; please report this "
                                "with the details below.")
        except Exception:
            previous(kind, value, tb)

    sys.excepthook = hook


def _seconds_since_process_start() -> float:
    """How long ago the interpreter started (Linux), so start-up logs count imports too."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def main(argv: Sequence[str] | None = None) -> int:
    started_at = time.perf_counter() - _seconds_since_process_start()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if any(a in ("-h", "--help", "--version") for a in argv):
        parser.parse_args(argv)  # prints and exits, without needing a display

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from ganstudio.app import settings as keys
    from ganstudio.app.log_panel import LogBuffer
    from ganstudio.app.resources import app_icon
    from ganstudio.app.theme import ThemeManager

    buffer = LogBuffer()
    _configure_logging(buffer)
    _install_qt_message_handler()
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    # Qt took its own options (-platform, -qwindowgeometry...); the rest are ours.
    args = parser.parse_args(app.arguments()[1:] if argv else [])
    app.setApplicationName(keys.APPLICATION)
    app.setApplicationDisplayName("GAN Studio")
    app.setOrganizationName(keys.ORGANIZATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("ganstudio")
    app.setWindowIcon(app_icon())
    from ganstudio.app import gc_guard

    gc_guard.install(app)   # Qt objects must never be collected on a worker thread

    settings = keys.Settings()
    if args.theme:
        settings.set(keys.THEME, args.theme)
    if args.reset_layout:
        settings.qsettings.remove(keys.GEOMETRY)
        settings.qsettings.remove(keys.WINDOW_STATE)
    theme = ThemeManager(app, settings.value(keys.THEME, "system", str))

    from ganstudio.app.window import MainWindow

    window = MainWindow(settings, theme=theme, log_buffer=buffer, open_path=args.path,
                        started_at=started_at)
    window.show()
    _install_excepthook(window)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
