"""Python's cyclic garbage collection, on the GUI thread only.

The automatic collector runs in whichever thread happens to allocate. When that is a worker
(the latent renderer, a directions fit, the training thread) and the garbage holds a Qt
object, Qt destroys it there: ``~QObject`` takes Qt's connection lock and PySide6 then waits for
the GIL, while the GUI thread, holding the GIL, waits for that same lock in ``connect`` — a
deadlock (seen in the tests, with a panel's widgets collected on a directions thread). The same
remedy as pyqtgraph's ``GarbageCollector``: automatic collection off, and a timer on the GUI
thread collecting whenever the allocation counts pass the usual thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadGarbageCollector(QObject):
    """Collect cyclic garbage on the thread that owns this object (the GUI thread)."""

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        """Collect the oldest generation whose count passed its threshold (cheap otherwise)."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Back to Python's automatic collection."""
        self._timer.stop()
        gc.enable()


def install(app: QObject, interval_ms: int = 500) -> GuiThreadGarbageCollector:
    """Turn it on for ``app``'s lifetime (idempotent: one per application)."""
    existing = app.findChild(GuiThreadGarbageCollector)
    return existing or GuiThreadGarbageCollector(interval_ms, app)
