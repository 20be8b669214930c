"""The sample gallery: every fixed-noise grid of the run, a timeline, a filmstrip, a real batch.

Snapshots stay on disk (``samples/step-*.png``); the gallery keeps only their steps and paths,
plus two small LRU caches of decoded images (full size and thumbnails). PNGs are decoded on a
background thread into ``QImage``; the GUI thread only paints. However long the run, memory
stays bounded and scrubbing stays responsive.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QSlider,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio.app.images import ImageView, qimage_from_array
from ganstudio.app.resources import icon
from ganstudio.app.tasks import TaskHandle, TaskRunner

FULL_CACHE_SIZE = 24          # decoded grids kept (each ~0.3 MB at 8x8 of 32 px)
THUMB_CACHE_SIZE = 400        # thumbnails kept (~16 KB each)
THUMB_SIZE = 72


class LRUCache:
    """A tiny least-recently-used map with a fixed number of entries."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> Any:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def discard(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items


def decode_image(path: str) -> QImage:
    image = QImage(path)
    if image.isNull():
        raise OSError(f"{path}: not a readable image")
    return image


def decode_thumbnail(path: str, size: int = THUMB_SIZE) -> QImage:
    image = decode_image(path)
    mode = Qt.TransformationMode.SmoothTransformation
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode)


class SnapshotModel(QAbstractListModel):
    """Rows are snapshots (step, path); thumbnails are decoded lazily, off the GUI thread."""

    StepRole = Qt.ItemDataRole.UserRole + 1
    PathRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, decoder: TaskRunner, parent: Any = None):
        super().__init__(parent)
        self.steps: list[int] = []
        self.paths: list[Path] = []
        self._thumbs = LRUCache(THUMB_CACHE_SIZE)
        self._requested: set[str] = set()
        self._decoder = decoder
        self._placeholder = QImage(THUMB_SIZE, THUMB_SIZE, QImage.Format.Format_ARGB32)
        self._placeholder.fill(Qt.GlobalColor.transparent)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.steps)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or index.row() >= len(self.steps):
            return None
        row = index.row()
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{self.steps[row]:,}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Step {self.steps[row]:,}\n{self.paths[row]}"
        if role == Qt.ItemDataRole.DecorationRole:
            key = str(self.paths[row])
            thumb = self._thumbs.get(key)
            if thumb is None:
                self._request_thumbnail(key)
                # A blank of the thumbnail's size until it is decoded: the filmstrip sizes its
                # (uniform) items from the first one, which must not be icon-less.
                return self._placeholder
            return thumb
        if role == self.StepRole:
            return self.steps[row]
        if role == self.PathRole:
            return str(self.paths[row])
        return None

    def _request_thumbnail(self, key: str) -> None:
        if key in self._requested:
            return
        self._requested.add(key)
        self._decoder.submit(decode_thumbnail, key,
                             on_done=lambda image, k=key: self._thumbnail_ready(k, image),
                             on_error=lambda _m, _d, k=key: self._requested.discard(k))

    def _thumbnail_ready(self, key: str, image: QImage) -> None:
        self._requested.discard(key)
        self._thumbs.put(key, image)
        for row in range(len(self.paths) - 1, -1, -1):
            if str(self.paths[row]) == key:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
                break

    def put_thumbnail(self, path: Path, image: QImage) -> None:
        self._thumbs.put(str(path), image.scaled(THUMB_SIZE, THUMB_SIZE,
                                                 Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))

    def add(self, step: int, path: Path) -> int:
        """Insert or replace the snapshot of ``step``; returns its row."""
        row = bisect.bisect_left(self.steps, step)
        if row < len(self.steps) and self.steps[row] == step:
            self.paths[row] = path
            self._thumbs.discard(str(path))
            index = self.index(row)
            self.dataChanged.emit(index, index)
            return row
        self.beginInsertRows(QModelIndex(), row, row)
        self.steps.insert(row, step)
        self.paths.insert(row, path)
        self.endInsertRows()
        return row

    def reset(self, snapshots: list[tuple[int, Path]]) -> None:
        self.beginResetModel()
        ordered = sorted(snapshots)
        self.steps = [s for s, _ in ordered]
        self.paths = [p for _, p in ordered]
        self._thumbs.clear()
        self._requested.clear()
        self.endResetModel()

    def truncate_after(self, step: int) -> None:
        keep = bisect.bisect_right(self.steps, step)
        if keep < len(self.steps):
            self.beginRemoveRows(QModelIndex(), keep, len(self.steps) - 1)
            del self.steps[keep:]
            del self.paths[keep:]
            self.endRemoveRows()

    @property
    def thumbnail_count(self) -> int:
        return len(self._thumbs)


