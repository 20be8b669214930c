"""Finding the window's resources (icons, desktop entry) and turning SVG icons into QIcons.

``resources/`` is a top-level folder of the project, not a Python package, so it is located by
path rather than through ``importlib.resources``:

1. a source checkout or ``pip install -e .`` — ``resources/`` next to the ``ganstudio`` package;
2. an installed wheel — ``<prefix>/share/ganstudio/`` (``[tool.setuptools.data-files]``);
3. a PyInstaller bundle — ``resources/`` inside the bundle (``sys._MEIPASS``).

Icons are painted by :class:`SvgIconEngine` at the exact device-pixel size asked for (crisp on
high-DPI screens) and with ``currentColor`` replaced by the palette's text colour at paint time,
so one SVG serves light and dark themes.
"""

from __future__ import annotations

import functools
import sys
import sysconfig
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QToolButton

_MARKER = Path("icons") / "ganstudio.svg"


def _candidates() -> list[Path]:
    here = Path(__file__).resolve()
    found = [here.parents[2] / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        found.append(Path(bundle) / "resources")
    for prefix in {sysconfig.get_path("data"), sys.prefix}:
        found.append(Path(prefix) / "share" / "ganstudio")
    return found


@functools.cache
def resource_root() -> Path:
    """The folder holding ``icons/`` and ``ganstudio.desktop``."""
    for folder in _candidates():
        if (folder / _MARKER).is_file():
            return folder
    looked = ", ".join(str(p) for p in _candidates())
    raise FileNotFoundError(f"GAN Studio's resources are missing (looked in {looked}); "
                            "reinstall the package")


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def icon_names() -> list[str]:
    return sorted(p.stem for p in (resource_root() / "icons").glob("*.svg"))


class SvgIconEngine(QIconEngine):
    """Paints an SVG at any size; ``currentColor`` follows the application palette."""

    def __init__(self, svg: bytes):
        super().__init__()
        self._svg = svg

    def _renderer(self, mode: QIcon.Mode) -> QSvgRenderer:
        palette = QGuiApplication.palette()
        group = QPalette.ColorGroup.Disabled if mode == QIcon.Mode.Disabled else \
            QPalette.ColorGroup.Normal
        colour = palette.color(group, QPalette.ColorRole.WindowText).name()
        return QSvgRenderer(QByteArray(self._svg.replace(b"currentColor", colour.encode())))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        renderer = self._renderer(mode)
        painter.save()
        if mode == QIcon.Mode.Disabled:
            painter.setOpacity(0.4)  # coloured accents fade too, not only currentColor parts
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(rect))
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State,
                     scale: float) -> QPixmap:
        device = QSize(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)))
        pixmap = QPixmap(device)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self.paint(painter, QRect(QPoint(0, 0), device), mode, state)
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        return size

    def clone(self) -> "SvgIconEngine":
        return SvgIconEngine(self._svg)

    def key(self) -> str:
        return "ganstudio-svg"


@functools.cache
def _svg_bytes(name: str) -> bytes:
    path = resource_path("icons", f"{name}.svg")
    if not path.is_file():
        raise FileNotFoundError(f"icon {name!r} not found: {path}")
    return path.read_bytes()


def icon(name: str) -> QIcon:
    """The named icon from ``resources/icons`` (``icon("train")``)."""
    return QIcon(SvgIconEngine(_svg_bytes(name)))


def app_icon() -> QIcon:
    return icon("ganstudio")


def text_tool_button(name: str, icon_name: str | None, text: str, tip: str, slot) -> QToolButton:
    """A tool button showing its text (beside the icon, if any), named for tests and screen
    readers (the text without a trailing "…"), with a tooltip, calling ``slot`` on click."""
    button = QToolButton()
    button.setObjectName(name)
    if icon_name:
        button.setIcon(icon(icon_name))
    button.setText(text)
    button.setAccessibleName(text.rstrip("…"))
    button.setToolTip(tip)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.clicked.connect(slot)
    return button
