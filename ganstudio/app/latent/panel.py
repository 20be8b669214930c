"""The latent explorer: a generator's output for a latent vector you steer by hand.

Contract with the main window: :class:`LatentPanel` (objectName ``latentPanel``) takes
:meth:`LatentPanel.set_source` with every training snapshot (cheap: the module is rebuilt on a
background thread) or an opened run/checkpoint/export, stops its threads in
:meth:`LatentPanel.shutdown`, and reports through ``image_exported(path)`` and
``status_message(text)``. It works in a dock and on its own::

    python -m ganstudio.app.latent.panel RUN_FOLDER_OR_CHECKPOINT_OR_EXPORT
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from ganstudio.app.latent.export_dialog import GRID, PREVIEW, LatentExportDialog
from ganstudio.app.latent.icons import latent_icon
from ganstudio.app.latent.renderer import (
    LatentRenderer,
    NeighbourTile,
    PointCloud,
    PreviewFrame,
    start_worker_thread,
)
from ganstudio.app.latent.state import NEIGHBOUR_GRIDS, SEED_MAX, LatentState
from ganstudio.app.latent.widgets import (
    LatentSliders,
    NeighbourGrid,
    PointsPreview,
    PreviewView,
    SourceHeader,
)
from ganstudio.app.settings import EXPORT_SCALE, EXPORT_SMOOTH, LAST_EXPORT_FOLDER, Settings
from ganstudio.engine.sampling import GeneratorSource
from ganstudio.export.images import (
    POINTS_IMAGE_SIZE,
    export_grid,
    export_points_preview,
    export_preview,
    is_points,
    points_bounds,
    preview_provenance,
)

log = logging.getLogger(__name__)

LATENT_GRID_SIZE = "export/latent_grid_size"   # QSettings key: N of the last grid export
NO_SOURCE_TEXT = ("No generator yet.\nStart training, or open a run folder, a checkpoint (.pt) "
                  "or a generator export (.safetensors).")


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


class LatentPanel(QWidget):
    """Preview, seed, per-dimension sliders, variations and exports for one generator."""

    image_exported = Signal(str)
    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("latentPanel")
        self.setAccessibleName("Latent explorer")
        self.state = LatentState()
        self.settings = Settings()
        self.last_request_id = 0
        self._frame: PreviewFrame | None = None
        self._tile_latents: dict[int, np.ndarray] = {}
        self._exports: list[_ExportJob] = []
        self._shut_down = False

        self.renderer = LatentRenderer()
        self.renderer.preview_ready.connect(self._on_preview_ready)
        self.renderer.neighbour_ready.connect(self._on_neighbour_ready)
        self.renderer.cloud_ready.connect(self._on_cloud_ready)
        self.renderer.failed.connect(self.status_message)

        self._build_ui()
        # The details line is redrawn at most ten times a second, not on every frame.
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.setInterval(100)
        self._info_timer.timeout.connect(self._update_info)
        self._set_controls_enabled(False)

    # ----- layout -------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        self.header = SourceHeader()
        outer.addWidget(self.header)

        # Starts stacked (the narrower minimum, right for a dock); resizeEvent turns it.
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("latentSplitter")
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter, 1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        self.preview = PreviewView(NO_SOURCE_TEXT)
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
                                  "start from (and reset to) its values")
        self.seed_spin.setRange(0, SEED_MAX)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.valueChanged.connect(self._on_seed_change)
        seed_label.setBuddy(self.seed_spin)
        self.randomise_button = QToolButton()
        self.randomise_button.setObjectName("latentRandomise")
        self.randomise_button.setAccessibleName("Random seed")
        self.randomise_button.setToolTip("Jump to a random seed")
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

        variations_row = QHBoxLayout()
        variations_title = QLabel("Variations")
        variations_title.setToolTip("Nearby latents: the current one moved a little along "
                                    "fixed random directions")
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
        variations_row.addWidget(variations_title)
        variations_row.addStretch(1)
        variations_row.addWidget(self.grid_combo)
        variations_row.addWidget(self.spread_spin)
        left_layout.addLayout(variations_row)
        self.neighbours = NeighbourGrid()
        self.neighbours.chosen.connect(self._on_neighbour_chosen)
        left_layout.addWidget(self.neighbours, 0, Qt.AlignmentFlag.AlignHCenter)

        export_row = QHBoxLayout()
        self.export_preview_button = QPushButton("Export image…")
        self.export_preview_button.setObjectName("latentExportPreview")
        self.export_preview_button.setAccessibleName("Export preview")
        self.export_preview_button.setToolTip("Save the preview as a PNG (1×–8×) that records "
                                              "its run, step, seed and latent vector")
        self.export_preview_button.setIcon(latent_icon("export"))
        self.export_preview_button.clicked.connect(lambda: self.open_export_dialog(PREVIEW))
        self.export_grid_button = QPushButton("Export grid…")
        self.export_grid_button.setObjectName("latentExportGrid")
        self.export_grid_button.setAccessibleName("Export grid of seeds")
        self.export_grid_button.setToolTip("Save an N×N grid of seeds, starting at this seed, "
                                           "as a PNG")
        self.export_grid_button.setIcon(latent_icon("gallery"))
        self.export_grid_button.clicked.connect(lambda: self.open_export_dialog(GRID))
        export_row.addWidget(self.export_preview_button)
        export_row.addWidget(self.export_grid_button)
        left_layout.addLayout(export_row)
        self.splitter.addWidget(left)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        sliders_row = QHBoxLayout()
        self.sliders_title = QLabel("Latent vector")
        self.sliders_title.setObjectName("latentSlidersTitle")
        self.reset_all_button = QToolButton()
        self.reset_all_button.setObjectName("latentResetAll")
        self.reset_all_button.setAccessibleName("Reset all latent dimensions")
        self.reset_all_button.setToolTip("Put every dimension back to the seed's values")
        self.reset_all_button.setText("Reset all")
        self.reset_all_button.setIcon(latent_icon("reset"))
        self.reset_all_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reset_all_button.clicked.connect(self.reset_all)
        sliders_row.addWidget(self.sliders_title, 1)
        sliders_row.addWidget(self.reset_all_button)
        right_layout.addLayout(sliders_row)
        self.sliders = LatentSliders()
        self.sliders.value_changed.connect(self._on_dimension_change)
        self.sliders.reset_requested.connect(self.reset_dimension)
        right_layout.addWidget(self.sliders, 1)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

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
                       self.spread_spin, self.reset_all_button, self.sliders):
            widget.setEnabled(enabled)
        self._update_export_buttons()

    def _update_export_buttons(self) -> None:
        has_frame = self._frame is not None and self.state.source is not None
        self.export_preview_button.setEnabled(has_frame)
        images = self.state.source is not None and not is_points(self.state.source)
        self.export_grid_button.setEnabled(images)
        self.export_grid_button.setToolTip(
            "Save an N×N grid of seeds, starting at this seed, as a PNG" if images or
            self.state.source is None else "Grids are for image generators; this one makes "
                                           "2-D points")

    # ----- the contract -------------------------------------------------------------------------
    def set_source(self, source: GeneratorSource | None) -> None:
        """Show ``source`` (None: nothing). A new snapshot of the same generator keeps the
        seed, latent and class and re-renders; the module is rebuilt off the GUI thread."""
        if self._shut_down:
            return
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
            self._set_controls_enabled(False)
            return
        if not kept:
            self._configure_for(source)
        elif tuple(self.class_combo.itemText(i) for i in range(self.class_combo.count())) \
                != self._class_items(source):
            self._fill_classes(source)
        self._show_source_title(source)
        self._set_controls_enabled(True)
        self._request()

    def shutdown(self) -> None:
        """Stop rendering and exporting; returns within about a second."""
        if self._shut_down:
            return
        self._shut_down = True
        deadline = time.monotonic() + 0.9
        for job in self._exports:
            job.stop()
        self.renderer.shutdown(timeout=0.6)
        for job in self._exports:
            job.join(max(0.0, deadline - time.monotonic()))

    # ----- actions (also used by tests and the window's menus) ----------------------------------
    def set_seed(self, seed: int) -> None:
        """Show ``seed``'s latent (kept for the next generator when there is none yet)."""
        self.seed_spin.setValue(seed)

    def randomise_seed(self) -> None:
        self.set_seed(random.randrange(SEED_MAX + 1))

    def reset_all(self) -> None:
        self.state.reset_all()
        self.sliders.set_values(self.state.latent)
        self._request()

    def reset_dimension(self, index: int) -> None:
        self.state.reset_dimension(index)
        self.sliders.set_value(index, float(self.state.latent[index]))
        self._request()

    @property
    def preview_is_current(self) -> bool:
        """Whether the preview shows the newest request, rendered by the newest generator."""
        frame = self._frame
        return (frame is not None and frame.request_id == self.last_request_id
                and frame.source is self.state.source)

    @property
    def current_frame(self) -> PreviewFrame | None:
        return self._frame

    def export_preview_to(self, path: Path | str, scale: int = 1, smooth: bool = False) -> None:
        """Write the preview on screen (exactly those pixels) to ``path``, in the background."""
        frame = self._frame
        if frame is None:
            raise RuntimeError("there is no preview to export yet")
        path = Path(path)
        provenance = preview_provenance(frame.source, seed=int(frame.tag or 0),
                                        latent=frame.latent, label=frame.label)
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

    # ----- slots --------------------------------------------------------------------------------
    def _on_dimension_change(self, index: int, value: float) -> None:
        if self.state.source is None:
            return
        self.state.set_dimension(index, value)
        self._request()

    def _on_seed_change(self, seed: int) -> None:
        self.state.set_seed(seed)   # without a generator yet, remembered for the first one
        if self.state.source is None:
            return
        self.sliders.set_values(self.state.latent)
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
        self._tile_latents[tile.index] = tile.latent
        if tile.qimage is not None:
            self.neighbours.set_tile(tile.index, tile.qimage)
        elif tile.point is not None:
            self.points.set_neighbour(tile.index, tile.point, self.state.grid ** 2)

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
        self.image_exported.emit(path)

    def _on_export_failed(self, job: _ExportJob, message: str) -> None:
        self._forget(job)
        self.status_message.emit(message)

    # ----- helpers ------------------------------------------------------------------------------
    def _request(self) -> None:
        state = self.state
        if state.source is None or self._shut_down:
            return
        self.last_request_id = self.renderer.request(state.latent, state.label,
                                                     state.neighbour_latents(), tag=state.seed)

    def _configure_for(self, source: GeneratorSource) -> None:
        """A different kind of generator: new sliders, classes and view."""
        self.sliders.rebuild(source.nz, self.state.limit)
        self.sliders.set_values(self.state.latent)
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
        self.view_stack.setCurrentWidget(self.points if points else self.preview)

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
        where = [source.label,
                 f"Run: {meta['run']}" if meta.get("run") else "",
                 f"File: {meta['source']}" if meta.get("source") else "",
                 f"{source.spec.architecture}, {source.nz}-d {source.latent_distribution} "
                 f"latent, output {'×'.join(map(str, source.spec.out_shape))}"]
        self.header.set_source_text(title, "\n".join(w for w in where if w))

    def _update_info(self) -> None:
        frame = self._frame
        if frame is None:
            return
        parts = [f"seed {int(frame.tag or 0):,}"]
        if self.state.edited:
            parts.append("edited")
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

    def _start_export(self, work: ExportWork, what: str) -> None:
        if self._shut_down:
            return
        job = _ExportJob(work, what)
        job.finished.connect(lambda path, job=job: self._on_export_finished(job, path))
        job.failed.connect(lambda message, job=job: self._on_export_failed(job, message))
        job.progress.connect(self._on_export_progress)
        self._exports.append(job)
        job.start()

    def _on_export_progress(self, done: int, total: int) -> None:
        if total >= 16 and (done == total or done % max(1, total // 4) == 0):
            self.status_message.emit(f"Rendering the grid: {done}/{total} images")

    def _forget(self, job: _ExportJob) -> None:
        if job in self._exports:
            self._exports.remove(job)

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
