"""The main window: run setup, live plots, the sample gallery, the 2-D view, the latent explorer.

Start-up is in two stages so the window appears at once. The constructor only builds what needs
nothing but Qt and the config (run panel, gallery, log, docks, actions); after the first paint
the engine (PyTorch) and pyqtgraph are imported on a background thread, then the plots, the 2-D
view and the latent explorer are added and Train is enabled.

Training runs in :class:`~ganstudio.app.controller.TrainingController` (one worker QObject on one
QThread). The window only reacts to its signals: metrics go to the plots (redrawn by their own
timer), sample grids to the gallery (files on disk, decoded off the GUI thread), points to the
2-D view, generator snapshots to the latent explorer.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio.app import settings as keys
from ganstudio.app.alarm_banner import AlarmBanner
from ganstudio.app.gallery import GalleryPanel
from ganstudio.app.log_panel import LogBuffer, LogPanel
from ganstudio.app.resources import app_icon, icon
from ganstudio.app.run_panel import MODE_NEW, MODE_RESUME, MODE_TRAINING, RunPanel
from ganstudio.app.runs_panel import RunsPanel
from ganstudio.app.tasks import TaskRunner
from ganstudio.errors import ConfigError

log = logging.getLogger(__name__)

STATE_VERSION = 1
STATUS_INTERVAL_MS = 500

LOADING, IDLE, STARTING, TRAINING, PAUSED, STOPPING = (
    "loading", "idle", "starting", "training", "paused", "stopping")
STATE_TEXT = {LOADING: "Loading PyTorch…", IDLE: "Ready", STARTING: "Starting…",
              TRAINING: "Training", PAUSED: "Paused", STOPPING: "Stopping…"}


def preload_engine() -> tuple[list[Any], list[Any]]:
    """Runs on a background thread after the first paint: the heavy imports, then the lists."""
    import pyqtgraph  # noqa: F401  (1-2 s on a small CPU; imported here, used on the GUI thread)
    import torch  # noqa: F401

    import ganstudio.engine.trainer  # noqa: F401
    with contextlib.suppress(Exception):  # optional; a failure is reported when it is created
        import ganstudio.app.latent.panel  # noqa: F401  (superqt..., so creating it is quick)
    from ganstudio.data import list_datasets
    from ganstudio.engine.device import list_devices

    return list_datasets(), list_devices()


def _format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _Loading(QLabel):
    """What a dock shows for the second or two until its real widget exists."""

    def __init__(self, text: str):
        super().__init__(text)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setEnabled(False)


class MainWindow(QMainWindow):
    engine_loaded = Signal()
    history_loaded = Signal(object)      # RunHistory
    state_changed = Signal(str)
    export_finished = Signal(object)     # list of written paths
    generator_opened = Signal(object)    # GeneratorSource

    def __init__(self, settings: keys.Settings, theme: Any = None,
                 log_buffer: LogBuffer | None = None, open_path: Path | str | None = None,
                 started_at: float | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("GAN Studio")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.settings = settings
        self.theme = theme
        self._started_at = started_at
        self._open_path = Path(open_path) if open_path else None
        self._state = LOADING
        self._first_paint_done = False
        self._engine_ready = False
        self._closing = False
        self._devices: list[Any] = []
        self._datasets: list[Any] = []
        self.controller = None
        self.run_tools = None          # health banner, forks, run list (ganstudio.app.run_tools)
        self.plots = None
        self.points_view = None
        self.latent_panel = None
        self.latent_dock: QDockWidget | None = None
        self.failure_dialog: QMessageBox | None = None
        self.close_dialog: QMessageBox | None = None
        self.export_dialog: QWidget | None = None
        self.about_dialog: QWidget | None = None
        self._loading_started = False
        self._run_dir: Path | None = None
        self._run_config = None
        self._checkpoints: dict[int, Path] = {}
        self._total_steps = 0
        self._batch_size = 1
        self._step = 0
        self._elapsed = 0.0
        self._elapsed_at = 0.0
        self._images_per_sec = 0.0
        self._tasks = TaskRunner("ganstudio-window", 2, self)
        self._own_log_buffer = log_buffer is None
        self._log_buffer = log_buffer or LogBuffer()
        if self._own_log_buffer:  # embedded (tests, scripts): show what logging says anyway
            logging.getLogger().addHandler(self._log_buffer)

        self._build_actions()
        self._build_central()
        self._build_docks()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        self._default_state = self.saveState(STATE_VERSION)
        self._default_size()
        self._restore_layout()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_INTERVAL_MS)
        self._status_timer.timeout.connect(self._update_status)
        self._status_timer.start()
        # Start loading even if no paint event ever comes (a minimised start).
        QTimer.singleShot(1500, self._start_loading)
        self._set_state(LOADING)

    # ================================================================================= building
    def _action(self, name: str, text: str, icon_name: str | None, tip: str,
                shortcuts: tuple[str | QKeySequence, ...] = (), slot=None) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if icon_name:
            action.setIcon(icon(icon_name))
        keys_ = [QKeySequence(s) for s in shortcuts]
        if keys_:
            action.setShortcuts(keys_)
            tip += f" ({keys_[0].toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        if slot is not None:
            action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the toolbar is hidden
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.train_action = a("actionTrain", "Train", "train", "Start training with these "
                              "settings", ("Ctrl+Return", "F5"), self.start_training)
        self.pause_action = a("actionPause", "Pause", "pause", "Pause or continue training",
                              ("Space",), self.toggle_pause)
        self.step_action = a("actionStep", "Step", "step", "Train exactly one more step, then "
                             "stay paused", ("F10",), self.step_once)
        self.stop_action = a("actionStop", "Stop", "stop", "Stop training (a checkpoint is "
                             "saved)", ("Shift+F5",), self.stop_training)
        self.new_run_action = a("actionNewRun", "New Run", "new-run", "Set up a new run "
                                "(keeps the current settings)", (QKeySequence.StandardKey.New,),
                                self.new_run)
        self.open_run_action = a("actionOpenRun", "Open Run…", "open-folder", "Open a run "
                                 "folder: its curves, samples and checkpoints; resume it",
                                 (QKeySequence.StandardKey.Open,), self.choose_run)
        self.open_generator_action = a("actionOpenGenerator", "Open Checkpoint or Generator…",
                                       "open-file", "Explore a checkpoint, generator export, "
                                       "DCGAN-example netG, .pt2 or TorchScript file in the "
                                       "latent explorer",
                                       ("Ctrl+Shift+O",), self.choose_generator)
        self.choose_dataset_action = a("actionChooseDataset", "Choose Image Folder…",
                                       "dataset", "Train on a folder of your own images",
                                       (), self._choose_dataset_folder)
        self.export_action = a("actionExportSnapshot", "Export Snapshot…", "export",
                               "Export the sample grid shown in the gallery as a PNG",
                               ("Ctrl+E",), self.export_current_snapshot)
        self.export_all_action = a("actionExportAllSnapshots", "Export All Snapshots…",
                                   "export-all", "Export every sample grid of the run into a "
                                   "folder", ("Ctrl+Shift+E",), self.export_all_snapshots)
        self.quit_action = a("actionQuit", "Quit", None, "Quit GAN Studio",
                             (QKeySequence.StandardKey.Quit,), self.close)
        self.about_action = a("actionAbout", "About GAN Studio", "about", "Versions, devices "
                              "and licence", (QKeySequence.StandardKey.HelpContents,),
                              self.show_about)
        self.reset_layout_action = a("actionResetLayout", "Reset Layout", "layout",
                                     "Put every panel back where it started", (),
                                     self.reset_layout)

    def _build_central(self) -> None:
        central = QWidget()
        central.setObjectName("centralArea")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.setSpacing(0)
        self.alarm_banner = AlarmBanner()      # health alarms, above the samples
        self.gallery = GalleryPanel()
        layout.addWidget(self.alarm_banner)
        layout.addWidget(self.gallery, 1)
        self.setCentralWidget(central)

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea,
              icon_name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        toggle = dock.toggleViewAction()
        toggle.setObjectName(f"toggle_{name}")
        toggle.setIcon(icon(icon_name))
        toggle.setToolTip(f"Show or hide the {title} panel")
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        run_box = QWidget()
        run_box.setObjectName("runDockContents")
        layout = QVBoxLayout(run_box)
        layout.setContentsMargins(0, 0, 6, 6)
        layout.setSpacing(6)
        self.run_panel = RunPanel(self.settings)
        layout.addWidget(self.run_panel, 1)
        self.train_button = QToolButton()
        self.train_button.setObjectName("runTrainButton")
        self.train_button.setDefaultAction(self.train_action)
        self.train_button.setAccessibleName("Train")
        self.train_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.train_button.setMinimumHeight(34)
        self.train_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        font = self.train_button.font()
        font.setBold(True)
        self.train_button.setFont(font)
        layout.addWidget(self.train_button)
        # Side columns run the full height; plots and log sit under the gallery, where wide
        # time series have room.
        for corner, area in ((Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
                             (Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
                             (Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea),
                             (Qt.Corner.BottomRightCorner,
                              Qt.DockWidgetArea.RightDockWidgetArea)):
            self.setCorner(corner, area)
        self.run_dock = self._dock("runDock", "Run setup", run_box,
                                   Qt.DockWidgetArea.LeftDockWidgetArea, "dataset")
        self.runs_panel = RunsPanel()
        self.runs_dock = self._dock("runsDock", "Runs", self.runs_panel,
                                    Qt.DockWidgetArea.LeftDockWidgetArea, "runs")
        self.tabifyDockWidget(self.run_dock, self.runs_dock)
        self.run_dock.raise_()
        self.latent_dock = self._dock("latentDock", "Latent explorer",
                                      _Loading("Loading the latent explorer…"),
                                      Qt.DockWidgetArea.RightDockWidgetArea, "latent")
        self.points_dock = self._dock("pointsDock", "2-D view", _Loading("Loading…"),
                                      Qt.DockWidgetArea.RightDockWidgetArea, "points")
        self.tabifyDockWidget(self.latent_dock, self.points_dock)
        self.points_dock.hide()
        self.plots_dock = self._dock("plotsDock", "Plots", _Loading("Loading plots…"),
                                     Qt.DockWidgetArea.BottomDockWidgetArea, "plots")
        self.log_panel = LogPanel(self._log_buffer)
        self.log_dock = self._dock("logDock", "Log", self.log_panel,
                                   Qt.DockWidgetArea.BottomDockWidgetArea, "log")
        self.tabifyDockWidget(self.plots_dock, self.log_dock)
        self.plots_dock.raise_()
        screen = QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else None
        width = area.width() if area is not None else 1600
        height = area.height() if area is not None else 1000
        self.resizeDocks([self.run_dock, self.latent_dock],
                         [340, min(520, max(360, width // 3 - 60))], Qt.Orientation.Horizontal)
        self.resizeDocks([self.plots_dock], [min(330, int(height * 0.36))],
                         Qt.Orientation.Vertical)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        bar.setObjectName("menuBar")
        file_menu = bar.addMenu("&File")
        file_menu.setObjectName("fileMenu")
        for action in (self.new_run_action, self.open_run_action, self.open_generator_action,
                       self.choose_dataset_action, None, self.export_action,
                       self.export_all_action, None, self.quit_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        training = bar.addMenu("&Training")
        training.setObjectName("trainingMenu")
        for action in (self.train_action, self.pause_action, self.step_action,
                       self.stop_action):
            training.addAction(action)
        self.view_menu = view = bar.addMenu("&View")
        view.setObjectName("viewMenu")
        for dock in (self.run_dock, self.runs_dock, self.plots_dock, self.latent_dock,
                     self.points_dock, self.log_dock):
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        view.addAction(self.reset_layout_action)
        theme_menu = view.addMenu("Theme")
        theme_menu.setObjectName("themeMenu")
        self.theme_group = QActionGroup(self)
        current = self.theme.choice if self.theme is not None else "system"
        for choice, label in (("system", "Follow the System"), ("light", "Light"),
                              ("dark", "Dark")):
            action = theme_menu.addAction(label)
            action.setObjectName(f"actionTheme_{choice}")
            action.setCheckable(True)
            action.setChecked(choice == current)
            action.setData(choice)
            action.setToolTip(f"{label} colours")
            self.theme_group.addAction(action)
        self.theme_group.triggered.connect(self._on_theme_chosen)
        help_menu = bar.addMenu("&Help")
        help_menu.setObjectName("helpMenu")
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Training")
        bar.setObjectName("mainToolBar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        names = {self.train_action: "trainButton", self.pause_action: "pauseButton",
                 self.step_action: "stepButton", self.stop_action: "stopButton",
                 self.new_run_action: "newRunButton", self.open_run_action: "openRunButton",
                 self.open_generator_action: "openGeneratorButton",
                 self.export_action: "exportButton", self.about_action: "aboutButton"}
        for action in (self.train_action, self.pause_action, self.step_action,
                       self.stop_action, None, self.new_run_action, self.open_run_action,
                       self.open_generator_action, None, self.export_action):
            if action is None:
                bar.addSeparator()
                continue
            bar.addAction(action)
        for action, name in names.items():
            if action is self.about_action:
                continue
            widget = bar.widgetForAction(action)
            widget.setObjectName(name)
            widget.setAccessibleName(action.text().rstrip("…"))
        self.toolbar = bar

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setObjectName("statusBar")

        def label(name: str, tip: str, width: int = 0) -> QLabel:
            widget = QLabel("")
            widget.setObjectName(name)
            widget.setToolTip(tip)
            if width:
                widget.setMinimumWidth(width)
            status.addPermanentWidget(widget)
            return widget

        self.state_label = label("statusState", "What the trainer is doing", 90)
        self.step_label = label("statusStep", "Training step, of the steps set for the run", 150)
        self.progress = QProgressBar()
        self.progress.setObjectName("trainingProgress")
        self.progress.setAccessibleName("Training progress")
        self.progress.setToolTip("Steps done of the steps set for the run")
        self.progress.setMaximumWidth(140)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        status.addPermanentWidget(self.progress)
        self.rate_label = label("statusRate", "Training speed in images per second", 90)
        self.elapsed_label = label("statusElapsed", "Training time (pauses not counted)", 100)
        self.eta_label = label("statusEta", "Estimated time until the run's last step", 90)
        self.device_label = label("statusDevice", "The device training runs on")

    def _connect(self) -> None:
        panel = self.run_panel
        panel.validity_changed.connect(lambda _valid: self._update_actions())
        panel.config_changed.connect(self._on_config_changed)
        panel.dataset_kind_changed.connect(self._on_dataset_kind_changed)
        panel.preview_loaded.connect(self._on_preview_loaded)
        panel.live_settings_changed.connect(self._on_live_settings)
        self.gallery.export_requested.connect(lambda _step, _path: self.export_current_snapshot())
        self.gallery.export_all_requested.connect(self.export_all_snapshots)
        self.gallery.selection_changed.connect(lambda _row: self._update_actions())
        if self.theme is not None:
            self.theme.theme_changed.connect(self._on_theme_changed)

    def _default_size(self) -> None:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(1440, 900)
            return
        area = screen.availableGeometry()
        width, height = min(1600, int(area.width() * 0.92)), min(1000, int(area.height() * 0.92))
        self.setGeometry(area.x() + (area.width() - width) // 2,
                         area.y() + (area.height() - height) // 2, width, height)

    def _restore_layout(self) -> None:
        geometry = self.settings.value(keys.GEOMETRY, QByteArray(), QByteArray)
        if geometry and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self.settings.value(keys.WINDOW_STATE, QByteArray(), QByteArray)
        if state and not state.isEmpty():
            self.restoreState(state, STATE_VERSION)
        self.points_dock.setVisible(self.run_panel.dataset_kind == "points")

    # ================================================================================ start-up
    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._first_paint_done:
            self._first_paint_done = True
            if self._started_at is not None:
                log.info("window painted %.2f s after start", time.perf_counter()
                         - self._started_at)
            QTimer.singleShot(0, self._start_loading)

    def _start_loading(self) -> None:
        if self._engine_ready or self._loading_started:
            return
        self._loading_started = True
        self.statusBar().showMessage("Loading PyTorch and the plotting library…")
        self._tasks.submit(preload_engine, on_done=self._on_engine_loaded,
                           on_error=self._on_engine_failed)

    def _on_engine_failed(self, message: str, details: str) -> None:
        self.show_failure("GAN Studio could not load PyTorch",
                          f"PyTorch or the plotting library failed to load: {message}",
                          details, informative="Training is unavailable; check the "
                          "installation (packaging/dev.sh setup).")
        self.statusBar().showMessage("PyTorch failed to load")

    def _on_engine_loaded(self, result: tuple[list[Any], list[Any]]) -> None:
        from ganstudio.app.controller import TrainingController
        from ganstudio.app.plots import PlotsPanel
        from ganstudio.app.points_view import PointsView

        self._datasets, self._devices = result
        self.plots = PlotsPanel(smoothing=self.settings.value(keys.PLOT_SMOOTHING, 0.6, float),
                                log_scale=self.settings.value(keys.PLOT_LOG_SCALE, False, bool))
        self.plots_dock.setWidget(self.plots)
        self.points_view = PointsView()
        self.points_dock.setWidget(self.points_view)
        self._create_latent_dock()
        self.controller = TrainingController(self)
        c = self.controller
        c.training_started.connect(self._on_training_started)
        c.metrics_received.connect(self._on_metrics)
        c.samples_ready.connect(self._on_samples)
        c.points_ready.connect(self._on_points)
        c.generator_snapshot.connect(self._on_generator_snapshot)
        c.checkpoint_saved.connect(self._on_checkpoint_saved)
        c.training_paused.connect(self._on_paused)
        c.training_resumed.connect(self._on_resumed)
        c.training_finished.connect(self._on_finished)
        c.training_failed.connect(self._on_failed)
        from ganstudio.app.run_tools import RunTools

        self.run_tools = RunTools(self)
        self.run_tools.refresh_runs()
        self.run_panel.set_engine_ready(self._datasets, self._devices)
        self._engine_ready = True
        self.device_label.setText(self._device_text())
        self._set_state(IDLE)
        self.statusBar().showMessage("Ready: press Train to start", 8000)
        if self._started_at is not None:
            log.info("engine loaded %.2f s after start", time.perf_counter() - self._started_at)
        self.engine_loaded.emit()
        if self._open_path is not None:
            path, self._open_path = self._open_path, None
            self.open_path(path)

    def _create_latent_dock(self) -> None:
        """Put the latent explorer in its dock, or remove the dock when it cannot load."""
        dock = self.latent_dock
        try:
            from ganstudio.app.latent.panel import LatentPanel

            self.latent_panel = LatentPanel()
        except Exception as exc:  # ImportError in a build without it, or a failing panel
            log.warning("the latent explorer is not available: %s", exc)
            self.removeDockWidget(dock)
            dock.deleteLater()
            self.latent_dock = None
            return
        dock.setWidget(self.latent_panel)
        self.latent_panel.status_message.connect(
            lambda text: self.statusBar().showMessage(text, 8000))
        self.latent_panel.image_exported.connect(
            lambda path: log.info("exported %s from the latent explorer", path))

    def _device_text(self) -> str:
        value = self.run_panel.editor("train.device").value()
        for device in self._devices:
            if device.value == value:
                return device.label.removeprefix("Automatic: ")
        return str(value)

    @property
    def engine_ready(self) -> bool:
        return self._engine_ready

    @property
    def state(self) -> str:
        return self._state

    @property
    def run_dir(self) -> Path | None:
        return self._run_dir

    @property
    def checkpoints(self) -> dict[int, Path]:
        return dict(self._checkpoints)

    # ================================================================================== state
    def _set_state(self, state: str) -> None:
        self._state = state
        self.state_label.setText(STATE_TEXT[state])
        self._update_actions()
        self.state_changed.emit(state)

    def _update_actions(self) -> None:
        state = self._state
        busy = state in (STARTING, TRAINING, PAUSED, STOPPING)
        can_train = (state == IDLE and self._engine_ready and self.run_panel.is_valid)
        self.train_action.setEnabled(can_train)
        resume = self.run_panel.mode == MODE_RESUME
        self.train_action.setText("Resume Run" if resume else "Train")
        if state == IDLE and not self.run_panel.is_valid:
            self.train_action.setToolTip("Fix these settings first:\n"
                                         + self.run_panel.error_summary())
        else:
            self.train_action.setToolTip(("Continue this run from its last checkpoint"
                                          if resume else "Start training with these settings")
                                         + " (Ctrl+Return)")
        self.pause_action.setEnabled(state in (TRAINING, PAUSED))
        if state == PAUSED:
            self.pause_action.setText("Continue")
            self.pause_action.setIcon(icon("train"))
        else:
            self.pause_action.setText("Pause")
            self.pause_action.setIcon(icon("pause"))
        self.step_action.setEnabled(state in (TRAINING, PAUSED))
        self.stop_action.setEnabled(state in (STARTING, TRAINING, PAUSED))
        idle = state == IDLE
        self.new_run_action.setEnabled(idle and self._engine_ready)
        self.open_run_action.setEnabled(idle and self._engine_ready)
        self.open_generator_action.setEnabled(idle and self._engine_ready)
        self.choose_dataset_action.setEnabled(not busy and self.run_panel.mode == MODE_NEW)
        has_snapshot = self.gallery.current_path is not None
        self.export_action.setEnabled(has_snapshot)
        self.export_all_action.setEnabled(self.gallery.count > 0)

    # =============================================================================== training
    def start_training(self) -> None:
        if self._state != IDLE or not self._engine_ready:
            return
        try:
            config = self.run_panel.config()
        except ConfigError as exc:
            self.statusBar().showMessage(f"Cannot train: {exc}", 10000)
            return
        from ganstudio.engine.trainer import default_run_dir

        resume = self.run_panel.mode == MODE_RESUME and self._run_dir is not None
        if resume:
            run_dir = self._run_dir
        else:
            base = self.run_panel.runs_folder()
            try:
                base.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self.show_failure("Cannot create the runs folder",
                                  f"{base}: {exc.strerror or exc}", "",
                                  informative="Choose another runs folder in the Run setup "
                                  "panel.")
                return
            self.settings.runs_folder = base
            run_dir = default_run_dir(config, base)
            self._checkpoints = {}
            self.plots.clear()
            self.gallery.clear()
            self.points_view.clear()
        self._begin_training(config, run_dir, resume=resume)

    def start_fork(self, config: Any, run_dir: Path, restore_point: Path) -> bool:
        """Train a fork of the open run: ``config`` in the new folder ``run_dir``, from the
        parent's snapshot ``restore_point``. The parent's curves and samples up to the fork
        step stay on screen (the fork inherits them). Returns whether training started."""
        if self._state != IDLE or not self._engine_ready:
            return False
        self._checkpoints = {}
        self.run_panel.set_config(config)
        self._begin_training(config, Path(run_dir), resume=False, fork_from=restore_point)
        return True

    def _begin_training(self, config: Any, run_dir: Path, *, resume: bool,
                        fork_from: Path | None = None) -> None:
        self._run_dir = run_dir
        self._run_config = config
        self._total_steps = config.train.steps
        self._batch_size = config.train.batch_size
        self._images_per_sec = 0.0
        self.gallery.set_grid_side(config.train.sample_grid)
        self.setWindowTitle(f"{run_dir.name} — GAN Studio")
        self.run_panel.set_mode(MODE_TRAINING)
        self._set_state(STARTING)
        verb = "Forking into" if fork_from else "Resuming" if resume else "Starting"
        self.statusBar().showMessage(f"{verb} {run_dir}…")
        self.controller.start(config, run_dir, resume=resume,
                              dataset=self.run_panel.dataset_for(config), fork_from=fork_from)

    def toggle_pause(self) -> None:
        if self.controller is None or self._state not in (TRAINING, PAUSED):
            return
        self.controller.toggle_pause()

    def step_once(self) -> None:
        if self.controller is None or self._state not in (TRAINING, PAUSED):
            return
        self.controller.step_once()
        if self._state == PAUSED:
            self._step += 1  # no report per single step; the count is exact once paused
            self._update_status()

    def stop_training(self) -> None:
        if self.controller is None or self._state not in (STARTING, TRAINING, PAUSED):
            return
        self.controller.stop()
        self._set_state(STOPPING)
        self.statusBar().showMessage("Stopping: finishing the step and saving a checkpoint…")

    def _on_live_settings(self, settings: Any) -> None:
        if self.controller is not None and self.controller.is_running:
            self.controller.update_live(settings)
            changed = ", ".join(f"{k}={v:g}" for k, v in vars(settings).items() if v is not None)
            log.info("live change queued: %s (applies at the next step)", changed)
            self.statusBar().showMessage(f"Applied to the running training: {changed}", 5000)

    def _on_training_started(self, event: Any) -> None:
        self._run_dir = Path(event.run_dir)
        self._total_steps = event.total_steps
        self._step = event.start_step
        self._elapsed, self._elapsed_at = 0.0, time.monotonic()
        if event.start_step > 0:
            self.plots.truncate_after(event.start_step)
            self.gallery.truncate_after(event.start_step)
        self.plots.set_output_kind(event.output_kind)
        self.device_label.setText(event.device_name)
        points = event.data_kind == "points"
        self._show_points_dock(points)
        if self._state == STARTING:
            self._set_state(TRAINING)
        size = f"{event.dataset_size:,} items" if event.dataset_size else "sampled points"
        log.info("training %s on %s (%s): %s, %s", event.architecture, event.dataset, size,
                 event.device_name, "; ".join(event.speed_notes))
        self.statusBar().showMessage(f"Training on {event.device_name}", 5000)

    def _on_metrics(self, batch: tuple) -> None:
        self.plots.append(batch)
        last = batch[-1]
        self._step = last.step
        self._elapsed, self._elapsed_at = last.elapsed, time.monotonic()
        self._images_per_sec = last.images_per_sec

    def _on_samples(self, event: Any) -> None:
        self.gallery.add_snapshot(event.step, event.path, event.grid)
        self._step = max(self._step, event.step)
        self._update_actions()

    def _on_points(self, event: Any) -> None:
        self.points_view.queue_points(event)

    def _on_generator_snapshot(self, event: Any) -> None:
        if self.latent_panel is not None:   # shown while its "Follow training" is on
            self.latent_panel.set_live_source(event.source)

    def _on_checkpoint_saved(self, event: Any) -> None:
        self._checkpoints[event.step] = Path(event.path)
        log.info("checkpoint saved at step %d: %s", event.step, event.path)

    def _on_paused(self, step: int) -> None:
        self._step = step
        if self._state != STOPPING:
            self._set_state(PAUSED)
            self.statusBar().showMessage(f"Paused at step {step:,}: Space continues, F10 "
                                         "trains one step")

    def _on_resumed(self, step: int) -> None:
        if self._state != STOPPING:
            self._set_state(TRAINING)
            self.statusBar().showMessage("Training", 3000)

    def _on_finished(self, event: Any) -> None:
        self._step = event.step
        self._elapsed = event.elapsed
        words = "finished" if event.reason == "completed" else "stopped"
        if getattr(event, "note", ""):
            # NaN/Inf: the final state was not saved; the last good checkpoint is the one.
            self.statusBar().showMessage(f"Training {words} at step {event.step:,}. "
                                         f"{event.note}", 30000)
            log.warning("%s", event.note)
            self._after_run(self._checkpoint_step(event.checkpoint))
            return
        if event.checkpoint is not None:
            self._checkpoints[event.step] = Path(event.checkpoint)
        self.statusBar().showMessage(f"Training {words} at step {event.step:,}; checkpoint "
                                     f"saved in {self._run_dir}", 15000)
        log.info("training %s at step %d (%.1f s of training)", words, event.step, event.elapsed)
        self._after_run(event.step if event.checkpoint is not None else 0)

    def _on_failed(self, message: str, details: str) -> None:
        failure = self.controller.last_failure if self.controller else None
        checkpoint = failure.checkpoint if failure is not None else None
        self._after_run(self._checkpoint_step(checkpoint))
        if self._closing:
            return  # the person asked to quit; the run folder keeps its last checkpoint
        informative = (f"The last checkpoint is intact: {checkpoint}" if checkpoint else
                       f"The run folder is kept: {self._run_dir}" if self._run_dir else "")
        self.show_failure("Training failed", message, details, informative=informative)

    def _checkpoint_step(self, checkpoint: Path | None) -> int:
        if checkpoint is None:
            return 0
        for step, path in self._checkpoints.items():
            if Path(path) == Path(checkpoint):
                return step
        return 0

    def _after_run(self, resumable_step: int) -> None:
        """Back to idle; the run stays open and can be resumed from its last checkpoint."""
        if resumable_step > 0 and self._run_dir is not None:
            self.run_panel.set_mode(MODE_RESUME, self._run_dir, resumable_step)
        else:
            self.run_panel.set_mode(MODE_NEW)
        self._set_state(IDLE)
        self._update_status()
        if self._closing:
            QTimer.singleShot(0, self.close)

    def _update_status(self) -> None:
        if self._state == LOADING:
            return
        total = self._total_steps
        self.progress.setVisible(bool(total))
        if total:
            self.step_label.setText(f"step {self._step:,} / {total:,}")
            self.progress.setRange(0, total)
            self.progress.setValue(min(self._step, total))
        else:
            self.step_label.setText("")
        running = self._state == TRAINING
        elapsed = self._elapsed + (time.monotonic() - self._elapsed_at if running
                                   and self._elapsed_at else 0.0)
        self.elapsed_label.setText(f"elapsed {_format_duration(elapsed)}" if total else "")
        if self._images_per_sec > 0 and self._state in (TRAINING, PAUSED, STARTING):
            self.rate_label.setText(f"{self._images_per_sec:,.0f} img/s")
            steps_per_sec = self._images_per_sec / max(1, self._batch_size)
            remaining = max(0, total - self._step) / steps_per_sec
            self.eta_label.setText(f"ETA {_format_duration(remaining)}")
        else:
            self.rate_label.setText("")
            self.eta_label.setText("")

    # ================================================================================ opening
    def open_path(self, path: Path | str) -> None:
        """A run folder, a checkpoint, a generator export, or a folder of images."""
        from ganstudio.app.run_history import is_run_dir, run_dir_of

        path = Path(path).expanduser()
        if not path.exists():
            self.show_failure("Cannot open", f"{path}: no such file or folder", "")
            return
        if path.is_dir():
            if is_run_dir(path):
                self.open_run(path)
            elif self.run_panel.mode == MODE_NEW:
                self.run_panel.set_dataset(str(path))
                log.info("dataset set to the folder %s", path)
                self.statusBar().showMessage(f"Dataset: images in {path}", 8000)
            else:
                self.new_run()
                self.run_panel.set_dataset(str(path))
            return
        if path.suffix.lower() == ".png":     # an exported image: restore the view that made it
            if self.latent_panel is not None and self.latent_panel.restore_png(path):
                self.latent_dock.show()
                self.latent_dock.raise_()
            return
        run_dir = run_dir_of(path) if path.suffix.lower() in (".pt", ".safetensors") else None
        if run_dir is not None:
            self.open_run(run_dir, generator=path)
        else:   # a checkpoint, export or foreign generator; GeneratorSource says what it is
            self.open_generator(path)

    def open_run(self, run_dir: Path, generator: Path | None = None) -> None:
        if self._state != IDLE:
            self.statusBar().showMessage("Stop training before opening another run", 5000)
            return
        from ganstudio.app.run_history import load_history

        self.statusBar().showMessage(f"Opening {run_dir}…")
        self._tasks.submit(load_history, Path(run_dir),
                           on_done=lambda history: self._apply_history(history, generator),
                           on_error=lambda message, details: self.show_failure(
                               "Cannot open the run", message, details))

    def _apply_history(self, history: Any, generator: Path | None) -> None:
        if self._state != IDLE:
            return
        self._run_dir = history.run_dir
        self._checkpoints = dict(history.checkpoints)
        self.settings.set_folder(keys.LAST_RUN_FOLDER, history.run_dir.parent)
        config = history.config
        if config is not None:
            self.run_panel.set_config(config)
            self._run_config = config
            self._total_steps = config.train.steps
            self._batch_size = config.train.batch_size
            self.gallery.set_grid_side(config.train.sample_grid)
        if history.resumable:
            self.run_panel.set_mode(MODE_RESUME, history.run_dir, history.checkpoint_step)
        else:
            self.run_panel.set_mode(MODE_NEW)
        self.plots.set_output_kind(history.output_kind)
        self.plots.set_history(history.metrics, history.quality, history.alarms)
        self.gallery.set_snapshots(history.snapshots)
        self.points_view.clear()
        if history.last_points is not None:
            self._show_saved_points(history)
        self._step = history.last_step
        self._images_per_sec = 0.0
        self._elapsed = float(history.metrics[-1].get("elapsed", 0.0)) if history.metrics else 0
        self._elapsed_at = 0.0
        self.setWindowTitle(f"{history.run_dir.name} — GAN Studio")
        self._update_status()
        self._update_actions()
        if history.resumable:
            note = (f"Opened {history.run_dir.name} at step {history.checkpoint_step:,}: "
                    "Resume Run continues it")
        elif config is None:
            note = f"Opened {history.run_dir.name}: {history.config_error}"
        else:
            note = f"Opened {history.run_dir.name}: no checkpoint to resume from"
        self.statusBar().showMessage(note, 15000)
        log.info("%s", note)
        if history.checkpoints or (history.run_dir / "generator.safetensors").is_file():
            self.open_generator(generator or history.run_dir, quiet=True)
        self.history_loaded.emit(history)

    def _show_saved_points(self, history: Any) -> None:
        from ganstudio.engine.events import PointsReady

        saved = history.last_points
        try:
            bounds = tuple(float(v) for v in saved["bounds"])
            event = PointsReady(int(saved["step"]), saved["real"], saved["fake"],
                                saved["heatmap"], bounds, history.output_kind)  # type: ignore
        except (KeyError, TypeError, ValueError):
            return
        self.points_view.queue_points(event)
        self._show_points_dock(True)

    def open_generator(self, path: Path, quiet: bool = False) -> None:
        """Load a checkpoint or export (or a run's newest) into the latent explorer."""
        from ganstudio.engine.sampling import GeneratorSource

        if self.latent_panel is None:
            if not quiet:
                self.show_failure("The latent explorer is not available",
                                  "This build of GAN Studio has no latent explorer, so "
                                  f"{path} cannot be explored.", "")
            return

        def opened(source: Any) -> None:
            self.latent_panel.set_source(source)
            if self.latent_dock is not None:
                self.latent_dock.show()
                self.latent_dock.raise_()
            trust = source.metadata.get("trust")   # TorchScript runs its own code: say so
            self.statusBar().showMessage(f"Exploring {source.label} (step {source.step:,})"
                                         + (f" — {trust}" if trust else ""), 8000)
            self.generator_opened.emit(source)

        def failed(message: str, details: str) -> None:
            if quiet:
                log.warning("cannot explore %s: %s", path, message)
            else:
                self.show_failure("Cannot open the generator", message, details)

        self._tasks.submit(GeneratorSource.open, Path(path), on_done=opened, on_error=failed)

    def choose_run(self) -> None:
        start = self.settings.folder(keys.LAST_RUN_FOLDER, self.run_panel.runs_folder())
        folder = QFileDialog.getExistingDirectory(self, "Open a run folder", str(start))
        if folder:
            self.open_path(folder)

    def choose_generator(self) -> None:
        start = self.settings.folder(keys.LAST_RUN_FOLDER, self.run_panel.runs_folder())
        path, _filter = QFileDialog.getOpenFileName(
            self, "Open a checkpoint or generator export", str(start),
            "Generators (*.pt *.pth *.pt2 *.safetensors *.ts *.torchscript);;All files (*)")
        if path:
            self.open_path(path)

    def _choose_dataset_folder(self) -> None:
        self.run_panel.choose_dataset_folder()

    def new_run(self) -> None:
        if self._state != IDLE:
            return
        self._run_dir = None
        self._checkpoints = {}
        self._total_steps = 0
        self._step = 0
        self._elapsed = 0.0
        self.alarm_banner.clear()
        self.run_panel.set_mode(MODE_NEW)
        if self.plots is not None:
            self.plots.clear()
        if self.points_view is not None:
            self.points_view.clear()
        self.gallery.clear()
        self.setWindowTitle("GAN Studio")
        self.step_label.setText("")
        self.progress.setValue(0)
        self.elapsed_label.setText("")
        self._update_actions()
        self.statusBar().showMessage("New run: choose the settings and press Train", 5000)

    # ============================================================================== exporting
    def _export_context(self) -> Any:
        from ganstudio.app.snapshot_export import RunContext

        config = self._run_config
        return RunContext(self._run_dir, config.train.seed if config else None,
                          dict(self._checkpoints),
                          config.train.sample_grid ** 2 if config else None)

    def _default_export_folder(self) -> Path:
        fallback = self._run_dir or self.run_panel.runs_folder()
        return self.settings.folder(keys.LAST_EXPORT_FOLDER, fallback)

    def export_current_snapshot(self) -> None:
        from ganstudio.app.export_dialog import ExportDialog
        from ganstudio.app.snapshot_export import export_name

        step, source = self.gallery.current_step, self.gallery.current_path
        if step is None or source is None:
            return
        image = self.gallery.shown_image
        size = (image.width(), image.height()) if image is not None else None
        target = self._default_export_folder() / export_name(step)
        dialog = ExportDialog(target, folder=False, source_size=size,
                              scale=self.settings.value(keys.EXPORT_SCALE, 4, int),
                              smooth=self.settings.value(keys.EXPORT_SMOOTH, False, bool),
                              parent=self)
        dialog.accepted.connect(lambda: self._export_one(dialog, step, source))
        dialog.finished.connect(dialog.deleteLater)
        self.export_dialog = dialog
        dialog.open()

    def _export_one(self, dialog: Any, step: int, source: Path) -> None:
        from ganstudio.app.snapshot_export import export_snapshot

        target, options = dialog.target, dialog.options
        self._remember_export(target.parent, options)
        self._tasks.submit(export_snapshot, source, target, step, self._export_context(),
                           options, on_done=lambda path: self._exported([path]),
                           on_error=lambda m, d: self.show_failure("Export failed", m, d))

    def export_all_snapshots(self) -> None:
        from ganstudio.app.export_dialog import ExportDialog

        if self.gallery.count == 0:
            return
        name = f"{self._run_dir.name}-snapshots" if self._run_dir else "snapshots"
        target = self._default_export_folder() / name
        dialog = ExportDialog(target, folder=True, count=self.gallery.count,
                              scale=self.settings.value(keys.EXPORT_SCALE, 4, int),
                              smooth=self.settings.value(keys.EXPORT_SMOOTH, False, bool),
                              parent=self)
        dialog.accepted.connect(lambda: self._export_all(dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.export_dialog = dialog
        dialog.open()

    def _export_all(self, dialog: Any) -> None:
        from ganstudio.app.snapshot_export import export_all

        folder, options = dialog.target, dialog.options
        self._remember_export(folder.parent, options)
        snapshots = self.gallery.snapshots()
        progress = QProgressDialog("Exporting snapshots…", "Cancel", 0, len(snapshots), self)
        progress.setObjectName("exportProgress")
        progress.setWindowTitle("Export all snapshots")
        progress.setMinimumDuration(400)
        progress.setWindowModality(Qt.WindowModality.WindowModal)

        def on_progress(done: int, total: int, message: str) -> None:
            progress.setMaximum(total)
            progress.setValue(done)
            progress.setLabelText(message)

        def on_done(paths: list[Path]) -> None:
            progress.reset()
            progress.deleteLater()
            self._exported(paths)

        def on_error(message: str, details: str) -> None:
            progress.reset()
            progress.deleteLater()
            self.show_failure("Export failed", message, details)

        handle = self._tasks.submit(export_all, snapshots, folder, self._export_context(),
                                    options, on_done=on_done, on_error=on_error,
                                    on_progress=on_progress)
        progress.canceled.connect(handle.cancel)

    def _remember_export(self, folder: Path, options: Any) -> None:
        self.settings.set_folder(keys.LAST_EXPORT_FOLDER, folder)
        self.settings.set(keys.EXPORT_SCALE, options.scale)
        self.settings.set(keys.EXPORT_SMOOTH, options.smooth)

    def _exported(self, paths: list[Path]) -> None:
        if len(paths) == 1:
            message = f"Exported {paths[0]}"
        else:
            message = f"Exported {len(paths):,} snapshots into {paths[0].parent}" if paths \
                else "Nothing exported"
        log.info("%s", message)
        self.statusBar().showMessage(message, 10000)
        self.export_finished.emit(paths)

    # ================================================================================ dialogs
    def show_failure(self, title: str, message: str, details: str, informative: str = "") -> None:
        """A plain message, what still holds (checkpoint...), and the details on request."""
        log.error("%s: %s", title, message)
        box = QMessageBox(QMessageBox.Icon.Critical, title, message,
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("failureDialog")
        if informative:
            box.setInformativeText(informative)
        if details:
            box.setDetailedText(details)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(box.deleteLater)
        self.failure_dialog = box
        box.open()

    def show_about(self) -> None:
        from ganstudio.app.about import AboutDialog

        dialog = AboutDialog([d.label for d in self._devices[1:]] or None, self)
        dialog.finished.connect(dialog.deleteLater)
        self.about_dialog = dialog
        dialog.open()

    # ================================================================================ reactions
    def _on_config_changed(self) -> None:
        self._update_actions()
        if self._engine_ready and self._state == IDLE:
            self.device_label.setText(self._device_text())
        side = self.run_panel.editor("train.sample_grid").value()
        if isinstance(side, int) and self._state == IDLE:
            self.gallery.set_grid_side(side)

    def _on_dataset_kind_changed(self, kind: str) -> None:
        if self._state == IDLE:
            self._show_points_dock(kind == "points")

    def _show_points_dock(self, show: bool) -> None:
        self.points_dock.toggleViewAction().setEnabled(show)
        if show:
            self.points_dock.show()
            self.points_dock.raise_()
        else:
            self.points_dock.hide()

    def _on_preview_loaded(self, preview: Any) -> None:
        if preview.images is None:
            return
        points = preview.kind == "points"
        if self._state == IDLE or self.gallery.count == 0:
            self.gallery.set_real_images(preview.images, points=points)
        if points and self.points_view is not None:
            distribution = getattr(preview.dataset, "distribution", None)
            self.points_view.set_modes(getattr(distribution, "modes", None))
            if self.points_view.step is None:
                self.points_view.set_real(preview.points, preview.bounds)

    def _on_theme_chosen(self, action: QAction) -> None:
        choice = action.data()
        if self.theme is not None:
            self.theme.set_choice(choice)
        self.settings.set(keys.THEME, choice)

    def _on_theme_changed(self, _dark: bool) -> None:
        # Let the palette reach every widget first, then re-read it.
        QTimer.singleShot(0, self._refresh_theme)

    def _refresh_theme(self) -> None:
        self.run_panel.refresh_palette()
        self.alarm_banner.apply_theme()
        if self.plots is not None:
            self.plots.apply_theme()
        if self.points_view is not None:
            self.points_view.apply_theme()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, STATE_VERSION)
        self._show_points_dock(self.run_panel.dataset_kind == "points")

    # ============================================================================ drag and drop
    def _accepts_drop(self, event: Any) -> bool:
        # Exported PNGs restore a latent view at any time; other files only when idle.
        path = self._dropped_path(event)
        return path is not None and (self._state == IDLE or path.suffix.lower() == ".png")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts_drop(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        if self._accepts_drop(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_path(event)
        if path is None or not self._accepts_drop(event):
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    @staticmethod
    def _dropped_path(event: Any) -> Path | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                return Path(url.toLocalFile())
        return None

    # ================================================================================ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.controller is not None and self.controller.is_running:
            event.ignore()
            if self._closing:
                return  # already stopping; the window closes when the trainer is done
            self._ask_to_stop_and_quit()
            return
        self._save_layout()
        self._shutdown()
        event.accept()

    def _ask_to_stop_and_quit(self) -> None:
        if self.close_dialog is not None and self.close_dialog.isVisible():
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Training is running",
                          "Stop training and quit?", QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("closeDialog")
        box.setInformativeText("The current step finishes and a checkpoint is saved, so the "
                               "run can be resumed later.")
        stop = box.addButton("Stop and Quit", QMessageBox.ButtonRole.AcceptRole)
        stop.setObjectName("closeStopButton")
        keep = box.addButton("Keep Training", QMessageBox.ButtonRole.RejectRole)
        keep.setObjectName("closeCancelButton")
        box.setDefaultButton(keep)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.accepted.connect(self._stop_and_quit)
        box.finished.connect(box.deleteLater)
        self.close_dialog = box
        box.open()

    def _stop_and_quit(self) -> None:
        self._closing = True
        if self.controller is not None and self.controller.is_running:
            self.stop_training()
        else:
            QTimer.singleShot(0, self.close)

    def _save_layout(self) -> None:
        self.settings.set(keys.GEOMETRY, self.saveGeometry())
        self.settings.set(keys.WINDOW_STATE, self.saveState(STATE_VERSION))
        self.settings.set(keys.RUNS_FOLDER, str(self.run_panel.runs_folder()))
        if self.plots is not None:
            self.settings.set(keys.PLOT_SMOOTHING, self.plots.smoothing)
            self.settings.set(keys.PLOT_LOG_SCALE, self.plots.log_scale)
        self.settings.sync()

    def _shutdown(self) -> None:
        self._status_timer.stop()
        if self.latent_panel is not None:
            try:
                self.latent_panel.shutdown()
            except Exception:
                log.exception("the latent explorer did not shut down cleanly")
        if self.run_tools is not None:
            self.run_tools.shutdown()
        if self.controller is not None:
            self.controller.shutdown()
        self.run_panel.shutdown()
        self.gallery.shutdown()
        # Don't wait: a start-up import or a history read ends on its own, and an export stops
        # at its next file (cancelled); results for a closed window are dropped.
        self._tasks.shutdown(wait=False)
        if self._own_log_buffer:
            logging.getLogger().removeHandler(self._log_buffer)

    def event(self, event: QEvent) -> bool:
        # Qt sends this when the desktop's palette changes without a colour-scheme change.
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            QTimer.singleShot(0, self._refresh_theme)
        return super().event(event)

