"""Training in the background: one worker ``QObject`` on one ``QThread``, driven by signals.

The worker calls :meth:`Trainer.run` on its thread. The trainer hands events to a
:class:`~ganstudio.engine.events.ThreadedObserver`, whose delivery thread calls
:class:`_SignalObserver`, which turns them into queued Qt signals for the GUI thread. Events are
frozen dataclasses holding numpy arrays, never live tensors. Step metrics are batched: while the
GUI has not yet taken the previous batch no new signal is queued, so a fast trainer can never
flood the event loop (it only ever has one pending "metrics available" call).

Pause, resume, single step, stop and live settings go straight to the thread-safe
:class:`~ganstudio.engine.control.TrainingControl`; the trainer checks it between steps.
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ganstudio.config import RunConfig
from ganstudio.engine.control import LiveSettings, TrainingControl
from ganstudio.engine.events import (
    CheckpointSaved,
    GeneratorSnapshot,
    HealthAlarm,
    PointsReady,
    QualityMetrics,
    SamplesReady,
    StepMetrics,
    TrainingFailed,
    TrainingFinished,
    TrainingPaused,
    TrainingResumed,
    TrainingStarted,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingJob:
    config: RunConfig
    run_dir: Path
    resume: bool
    control: TrainingControl
    dataset: Any = None          # an already opened dataset matching the config, or None
    fork_from: Path | None = None  # a snapshot of another run to fork from (a new run_dir)


class _SignalObserver:
    """Runs on the trainer's observer thread; re-emits events as the worker's signals."""

    def __init__(self, worker: "TrainingWorker"):
        self._worker = worker

    def on_event(self, event: Any) -> None:
        w = self._worker
        if isinstance(event, StepMetrics):
            w.push_metrics(event)
        elif isinstance(event, SamplesReady):
            w.samples_ready.emit(event)
        elif isinstance(event, PointsReady):
            w.points_ready.emit(event)
        elif isinstance(event, GeneratorSnapshot):
            w.generator_snapshot.emit(event)
        elif isinstance(event, CheckpointSaved):
            if event.kind == "snapshot":
                w.snapshot_saved.emit(event)
            else:
                w.checkpoint_saved.emit(event)
        elif isinstance(event, HealthAlarm):
            w.health_alarm.emit(event)
        elif isinstance(event, QualityMetrics):
            w.quality_metrics.emit(event)
        elif isinstance(event, TrainingStarted):
            w.training_started.emit(event)
        elif isinstance(event, TrainingPaused):
            w.training_paused.emit(event.step)
        elif isinstance(event, TrainingResumed):
            w.training_resumed.emit(event.step)
        # TrainingFinished/TrainingFailed: the worker reports the value run() returns, after
        # the observer thread has delivered everything before it.


class TrainingWorker(QObject):
    """Lives on the training thread; :meth:`run_job` blocks that thread until the run ends."""

    training_started = Signal(object)
    metrics_available = Signal()
    samples_ready = Signal(object)
    points_ready = Signal(object)
    generator_snapshot = Signal(object)
    checkpoint_saved = Signal(object)
    snapshot_saved = Signal(object)
    health_alarm = Signal(object)
    quality_metrics = Signal(object)
    training_paused = Signal(int)
    training_resumed = Signal(int)
    job_finished = Signal(object)            # TrainingFinished or TrainingFailed

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._metrics: list[StepMetrics] = []
        self._metrics_signalled = False

    def push_metrics(self, metrics: StepMetrics) -> None:
        with self._lock:
            self._metrics.append(metrics)
            if self._metrics_signalled:
                return
            self._metrics_signalled = True
        self.metrics_available.emit()

    def take_metrics(self) -> list[StepMetrics]:
        with self._lock:
            batch, self._metrics = self._metrics, []
            self._metrics_signalled = False
        return batch

    @Slot(object)
    def run_job(self, job: TrainingJob) -> None:
        try:
            from ganstudio.engine.trainer import Trainer

            trainer = Trainer(job.config, run_dir=job.run_dir, observer=_SignalObserver(self),
                              control=job.control, resume=job.resume, dataset=job.dataset,
                              generator_snapshots=True, fork_from=job.fork_from)
            final = trainer.run()
        except Exception as exc:  # the trainer never raises from run(); its constructor may
            final = TrainingFailed(0, str(exc) or type(exc).__name__,
                                   "".join(traceback.format_exception(exc)), None)
        self.job_finished.emit(final)


class TrainingController(QObject):
    """Starts, steers and stops training; the window only talks to this object."""

    training_started = Signal(object)       # TrainingStarted
    metrics_received = Signal(object)       # tuple[StepMetrics, ...], oldest first
    samples_ready = Signal(object)          # SamplesReady
    points_ready = Signal(object)           # PointsReady
    generator_snapshot = Signal(object)     # GeneratorSnapshot
    checkpoint_saved = Signal(object)       # CheckpointSaved (checkpoints/)
    snapshot_saved = Signal(object)         # CheckpointSaved of the snapshots/ ring
    health_alarm = Signal(object)           # HealthAlarm
    quality_metrics = Signal(object)        # QualityMetrics
    training_paused = Signal(int)           # step
    training_resumed = Signal(int)          # step
    training_finished = Signal(object)      # TrainingFinished
    training_failed = Signal(str, str)      # message, details
    running_changed = Signal(bool)

    _start_job = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("ganstudio-training")
        self._worker = TrainingWorker()
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._start_job.connect(self._worker.run_job)
        w = self._worker
        w.training_started.connect(self.training_started)
        w.metrics_available.connect(self._on_metrics_available)
        w.samples_ready.connect(self.samples_ready)
        w.points_ready.connect(self.points_ready)
        w.generator_snapshot.connect(self.generator_snapshot)
        w.checkpoint_saved.connect(self.checkpoint_saved)
        w.snapshot_saved.connect(self.snapshot_saved)
        w.health_alarm.connect(self.health_alarm)
        w.quality_metrics.connect(self.quality_metrics)
        w.training_paused.connect(self._on_paused)
        w.training_resumed.connect(self._on_resumed)
        w.job_finished.connect(self._on_job_finished)
        self._thread.start()
        self._job: TrainingJob | None = None
        self._paused = False
        self.last_failure: TrainingFailed | None = None

    # ----- state --------------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._job is not None

    @property
    def is_paused(self) -> bool:
        return self._job is not None and self._paused

    @property
    def stop_requested(self) -> bool:
        return self._job is not None and self._job.control.stop_requested

    # ----- commands -----------------------------------------------------------------------------
    def start(self, config: RunConfig, run_dir: Path, *, resume: bool = False,
              dataset: Any = None, fork_from: Path | None = None) -> None:
        """Train ``config`` in ``run_dir``: a new run, a resumed one, or a fork of the
        snapshot ``fork_from`` (of another run)."""
        if self._job is not None:
            raise RuntimeError("a run is already in progress")
        self._job = TrainingJob(config.copy(), Path(run_dir), resume, TrainingControl(), dataset,
                                Path(fork_from) if fork_from is not None else None)
        self._paused = False
        self.last_failure = None
        verb = "forking" if fork_from is not None else "resuming" if resume else "starting"
        log.info("%s %s", verb, run_dir)
        self.running_changed.emit(True)
        self._start_job.emit(self._job)

    def pause(self) -> None:
        if self._job:
            self._job.control.pause()

    def resume(self) -> None:
        if self._job:
            self._job.control.resume()

    def toggle_pause(self) -> None:
        if self._job:
            self._job.control.toggle_pause()

    def step_once(self) -> None:
        if self._job:
            self._job.control.step_once()

    def stop(self) -> None:
        if self._job:
            self._job.control.stop()

    def update_live(self, settings: LiveSettings) -> None:
        """Queue new learning rates or step counts; the trainer applies them at the next step."""
        if self._job:
            self._job.control.update(settings)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop any run and end the thread; True when the thread really ended in time."""
        if self._job:
            self._job.control.stop()
        self._thread.quit()
        ended = self._thread.wait(timeout_ms)
        if not ended:
            log.error("the training thread did not end within %.0f s", timeout_ms / 1000)
        return ended

    # ----- worker signals (GUI thread) ---------------------------------------------------------
    @Slot()
    def _on_metrics_available(self) -> None:
        batch = self._worker.take_metrics()
        if batch:
            self.metrics_received.emit(tuple(batch))

    @Slot(int)
    def _on_paused(self, step: int) -> None:
        self._paused = True
        self.training_paused.emit(step)

    @Slot(int)
    def _on_resumed(self, step: int) -> None:
        self._paused = False
        self.training_resumed.emit(step)

    @Slot(object)
    def _on_job_finished(self, final: TrainingFinished | TrainingFailed) -> None:
        self._on_metrics_available()  # anything reported just before the end
        self._job = None
        self._paused = False
        self.running_changed.emit(False)
        if isinstance(final, TrainingFailed):
            self.last_failure = final
            self.training_failed.emit(final.message, final.details)
        else:
            self.training_finished.emit(final)
