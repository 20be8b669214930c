"""Cyclic garbage is collected on the GUI thread, never on a worker that allocates."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from ganstudio.app import gc_guard


class _Cycle(QObject):
    def __init__(self, collected_on: list):
        super().__init__()
        self.me = self          # a reference cycle: only the cyclic collector frees it
        self.collected_on = collected_on

    def __del__(self):
        self.collected_on.append(threading.current_thread().name)


def test_a_qt_cycle_is_collected_on_the_gui_thread_not_a_busy_worker(qapp, qtbot):
    guard = gc_guard.install(qapp)
    assert gc_guard.install(qapp) is guard and not gc.isenabled()
    collected_on: list = []
    _Cycle(collected_on)
    # A worker allocates far past every threshold: automatic collection would run there.
    kept: list = []
    worker = threading.Thread(target=lambda: kept.extend([object()] for _ in range(200_000)),
                              name="busy-worker")
    worker.start()
    worker.join()
    assert collected_on == []
    qtbot.waitUntil(lambda: collected_on == ["MainThread"], timeout=5000)
