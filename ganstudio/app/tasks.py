"""Short background jobs (opening a dataset, reading a run's history, decoding PNGs, exporting).

:class:`TaskRunner` runs plain Python functions on its own worker threads and calls back on the
GUI thread. Nothing Qt-specific crosses threads except the queued signal that carries the
result. Progress callbacks are rate-limited on the worker side, so a function that reports every
file never floods the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]


class TaskCancelled(Exception):
    """Raised inside a task by its progress callback once the task was cancelled."""


class TaskHandle:
    """What :meth:`TaskRunner.submit` returns: cancel it, or ask whether it is still running."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self.future: Future | None = None

    def cancel(self) -> None:
        # The job itself notices (before starting, or at its next progress report), so the
        # runner's bookkeeping always sees it finish.
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def done(self) -> bool:
        return self.future is not None and self.future.done()


class TaskRunner(QObject):
    """Runs functions on ``workers`` background threads; results come back on the GUI thread."""

    _delivered = Signal(object, object)      # callback, argument tuple
    busy_changed = Signal(bool)

    def __init__(self, name: str, workers: int = 1, parent: QObject | None = None):
        super().__init__(parent)
        self._name = name
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._pending = 0
        self._lock = threading.Lock()
        self._closed = False
        self._handles: set[TaskHandle] = set()
        self._delivered.connect(self._deliver)

    def submit(self, fn: Callable[..., Any], *args: Any,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[str, str], None] | None = None,
               on_progress: Callable[[int, int, str], None] | None = None,
               progress_interval: float = 0.1, **kwargs: Any) -> TaskHandle:
        """Run ``fn(*args, **kwargs)``; pass ``progress=`` to it when ``on_progress`` is given.

        ``on_error(message, details)`` receives a one-line message and the traceback.
        """
        handle = TaskHandle()
        if self._closed:
            handle.cancel()
            return handle
        if on_progress is not None:
            kwargs["progress"] = self._progress_forwarder(handle, on_progress, progress_interval)
        with self._lock:
            self._pending += 1
            first = self._pending == 1
        if first:
            self.busy_changed.emit(True)

        def job() -> None:
            try:
                if handle.cancelled:
                    raise TaskCancelled()
                result = fn(*args, **kwargs)
            except TaskCancelled:
                self._emit(self._finish, ())
            except Exception as exc:  # reported to the caller, never lost
                message = str(exc) or type(exc).__name__
                details = "".join(traceback.format_exception(exc))
                if on_error is None:
                    log.error("%s task failed: %s", self._name, message)
                    log.debug("%s", details)
                self._emit(self._finish_error, (on_error, handle, message, details))
            else:
                self._emit(self._finish_done, (on_done, handle, result))

        handle.future = self._executor.submit(job)
        self._handles = {h for h in self._handles if not h.done}
        self._handles.add(handle)
        return handle

    def cancel_all(self) -> None:
        """Ask every queued or running task to stop (at its next progress report)."""
        for handle in list(self._handles):
            handle.cancel()

    def _progress_forwarder(self, handle: TaskHandle, on_progress: Callable[[int, int, str], None],
                            interval: float) -> ProgressCallback:
        last = [0.0]

        def forward(done: int, total: int, message: str = "") -> None:
            if handle.cancelled:
                raise TaskCancelled()
            now = time.monotonic()
            if now - last[0] >= interval or (total and done >= total):
                last[0] = now
                self._emit(self._call_unless_cancelled, (handle, on_progress, done, total, message))

        return forward

    def _emit(self, callback: Callable, args: tuple) -> None:
        if not self._closed:
            self._delivered.emit(callback, args)

    @Slot(object, object)
    def _deliver(self, callback: Callable, args: tuple) -> None:
        callback(*args)

    def _call_unless_cancelled(self, handle: TaskHandle, fn: Callable, *args: Any) -> None:
        if not handle.cancelled:
            fn(*args)

    def _finish_done(self, on_done, handle: TaskHandle, result: Any) -> None:
        try:
            if on_done is not None and not handle.cancelled:
                on_done(result)
        finally:
            self._finish()

    def _finish_error(self, on_error, handle: TaskHandle, message: str, details: str) -> None:
        try:
            if on_error is not None and not handle.cancelled:
                on_error(message, details)
        finally:
            self._finish()

    def _finish(self) -> None:
        with self._lock:
            self._pending -= 1
            idle = self._pending == 0
        if idle:
            self.busy_changed.emit(False)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._pending > 0

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work; cancel queued and running jobs; optionally wait for them."""
        self._closed = True
        self.cancel_all()
        self._executor.shutdown(wait=wait, cancel_futures=True)
