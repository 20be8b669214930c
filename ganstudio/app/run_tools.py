"""What the window does about health, rewinding, forking and comparing runs.

:class:`RunTools` connects the training controller, the plots, the gallery, the alarm banner and
the run list, so the main window only creates the widgets and hands them over:

* a :class:`~ganstudio.engine.events.HealthAlarm` shows the banner and a marker on every plot
  (training is already paused when ``health.auto_pause`` is on; the window shows that state);
* quality metrics go to the Quality plot;
* "Fork from step N…" (a plot's or a snapshot's context menu, or the banner's *Rewind…*) reads
  the run's restore points and the settings in effect at the chosen one on a background thread,
  opens the :class:`~ganstudio.app.fork_dialog.ForkDialog`, and starts the fork (stopping the
  current training first when there is one);
* the run list is rescanned when runs start and end; ticked runs are read in the background
  and overlaid on the plots.

File reads never happen on the GUI thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ganstudio.app.tasks import TaskRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForkRequest:
    """What the fork dialog needs, read off the GUI thread."""

    run_dir: Path
    step: int
    points: list[Any]
    chosen: Any
    config: Any          # RunConfig in effect at the chosen restore point


def read_fork_request(run_dir: Path, step: int) -> ForkRequest:
    from ganstudio.config import RunConfig
    from ganstudio.engine.checkpoint import load_checkpoint
    from ganstudio.engine.runs import restore_point_at, restore_points

    chosen = restore_point_at(run_dir, step)
    config = RunConfig.from_dict(load_checkpoint(chosen.path)["config"], source=str(chosen.path))
    return ForkRequest(run_dir, step, restore_points(run_dir), chosen, config)


def read_overlays(paths: list[Path]) -> list[Any]:
    from ganstudio.app.plots import OverlayRun
    from ganstudio.engine.trainer import read_metric_lines, split_metric_lines

    runs = []
    for path in paths:
        lines = split_metric_lines(read_metric_lines(path))
        runs.append(OverlayRun(Path(path).name, lines["report"], lines["quality"]))
    return runs


def scan(folder: Path) -> list[Any]:
    from ganstudio.engine.runs import scan_runs

    return scan_runs(folder)


class RunTools(QObject):
    fork_dialog_opened = Signal(object)      # ForkDialog
    fork_started = Signal(object)            # Path of the fork's run folder
    runs_listed = Signal()
    overlays_shown = Signal(object)          # list of run names

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.banner = window.alarm_banner
        self.runs_panel = window.runs_panel
        self.fork_dialog = None
        self._tasks = TaskRunner("ganstudio-runs", 1, self)
        self._pending_fork: tuple[Any, Path, Path] | None = None
        self._overlay_request = 0
        c = window.controller
        c.health_alarm.connect(self._on_alarm)
        c.quality_metrics.connect(lambda event: window.plots.append_quality([event]))
        c.training_started.connect(self._on_started)
        c.training_finished.connect(lambda _event: self._on_ended())
        c.training_failed.connect(lambda _message, _details: self._on_ended())
        c.training_paused.connect(lambda _step: self.banner.set_paused(True))
        c.training_resumed.connect(lambda _step: self.banner.set_paused(False))
        self.banner.continue_requested.connect(self._continue)
        self.banner.rewind_requested.connect(lambda step: self.request_fork(max(0, step - 1)))
        window.plots.fork_requested.connect(self.request_fork)
        window.gallery.fork_requested.connect(self.request_fork)
        self.runs_panel.open_requested.connect(self._open_run)
        self.runs_panel.compare_changed.connect(self._load_overlays)
        self.runs_panel.refresh_requested.connect(self.refresh_runs)
        window.history_loaded.connect(self._on_history)
        window.runs_dock.visibilityChanged.connect(
            lambda visible: self.refresh_runs() if visible else None)
        self._set_fork_enabled()

    # ----- the run list -------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        folder = self.window.run_panel.runs_folder()
        self._tasks.submit(scan, folder,
                           on_done=lambda runs, f=folder: self._show_runs(f, runs),
                           on_error=lambda message, _d: log.warning(
                               "cannot list the runs in %s: %s", folder, message))

    def _show_runs(self, folder: Path, runs: list[Any]) -> None:
        self.runs_panel.set_runs(folder, runs)
        self.runs_panel.set_current(self.window.run_dir)
        self.runs_listed.emit()

    def _open_run(self, path: Path) -> None:
        if self.window.state != "idle":
            self.window.statusBar().showMessage("Stop training before opening another run",
                                                5000)
            return
        self.window.open_path(path)

    def _load_overlays(self, paths: list[Path]) -> None:
        current = self.window.run_dir
        paths = [p for p in paths if p != current]
        self._overlay_request += 1
        request = self._overlay_request
        if not paths:
            self.window.plots.set_overlays([])
            self.overlays_shown.emit([])
            return
        self._tasks.submit(read_overlays, paths,
                           on_done=lambda runs, r=request: self._show_overlays(r, runs),
                           on_error=lambda message, details: self.window.show_failure(
                               "Cannot compare the runs", message, details))

    def _show_overlays(self, request: int, runs: list[Any]) -> None:
        if request != self._overlay_request:
            return  # the ticks changed again meanwhile: the newer request wins
        self.window.plots.set_overlays(runs)
        self.overlays_shown.emit([run.name for run in runs])

    # ----- training events ----------------------------------------------------------------------
    def _on_started(self, event: Any) -> None:
        if event.start_step == 0 or event.parent is not None:
            self.banner.clear()
        if event.parent is not None:
            self.window.plots.set_fork_point((event.fork_step, Path(event.parent).name))
        elif event.start_step == 0:
            self.window.plots.set_fork_point(None)
        self._set_fork_enabled()
        self.refresh_runs()

    def _on_ended(self) -> None:
        self.banner.set_paused(False)
        self._set_fork_enabled()
        self.refresh_runs()
        if self._pending_fork is not None:
            config, run_dir, point = self._pending_fork
            self._pending_fork = None
            self._start_fork(config, run_dir, point)

    def _on_alarm(self, alarm: Any) -> None:
        self.window.plots.add_alarm(alarm.step, alarm.kind, alarm.title, alarm.message)
        self.banner.show_alarm(alarm)
        note = " Training is paused." if alarm.paused else ""
        self.window.statusBar().showMessage(f"⚠ {alarm.title} at step {alarm.step:,}.{note}",
                                            15000)

    def _on_history(self, history: Any) -> None:
        self.banner.clear()
        lineage = getattr(history, "lineage", None)
        self.window.plots.set_fork_point(
            (lineage.fork_step, lineage.parent.name) if lineage is not None else None)
        self.runs_panel.set_current(history.run_dir)
        self._set_fork_enabled()
        self._load_overlays(self.runs_panel.compared())

    def _continue(self) -> None:
        controller = self.window.controller
        if controller is not None and controller.is_paused:
            controller.resume()

    def _set_fork_enabled(self) -> None:
        has_run = self.window.run_dir is not None
        reason = "" if has_run else "Open or train a run first: forks start from its snapshots"
        self.window.plots.set_fork_enabled(has_run, reason)
        self.window.gallery.set_fork_enabled(has_run, reason)
        self.banner.set_rewind_enabled(has_run)

    # ----- forking ------------------------------------------------------------------------------
    def request_fork(self, step: int) -> None:
        """Offer to fork the open run from the newest restore point at or before ``step``."""
        run_dir = self.window.run_dir
        if run_dir is None:
            self.window.statusBar().showMessage("Open or train a run first", 5000)
            return
        self.window.statusBar().showMessage(f"Reading the snapshots of {run_dir.name}…", 3000)
        self._tasks.submit(read_fork_request, run_dir, int(step), on_done=self._open_dialog,
                           on_error=lambda message, details: self.window.show_failure(
                               f"Cannot fork from step {int(step):,}", message, details))

    def _open_dialog(self, request: ForkRequest) -> None:
        from ganstudio.app.fork_dialog import ForkDialog

        if self.fork_dialog is not None:
            self.fork_dialog.close()
        dialog = ForkDialog(request.run_dir, request.config, request.points, request.chosen,
                            self.window.run_panel.runs_folder(), request.step, self.window)
        dialog.accepted.connect(lambda d=dialog: self._fork_accepted(d))
        dialog.finished.connect(dialog.deleteLater)
        self.fork_dialog = dialog
        dialog.open()
        self.fork_dialog_opened.emit(dialog)

    def _fork_accepted(self, dialog: Any) -> None:
        config, run_dir, point = dialog.config, dialog.run_dir, dialog.restore_point.path
        self.fork_dialog = None
        controller = self.window.controller
        if controller is not None and controller.is_running:
            # One training at a time: finish this one (a checkpoint is saved), then fork.
            self._pending_fork = (config, run_dir, point)
            self.window.stop_training()
            return
        self._start_fork(config, run_dir, point)

    def _start_fork(self, config: Any, run_dir: Path, point: Path) -> None:
        if self.window.start_fork(config, run_dir, point):
            self.fork_started.emit(run_dir)

    def shutdown(self) -> None:
        self._tasks.shutdown(wait=False)