class SnapshotDialog(QDialog):
    """A large view of one snapshot (opened by clicking the gallery image)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("snapshotDialog")
        self.setWindowTitle("Sample grid")
        self.resize(760, 800)
        layout = QVBoxLayout(self)
        self.view = ImageView()
        self.view.setObjectName("snapshotDialogView")
        self.view.setAccessibleName("Enlarged sample grid")
        layout.addWidget(self.view, 1)
        self.caption = QLabel()
        self.caption.setObjectName("snapshotDialogCaption")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.caption)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.setObjectName("snapshotDialogButtons")
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("snapshotDialogClose")
        close.setToolTip("Close the enlarged view (Esc)")
        close.setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def show_image(self, image: QImage | None, caption: str) -> None:
        self.view.set_image(image)
        self.caption.setText(caption)
        self.setWindowTitle(caption)


class GalleryPanel(QWidget):
    """The central view: sample grid at the chosen step, the real batch, a timeline."""

    export_requested = Signal(int, str)      # step, path of the selected snapshot
    export_all_requested = Signal()
    selection_changed = Signal(int)          # row
    fork_requested = Signal(int)             # "Fork from step N…" on a snapshot

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("galleryPanel")
        self._decoder = TaskRunner("ganstudio-gallery", 1, self)
        self._full = LRUCache(FULL_CACHE_SIZE)
        self._full_handle: TaskHandle | None = None
        self._wanted: str | None = None
        self.model = SnapshotModel(self._decoder, self)
        self._current = -1
        self._follow = True
        self._dialog: SnapshotDialog | None = None
        self._grid_side = 8
        self._real_images = None
        self._fork_enabled = False
        self._fork_disabled_reason = ""
        self._build()
        self._update_controls()

    # ----- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        header = QHBoxLayout()
        self.title = QLabel("Samples")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title.setFont(font)
        header.addWidget(self.title)
        self.step_label = QLabel("")
        self.step_label.setObjectName("galleryStepLabel")
        header.addWidget(self.step_label, 1)
        self.enlarge_button = self._tool("enlargeSnapshotButton", "enlarge", "Enlarge",
                                         "Show this sample grid large (or click it)",
                                         self.open_enlarged)
        self.export_button = self._tool("exportSnapshotButton", "export", "Export…",
                                        "Export this sample grid as a PNG at 1×–8× "
                                        "(Ctrl+E)", self._request_export, text=True)
        self.export_all_button = self._tool("exportAllSnapshotsButton", "export-all",
                                            "Export all…", "Export every sample grid of the "
                                            "run into a folder (Ctrl+Shift+E)",
                                            self.export_all_requested.emit, text=True)
        for button in (self.enlarge_button, self.export_button, self.export_all_button):
            header.addWidget(button)
        layout.addLayout(header)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("gallerySplitter")
        self.splitter.setChildrenCollapsible(False)
        self.sample_view = ImageView("No samples yet.\nPress Train to start, and the fixed-noise "
                                     "sample grid appears here as the generator learns.")
        self.sample_view.setObjectName("sampleView")
        self.sample_view.setAccessibleName("Generated samples (fixed noise)")
        self.sample_view.setToolTip("The generator's output for the same fixed noise at the "
                                    "chosen step. Click to enlarge.")
        self.sample_view.set_clickable(True)
        self.sample_view.clicked.connect(self.open_enlarged)
        self.sample_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.sample_view.customContextMenuRequested.connect(
            lambda pos: self._show_fork_menu(self.current_row, self.sample_view, pos))
        self.real_view = ImageView("Real images from the dataset appear here.")
        self.real_view.setObjectName("realBatchView")
        self.real_view.setAccessibleName("Real images")
        self.real_view.setToolTip("A batch of real training images, for comparison")
        self.splitter.addWidget(self._captioned(self.sample_view, "Generated"))
        self.splitter.addWidget(self._captioned(self.real_view, "Real"))
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)

        timeline = QHBoxLayout()
        self.first_button = self._tool("galleryFirstButton", "first", "First snapshot",
                                       "Go to the first sample grid",
                                       lambda: self.select(0))
        self.previous_button = self._tool("galleryPreviousButton", "previous",
                                          "Previous snapshot", "Previous sample grid",
                                          lambda: self.select(self._current - 1))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("galleryTimeline")
        self.slider.setAccessibleName("Snapshot timeline")
        self.slider.setToolTip("Scrub through every sample grid of the run")
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider)
        self.next_button = self._tool("galleryNextButton", "next", "Next snapshot",
                                      "Next sample grid",
                                      lambda: self.select(self._current + 1))
        self.latest_button = self._tool("galleryLatestButton", "latest", "Follow the latest",
                                        "Jump to the newest sample grid and keep following new "
                                        "ones", self.follow_latest)
        self.latest_button.setCheckable(True)
        self.latest_button.setChecked(True)
        for w in (self.first_button, self.previous_button):
            timeline.addWidget(w)
        timeline.addWidget(self.slider, 1)
        for w in (self.next_button, self.latest_button):
            timeline.addWidget(w)
        layout.addLayout(timeline)

        self.filmstrip = QListView()
        self.filmstrip.setObjectName("galleryFilmstrip")
        self.filmstrip.setAccessibleName("Snapshot filmstrip")
        self.filmstrip.setToolTip("Every sample grid of the run; click one to show it")
        self.filmstrip.setModel(self.model)
        self.filmstrip.setViewMode(QListView.ViewMode.IconMode)
        self.filmstrip.setFlow(QListView.Flow.LeftToRight)
        self.filmstrip.setWrapping(False)
        self.filmstrip.setUniformItemSizes(True)
        self.filmstrip.setMovement(QListView.Movement.Static)
        self.filmstrip.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.filmstrip.setGridSize(QSize(THUMB_SIZE + 14, THUMB_SIZE + 24))
        self.filmstrip.setFixedHeight(THUMB_SIZE + 44)
        self.filmstrip.setHorizontalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.filmstrip.selectionModel().currentChanged.connect(self._on_filmstrip_current)
        self.filmstrip.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.filmstrip.customContextMenuRequested.connect(
            lambda pos: self._show_fork_menu(self.filmstrip.indexAt(pos).row(), self.filmstrip,
                                             pos))
        layout.addWidget(self.filmstrip)

    def _captioned(self, view: QWidget, caption: str) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        label = QLabel(caption)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setObjectName(view.objectName() + "Caption")
        layout.addWidget(label)
        layout.addWidget(view, 1)
        if view is self.real_view:
            self.real_caption = label
        else:
            self.sample_caption = label
        return box

    def _tool(self, name: str, icon_name: str, accessible: str, tip: str, slot,
              text: bool = False) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setIcon(icon(icon_name))
        button.setAccessibleName(accessible.rstrip("…"))
        button.setToolTip(tip)
        if text:
            button.setText(accessible)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # ----- content ------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self.model.steps)

    @property
    def current_row(self) -> int:
        return self._current

    @property
    def current_step(self) -> int | None:
        return self.model.steps[self._current] if 0 <= self._current < self.count else None

    @property
    def current_path(self) -> Path | None:
        return self.model.paths[self._current] if 0 <= self._current < self.count else None

    @property
    def following(self) -> bool:
        return self._follow

    def snapshots(self) -> list[tuple[int, Path]]:
        return list(zip(self.model.steps, self.model.paths))

    def add_snapshot(self, step: int, path: Path | None, grid: Any = None) -> None:
        """A new grid from training; ``grid`` (uint8 array) saves decoding it again."""
        if path is None:
            return
        image = qimage_from_array(grid) if grid is not None else None
        if image is not None:
            self._full.put(str(path), image)
            self.model.put_thumbnail(path, image)
        row = self.model.add(step, Path(path))
        self._update_controls()
        if self._follow or self._current < 0:
            self.select(self.count - 1, follow=True)
        elif row <= self._current:
            self.select(self._current + 1 if row < self._current else row)

    def set_snapshots(self, snapshots: list[tuple[int, Path]]) -> None:
        self._full.clear()
        self.model.reset(snapshots)
        self._current = -1
        self._update_controls()
        if snapshots:
            self.select(self.count - 1, follow=True)
        else:
            self._show(None)

    def truncate_after(self, step: int) -> None:
        self.model.truncate_after(step)
        if self._current >= self.count:
            self._current = self.count - 1
        self._update_controls()
        self.select(self._current, follow=self._follow)

    def clear(self) -> None:
        self.set_snapshots([])

    def set_grid_side(self, side: int) -> None:
        self._grid_side = max(1, side)
        self._show_real()

    def set_real_images(self, images: Any, points: bool = False) -> None:
        """uint8 (N, H, W, C) real images (or one rendered 2-D plot when ``points``)."""
        self._real_images = (images, points)
        self._show_real()

    def _show_real(self) -> None:
        if self._real_images is None or self._real_images[0] is None:
            self.real_view.set_image(None)
            return
        images, points = self._real_images
        if points:
            self.real_view.set_image(qimage_from_array(images[0]))
            self.real_caption.setText("Real (2-D points)")
            return
        from ganstudio.export.grid import make_grid

        side = self._grid_side
        shown = images[: side * side]
        self.real_view.set_image(qimage_from_array(make_grid(shown, columns=side)))
        self.real_caption.setText(f"Real ({len(shown)} images)")

    # ----- selection ----------------------------------------------------------------------------
    def select(self, row: int, follow: bool | None = None) -> None:
        if not self.count:
            self._current = -1
            self._show(None)
            self._update_controls()
            return
        row = max(0, min(row, self.count - 1))
        self._current = row
        self._follow = (row == self.count - 1) if follow is None else follow
        self.slider.blockSignals(True)
        self.slider.setValue(row)
        self.slider.blockSignals(False)
        index = self.model.index(row)
        selection = self.filmstrip.selectionModel()
        selection.blockSignals(True)
        self.filmstrip.setCurrentIndex(index)
        selection.blockSignals(False)
        self.filmstrip.scrollTo(index)
        self._show(row)
        self._update_controls()
        self.selection_changed.emit(row)

    def follow_latest(self) -> None:
        self._follow = True
        self.select(self.count - 1, follow=True)

    def _on_slider(self, value: int) -> None:
        self.select(value)

    def _on_filmstrip_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.select(current.row())

    def _show(self, row: int | None) -> None:
        if row is None:
            self.sample_view.set_image(None)
            self.step_label.setText("")
            return
        step, path = self.model.steps[row], self.model.paths[row]
        self.step_label.setText(f"step {step:,}  ·  {row + 1:,} of {self.count:,}")
        key = str(path)
        image = self._full.get(key)
        if image is not None:
            self._wanted = None
            self._set_sample_image(image, step)
            return
        # Decode in the background; the newest request wins, the old image stays meanwhile.
        self._wanted = key
        if self._full_handle is not None and not self._full_handle.done:
            self._full_handle.cancel()
        self._full_handle = self._decoder.submit(
            decode_image, key, on_done=lambda img, k=key: self._full_ready(k, img),
            on_error=lambda message, _d, k=key: self._full_failed(k, message))

    def _full_ready(self, key: str, image: QImage) -> None:
        self._full.put(key, image)
        if key == self._wanted and self.current_path is not None \
                and str(self.current_path) == key:
            self._set_sample_image(image, self.current_step or 0)

    def _full_failed(self, key: str, message: str) -> None:
        if key == self._wanted:
            self.sample_view.set_image(None)
            self.sample_view.set_placeholder(f"Cannot show this snapshot: {message}")

    def _set_sample_image(self, image: QImage, step: int) -> None:
        self.sample_view.set_image(image)
        self.sample_caption.setText(f"Generated at step {step:,}")
        if self._dialog is not None and self._dialog.isVisible():
            self._dialog.show_image(image, f"Sample grid at step {step:,}")

    @property
    def shown_image(self) -> QImage | None:
        return self.sample_view.image()

    @property
    def cached_images(self) -> int:
        return len(self._full)

    def _update_controls(self) -> None:
        count = self.count
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setEnabled(count > 1)
        has = 0 <= self._current < count
        self.first_button.setEnabled(has and self._current > 0)
        self.previous_button.setEnabled(has and self._current > 0)
        self.next_button.setEnabled(has and self._current < count - 1)
        self.latest_button.setEnabled(count > 0)
        self.latest_button.setChecked(self._follow and count > 0)
        self.export_button.setEnabled(has)
        self.export_all_button.setEnabled(count > 0)
        self.enlarge_button.setEnabled(has)
        self.filmstrip.setVisible(count > 0)

    # ----- actions ------------------------------------------------------------------------------
    def open_enlarged(self) -> None:
        image = self.sample_view.image()
        if image is None:
            return
        if self._dialog is None:
            self._dialog = SnapshotDialog(self)
        self._dialog.show_image(image, f"Sample grid at step {self.current_step or 0:,}")
        self._dialog.show()
        self._dialog.raise_()

    # ----- "Fork from step N…" ------------------------------------------------------------------
    def set_fork_enabled(self, enabled: bool, reason: str = "") -> None:
        """Whether right-clicking a snapshot offers to fork the run from its step."""
        self._fork_enabled = enabled
        self._fork_disabled_reason = reason

    def fork_menu_for_row(self, row: int) -> QMenu | None:
        """The context menu of the snapshot at ``row`` (not shown; None for no snapshot)."""
        if not 0 <= row < self.count:
            return None
        step = self.model.steps[row]
        menu = QMenu(self)
        menu.setObjectName("galleryContextMenu")
        action = QAction(f"Fork from step {step:,}…", menu)
        action.setObjectName("galleryForkAction")
        action.setIcon(icon("fork"))
        action.setEnabled(self._fork_enabled)
        action.setToolTip("Continue the run from the nearest snapshot at or before this step "
                          "in a new run folder" if self._fork_enabled
                          else self._fork_disabled_reason)
        action.triggered.connect(lambda _checked=False, s=step: self.fork_requested.emit(s))
        menu.addAction(action)
        menu.setToolTipsVisible(True)
        return menu

    def _show_fork_menu(self, row: int, widget: QWidget, pos) -> None:
        menu = self.fork_menu_for_row(row)
        if menu is not None:
            menu.aboutToHide.connect(menu.deleteLater)
            menu.popup(widget.mapToGlobal(pos))

    def _request_export(self) -> None:
        if self.current_path is not None and self.current_step is not None:
            self.export_requested.emit(self.current_step, str(self.current_path))

    def shutdown(self) -> None:
        self._decoder.shutdown(wait=True)
