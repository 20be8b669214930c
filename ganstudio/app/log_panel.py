"""The log panel: what ``logging`` says (engine, data, window), shown in the window.

:class:`LogBuffer` is a logging handler that only appends to a deque (safe from any thread, never
blocks the trainer); the panel drains it on a timer, so a burst of messages costs one repaint.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections import deque

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio.app.theme import ERROR_COLOUR

MAX_LINES = 5000
FLUSH_INTERVAL_MS = 200
LEVELS = (("Debug", logging.DEBUG), ("Info", logging.INFO), ("Warnings", logging.WARNING),
          ("Errors", logging.ERROR))


class LogBuffer(logging.Handler):
    """Keeps the newest records until the panel takes them."""

    def __init__(self, capacity: int = MAX_LINES):
        super().__init__(logging.DEBUG)
        self._records: deque[logging.LogRecord] = deque(maxlen=capacity)
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            self._records.append(record)

    def take(self) -> list[logging.LogRecord]:
        with self._lock_records:
            records = list(self._records)
            self._records.clear()
        return records


class LogPanel(QWidget):
    def __init__(self, buffer: LogBuffer, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("logPanel")
        self._buffer = buffer
        self._history: deque[logging.LogRecord] = deque(maxlen=MAX_LINES)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        self.level_combo = QComboBox()
        self.level_combo.setObjectName("logLevel")
        self.level_combo.setAccessibleName("Log level shown")
        self.level_combo.setToolTip("Which messages to show")
        for label, level in LEVELS:
            self.level_combo.addItem(label, level)
        self.level_combo.setCurrentIndex(1)
        self.level_combo.currentIndexChanged.connect(self._refilter)
        bar.addWidget(self.level_combo)
        bar.addStretch(1)
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("logClear")
        self.clear_button.setText("Clear")
        self.clear_button.setAccessibleName("Clear the log")
        self.clear_button.setToolTip("Remove every message from the log panel")
        self.clear_button.clicked.connect(self.clear)
        bar.addWidget(self.clear_button)
        layout.addLayout(bar)
        self.text = QPlainTextEdit()
        self.text.setObjectName("logText")
        self.text.setAccessibleName("Log messages")
        self.text.setToolTip("Messages from training, datasets and the window")
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.text, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self.flush)
        self._timer.start()

    @property
    def level(self) -> int:
        return int(self.level_combo.currentData())

    def flush(self) -> None:
        records = self._buffer.take()
        if not records:
            return
        self._history.extend(records)
        lines = [self._format(r) for r in records if r.levelno >= self.level]
        if lines:
            self.text.appendHtml("<br>".join(lines))
            bar = self.text.verticalScrollBar()
            bar.setValue(bar.maximum())

    def clear(self) -> None:
        self._history.clear()
        self.text.clear()

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def _refilter(self) -> None:
        self.text.clear()
        lines = [self._format(r) for r in self._history if r.levelno >= self.level]
        if lines:
            self.text.appendHtml("<br>".join(lines))

    @staticmethod
    def _format(record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in someone's log call
            message = str(record.msg)
        text = html.escape(f"{stamp}  {record.levelname.title()}: {message}")
        text = text.replace("\n", "<br>")
        if record.levelno >= logging.ERROR:
            return f'<span style="color:{ERROR_COLOUR}">{text}</span>'
        if record.levelno >= logging.WARNING:
            return f'<span style="color:#c98a00">{text}</span>'
        return text
