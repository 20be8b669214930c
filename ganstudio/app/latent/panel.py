"""The latent explorer: a generator's output for a latent vector you steer by hand.

Contract with the main window: :class:`LatentPanel` (objectName ``latentPanel``) takes
:meth:`LatentPanel.set_live_source` with every training snapshot (shown while *Follow training*
is on; cheap: the module is rebuilt on a background thread) and :meth:`LatentPanel.set_source`
with an opened run, checkpoint, export or foreign generator; :meth:`LatentPanel.restore_png`
takes a dropped PNG and restores the view that made it (opening its generator if needed). It
stops its threads in :meth:`LatentPanel.shutdown` and reports through ``image_exported(path)``
and ``status_message(text)``. It works in a dock and on its own::

    python -m ganstudio.app.latent.panel RUN_FOLDER_OR_CHECKPOINT_OR_EXPORT

Besides raw latent sliders it offers principal directions (fitted off the GUI thread, cached
per generator) with preview strips, truncation, seed browsing with the arrow keys, locks,
interpolations and walks (played in the preview, exported as GIF/MP4/PNG frames) and *Copy as
command*, a ``ganstudio-sample`` line that makes the preview's pixels again.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeyEvent
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from ganstudio.app.latent.export_dialog import (
    GRID,
    PREVIEW,
    AnimationExportDialog,
    LatentExportDialog,
)
from ganstudio.app.latent.icons import latent_icon
from ganstudio.app.latent.path_section import INTERPOLATE, PathSection, dropped_png
from ganstudio.app.latent.renderer import (
    LatentRenderer,
    NeighbourTile,
    PointCloud,
    PreviewFrame,
    StripTile,
    start_worker_thread,
)
from ganstudio.app.latent.state import (
    DIRECTIONS,
    NEIGHBOUR_GRIDS,
    RAW,
    SEED_MAX,
    STRIP_VALUES,
    LatentState,
)
from ganstudio.app.latent.widgets import (
    DirectionSliders,
    LatentSliders,
    NeighbourGrid,
    PointsPreview,
    PreviewView,
    SourceHeader,
)
from ganstudio.app.settings import EXPORT_SCALE, EXPORT_SMOOTH, LAST_EXPORT_FOLDER, Settings
from ganstudio.engine.sampling import GeneratorSource, latent_batch
from ganstudio.explore.directions import (
    AUTO_LAYER,
    DEFAULT_COMPONENTS,
    DEFAULT_SAMPLES,
    LATENT_LAYER,
    OUTPUT_LAYER,
    DirectionCache,
    Directions,
    cached_fit,
)
from ganstudio.explore.paths import compose_latent, interpolate, latent_to_text, walk_latents
from ganstudio.export.images import (
    FRAME_KIND,
    POINTS_IMAGE_SIZE,
    PREVIEW_KIND,
    animation_provenance,
    export_animation,
    export_grid,
    export_points_preview,
    export_preview,
    is_points,
    points_bounds,
    preview_provenance,
    source_of,
    view_provenance,
    weights_file,
)
from ganstudio.export.png import read_png_metadata

log = logging.getLogger(__name__)

LATENT_GRID_SIZE = "export/latent_grid_size"   # QSettings key: N of the last grid export
NO_SOURCE_TEXT = ("No generator yet.\nStart training, or open a run folder, a checkpoint (.pt), "
                  "a generator export (.safetensors), a DCGAN-example netG (.pth), a .pt2 or "
                  "TorchScript file — or drop an image GAN Studio exported.")
LAYER_CHOICES = ((AUTO_LAYER, "Early layer (automatic)"), (LATENT_LAYER, "Latent z"),
                 (OUTPUT_LAYER, "Output image"))


# An export's work: (should_stop, progress(done, total)) -> the file written, or None if stopped.
ExportWork = Callable[[Callable[[], bool], Callable[[int, int], None]], Path | None]


class _ExportJob(QObject):
    """One export on a background thread (grids render up to 256 images)."""

    finished = Signal(str)
    failed = Signal(str)
    progress = Signal(int, int)

    def __init__(self, work: ExportWork, what: str):
        super().__init__()
        self.what = what
        self._work = work
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = start_worker_thread(self._run, "ganstudio-latent-export")

    def stop(self) -> None:
        self._stop = True

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            path = self._work(lambda: self._stop, self._emit_progress)
        except Exception as exc:  # reported to the user; the panel carries on
            log.exception("export failed")
            self._emit(self.failed, f"Could not export the {self.what}: {exc}")
            return
        if path is not None:
            self._emit(self.finished, str(path))

    def _emit_progress(self, done: int, total: int) -> None:
        self._emit(self.progress, done, total)

    def _emit(self, signal: Signal, *args: object) -> None:
        if self._stop:
            return
        try:
            signal.emit(*args)
        except RuntimeError:   # the panel was deleted meanwhile
            pass


class _Task(QObject):
    """A result-returning job on a worker thread (a directions fit, opening a generator)."""

    done = Signal(object)
    failed = Signal(str)
    progress = Signal(int, int)

    def __init__(self, work: Callable[[Callable[[], bool], Callable[[int, int], None]], Any],
                 name: str):
        super().__init__()
        self._work, self._name = work, name
        self.stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = start_worker_thread(self._run, self._name)

    def stop(self) -> None:
        self.stopped = True

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            result = self._work(lambda: self.stopped, self._emit_progress)
        except Exception as exc:   # reported to the user; the panel carries on
            log.exception("%s failed", self._name)
            self._emit(self.failed, str(exc))
            return
        self._emit(self.done, result)

    def _emit_progress(self, done: int, total: int) -> None:
        self._emit(self.progress, done, total)

    def _emit(self, signal: Signal, *args: object) -> None:
        if self.stopped:
            return
        try:
            signal.emit(*args)
        except RuntimeError:
            pass


class LatentPanel(QWidget):
    """Preview, seed, sliders (raw or principal directions), truncation, variations, paths
    and exports for one generator."""

    image_exported = Signal(str)
    status_message = Signal(str)
    directions_ready = Signal(object)       # Directions
    state_restored = Signal(str)            # the PNG whose view was restored
    command_copied = Signal(str)
    animation_exported = Signal(str)
    animation_cancelled = Signal()

    fit_samples = DEFAULT_SAMPLES           # latents sampled for a directions fit

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("latentPanel")
        self.setAccessibleName("Latent explorer")
        self.state = LatentState()
        self.settings = Settings()
        self.last_request_id = 0
        self._frame: PreviewFrame | None = None
        self._tile_latents: dict[int, np.ndarray] = {}
        self._neighbour_bases: tuple[int, np.ndarray] | None = None   # (request id, bases)
        self._exports: list[_ExportJob] = []
        self._tasks: list[_Task] = []
        self._fit_task: _Task | None = None
        self._animation_job: _ExportJob | None = None
        self._shut_down = False
        self._live_source: GeneratorSource | None = None
        self._last_view: tuple[int, dict[str, Any]] | None = None   # request id, its view
        self._path_request_ids: set[int] = set()
        self._path_cache: np.ndarray | None = None
        # Interpolation ends: ("seed", seed) or ("latent", latent, description).
        self._ends: dict[str, tuple] = {"A": ("seed", 0), "B": ("seed", 1)}
        self.directions_cache = DirectionCache()

        self.renderer = LatentRenderer()
        self.renderer.preview_ready.connect(self._on_preview_ready)
        self.renderer.neighbour_ready.connect(self._on_neighbour_ready)
        self.renderer.cloud_ready.connect(self._on_cloud_ready)
        self.renderer.strip_ready.connect(self._on_strip_ready)
        self.renderer.failed.connect(self.status_message)

        self._build_ui()
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # The details line is redrawn at most ten times a second, not on every frame.
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.setInterval(100)
        self._info_timer.timeout.connect(self._update_info)
        self._play_timer = QTimer(self)
        self._play_timer.timeout.connect(self._advance_playback)
        self._set_controls_enabled(False)

    # ----- layout -------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        header_row = QHBoxLayout()
        self.header = SourceHeader()
        header_row.addWidget(self.header, 1)
        self.follow_check = QCheckBox("Follow training")
        self.follow_check.setObjectName("latentFollow")
        self.follow_check.setAccessibleName("Follow training")
        self.follow_check.setToolTip("On: show the running training's generator, refreshed at "
                                     "every sample step. Off: stay on the snapshot shown now")
        self.follow_check.setChecked(True)
        self.follow_check.setVisible(False)      # until a training run sends snapshots
        self.follow_check.toggled.connect(self._on_follow_toggled)
        header_row.addWidget(self.follow_check)
        outer.addLayout(header_row)

        # Starts stacked (the narrower minimum, right for a dock); resizeEvent turns it.
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("latentSplitter")
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter, 1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        self.preview = PreviewView(NO_SOURCE_TEXT)
        self.preview.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.points = PointsPreview()
        self.points.chosen.connect(self._on_neighbour_chosen)
        self.view_stack = QStackedWidget()
        self.view_stack.setObjectName("latentViewStack")
        self.view_stack.addWidget(self.preview)
        self.view_stack.addWidget(self.points)
        left_layout.addWidget(self.view_stack, 1)

        seed_row = QHBoxLayout()
        seed_label = QLabel("Seed")
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("latentSeed")
        self.seed_spin.setAccessibleName("Seed")
        self.seed_spin.setToolTip("The random seed whose latent vector is shown; the sliders "
                                  "start from (and reset to) its values. With the panel "
                                  "focused, ← and → step through seeds")
        self.seed_spin.setRange(0, SEED_MAX)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.valueChanged.connect(self._on_seed_change)
        seed_label.setBuddy(self.seed_spin)
        self.randomise_button = QToolButton()
        self.randomise_button.setObjectName("latentRandomise")
        self.randomise_button.setAccessibleName("Random seed")
        self.randomise_button.setToolTip("Jump to a random seed (locked sliders keep their "
                                         "values)")
        self.randomise_button.setIcon(latent_icon("dice"))
        self.randomise_button.clicked.connect(self.randomise_seed)
        self.class_label = QLabel("Class")
        self.class_combo = QComboBox()
        self.class_combo.setObjectName("latentClass")
        self.class_combo.setAccessibleName("Class")
        self.class_combo.setToolTip("The class this conditional generator is asked to draw")
        self.class_combo.currentIndexChanged.connect(self._on_class_change)
        self.class_label.setBuddy(self.class_combo)
        self.seed_spin.setMinimumWidth(self.fontMetrics().horizontalAdvance("2,147,483,647") + 40)
        seed_row.addWidget(seed_label)
        seed_row.addWidget(self.seed_spin)
        seed_row.addWidget(self.randomise_button)
        seed_row.addSpacing(12)
        seed_row.addWidget(self.class_label)
        seed_row.addWidget(self.class_combo)
        seed_row.addStretch(1)
        left_layout.addLayout(seed_row)

        truncation_row = QHBoxLayout()
        truncation_label = QLabel("Truncation ψ")
        self.truncation_slider = QSlider(Qt.Orientation.Horizontal)
        self.truncation_slider.setObjectName("latentTruncation")
        self.truncation_slider.setAccessibleName("Truncation")
        self.truncation_slider.setToolTip("Pull the latent towards the mean (ψ < 1): more "
                                          "typical, less varied images. 1 leaves it as it is")
        self.truncation_slider.setRange(0, 100)
        self.truncation_slider.setValue(100)
        self.truncation_slider.setPageStep(10)
        self.truncation_slider.valueChanged.connect(self._on_truncation_change)
        truncation_label.setBuddy(self.truncation_slider)
        self.truncation_value = QLabel("1.00")
        self.truncation_value.setObjectName("latentTruncationValue")
        self.truncation_value.setFixedWidth(self.fontMetrics().horizontalAdvance("0.00") + 6)
        truncation_row.addWidget(truncation_label)
        truncation_row.addWidget(self.truncation_slider, 1)
        truncation_row.addWidget(self.truncation_value)
        left_layout.addLayout(truncation_row)

        # Variations or the animation section, one at a time (the preview keeps the space).
        switch_row = QHBoxLayout()
        self.variations_button = QPushButton("Variations")
        self.variations_button.setObjectName("latentShowVariations")
        self.variations_button.setAccessibleName("Show variations")
        self.variations_button.setToolTip("Nearby latents: the current one moved a little "
                                          "along fixed random directions")
        self.animation_button = QPushButton("Interpolate / animate")
        self.animation_button.setObjectName("latentShowAnimation")
        self.animation_button.setAccessibleName("Show interpolation and animation")
        self.animation_button.setToolTip("Interpolate between two latents or walk along a "
                                         "direction; play it here, export GIF, MP4 or frames")
        for button in (self.variations_button, self.animation_button):
            button.setCheckable(True)
            button.setAutoExclusive(True)
            switch_row.addWidget(button)
        self.variations_button.setChecked(True)
        switch_row.addStretch(1)
        self.grid_combo = QComboBox()
        self.grid_combo.setObjectName("latentNeighbourCount")
        self.grid_combo.setAccessibleName("Number of variations")
        self.grid_combo.setToolTip("How many variations to show")
        for k in NEIGHBOUR_GRIDS:
            self.grid_combo.addItem(f"{k}×{k}", k)
        self.grid_combo.currentIndexChanged.connect(self._on_grid_change)
        self.spread_spin = QDoubleSpinBox()
        self.spread_spin.setObjectName("latentSpread")
        self.spread_spin.setAccessibleName("Variation distance")
        self.spread_spin.setToolTip("How far the variations move from the current latent (in "
                                    "standard deviations per dimension)")
        self.spread_spin.setRange(0.05, 1.5)
        self.spread_spin.setSingleStep(0.05)
        self.spread_spin.setPrefix("± ")
        self.spread_spin.setValue(self.state.spread)
        self.spread_spin.valueChanged.connect(self._on_spread_change)
        switch_row.addWidget(self.grid_combo)
        switch_row.addWidget(self.spread_spin)
        left_layout.addLayout(switch_row)
        self.section_stack = QStackedWidget()
        self.section_stack.setObjectName("latentSectionStack")
        variations_page = QWidget()
        variations_layout = QVBoxLayout(variations_page)
        variations_layout.setContentsMargins(0, 0, 0, 0)
        self.neighbours = NeighbourGrid()
        self.neighbours.chosen.connect(self._on_neighbour_chosen)
        variations_layout.addWidget(self.neighbours, 0, Qt.AlignmentFlag.AlignHCenter)
        self.section_stack.addWidget(variations_page)
        self.path = PathSection()
        self.path.changed.connect(self._on_path_change)
        self.path.position_changed.connect(self._show_path_frame)
        self.path.play_toggled.connect(self._on_play_toggled)
        self.path.export_requested.connect(self.open_animation_dialog)
        self.path.cancel_requested.connect(self.cancel_animation_export)
        self.path.end_a.seed_chosen.connect(lambda seed: self.set_endpoint("A", seed=seed))
        self.path.end_b.seed_chosen.connect(lambda seed: self.set_endpoint("B", seed=seed))
        self.path.end_a.current_requested.connect(lambda: self.set_endpoint("A", current=True))
        self.path.end_b.current_requested.connect(lambda: self.set_endpoint("B", current=True))
        self.path.end_a.png_dropped.connect(lambda p: self.set_endpoint("A", png=p))
        self.path.end_b.png_dropped.connect(lambda p: self.set_endpoint("B", png=p))
        self.section_stack.addWidget(self.path)
        self.variations_button.toggled.connect(self._on_section_change)
        left_layout.addWidget(self.section_stack)

        export_row = QHBoxLayout()
        self.export_preview_button = QPushButton("Export image…")
        self.export_preview_button.setObjectName("latentExportPreview")
        self.export_preview_button.setAccessibleName("Export preview")
        self.export_preview_button.setToolTip("Save the preview as a PNG (1×–8×) that records "
                                              "its generator, step, seed, latent, truncation "
                                              "and directions; drop it back to restore them")
        self.export_preview_button.setIcon(latent_icon("export"))
        self.export_preview_button.clicked.connect(lambda: self.open_export_dialog(PREVIEW))
        self.export_grid_button = QPushButton("Export grid…")
        self.export_grid_button.setObjectName("latentExportGrid")
        self.export_grid_button.setAccessibleName("Export grid of seeds")
        self.export_grid_button.setToolTip("Save an N×N grid of seeds, starting at this seed, "
                                           "as a PNG")
        self.export_grid_button.setIcon(latent_icon("gallery"))
        self.export_grid_button.clicked.connect(lambda: self.open_export_dialog(GRID))
        self.copy_command_button = QToolButton()
        self.copy_command_button.setObjectName("latentCopyCommand")
        self.copy_command_button.setAccessibleName("Copy as command")
        self.copy_command_button.setText("Copy as command")
        self.copy_command_button.setIcon(latent_icon("copy"))
        self.copy_command_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.copy_command_button.setToolTip("Copy a ganstudio-sample command that renders this "
                                            "preview again, bit for bit, on a CPU")
        self.copy_command_button.clicked.connect(self.copy_command)
        self.export_model_button = QToolButton()
        self.export_model_button.setObjectName("latentExportModel")
        self.export_model_button.setAccessibleName("Export generator program")
        self.export_model_button.setText("Export model…")
        self.export_model_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.export_model_button.setIcon(latent_icon("export-all"))
        self.export_model_button.setToolTip("Save this generator as a torch.export archive "
                                            "(.pt2) or ONNX (.onnx) that other code can run")
        self.export_model_button.clicked.connect(self._choose_model_export)
        export_row.addWidget(self.export_preview_button)
        export_row.addWidget(self.export_grid_button)
        export_row.addWidget(self.copy_command_button)
        export_row.addWidget(self.export_model_button)
        export_row.addStretch(1)
        left_layout.addLayout(export_row)
        self.splitter.addWidget(left)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        sliders_row = QHBoxLayout()
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("latentMode")
        self.mode_combo.setAccessibleName("Slider mode")
        self.mode_combo.setToolTip("Raw latent dimensions, or principal directions: the "
                                   "directions along which the images vary most (GANSpace)")
        self.mode_combo.addItem("Raw dimensions", RAW)
        self.mode_combo.addItem("Principal directions", DIRECTIONS)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_change)
        self.sliders_title = QLabel("Latent vector")
        self.sliders_title.setObjectName("latentSlidersTitle")
        self.reset_all_button = QToolButton()
        self.reset_all_button.setObjectName("latentResetAll")
        self.reset_all_button.setAccessibleName("Reset all latent dimensions")
        self.reset_all_button.setToolTip("Put every dimension back to the seed's values and "
                                         "every direction back to 0")
        self.reset_all_button.setText("Reset all")
        self.reset_all_button.setIcon(latent_icon("reset"))
        self.reset_all_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reset_all_button.clicked.connect(self.reset_all)
        sliders_row.addWidget(self.mode_combo)
        sliders_row.addWidget(self.sliders_title, 1)
        sliders_row.addWidget(self.reset_all_button)
        right_layout.addLayout(sliders_row)

        self.directions_bar = QWidget()
        bar = QHBoxLayout(self.directions_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("latentDirectionLayer")
        self.layer_combo.setAccessibleName("Fit directions on")
        self.layer_combo.setToolTip("Where PCA looks: an early generator layer (GANSpace's "
                                    "choice), the latents themselves, or the output image")
        for value, text in LAYER_CHOICES:
            self.layer_combo.addItem(text, value)
        self.components_spin = QSpinBox()
        self.components_spin.setObjectName("latentDirectionCount")
        self.components_spin.setAccessibleName("Number of directions")
        self.components_spin.setToolTip("How many principal directions to fit")
        self.components_spin.setRange(1, 32)
        self.components_spin.setValue(DEFAULT_COMPONENTS)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setObjectName("latentFitDirections")
        self.fit_button.setAccessibleName("Fit directions")
        self.fit_button.setToolTip("Find the principal directions of this generator (sampled "
                                   "off the GUI thread; kept on disk per generator)")
        self.fit_button.clicked.connect(lambda: self.fit_directions(refit=bool(
            self.state.directions is not None)))
        self.fit_progress = QProgressBar()
        self.fit_progress.setObjectName("latentFitProgress")
        self.fit_progress.setAccessibleName("Directions fit progress")
        self.fit_progress.setToolTip("Latents sampled for the fit")
        self.fit_progress.setVisible(False)
        self.fit_cancel = QToolButton()
        self.fit_cancel.setObjectName("latentFitCancel")
        self.fit_cancel.setText("Cancel")
        self.fit_cancel.setAccessibleName("Cancel the directions fit")
        self.fit_cancel.setToolTip("Stop fitting")
        self.fit_cancel.setVisible(False)
        self.fit_cancel.clicked.connect(self.cancel_fit)
        bar.addWidget(self.layer_combo, 1)
        bar.addWidget(self.components_spin)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.fit_progress, 1)
        bar.addWidget(self.fit_cancel)
        right_layout.addWidget(self.directions_bar)
        self.directions_info = QLabel("")
        self.directions_info.setObjectName("latentDirectionsInfo")
        self.directions_info.setWordWrap(True)
        right_layout.addWidget(self.directions_info)

        self.sliders = LatentSliders()
        self.sliders.value_changed.connect(self._on_dimension_change)
        self.sliders.reset_requested.connect(self.reset_dimension)
        self.sliders.lock_toggled.connect(self._on_dimension_lock)
        self.direction_sliders = DirectionSliders()
        self.direction_sliders.value_changed.connect(self._on_direction_change)
        self.direction_sliders.reset_requested.connect(self.reset_direction)
        self.direction_sliders.lock_toggled.connect(self._on_direction_lock)
        self.direction_sliders.strip_chosen.connect(self._on_strip_chosen)
        self.slider_stack = QStackedWidget()
        self.slider_stack.setObjectName("latentSliderStack")
        self.slider_stack.addWidget(self.sliders)
        self.slider_stack.addWidget(self.direction_sliders)
        right_layout.addWidget(self.slider_stack, 1)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self._show_mode()

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Side by side when wide (standalone, a wide dock); stacked in a tall, narrow dock,
        # where the sliders get two fifths of the height.
        size = event.size()
        wide = size.width() >= 1.1 * size.height()
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)
            length = size.width() if wide else size.height()
            self.splitter.setSizes([length * 3 // 5, length * 2 // 5])
        super().resizeEvent(event)

    def _set_controls_enabled(self, enabled: bool) -> None:
        for widget in (self.seed_spin, self.randomise_button, self.class_combo, self.grid_combo,
                       self.spread_spin, self.reset_all_button, self.sliders,
                       self.truncation_slider, self.mode_combo, self.directions_bar,
                       self.direction_sliders, self.path):
            widget.setEnabled(enabled)
        self._update_export_buttons()

    def _update_export_buttons(self) -> None:
        source = self.state.source
        has_frame = self._frame is not None and source is not None
        self.export_preview_button.setEnabled(has_frame)
        images = source is not None and not is_points(source)
        self.export_grid_button.setEnabled(images)
        self.export_grid_button.setToolTip(
            "Save an N×N grid of seeds, starting at this seed, as a PNG" if images or
            source is None else "Grids are for image generators; this one makes 2-D points")
        self.path.export_button.setEnabled(images and self._animation_job is None)
        file_backed = source is not None and self._snapshot_file(source) is not None
        self.copy_command_button.setEnabled(bool(file_backed))
        self.copy_command_button.setToolTip(
            "Copy a ganstudio-sample command that renders this preview again, bit for bit, on "
            "a CPU" if file_backed or source is None else
            "This training snapshot has no checkpoint on disk yet: a command needs a file "
            "(one is saved at every checkpoint step)")
        self.export_model_button.setEnabled(source is not None and not source.is_program)

    @staticmethod
    def _snapshot_file(source: GeneratorSource) -> str | None:
        return weights_file(source)

    # ----- the contract -------------------------------------------------------------------------
    def set_source(self, source: GeneratorSource | None, *, live: bool = False) -> None:
        """Show ``source`` (None: nothing). A new snapshot of the same generator keeps the
        seed, latent, class, truncation and directions and re-renders; the module is rebuilt
        off the GUI thread. Opening a file while training stops following the training."""
        if self._shut_down:
            return
        if not live and self._live_source is not None and self.follow_check.isChecked():
            with signals_blocked(self.follow_check):
                self.follow_check.setChecked(False)
            self._update_follow_text()
        self._stop_playing()
        previous = self.state.source
        kept = self.state.adopt(source)
        self.renderer.set_source(source)
        if source is None:
            self._frame = None
            self._tile_latents.clear()
            self.preview.show_frame(0, None)
            self.points.clear()
            self.neighbours.clear()
            self.view_stack.setCurrentWidget(self.preview)
            self.header.set_source_text("No generator", "")
            self.header.info.setText("")
            self._show_directions()
            self._set_controls_enabled(False)
            return
        if not kept:
            self._configure_for(source)
        elif tuple(self.class_combo.itemText(i) for i in range(self.class_combo.count())) \
                != self._class_items(source):
            self._fill_classes(source)
        self._show_source_title(source)
        self._set_controls_enabled(True)
        self._show_directions()
        if source.metadata.get("trust") and source is not previous:
            self.status_message.emit(f"{source.label}: {source.metadata['trust']}")
        self._path_cache = None
        self._request()

    def set_live_source(self, source: GeneratorSource) -> None:
        """A snapshot of the running training: shown while *Follow training* is on."""
        if self._shut_down:
            return
        self._live_source = source
        if not self.follow_check.isVisible():
            self.follow_check.setVisible(True)
        if self.follow_check.isChecked():
            self.set_source(source, live=True)
        self._update_follow_text()

    @property
    def following(self) -> bool:
        return self.follow_check.isChecked()

    def set_following(self, follow: bool) -> None:
        self.follow_check.setChecked(follow)

    def shutdown(self) -> None:
        """Stop rendering, fitting and exporting; returns within about a second."""
        if self._shut_down:
            return
        self._shut_down = True
        self._play_timer.stop()
        deadline = time.monotonic() + 0.9
        for job in self._exports:
            job.stop()
        for task in self._tasks:
            task.stop()
        self.renderer.shutdown(timeout=0.6)
        for job in self._exports:
            job.join(max(0.0, deadline - time.monotonic()))
        for task in self._tasks:
            task.join(max(0.0, deadline - time.monotonic()))

    # ----- actions (also used by tests and the window's menus) ----------------------------------
    def set_seed(self, seed: int) -> None:
        """Show ``seed``'s latent (kept for the next generator when there is none yet)."""
        self.seed_spin.setValue(seed)

    def step_seed(self, step: int) -> None:
        """The next (``+1``) or previous (``-1``) seed: what the arrow keys do."""
        self.set_seed((self.state.seed + step) % (SEED_MAX + 1))

    def randomise_seed(self) -> None:
        self.set_seed(random.randrange(SEED_MAX + 1))

    def reset_all(self) -> None:
        self.state.reset_all()
        self.sliders.set_values(self.state.latent)
        self.direction_sliders.set_values(self.state.direction_values)
        self._request()

    def reset_dimension(self, index: int) -> None:
        self.state.reset_dimension(index)
        self.sliders.set_value(index, float(self.state.latent[index]))
        self._request()

    def reset_direction(self, index: int) -> None:
        if index < len(self.state.direction_values):
            self.state.set_direction_value(index, 0.0)
            self.direction_sliders.set_value(index, 0.0)
            self._request()

    def set_truncation(self, psi: float) -> None:
        self.truncation_slider.setValue(int(round(psi * 100)))

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))

    @property
    def preview_is_current(self) -> bool:
        """Whether the preview shows the newest request, rendered by the newest generator."""
        frame = self._frame
        return (frame is not None and frame.request_id == self.last_request_id
                and frame.source is self.state.source)

    @property
    def current_frame(self) -> PreviewFrame | None:
        return self._frame

    def current_view(self) -> dict[str, Any]:
        """How the shown latent is composed (for provenance): base, truncation, directions."""
        state = self.state
        return view_provenance(base_latent=state.latent, truncation=state.truncation,
                               directions=state.directions,
                               direction_values=state.direction_values
                               if state.directions is not None else None)

    def export_preview_to(self, path: Path | str, scale: int = 1, smooth: bool = False) -> None:
        """Write the preview on screen (exactly those pixels) to ``path``, in the background."""
        frame = self._frame
        if frame is None:
            raise RuntimeError("there is no preview to export yet")
        path = Path(path)
        view = self._last_view[1] if self._last_view and \
            self._last_view[0] == frame.request_id else None
        provenance = preview_provenance(frame.source, seed=int(frame.tag or 0),
                                        latent=frame.latent, label=frame.label, view=view)
        if frame.image is not None:
            image = frame.image

            def work(_stop, _progress) -> Path:
                return export_preview(path, image, scale, smooth, provenance)
        else:
            source, latent, label = frame.source, frame.latent, frame.label

            def work(_stop, _progress) -> Path:
                return export_points_preview(path, source.build_for_inference(), source,
                                             latent, provenance, scale, label)
        self._start_export(work, "preview")

    def export_grid_to(self, path: Path | str, n: int, scale: int = 1,
                       smooth: bool = False) -> None:
        """Render and write an ``n``×``n`` grid of seeds from the current one, in the background."""
        source = self.state.source
        if source is None or is_points(source):
            raise RuntimeError("grids need an image generator")
        path, seed, label = Path(path), self.state.seed, self.state.label

        def work(stop, progress) -> Path | None:
            return export_grid(path, source, seed, n, label=label, scale=scale, smooth=smooth,
                               progress=progress, should_stop=stop)
        self.status_message.emit(f"Rendering a {n}×{n} grid from seed {seed:,}…")
        self._start_export(work, "grid")

    def export_model_to(self, path: Path | str) -> None:
        """Write the generator as a .pt2 archive or ONNX model, in the background."""
        from ganstudio.export.programs import export_program

        source = self.state.source
        if source is None:
            raise RuntimeError("there is no generator to export")
        path = Path(path)
        self.status_message.emit(f"Exporting {source.label} to {path.name}…")
        self._start_export(lambda _stop, _progress: export_program(source, path), "generator")

    def open_export_dialog(self, kind: str) -> LatentExportDialog | None:
        """Ask for file, scale and resampling (and N for grids); exports on accept."""
        source = self.state.source
        if source is None or (kind == PREVIEW and self._frame is None):
            return None
        points = is_points(source)
        folder = self.settings.folder(LAST_EXPORT_FOLDER, self._default_folder(source))
        grid = int(self.settings.value(LATENT_GRID_SIZE, 4, int))
        dialog = LatentExportDialog(
            kind, folder / self._suggested_name(kind, source, grid),
            tile_size=(POINTS_IMAGE_SIZE, POINTS_IMAGE_SIZE) if points else
            (source.spec.out_shape[2], source.spec.out_shape[1]),
            scale=int(self.settings.value(EXPORT_SCALE, 4, int)),
            smooth=bool(self.settings.value(EXPORT_SMOOTH, False, bool)), grid=grid,
            first_seed=self.state.seed, points=points, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_export_accepted(kind, dialog))
        dialog.open()
        return dialog

    # ----- copy as command ----------------------------------------------------------------------
    def command_line(self) -> str:
        """A ``ganstudio-sample`` line that renders the current preview again, bit for bit.

        Raises ValueError when the generator has no file (a training snapshot between
        checkpoints).
        """
        state, source = self.state, self.state.source
        if source is None:
            raise ValueError("there is no generator")
        weights = self._snapshot_file(source)
        if not weights:
            raise ValueError(f"{source.label} has no file on disk to render from (a training "
                             "snapshot without a checkpoint at this step)")
        args = ["ganstudio-sample", str(weights)]
        options = source.open_options
        if options:
            args += ["--latent-shape", "x".join(map(str, options["latent_shape"])),
                     "--output-range", str(options["output_range"])]
        shown = state.shown()
        seed_view = compose_latent(state.seed_latent, state.truncation)
        args += ["--seeds", str(state.seed)]
        if not np.array_equal(shown, seed_view):
            args += ["--latent", latent_to_text(shown)]
        elif state.truncation != 1.0:
            args += ["--truncation", repr(float(state.truncation))]
        if state.label is not None:
            args += ["--class", str(state.label)]
        size = POINTS_IMAGE_SIZE if is_points(source) else max(source.spec.out_shape[1:])
        args += ["--size", str(size), "--out", self._suggested_name(PREVIEW, source, 0)]
        return shlex.join(args)

    def copy_command(self) -> str | None:
        """Put :meth:`command_line` on the clipboard (and say so); None when there is none."""
        try:
            line = self.command_line()
        except ValueError as exc:
            self.status_message.emit(f"No command to copy: {exc}")
            return None
        QGuiApplication.clipboard().setText(line)
        self.status_message.emit("Copied a ganstudio-sample command that renders this preview")
        self.command_copied.emit(line)
        return line

    # ----- principal directions -----------------------------------------------------------------
    def fit_directions(self, refit: bool = False) -> None:
        """Fit (or read from the cache) principal directions off the GUI thread."""
        source = self.state.source
        if source is None or self._shut_down:
            return
        self.cancel_fit()
        layer = str(self.layer_combo.currentData())
        components = self.components_spin.value()
        samples = int(self.fit_samples)
        cache = self.directions_cache

        def work(stop, progress) -> Directions | None:
            return cached_fit(source, layer=layer, components=components, samples=samples,
                              cache=cache, refit=refit, progress=progress, should_stop=stop)
        task = _Task(work, "ganstudio-latent-directions")
        task.progress.connect(self._on_fit_progress)
        task.done.connect(lambda result, task=task, source=source:
                          self._on_fit_done(task, source, result))
        task.failed.connect(lambda message, task=task: self._on_fit_failed(task, message))
        self._fit_task = task
        self._tasks.append(task)
        self.fit_progress.setRange(0, samples)
        self.fit_progress.setValue(0)
        self.fit_progress.setVisible(True)
        self.fit_cancel.setVisible(True)
        self.fit_button.setEnabled(False)
        self.directions_info.setText(f"Fitting {components} directions on {samples:,} "
                                     "samples…")
        task.start()

    def cancel_fit(self) -> None:
        task, self._fit_task = self._fit_task, None
        if task is not None:
            task.stop()
            self._forget_task(task)
            self.directions_info.setText("Fit cancelled.")
        self._fit_finished_ui()

    @property
    def fitting(self) -> bool:
        return self._fit_task is not None

    def _fit_finished_ui(self) -> None:
        self.fit_progress.setVisible(False)
        self.fit_cancel.setVisible(False)
        self.fit_button.setEnabled(True)

    def _on_fit_progress(self, done: int, total: int) -> None:
        self.fit_progress.setRange(0, total)
        self.fit_progress.setValue(done)

    def _on_fit_done(self, task: _Task, source: GeneratorSource,
                     directions: Directions | None) -> None:
        self._forget_task(task)
        if task is not self._fit_task:
            return
        self._fit_task = None
        self._fit_finished_ui()
        if directions is None or self.state.source is None \
                or directions.nz != self.state.nz:
            return
        self.state.set_directions(directions)
        self._show_directions()
        if self.state.mode != DIRECTIONS:
            self.set_mode(DIRECTIONS)
        self._request()
        self.status_message.emit(f"{source.label}: {directions.describe()}")
        self.directions_ready.emit(directions)

    def _on_fit_failed(self, task: _Task, message: str) -> None:
        self._forget_task(task)
        if task is self._fit_task:
            self._fit_task = None
            self._fit_finished_ui()
            self.directions_info.setText(f"Could not fit directions: {message}")
            self.status_message.emit(f"Could not fit directions: {message}")

    def _show_directions(self) -> None:
        """Direction sliders, labels and the walk's choices for the state's directions."""
        directions = self.state.directions
        if directions is None:
            self.direction_sliders.clear()
            self.directions_info.setText("")
            self.fit_button.setText("Fit")
            self.path.set_directions([])
            return
        labels = [directions.label(k) for k in range(directions.count)]
        tips = [f"Principal direction {k + 1}: {100 * float(directions.explained[k]):.1f}% of "
                f"the variance of {directions.layer}" for k in range(directions.count)]
        if self.direction_sliders.count != directions.count or [
                n.text() for n in self.direction_sliders.names] != labels:
            points = self.state.source is not None and is_points(self.state.source)
            self.direction_sliders.rebuild(labels, tips, show_strips=not points)
        self.direction_sliders.set_values(self.state.direction_values)
        self.direction_sliders.set_locked(self.state.locked_directions)
        source = self.state.source
        if source is None:
            stale = False
        elif source.metadata.get("run"):      # a training run: snapshots are not hashed
            stale = directions.step != source.step
        else:
            stale = directions.generator_sha256 != source.sha256
        self.directions_info.setText(
            f"{directions.describe()}; fitted at step {directions.step:,}"
            + (" — the generator has changed since: Refit" if stale else ""))
        self.fit_button.setText("Refit")
        self.path.set_directions(labels)

    # ----- restoring a view from an exported PNG --------------------------------------------------
    def restore_png(self, path: Path | str) -> bool:
        """Restore the view an exported PNG records (generator, seed, latent, truncation,
        directions, class), opening its generator first when another one is shown.

        Returns False (and says why) when the PNG records no latent; the restore itself may
        finish later (``state_restored`` is emitted).
        """
        path = Path(path)
        try:
            meta = read_png_metadata(path)
        except Exception as exc:
            self.status_message.emit(f"{path}: not a readable PNG ({exc})")
            return False
        if meta.get("kind") not in (PREVIEW_KIND, FRAME_KIND) \
                or not isinstance(meta.get("latent"), list):
            kind = meta.get("kind")
            self.status_message.emit(
                f"{path.name}: " + ("no GAN Studio provenance in this image" if not meta else
                                    f"a {kind or 'GAN Studio image'} records no single latent "
                                    "to restore (previews and animation frames do)"))
            return False
        current = self.state.source
        wanted = meta.get("generator_sha256")
        if current is not None and (wanted == current.sha256 or (
                wanted is None and meta.get("source") == current.metadata.get("source"))):
            self._apply_restore(meta, path)
            return True
        where = meta.get("checkpoint") or meta.get("source")
        self.status_message.emit(f"Opening {where} to restore {path.name}…")

        def work(_stop, _progress) -> GeneratorSource:
            return source_of(meta)
        task = _Task(work, "ganstudio-latent-open")
        task.done.connect(lambda source, task=task: self._on_restore_opened(task, source, meta,
                                                                            path))
        task.failed.connect(lambda message, task=task: self._on_restore_failed(task, message,
                                                                               path))
        self._tasks.append(task)
        task.start()
        return True

    def _on_restore_opened(self, task: _Task, source: GeneratorSource, meta: dict[str, Any],
                           path: Path) -> None:
        self._forget_task(task)
        if self._shut_down:
            return
        wanted = meta.get("generator_sha256")
        if wanted and source.sha256 != wanted:
            self.status_message.emit(f"{path.name}: the file it names has changed since "
                                     "(different weights); showing its latent anyway")
        self.set_source(source)
        self._apply_restore(meta, path)

    def _on_restore_failed(self, task: _Task, message: str, path: Path) -> None:
        self._forget_task(task)
        self.status_message.emit(f"Cannot restore {path.name}: {message}")

    def _apply_restore(self, meta: dict[str, Any], path: Path) -> None:
        state, source = self.state, self.state.source
        assert source is not None
        latent = np.asarray(meta["latent"], dtype=np.float32)
        if latent.shape != (source.nz,):
            self.status_message.emit(f"{path.name}: its latent has {latent.size} values, "
                                     f"{source.label} takes {source.nz}")
            return
        self._stop_playing()
        seed = int(meta.get("seed") or 0) % (SEED_MAX + 1)
        with signals_blocked(self.seed_spin):
            self.seed_spin.setValue(seed)
        state.set_seed(seed, keep_locked=False)
        state.locked_dims.clear()
        state.locked_directions.clear()
        label = meta.get("class_label")
        if source.spec.num_classes and label is not None:
            state.label = int(label)
            with signals_blocked(self.class_combo):
                self.class_combo.setCurrentIndex(int(label))
        base = meta.get("base_latent")
        psi = float(meta.get("truncation", 1.0))
        recorded = meta.get("directions") or {}
        directions = None
        if recorded.get("basis_id"):
            if state.directions is not None and state.directions.basis_id == recorded["basis_id"]:
                directions = state.directions
            else:
                directions = self.directions_cache.find(
                    str(recorded.get("fitted_on_sha256") or source.sha256), recorded["basis_id"])
        note = ""
        if directions is not None and directions.nz == source.nz:
            state.set_directions(directions)
            values = np.asarray(recorded.get("values", []), dtype=np.float32)
            if values.shape == state.direction_values.shape:
                state.direction_values = values.copy()
        elif recorded.get("basis_id"):
            state.direction_values[:] = 0.0
            note = " (its directions are not fitted here; the latent is exact)"
        if base is not None and len(base) == source.nz:
            state.latent = np.asarray(base, dtype=np.float32).copy()
        state.truncation = psi
        if not np.array_equal(state.shown(), latent):
            # The recorded composition does not give the recorded latent here: show the latent.
            state.latent = latent.copy()
            state.truncation = 1.0
            state.direction_values[:] = 0.0
        with signals_blocked(self.truncation_slider):
            self.truncation_slider.setValue(int(round(state.truncation * 100)))
        self.truncation_value.setText(f"{state.truncation:.2f}")
        self.sliders.set_values(state.latent)
        self.sliders.set_locked(state.locked_dims)
        self._show_directions()
        if state.directions is not None and np.any(state.direction_values != 0):
            self.set_mode(DIRECTIONS)
        self._request()
        self.status_message.emit(f"Restored {path.name}: seed {seed:,}, truncation "
                                 f"{state.truncation:g}{note}")
        self.state_restored.emit(str(path))

    # ----- interpolation and walks --------------------------------------------------------------
    def set_endpoint(self, end: str, *, seed: int | None = None, current: bool = False,
                     latent: np.ndarray | None = None, png: str | Path | None = None,
                     text: str = "") -> None:
        """End ``A`` or ``B`` of the interpolation: a seed, the current latent, a latent, or the
        latent recorded in a GAN Studio PNG."""
        slot = self.path.end_a if end == "A" else self.path.end_b
        if seed is not None:
            self._ends[end] = ("seed", int(seed))
            slot.show_seed(int(seed), f"seed {int(seed):,}")
        elif current:
            self._ends[end] = ("latent", self.state.shown().copy(), "the current latent")
            slot.text.setText(f"current (seed {self.state.seed:,}"
                              + (", edited)" if self.state.edited else ")"))
        elif png is not None:
            meta = read_png_metadata(Path(png))
            values = meta.get("latent")
            if not isinstance(values, list) or len(values) != self.state.nz:
                self.status_message.emit(f"{Path(png).name}: no {self.state.nz}-value latent "
                                         "recorded in this image")
                return
            self._ends[end] = ("latent", np.asarray(values, np.float32), f"image {Path(png).name}")
            slot.text.setText(Path(png).name)
        elif latent is not None:
            self._ends[end] = ("latent", np.asarray(latent, np.float32).copy(), text or "latent")
            slot.text.setText(text or "latent")
        self._on_path_change()

    def path_latents(self) -> np.ndarray | None:
        """The latents of the path as set up in the animation section (None without one)."""
        if self._path_cache is not None:
            return self._path_cache
        state = self.state
        if state.source is None:
            return None
        frames = self.path.frames
        if self.path.kind == INTERPOLATE:
            ends = [self._endpoint_latent(self._ends[e]) for e in ("A", "B")]
            if any(e.shape != (state.nz,) for e in ends):
                return None
            latents = interpolate(ends[0], ends[1], frames, self.path.method)
        else:
            k = self.path.walk_direction
            if state.directions is None or k < 0:
                return None
            latents = walk_latents(state.latent, state.truncation, state.directions,
                                   state.direction_values, k, frames,
                                   self.path.extent_spin.value())
        self._path_cache = latents
        return latents

    def _endpoint_latent(self, end: tuple) -> np.ndarray:
        if end[0] == "seed":
            base = latent_batch(self.state.nz, [end[1]], self.state.distribution)[0].numpy()
            return compose_latent(base, self.state.truncation)
        return end[1]

    def _describe_end(self, end: tuple) -> dict[str, Any]:
        if end[0] == "seed":
            return {"seed": end[1], "truncation": self.state.truncation}
        return {"latent": [float(v) for v in end[1]], "from": end[2]}

    def play(self, playing: bool = True) -> None:
        self.path.play_button.setChecked(playing)

    @property
    def playing(self) -> bool:
        return self._play_timer.isActive()

    def _on_play_toggled(self, playing: bool) -> None:
        if playing and self.path_latents() is not None:
            self._play_timer.start(max(15, int(1000 / self.path.fps_spin.value())))
            self._show_path_frame(self.path.position)
        else:
            self._play_timer.stop()
            if playing:
                with signals_blocked(self.path.play_button):
                    self.path.play_button.setChecked(False)
                self.status_message.emit("Nothing to play: fit directions to walk along one")

    def _stop_playing(self) -> None:
        if self._play_timer.isActive():
            self._play_timer.stop()
            with signals_blocked(self.path.play_button):
                self.path.play_button.setChecked(False)
            self.path.play_button.setIcon(latent_icon("play"))

    def _advance_playback(self) -> None:
        latents = self.path_latents()
        if latents is None or self.state.source is None:
            self._stop_playing()
            return
        self.path.set_position((self.path.position + 1) % len(latents))

    def _show_path_frame(self, index: int) -> None:
        latents = self.path_latents()
        if latents is None or self.state.source is None or self._shut_down:
            return
        index = min(max(index, 0), len(latents) - 1)
        request_id = self.renderer.request(latents[index], self.state.label, None,
                                           tag=self.state.seed)
        self.last_request_id = request_id
        self._path_request_ids = {request_id}

    def _on_path_change(self) -> None:
        self._path_cache = None
        if self.section_stack.currentWidget() is self.path and self.state.source is not None:
            self._show_path_frame(self.path.position)

    def open_animation_dialog(self) -> AnimationExportDialog | None:
        source = self.state.source
        if source is None or is_points(source) or self.path_latents() is None:
            if source is not None and self.path_latents() is None:
                self.status_message.emit("Nothing to export: fit directions to walk along one")
            return None
        native = max(source.spec.out_shape[1:])
        folder = self.settings.folder(LAST_EXPORT_FOLDER, self._default_folder(source))
        dialog = AnimationExportDialog(
            folder / self._animation_name(source), what=self._path_title(), native_size=native,
            size=native * int(self.settings.value(EXPORT_SCALE, 4, int)),
            frames=self.path.frames, fps=self.path.fps_spin.value(), parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_animation_accepted(dialog))
        dialog.open()
        return dialog

    def export_animation_to(self, path: Path | str, *, size: int | None = None,
                            fps: float | None = None, frames: int | None = None,
                            smooth: bool = False) -> None:
        """Render the path and write it (GIF, MP4 or PNG frame folder) in the background,
        with a progress bar and Cancel in the animation section."""
        source = self.state.source
        if source is None or is_points(source):
            raise RuntimeError("animations need an image generator")
        if frames is not None and frames != self.path.frames:
            self.path.frames_spin.setValue(frames)
        latents = self.path_latents()
        if latents is None:
            raise RuntimeError("there is no path: fit directions to walk along one")
        path = Path(path)
        size = size or max(source.spec.out_shape[1:])
        fps = float(fps or self.path.fps_spin.value())
        label = self.state.label
        provenance = self._animation_provenance(source, len(latents))

        def work(stop, progress) -> Path | None:
            return export_animation(path, source, latents, provenance=provenance, size=size,
                                    fps=fps, smooth=smooth, label=label, progress=progress,
                                    should_stop=stop)
        job = self._start_export(work, "animation")
        if job is not None:
            self._animation_job = job
            job.progress.connect(lambda done, total: self.path.show_progress((done, total)))
            self.path.show_progress((0, len(latents)))
            self.status_message.emit(f"Rendering {len(latents)} frames to {path.name}…")

    def cancel_animation_export(self) -> None:
        job, self._animation_job = self._animation_job, None
        if job is None:
            return
        job.stop()
        self._forget(job)
        self.path.show_progress(None)
        self._update_export_buttons()
        self.status_message.emit("Animation export cancelled; nothing was written")
        self.animation_cancelled.emit()

    def _animation_provenance(self, source: GeneratorSource, frames: int) -> dict[str, Any]:
        state = self.state
        if self.path.kind == INTERPOLATE:
            return animation_provenance(source, path_kind="interpolation", frames=frames,
                                        label=state.label, method=self.path.method,
                                        a=self._describe_end(self._ends["A"]),
                                        b=self._describe_end(self._ends["B"]))
        directions = state.directions
        assert directions is not None
        return animation_provenance(
            source, path_kind="walk", frames=frames, label=state.label, seed=state.seed,
            direction=self.path.walk_direction + 1, extent=self.path.extent_spin.value(),
            **self.current_view())

    def _path_title(self) -> str:
        return "interpolation" if self.path.kind == INTERPOLATE else \
            f"walk along PC{self.path.walk_direction + 1}"

    def _animation_name(self, source: GeneratorSource) -> str:
        stem = self._suggested_name(PREVIEW, source, 0).split("-seed")[0]
        if self.path.kind == INTERPOLATE:
            ends = ["seed" + str(e[1]) if e[0] == "seed" else "latent"
                    for e in (self._ends["A"], self._ends["B"])]
            return f"{stem}-{ends[0]}-to-{ends[1]}.gif"
        return f"{stem}-seed{self.state.seed}-walk-pc{self.path.walk_direction + 1}.gif"

    def _on_animation_accepted(self, dialog: AnimationExportDialog) -> None:
        choice = dialog.choice
        self.settings.set_folder(LAST_EXPORT_FOLDER, choice.path.parent)
        if choice.frames != self.path.frames:
            self.path.frames_spin.setValue(choice.frames)
        self.export_animation_to(choice.path, size=choice.size, fps=choice.fps,
                                 smooth=choice.smooth)

    def _choose_model_export(self) -> None:
        source = self.state.source
        if source is None:
            return
        folder = self.settings.folder(LAST_EXPORT_FOLDER, self._default_folder(source))
        name = self._suggested_name(PREVIEW, source, 0).split("-seed")[0] + ".pt2"
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Export generator", str(folder / name),
            "torch.export archive (*.pt2);;ONNX model (*.onnx)")
        if chosen:
            self.export_model_to(chosen)

    # ----- slots --------------------------------------------------------------------------------
    def _on_dimension_change(self, index: int, value: float) -> None:
        if self.state.source is None:
            return
        self.state.set_dimension(index, value)
        self._request()

    def _on_direction_change(self, index: int, value: float) -> None:
        if self.state.source is None or index >= len(self.state.direction_values):
            return
        self.state.set_direction_value(index, value)
        self._request()

    def _on_strip_chosen(self, direction: int, position: int) -> None:
        if direction < len(self.state.direction_values):
            self.state.set_direction_value(direction, STRIP_VALUES[position])
            self.direction_sliders.set_value(direction, STRIP_VALUES[position])
            self._request()

    def _on_dimension_lock(self, index: int, locked: bool) -> None:
        (self.state.locked_dims.add if locked else self.state.locked_dims.discard)(index)

    def _on_direction_lock(self, index: int, locked: bool) -> None:
        (self.state.locked_directions.add if locked else
         self.state.locked_directions.discard)(index)

    def _on_truncation_change(self, position: int) -> None:
        self.state.truncation = position / 100.0
        self.truncation_value.setText(f"{self.state.truncation:.2f}")
        self._path_cache = None
        if self.state.source is not None:
            self._request()

    def _on_mode_change(self, _index: int) -> None:
        self.state.mode = str(self.mode_combo.currentData())
        self._show_mode()
        if self.state.mode == DIRECTIONS and self.state.directions is None \
                and self.state.source is not None and self._fit_task is None:
            self.fit_directions()
        self._request()

    def _show_mode(self) -> None:
        directions = self.state.mode == DIRECTIONS
        self.slider_stack.setCurrentWidget(self.direction_sliders if directions else self.sliders)
        self.directions_bar.setVisible(directions)
        self.directions_info.setVisible(directions)
        self.sliders_title.setVisible(not directions)

    def _on_section_change(self, variations: bool) -> None:
        self.section_stack.setCurrentIndex(0 if variations else 1)
        self.grid_combo.setVisible(variations)
        self.spread_spin.setVisible(variations)
        if variations:
            self._stop_playing()
            self._request()
        else:
            self._on_path_change()

    def _on_follow_toggled(self, follow: bool) -> None:
        if follow and self._live_source is not None and \
                self._live_source is not self.state.source:
            self.set_source(self._live_source, live=True)
        self._update_follow_text()

    def _update_follow_text(self) -> None:
        live, shown = self._live_source, self.state.source
        if live is not None and not self.follow_check.isChecked() and shown is not live:
            self.follow_check.setText(f"Follow training (at step {live.step:,})")
        else:
            self.follow_check.setText("Follow training")

    def _on_seed_change(self, seed: int) -> None:
        self.state.set_seed(seed)   # without a generator yet, remembered for the first one
        if self.state.source is None:
            return
        self.sliders.set_values(self.state.latent)
        self.direction_sliders.set_values(self.state.direction_values)
        self._path_cache = None
        self._request()

    def _on_class_change(self, index: int) -> None:
        if self.state.source is None or not self.state.source.spec.num_classes or index < 0:
            return
        self.state.label = index
        self._request()

    def _on_grid_change(self, _index: int) -> None:
        self.state.grid = int(self.grid_combo.currentData())
        self.neighbours.set_size(self.state.grid)
        self._tile_latents.clear()
        self.points.clear_neighbours()
        self._request()

    def _on_spread_change(self, value: float) -> None:
        self.state.spread = float(value)
        self._request()

    def _on_neighbour_chosen(self, index: int) -> None:
        latent = self._tile_latents.get(index)
        if latent is None or self.state.source is None or latent.shape != (self.state.nz,):
            return
        self.state.set_latent(latent)
        self.sliders.set_values(self.state.latent)
        self._request()

    def _on_preview_ready(self, frame: PreviewFrame) -> None:
        # Frames of the previous snapshot keep coming while the next one is being built; a
        # different kind of generator's are stale.
        if self.state.source is None or frame.source.spec != self.state.source.spec:
            return
        self._frame = frame
        if frame.qimage is not None:
            if self.view_stack.currentWidget() is not self.preview:
                self.view_stack.setCurrentWidget(self.preview)
            self.preview.show_frame(frame.request_id, frame.qimage)
        elif frame.point is not None:
            self.points.set_current(frame.request_id, frame.point)
        if not self.export_preview_button.isEnabled():
            self._update_export_buttons()
        if not self._info_timer.isActive():
            self._info_timer.start()

    def _on_neighbour_ready(self, tile: NeighbourTile) -> None:
        if tile.source is not self.state.source:
            return
        bases = self._neighbour_bases
        if bases is None or bases[0] != tile.request_id or tile.index >= len(bases[1]):
            return      # a tile of an older request: a newer one is on its way
        self._tile_latents[tile.index] = bases[1][tile.index]
        if tile.qimage is not None:
            self.neighbours.set_tile(tile.index, tile.qimage)
        elif tile.point is not None:
            self.points.set_neighbour(tile.index, tile.point, self.state.grid ** 2)

    def _on_strip_ready(self, tile: StripTile) -> None:
        if tile.source is not self.state.source or tile.qimage is None:
            return
        self.direction_sliders.set_strip_tile(tile.direction, tile.position, tile.qimage)

    def _on_cloud_ready(self, cloud: PointCloud) -> None:
        if cloud.source is not self.state.source:
            return
        current = self.points.current
        self.points.set_cloud(cloud.points, points_bounds(cloud.points, current))

    def _on_export_accepted(self, kind: str, dialog: LatentExportDialog) -> None:
        choice = dialog.choice
        self.settings.set_folder(LAST_EXPORT_FOLDER, choice.path.parent)
        self.settings.set(EXPORT_SCALE, choice.scale)
        self.settings.set(EXPORT_SMOOTH, choice.smooth)
        if kind == GRID:
            self.settings.set(LATENT_GRID_SIZE, choice.grid)
            self.export_grid_to(choice.path, choice.grid, choice.scale, choice.smooth)
        else:
            self.export_preview_to(choice.path, choice.scale, choice.smooth)

    def _on_export_finished(self, job: _ExportJob, path: str) -> None:
        self._forget(job)
        self.status_message.emit(f"Exported the {job.what} to {path}")
        if job is self._animation_job:
            self._animation_job = None
            self.path.show_progress(None)
            self._update_export_buttons()
            self.animation_exported.emit(path)
        self.image_exported.emit(path)

    def _on_export_failed(self, job: _ExportJob, message: str) -> None:
        self._forget(job)
        if job is self._animation_job:
            self._animation_job = None
            self.path.show_progress(None)
            self._update_export_buttons()
        self.status_message.emit(message)

    # ----- keyboard and drops -------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Keys no child took (sliders and boxes use the arrows themselves): browse seeds.
        if self.state.source is not None and event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.step_seed(1 if event.key() == Qt.Key.Key_Right else -1)
            event.accept()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_png(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()       # the window takes other files and folders

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_png(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.restore_png(path)

    # ----- helpers ------------------------------------------------------------------------------
    def _request(self) -> None:
        state = self.state
        if state.source is None or self._shut_down:
            return
        self._stop_playing()
        bases = state.neighbour_latents()
        strips = state.strip_latents() if state.mode == DIRECTIONS \
            and not is_points(state.source) else None
        self.last_request_id = self.renderer.request(state.shown(), state.label,
                                                     state.compose(bases), tag=state.seed,
                                                     strips=strips)
        self._neighbour_bases = (self.last_request_id, bases)
        self._last_view = (self.last_request_id, self.current_view())
        if state.mode == DIRECTIONS or self.path.kind != INTERPOLATE:
            self._path_cache = None

    def _configure_for(self, source: GeneratorSource) -> None:
        """A different kind of generator: new sliders, classes, view, directions and ends."""
        self.sliders.rebuild(source.nz, self.state.limit)
        self.sliders.set_values(self.state.latent)
        self.sliders.set_locked(set())
        self.sliders_title.setText(f"Latent vector ({source.nz} dimensions, "
                                   f"{source.latent_distribution})")
        with signals_blocked(self.seed_spin):
            self.seed_spin.setValue(self.state.seed)
        self._fill_classes(source)
        self._tile_latents.clear()
        self.neighbours.clear()
        self.points.clear()
        points = is_points(source)
        self.neighbours.setVisible(not points)
        self.animation_button.setEnabled(not points)
        if points:
            self.variations_button.setChecked(True)
        self.view_stack.setCurrentWidget(self.points if points else self.preview)
        self.cancel_fit()
        self.directions_info.setText("")
        self.set_endpoint("A", seed=self.state.seed)
        self.set_endpoint("B", seed=(self.state.seed + 1) % (SEED_MAX + 1))
        if self.state.mode == DIRECTIONS:
            QTimer.singleShot(0, lambda: self.state.directions is None and
                              self.state.source is source and self.fit_directions())

    @staticmethod
    def _class_items(source: GeneratorSource) -> tuple[str, ...]:
        names = source.class_names
        return tuple(names[i] if i < len(names) else f"class {i}"
                     for i in range(source.spec.num_classes))

    def _fill_classes(self, source: GeneratorSource) -> None:
        items = self._class_items(source)
        with signals_blocked(self.class_combo):
            self.class_combo.clear()
            self.class_combo.addItems(list(items))
            if items:
                self.class_combo.setCurrentIndex(self.state.label or 0)
        self.class_label.setVisible(bool(items))
        self.class_combo.setVisible(bool(items))

    def _show_source_title(self, source: GeneratorSource) -> None:
        meta = source.metadata
        name = Path(meta["run"]).name if meta.get("run") else Path(source.label).name
        title = f"{name} · step {source.step:,}" + (" · EMA" if meta.get("ema") else "")
        kind = meta.get("format") if source.is_program or meta.get("format") else None
        where = [source.label,
                 f"Run: {meta['run']}" if meta.get("run") else "",
                 f"File: {meta['source']}" if meta.get("source") else "",
                 f"Format: {kind}" if kind else "",
                 f"{source.spec.architecture}, {source.nz}-d {source.latent_distribution} "
                 f"latent, output {'×'.join(map(str, source.spec.out_shape))}"
                 + (f", values {meta['output_range']} ({meta.get('output_range_note', '')})"
                    if meta.get("output_range") else ""),
                 str(meta.get("trust", ""))]
        self.header.set_source_text(title, "\n".join(w for w in where if w))

    def _update_info(self) -> None:
        frame = self._frame
        if frame is None:
            return
        if frame.request_id in self._path_request_ids:
            parts = [f"frame {self.path.position + 1}/{self.path.frames}"]
        else:
            parts = [f"seed {int(frame.tag or 0):,}"]
            if self.state.edited:
                parts.append("edited")
            if self.state.truncation != 1.0:
                parts.append(f"ψ {self.state.truncation:.2f}")
        if frame.image is not None:
            parts.append(f"{frame.image.shape[1]}×{frame.image.shape[0]}")
        parts.append(f"{frame.render_ms:.1f} ms")
        self.header.info.setText(" · ".join(parts))

    def _default_folder(self, source: GeneratorSource) -> Path:
        run = source.metadata.get("run")
        return Path(run) if run and Path(run).is_dir() else Path.home()

    def _suggested_name(self, kind: str, source: GeneratorSource, grid: int) -> str:
        run = source.metadata.get("run")
        stem = Path(run).name if run else Path(source.label).stem
        stem = re.sub(r"[^\w.-]+", "-", stem).strip("-") or "generator"
        base = f"{stem}-step{source.step}"
        if kind == GRID:
            return f"{base}-grid-seed{self.state.seed}.png"
        return f"{base}-seed{self.state.seed}{'-edited' if self.state.edited else ''}.png"

    def _start_export(self, work: ExportWork, what: str) -> _ExportJob | None:
        if self._shut_down:
            return None
        job = _ExportJob(work, what)
        job.finished.connect(lambda path, job=job: self._on_export_finished(job, path))
        job.failed.connect(lambda message, job=job: self._on_export_failed(job, message))
        job.progress.connect(self._on_export_progress)
        self._exports.append(job)
        job.start()
        return job

    def _on_export_progress(self, done: int, total: int) -> None:
        if self._animation_job is not None:
            return
        if total >= 16 and (done == total or done % max(1, total // 4) == 0):
            self.status_message.emit(f"Rendering the grid: {done}/{total} images")

    def _forget(self, job: _ExportJob) -> None:
        if job in self._exports:
            self._exports.remove(job)

    def _forget_task(self, task: _Task) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.parent() is None:   # standalone: closing the panel ends it
            self.shutdown()
        super().closeEvent(event)


def main(argv: list[str] | None = None) -> int:
    """``python -m ganstudio.app.latent.panel [PATH]``: the panel in a window of its own."""
    parser = argparse.ArgumentParser(prog="python -m ganstudio.app.latent.panel",
                                     description="Explore a generator's latent space.")
    parser.add_argument("path", nargs="?", help="a run folder, checkpoint (.pt) or generator "
                                                "export (.safetensors)")
    parser.add_argument("--seed", type=int, default=0, help="the seed to start from")
    parser.add_argument("--theme", choices=("system", "light", "dark"), default="system")
    args, qt_args = parser.parse_known_args(argv)   # the rest (-qwindowgeometry...) is Qt's
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from ganstudio.app.resources import app_icon
    from ganstudio.app.theme import ThemeManager

    app = QApplication.instance() or QApplication(sys.argv[:1] + qt_args)
    from ganstudio.app import gc_guard

    gc_guard.install(app)   # Qt objects are never collected on a worker thread
    ThemeManager(app, args.theme)
    app.setWindowIcon(app_icon())
    panel = LatentPanel()
    panel.setWindowTitle("GAN Studio — latent explorer")
    panel.resize(1120, 720)
    panel.status_message.connect(lambda text: log.info("%s", text))
    app.aboutToQuit.connect(panel.shutdown)
    panel.set_seed(args.seed)
    if args.path:
        panel.set_source(GeneratorSource.open(args.path))
    panel.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
