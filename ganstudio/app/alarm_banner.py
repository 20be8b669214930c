"""The health alarm banner: a dismissible bar above the samples that says what went wrong.

It shows the newest alarm of the run (title, the sentence with the numbers, the step) and what
can be done about it: *Continue* training (when the alarm paused it) or *Rewind…* — fork the run
from a snapshot before the alarm. Several alarms in a row are counted, not stacked.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from ganstudio.app.resources import icon, text_tool_button
from ganstudio.app.theme import current_theme_is_dark


class AlarmBanner(QFrame):
    continue_requested = Signal()
    rewind_requested = Signal(int)       # the alarm's step
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.setAccessibleName("Training health alarm")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self._alarm: Any = None
        self._count = 0
        self._paused = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.setSpacing(10)
        self.icon_label = QLabel()
        self.icon_label.setPixmap(icon("alarm").pixmap(28, 28))
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.icon_label)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.title_label = QLabel()
        self.title_label.setObjectName("alarmTitle")
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.message_label = QLabel()
        self.message_label.setObjectName("alarmMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.title_label)
        text.addWidget(self.message_label)
        layout.addLayout(text, 1)
        self.continue_button = self._button(
            "alarmContinueButton", "train", "Continue",
            "Continue training despite the alarm (Space)", self._on_continue)
        self.rewind_button = self._button(
            "alarmRewindButton", "rewind", "Rewind…",
            "Fork the run from a snapshot before this alarm, with hyperparameters you choose",
            lambda: self.rewind_requested.emit(self.alarm_step))
        self.dismiss_button = self._button(
            "alarmDismissButton", None, "Dismiss", "Hide this alarm (the red marker stays on "
            "the plots)", self.dismiss)
        self.dismiss_button.setText("✕")
        self.dismiss_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for button in (self.continue_button, self.rewind_button, self.dismiss_button):
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.apply_theme()
        self.hide()

    def _button(self, name: str, icon_name: str | None, text: str, tip: str, slot
                ) -> QToolButton:
        return text_tool_button(name, icon_name, text, tip, slot)

    # ----- content ------------------------------------------------------------------------------
    def show_alarm(self, alarm: Any) -> None:
        """Show a HealthAlarm (the newest wins; earlier ones are counted)."""
        self._count = self._count + 1 if self.isVisible() else 1
        self._alarm = alarm
        self._paused = bool(alarm.paused)
        more = f"  (and {self._count - 1} earlier)" if self._count > 1 else ""
        self.title_label.setText(f"{alarm.title} at step {alarm.step:,}{more}")
        pause_note = " Training is paused." if alarm.paused else ""
        self.message_label.setText(alarm.message + pause_note)
        self.setToolTip(f"{alarm.title} at step {alarm.step:,}: {alarm.message}")
        self.continue_button.setVisible(self._paused)
        self.show()

    def set_paused(self, paused: bool) -> None:
        """Training was paused or continued elsewhere (toolbar, Space)."""
        self._paused = paused
        self.continue_button.setVisible(paused and self._alarm is not None)

    def set_rewind_enabled(self, enabled: bool) -> None:
        self.rewind_button.setEnabled(enabled)

    def dismiss(self) -> None:
        self.hide()
        self._count = 0
        self.dismissed.emit()

    def clear(self) -> None:
        self._alarm = None
        self._count = 0
        self.hide()

    @property
    def alarm(self) -> Any:
        return self._alarm

    @property
    def alarm_step(self) -> int:
        return int(self._alarm.step) if self._alarm is not None else 0

    def _on_continue(self) -> None:
        self.continue_requested.emit()
        self.continue_button.hide()

    def apply_theme(self) -> None:
        dark = current_theme_is_dark()
        background, text, border = (("#4a2326", "#f5d0d3", "#8c3a40") if dark
                                    else ("#fdecea", "#5c1a1f", "#e3a3a9"))
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(background))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(text))
        self.setPalette(palette)
        self.setStyleSheet(
            f"QFrame#alarmBanner {{ background: {background}; border: 1px solid {border}; "
            f"border-radius: 4px; }} "
            f"QFrame#alarmBanner QLabel {{ color: {text}; background: transparent; }}")
