"""The latent panel's parts: preview, latent and direction slider lists (with locks and preview
strips), variation grid, points plot, interpolation endpoints."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPaintEvent, QPalette, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QElidingLabel

from ganstudio.app.images import ImageView
from ganstudio.app.latent.icons import latent_icon
from ganstudio.app.latent.state import DIRECTION_LIMIT, SLIDER_STEPS_PER_UNIT, STRIP_VALUES
from ganstudio.app.theme import FAKE_COLOUR, G_COLOUR


class PreviewView(ImageView):
    """The large preview; says which render request it has painted (for latency checks)."""

    frame_painted = Signal(int)   # request id of the frame just painted

    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(placeholder, parent)
        self.setObjectName("latentPreview")
        self.setAccessibleName("Latent preview")
        self.setToolTip("The generator's image for the current latent vector")
        self.request_id = 0

    def show_frame(self, request_id: int, image: QImage | None) -> None:
        self.request_id = request_id
        self.set_image(image)

    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.image() is not None:
            self.frame_painted.emit(self.request_id)


class LatentSliders(QScrollArea):
    """One labelled slider per latent dimension, each with a reset button, in a scroll area.

    Sliders step in 1/:data:`SLIDER_STEPS_PER_UNIT` of a unit over ±``limit``; a value beyond
    the range (a rare seed) keeps its exact value until that slider is moved.
    """

    value_changed = Signal(int, float)   # dimension, new value
    reset_requested = Signal(int)
    lock_toggled = Signal(int, bool)     # dimension, locked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("latentSliders")
        self.setAccessibleName("Latent dimensions")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sliders: list[QSlider] = []
        self.value_labels: list[QLabel] = []
        self.reset_buttons: list[QToolButton] = []
        self.lock_buttons: list[QToolButton] = []
        self._limit = 3.0
        self._reset_icon = latent_icon("reset")
        self.setWidget(QWidget())

    def rebuild(self, count: int, limit: float) -> None:
        """Make ``count`` rows (only when the number of dimensions or the range changes)."""
        if count == len(self.sliders) and limit == self._limit:
            return
        self._limit = limit
        steps = int(round(limit * SLIDER_STEPS_PER_UNIT))
        body = QWidget()
        body.setObjectName("latentSliderRows")
        grid = QGridLayout(body)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setVerticalSpacing(1)
        grid.setColumnStretch(1, 1)
        self.sliders, self.value_labels, self.reset_buttons = [], [], []
        self.lock_buttons = []
        width = self.fontMetrics().horizontalAdvance("−0.00") + 6
        for i in range(count):
            name = QLabel(f"z{i}")
            name.setObjectName(f"latentName_{i}")
            name.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setObjectName(f"latentSlider_{i}")
            slider.setAccessibleName(f"Latent dimension {i}")
            slider.setToolTip(f"Latent dimension {i}: drag to move it (±{limit:g}); "
                              "the preview follows")
            slider.setRange(-steps, steps)
            slider.setPageStep(SLIDER_STEPS_PER_UNIT // 4)
            slider.valueChanged.connect(lambda v, i=i: self._on_slider_change(i, v))
            value = QLabel("0.00")
            value.setObjectName(f"latentValue_{i}")
            value.setFixedWidth(width)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setAccessibleName(f"Value of latent dimension {i}")
            reset = QToolButton()
            reset.setObjectName(f"latentReset_{i}")
            reset.setIcon(self._reset_icon)
            reset.setIconSize(QSize(14, 14))
            reset.setAutoRaise(True)
            reset.setAccessibleName(f"Reset latent dimension {i}")
            reset.setToolTip(f"Put z{i} back to the seed's value")
            reset.clicked.connect(lambda _=False, i=i: self.reset_requested.emit(i))
            lock = lock_button(f"latentLock_{i}", f"Lock latent dimension {i}",
                               f"Lock z{i}: a new or random seed keeps its value")
            lock.toggled.connect(lambda on, i=i: self.lock_toggled.emit(i, on))
            for column, widget in enumerate((name, slider, value, lock, reset)):
                grid.addWidget(widget, i, column)
            self.sliders.append(slider)
            self.value_labels.append(value)
            self.reset_buttons.append(reset)
            self.lock_buttons.append(lock)
        grid.setRowStretch(count, 1)
        self.setWidget(body)

    def set_values(self, latent: np.ndarray) -> None:
        for i, value in enumerate(latent[:len(self.sliders)]):
            self.set_value(i, float(value))

    def set_value(self, index: int, value: float) -> None:
        slider = self.sliders[index]
        slider.blockSignals(True)
        slider.setValue(int(round(value * SLIDER_STEPS_PER_UNIT)))
        slider.blockSignals(False)
        self._show_value(index, value)

    def _on_slider_change(self, index: int, position: int) -> None:
        value = position / SLIDER_STEPS_PER_UNIT
        self._show_value(index, value)
        self.value_changed.emit(index, value)

    def _show_value(self, index: int, value: float) -> None:
        self.value_labels[index].setText(f"{value:+.2f}".replace("-", "−"))

    def set_locked(self, locked: set[int]) -> None:
        for i, button in enumerate(self.lock_buttons):
            with _blocked(button):
                button.setChecked(i in locked)


class _blocked:
    def __init__(self, widget: QWidget):
        self.widget = widget

    def __enter__(self) -> None:
        self.widget.blockSignals(True)

    def __exit__(self, *_exc: object) -> None:
        self.widget.blockSignals(False)


def lock_button(name: str, accessible: str, tooltip: str) -> QToolButton:
    """A padlock toggle: closed when checked."""
    button = QToolButton()
    button.setObjectName(name)
    button.setCheckable(True)
    button.setAutoRaise(True)
    button.setIconSize(QSize(14, 14))
    icon = QIcon()
    icon.addPixmap(latent_icon("unlock").pixmap(14, 14), QIcon.Mode.Normal, QIcon.State.Off)
    icon.addPixmap(latent_icon("lock").pixmap(14, 14), QIcon.Mode.Normal, QIcon.State.On)
    button.setIcon(icon)
    button.setAccessibleName(accessible)
    button.setToolTip(tooltip)
    return button


class DirectionSliders(QScrollArea):
    """One slider per principal direction (±3 sigma, labelled with its explained variance),
    each with a lock, a reset and a strip of previews along it (click one to go there)."""

    value_changed = Signal(int, float)       # direction, value in sigma
    reset_requested = Signal(int)
    lock_toggled = Signal(int, bool)
    strip_chosen = Signal(int, int)          # direction, position in STRIP_VALUES
    STRIP_TILE = 40
    PLACEHOLDER = ("No directions yet: press Fit to find the directions along which this "
                   "generator's images vary most.")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("latentDirections")
        self.setAccessibleName("Principal directions")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sliders: list[QSlider] = []
        self.names: list[QLabel] = []
        self.value_labels: list[QLabel] = []
        self.lock_buttons: list[QToolButton] = []
        self.strips: list[list[QToolButton]] = []
        self._reset_icon = latent_icon("reset")
        self.clear()

    @property
    def count(self) -> int:
        return len(self.sliders)

    def clear(self) -> None:
        self.sliders, self.names, self.value_labels, self.lock_buttons, self.strips = \
            [], [], [], [], []
        self.placeholder = QLabel(self.PLACEHOLDER)
        self.placeholder.setObjectName("latentDirectionsPlaceholder")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWidget(self.placeholder)

    def rebuild(self, labels: list[str], tooltips: list[str], show_strips: bool = True) -> None:
        steps = int(round(DIRECTION_LIMIT * SLIDER_STEPS_PER_UNIT))
        body = QWidget()
        body.setObjectName("latentDirectionRows")
        grid = QGridLayout(body)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setVerticalSpacing(1)
        grid.setColumnStretch(1, 1)
        self.sliders, self.names, self.value_labels, self.lock_buttons, self.strips = \
            [], [], [], [], []
        width = self.fontMetrics().horizontalAdvance("−3.00σ") + 6
        for k, (text, tip) in enumerate(zip(labels, tooltips)):
            name = QLabel(text)
            name.setObjectName(f"latentDirectionName_{k}")
            name.setToolTip(tip)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setObjectName(f"latentDirection_{k}")
            slider.setAccessibleName(f"Direction {k + 1}")
            slider.setToolTip(f"{tip}. Drag to move along it (±{DIRECTION_LIMIT:g} σ)")
            slider.setRange(-steps, steps)
            slider.setPageStep(SLIDER_STEPS_PER_UNIT // 2)
            slider.valueChanged.connect(lambda v, k=k: self._on_slider_change(k, v))
            value = QLabel("+0.00σ")
            value.setObjectName(f"latentDirectionValue_{k}")
            value.setFixedWidth(width)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setAccessibleName(f"Value of direction {k + 1}")
            lock = lock_button(f"latentDirectionLock_{k}", f"Lock direction {k + 1}",
                               f"Lock PC{k + 1}: a new or random seed keeps this setting")
            lock.toggled.connect(lambda on, k=k: self.lock_toggled.emit(k, on))
            reset = QToolButton()
            reset.setObjectName(f"latentDirectionReset_{k}")
            reset.setIcon(self._reset_icon)
            reset.setIconSize(QSize(14, 14))
            reset.setAutoRaise(True)
            reset.setAccessibleName(f"Reset direction {k + 1}")
            reset.setToolTip(f"Put PC{k + 1} back to 0")
            reset.clicked.connect(lambda _=False, k=k: self.reset_requested.emit(k))
            row = 2 * k
            name.setMinimumWidth(self.fontMetrics().horizontalAdvance("PC10 · 10.0%") + 4)
            grid.addWidget(name, row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(value, row, 2)
            grid.addWidget(lock, row, 3)
            grid.addWidget(reset, row, 4)
            strip_row = QHBoxLayout()
            strip_row.setSpacing(2)
            strip_row.setContentsMargins(0, 0, 0, 4)
            buttons = []
            for j, position in enumerate(STRIP_VALUES):
                button = QToolButton()
                button.setObjectName(f"latentStrip_{k}_{j}")
                button.setAccessibleName(f"Direction {k + 1} at {position:+g} sigma")
                button.setToolTip(f"PC{k + 1} at {position:+g} σ; click to go there")
                button.setAutoRaise(True)
                button.setEnabled(False)
                button.setIconSize(QSize(self.STRIP_TILE, self.STRIP_TILE))
                button.setFixedSize(self.STRIP_TILE + 4, self.STRIP_TILE + 4)
                button.clicked.connect(lambda _=False, k=k, j=j: self.strip_chosen.emit(k, j))
                strip_row.addWidget(button)
                buttons.append(button)
            strip_row.addStretch(1)
            strip_holder = QWidget()
            strip_holder.setObjectName(f"latentStripRow_{k}")
            strip_holder.setLayout(strip_row)
            strip_holder.setVisible(show_strips)
            grid.addWidget(strip_holder, row + 1, 1, 1, 4)
            self.sliders.append(slider)
            self.names.append(name)
            self.value_labels.append(value)
            self.lock_buttons.append(lock)
            self.strips.append(buttons)
        grid.setRowStretch(2 * len(labels), 1)
        self.setWidget(body)

    def set_values(self, values: np.ndarray) -> None:
        for k, value in enumerate(np.asarray(values)[:len(self.sliders)]):
            self.set_value(k, float(value))

    def set_value(self, index: int, value: float) -> None:
        slider = self.sliders[index]
        with _blocked(slider):
            slider.setValue(int(round(value * SLIDER_STEPS_PER_UNIT)))
        self._show_value(index, value)

    def set_locked(self, locked: set[int]) -> None:
        for k, button in enumerate(self.lock_buttons):
            with _blocked(button):
                button.setChecked(k in locked)

    def set_strip_tile(self, direction: int, position: int, image: QImage) -> None:
        if not (0 <= direction < len(self.strips) and 0 <= position < len(self.strips[0])):
            return
        button = self.strips[direction][position]
        side = self.STRIP_TILE
        if image.width() <= side:   # whole pixels per image pixel, as in the big preview
            factor = side // image.width()
            scaled = image.scaled(image.width() * factor, image.height() * factor,
                                  Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.FastTransformation)
        else:
            scaled = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
        button.setIcon(QIcon(QPixmap.fromImage(scaled)))
        button.setEnabled(True)

    def _on_slider_change(self, index: int, position: int) -> None:
        value = position / SLIDER_STEPS_PER_UNIT
        self._show_value(index, value)
        self.value_changed.emit(index, value)

    def _show_value(self, index: int, value: float) -> None:
        self.value_labels[index].setText(f"{value:+.2f}σ".replace("-", "−"))


class NeighbourGrid(QWidget):
    """k×k buttons showing variations of the current latent; clicking one adopts it."""

    chosen = Signal(int)
    TILE = 64   # 32 px images at 2x, 64 px at 1x

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("latentNeighbours")
        self.setAccessibleName("Variations of the current latent")
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(3)
        self.buttons: list[QToolButton] = []
        self.set_size(3)

    def set_size(self, k: int) -> None:
        if len(self.buttons) == k * k:
            return
        for button in self.buttons:
            self._layout.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        side = self.TILE if k <= 3 else self.TILE * 3 // 4
        for index in range(k * k):
            button = QToolButton()
            button.setObjectName(f"latentNeighbour_{index}")
            button.setAccessibleName(f"Variation {index + 1}")
            button.setToolTip("A nearby latent; click to make it the current one")
            button.setAutoRaise(True)
            button.setEnabled(False)
            button.setIconSize(QSize(side, side))
            button.setFixedSize(side + 6, side + 6)
            button.clicked.connect(lambda _=False, i=index: self.chosen.emit(i))
            self._layout.addWidget(button, index // k, index % k)
            self.buttons.append(button)

    def set_tile(self, index: int, image: QImage) -> None:
        if not 0 <= index < len(self.buttons):
            return
        button = self.buttons[index]
        side = button.iconSize().width()
        if image.width() <= side:   # whole pixels per image pixel, as in the big preview
            factor = side // image.width()
            scaled = image.scaled(image.width() * factor, image.height() * factor,
                                  Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.FastTransformation)
        else:
            scaled = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
        button.setIcon(QIcon(QPixmap.fromImage(scaled)))
        button.setEnabled(True)

    def clear(self) -> None:
        for button in self.buttons:
            button.setIcon(QIcon())
            button.setEnabled(False)


class PointsPreview(QWidget):
    """A points generator's distribution (purple), its variations and the current point."""

    chosen = Signal(int)      # a variation point was clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("latentPointsPlot")
        self.plot_widget.setAccessibleName("Generated points with the current latent's point")
        self.plot_widget.setToolTip("Purple: the generator's output for 1,000 fixed latents. "
                                    "Orange: the current latent; hollow: its variations "
                                    "(click one to move there)")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=True, y=True, alpha=0.12)
        self.plot.setMenuEnabled(False)
        self.cloud_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(FAKE_COLOUR))
        self.neighbour_item = pg.ScatterPlotItem(size=10, pen=pg.mkPen(G_COLOUR, width=1.5),
                                                 brush=None, hoverable=True,
                                                 hoverBrush=pg.mkBrush(G_COLOUR))
        self.current_item = pg.ScatterPlotItem(size=14, brush=pg.mkBrush(G_COLOUR))
        for item in (self.cloud_item, self.neighbour_item, self.current_item):
            self.plot.addItem(item)
        self.neighbour_item.sigClicked.connect(self._on_neighbour_clicked)
        self.neighbours = np.zeros((0, 2))
        self.current: np.ndarray | None = None
        self.request_id = 0
        layout.addWidget(self.plot_widget)
        caption = QLabel("Purple: generated distribution · orange: current latent · "
                         "hollow: variations")
        caption.setObjectName("latentPointsCaption")
        caption.setWordWrap(True)
        layout.addWidget(caption)
        self.apply_theme()

    def apply_theme(self) -> None:
        """Plot colours from the palette, like the window's 2-D view (light and dark)."""
        self.plot_widget.setBackground(self.palette().color(QPalette.ColorRole.Base))
        text = self.palette().color(QPalette.ColorRole.WindowText)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen(pg.mkPen(text))
            self.plot.getAxis(axis).setPen(pg.mkPen(text.darker(130)))
        self.current_item.setPen(pg.mkPen(self.palette().color(QPalette.ColorRole.Base),
                                          width=1.5))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply_theme()
        super().changeEvent(event)

    def set_cloud(self, points: np.ndarray, bounds: tuple[float, float, float, float]) -> None:
        self.cloud_item.setData(pos=np.asarray(points))
        xmin, xmax, ymin, ymax = bounds
        self.plot.setXRange(xmin, xmax, padding=0.02)
        self.plot.setYRange(ymin, ymax, padding=0.02)

    def set_current(self, request_id: int, point: np.ndarray) -> None:
        self.request_id = request_id
        self.current = np.asarray(point, dtype=np.float64).reshape(2)
        self.current_item.setData(pos=self.current[None])

    def set_neighbour(self, index: int, point: np.ndarray, count: int) -> None:
        if len(self.neighbours) != count:
            self.neighbours = np.full((count, 2), np.nan)
        self.neighbours[index] = point
        shown = np.isfinite(self.neighbours).all(axis=1)
        self.neighbour_item.setData(pos=self.neighbours[shown],
                                    data=np.flatnonzero(shown).tolist())

    def clear(self) -> None:
        self.cloud_item.clear()
        self.neighbour_item.clear()
        self.current_item.clear()
        self.neighbours = np.zeros((0, 2))
        self.current = None

    def clear_neighbours(self) -> None:
        self.neighbours = np.zeros((0, 2))
        self.neighbour_item.clear()

    def _on_neighbour_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.chosen.emit(int(points[0].data()))


class SourceHeader(QWidget):
    """Which generator is shown, and where it came from."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QElidingLabel("No generator")
        self.title.setObjectName("latentSourceLabel")
        self.title.setAccessibleName("Generator")
        self.title.setElideMode(Qt.TextElideMode.ElideMiddle)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title, 1)
        self.info = QLabel("")
        self.info.setObjectName("latentInfoLabel")
        self.info.setAccessibleName("Preview details")
        layout.addWidget(self.info)

    def set_source_text(self, title: str, tooltip: str) -> None:
        self.title.setText(title)
        self.title.setToolTip(tooltip)
