"""One consistent look: the Fusion style with a light or dark palette that follows the system.

The choice (``system``, ``light``, ``dark``) is kept in the settings; with ``system`` the palette
changes when the desktop switches scheme (Qt's ``colorSchemeChanged``). Plot and point colours
live here too, so the plots, the 2-D view and exported images agree.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("system", "light", "dark")

# Series colours: D in blue, G in orange everywhere; real points green, generated purple (the
# same greens/purples the engine uses for 2-D snapshot PNGs, ganstudio.export.points).
D_COLOUR = "#4c8ed9"
G_COLOUR = "#e8833a"
REAL_COLOUR = "#2ea043"
FAKE_COLOUR = "#8957e5"
ERROR_COLOUR = "#d73a49"


def _dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#25272b"), QColor("#1c1e21"), QColor("#e3e5e8")
    button, mid = QColor("#2e3136"), QColor("#3a3d43")
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor("#232529"),
        QPalette.ColorRole.Text: text, QPalette.ColorRole.Button: button,
        QPalette.ColorRole.ButtonText: text, QPalette.ColorRole.BrightText: QColor("#ffffff"),
        QPalette.ColorRole.Highlight: QColor("#3d6fb6"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.ToolTipBase: QColor("#33363b"),
        QPalette.ColorRole.ToolTipText: text, QPalette.ColorRole.Link: QColor("#7aa7e6"),
        QPalette.ColorRole.PlaceholderText: QColor("#8b9097"),
        QPalette.ColorRole.Light: QColor("#45484f"), QPalette.ColorRole.Midlight: mid,
        QPalette.ColorRole.Mid: QColor("#202225"), QPalette.ColorRole.Dark: QColor("#17181b"),
        QPalette.ColorRole.Shadow: QColor("#0d0e10"),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    disabled = QColor("#7b8088")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, QColor("#222427"))
    return p


def _light_palette() -> QPalette:
    p = QStyleFactory.create("Fusion").standardPalette()
    p.setColor(QPalette.ColorRole.Highlight, QColor("#3d6fb6"))
    p.setColor(QPalette.ColorRole.Link, QColor("#2f5fa8"))
    return p


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


class ThemeManager(QObject):
    """Applies and re-applies the palette; ``theme_changed(dark)`` tells custom-drawn widgets."""

    theme_changed = Signal(bool)

    def __init__(self, app: QApplication, choice: str = "system"):
        super().__init__(app)
        self._app = app
        self._choice = choice if choice in THEMES else "system"
        self._dark = False
        app.setStyle("Fusion")
        app.styleHints().colorSchemeChanged.connect(self._on_system_scheme_changed)
        self.apply()

    @property
    def choice(self) -> str:
        return self._choice

    @property
    def dark(self) -> bool:
        return self._dark

    def set_choice(self, choice: str) -> None:
        if choice not in THEMES:
            raise ValueError(f"unknown theme {choice!r} (use {', '.join(THEMES)})")
        self._choice = choice
        self.apply()

    def apply(self) -> None:
        dark = system_is_dark() if self._choice == "system" else self._choice == "dark"
        self._dark = dark
        self._app.setPalette(_dark_palette() if dark else _light_palette())
        self.theme_changed.emit(dark)

    def _on_system_scheme_changed(self, _scheme) -> None:
        if self._choice == "system":
            self.apply()


def current_theme_is_dark() -> bool:
    """Whether the application palette is dark (works with or without a ThemeManager)."""
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def tint_invalid(palette: QPalette) -> QPalette:
    """A copy of ``palette`` whose input background says "this value is wrong"."""
    tinted = QPalette(palette)
    dark = current_theme_is_dark()
    colour = QColor("#4a2326") if dark else QColor("#fde7e9")
    tinted.setColor(QPalette.ColorRole.Base, colour)
    tinted.setColor(QPalette.ColorRole.Button, colour)
    return tinted
