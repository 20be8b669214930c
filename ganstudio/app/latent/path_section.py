"""The latent panel's animation section: interpolate between two latents or walk along a
principal direction, scrub or play it in the preview, export it (GIF, MP4, PNG frames).

The widgets only say what the person did (signals); the panel keeps the endpoints' latents,
asks the renderer for frames and runs exports.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from ganstudio.app.latent.icons import latent_icon
from ganstudio.app.latent.state import SEED_MAX
from ganstudio.explore.paths import FRAME_RANGE

INTERPOLATE, WALK = "interpolate", "walk"


def dropped_png(event) -> Path | None:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(".png"):
            return Path(url.toLocalFile())
    return None


class EndpointSlot(QFrame):
    """One end of an interpolation: a seed, the current latent, or a dropped GAN Studio PNG."""

    seed_chosen = Signal(int)
    current_requested = Signal()
    png_dropped = Signal(str)

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"latentEnd{name}")
        self.setAccessibleName(f"Interpolation end {name}")
        self.setToolTip(f"End {name}: a seed, the current latent (Current), or drop an image "
                        "exported by GAN Studio here")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAcceptDrops(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        title = QLabel(f"<b>{name}</b>")
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName(f"latentEnd{name}Seed")
        self.seed_spin.setAccessibleName(f"Seed of end {name}")
        self.seed_spin.setToolTip(f"Start end {name} from this seed (truncated like the preview)")
        self.seed_spin.setRange(0, SEED_MAX)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.valueChanged.connect(self.seed_chosen)
        self.current_button = QToolButton()
        self.current_button.setObjectName(f"latentEnd{name}Current")
        self.current_button.setText("Current")
        self.current_button.setAccessibleName(f"Use the current latent as end {name}")
        self.current_button.setToolTip(f"End {name} becomes the latent the preview shows now "
                                       "(with its edits, truncation and directions)")
        self.current_button.clicked.connect(self.current_requested)
        self.text = QLabel("")
        self.text.setObjectName(f"latentEnd{name}Text")
        self.text.setMinimumWidth(60)
        row.addWidget(title)
        row.addWidget(self.seed_spin)
        row.addWidget(self.current_button)
        row.addWidget(self.text, 1)

    def show_seed(self, seed: int, text: str) -> None:
        with signals_blocked(self.seed_spin):
            self.seed_spin.setValue(seed)
        self.text.setText(text)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_png(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_png(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.png_dropped.emit(str(path))


class PathSection(QWidget):
    """Controls of the interpolation / walk: what path, how many frames, play, export."""

    changed = Signal()                  # the path itself changed
    position_changed = Signal(int)
    play_toggled = Signal(bool)
    export_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("latentPathSection")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("latentPathKind")
        self.kind_combo.setAccessibleName("Path")
        self.kind_combo.setToolTip("Interpolate between two latents, or walk along a principal "
                                   "direction through the current latent")
        self.kind_combo.addItem("Interpolate A → B", INTERPOLATE)
        self.kind_combo.addItem("Walk along a direction", WALK)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_change)
        form.addRow("Path", self.kind_combo)
        layout.addLayout(form)

        self.ends_stack = QStackedWidget()
        ends = QWidget()
        ends_layout = QVBoxLayout(ends)
        ends_layout.setContentsMargins(0, 0, 0, 0)
        ends_layout.setSpacing(2)
        self.end_a = EndpointSlot("A")
        self.end_b = EndpointSlot("B")
        ends_layout.addWidget(self.end_a)
        ends_layout.addWidget(self.end_b)
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("latentPathMethod")
        self.method_combo.setAccessibleName("Interpolation")
        self.method_combo.setToolTip("Slerp follows the sphere Gaussian latents live on (no "
                                     "dull middle); lerp is a straight line")
        self.method_combo.addItem("slerp (spherical)", "slerp")
        self.method_combo.addItem("lerp (straight)", "lerp")
        self.method_combo.currentIndexChanged.connect(self.changed)
        method_row = QHBoxLayout()
        method_row.addWidget(QLabel("Interpolation"))
        method_row.addWidget(self.method_combo, 1)
        ends_layout.addLayout(method_row)
        walk = QWidget()
        walk_layout = QHBoxLayout(walk)
        walk_layout.setContentsMargins(0, 0, 0, 0)
        self.direction_combo = QComboBox()
        self.direction_combo.setObjectName("latentWalkDirection")
        self.direction_combo.setAccessibleName("Direction to walk along")
        self.direction_combo.setToolTip("The principal direction to walk along (fit directions "
                                        "first)")
        self.direction_combo.currentIndexChanged.connect(self.changed)
        self.extent_spin = QDoubleSpinBox()
        self.extent_spin.setObjectName("latentWalkExtent")
        self.extent_spin.setAccessibleName("Walk extent")
        self.extent_spin.setToolTip("The walk goes from −this to +this standard deviations")
        self.extent_spin.setRange(0.5, 10.0)
        self.extent_spin.setSingleStep(0.5)
        self.extent_spin.setValue(3.0)
        self.extent_spin.setPrefix("± ")
        self.extent_spin.setSuffix(" σ")
        self.extent_spin.valueChanged.connect(self.changed)
        walk_layout.addWidget(QLabel("Along"))
        walk_layout.addWidget(self.direction_combo, 1)
        walk_layout.addWidget(self.extent_spin)
        self.ends_stack.addWidget(ends)
        self.ends_stack.addWidget(walk)
        layout.addWidget(self.ends_stack)

        timing = QHBoxLayout()
        self.frames_spin = QSpinBox()
        self.frames_spin.setObjectName("latentPathFrames")
        self.frames_spin.setAccessibleName("Frames")
        self.frames_spin.setToolTip("Frames along the path, ends included")
        self.frames_spin.setRange(*FRAME_RANGE)
        self.frames_spin.setValue(48)
        self.frames_spin.setSuffix(" frames")
        self.frames_spin.valueChanged.connect(self._on_frames_change)
        self.fps_spin = QSpinBox()
        self.fps_spin.setObjectName("latentPathFps")
        self.fps_spin.setAccessibleName("Frames per second")
        self.fps_spin.setToolTip("Playback (and export) speed")
        self.fps_spin.setRange(1, 60)
        self.fps_spin.setValue(24)
        self.fps_spin.setSuffix(" fps")
        timing.addWidget(self.frames_spin)
        timing.addWidget(self.fps_spin)
        layout.addLayout(timing)

        play_row = QHBoxLayout()
        self.play_button = QToolButton()
        self.play_button.setObjectName("latentPathPlay")
        self.play_button.setAccessibleName("Play the path")
        self.play_button.setToolTip("Play the path in the preview (again to pause)")
        self.play_button.setCheckable(True)
        self.play_button.setIcon(latent_icon("play"))
        self.play_button.toggled.connect(self._on_play_toggled)
        self.position_slider = QSlider(Qt.Orientation.Horizontal)
        self.position_slider.setObjectName("latentPathPosition")
        self.position_slider.setAccessibleName("Frame")
        self.position_slider.setToolTip("Scrub along the path; the preview shows that frame")
        self.position_slider.setRange(0, self.frames_spin.value() - 1)
        self.position_slider.valueChanged.connect(self._on_position_change)
        self.frame_label = QLabel("")
        self.frame_label.setObjectName("latentPathFrameLabel")
        self.frame_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("2000/2000") + 4)
        play_row.addWidget(self.play_button)
        play_row.addWidget(self.position_slider, 1)
        play_row.addWidget(self.frame_label)
        layout.addLayout(play_row)

        export_row = QHBoxLayout()
        self.export_button = QPushButton("Export animation…")
        self.export_button.setObjectName("latentExportAnimation")
        self.export_button.setAccessibleName("Export animation")
        self.export_button.setToolTip("Write the path as a GIF, an MP4 or a folder of PNG "
                                      "frames, at a chosen size")
        self.export_button.setIcon(latent_icon("export"))
        self.export_button.clicked.connect(self.export_requested)
        self.progress = QProgressBar()
        self.progress.setObjectName("latentAnimationProgress")
        self.progress.setAccessibleName("Animation export progress")
        self.progress.setToolTip("Frames rendered and written")
        self.progress.setFormat("%v / %m frames")
        self.cancel_button = QToolButton()
        self.cancel_button.setObjectName("latentAnimationCancel")
        self.cancel_button.setText("Cancel")
        self.cancel_button.setAccessibleName("Cancel the animation export")
        self.cancel_button.setToolTip("Stop exporting; nothing is left behind")
        self.cancel_button.clicked.connect(self.cancel_requested)
        export_row.addWidget(self.export_button)
        export_row.addWidget(self.progress, 1)
        export_row.addWidget(self.cancel_button)
        layout.addLayout(export_row)
        layout.addStretch(1)
        self.show_progress(None)
        self._update_frame_label()

    # ----- state --------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return str(self.kind_combo.currentData())

    @property
    def method(self) -> str:
        return str(self.method_combo.currentData())

    @property
    def frames(self) -> int:
        return self.frames_spin.value()

    @property
    def position(self) -> int:
        return self.position_slider.value()

    @property
    def walk_direction(self) -> int:
        return int(self.direction_combo.currentData()) if self.direction_combo.count() else -1

    def set_directions(self, labels: list[str]) -> None:
        with signals_blocked(self.direction_combo):
            previous = self.direction_combo.currentIndex()
            self.direction_combo.clear()
            for k, label in enumerate(labels):
                self.direction_combo.addItem(label, k)
            if labels:
                self.direction_combo.setCurrentIndex(min(max(previous, 0), len(labels) - 1))
        self.direction_combo.setEnabled(bool(labels))

    def set_position(self, index: int) -> None:
        self.position_slider.setValue(index)

    def show_progress(self, done_total: tuple[int, int] | None) -> None:
        """Show export progress (None hides the bar and Cancel)."""
        busy = done_total is not None
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.export_button.setEnabled(not busy)
        if busy:
            done, total = done_total
            self.progress.setRange(0, max(1, total))
            self.progress.setValue(done)

    # ----- slots --------------------------------------------------------------------------------
    def _on_kind_change(self, _index: int) -> None:
        self.ends_stack.setCurrentIndex(0 if self.kind == INTERPOLATE else 1)
        self.changed.emit()

    def _on_frames_change(self, frames: int) -> None:
        with signals_blocked(self.position_slider):
            self.position_slider.setRange(0, frames - 1)
        self._update_frame_label()
        self.changed.emit()

    def _on_position_change(self, index: int) -> None:
        self._update_frame_label()
        self.position_changed.emit(index)

    def _on_play_toggled(self, playing: bool) -> None:
        self.play_button.setIcon(latent_icon("pause" if playing else "play"))
        self.play_button.setAccessibleName("Pause the path" if playing else "Play the path")
        self.play_toggled.emit(playing)

    def _update_frame_label(self) -> None:
        self.frame_label.setText(f"{self.position + 1}/{self.frames}")
