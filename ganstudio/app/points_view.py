"""The 2-D view for toy datasets: real and generated points over D's output (as in GAN Lab).

The background shows what the discriminator believes at every position of the plane (orange
where it says "real", pale where it says "fake" — the colours of the 2-D snapshots the engine
saves, so the gallery and this view agree); real points are green, generated points purple. For
mixtures with known centres (``ring``, ``grid``) the view counts how many modes the generated
points cover, so mode collapse is visible as a number too.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ganstudio.app.theme import FAKE_COLOUR, REAL_COLOUR

UPDATE_INTERVAL_MS = 200
MODE_SHARE = 0.01  # a mode counts as covered when it attracts 1% of the generated points

# D's output from "fake" to "real": the engine's snapshot colours (ganstudio.export.points), and
# a dimmed version of them for dark themes.
_LIGHT_STOPS = ("#fafafa", "#fddfb9", "#ffc478")
_DARK_STOPS = ("#26282c", "#5a4630", "#8a6234")


def modes_covered(fake: np.ndarray, modes: np.ndarray) -> int:
    """How many mixture centres have at least :data:`MODE_SHARE` of the points close by."""
    if fake is None or len(fake) == 0 or modes is None or len(modes) == 0:
        return 0
    gaps = np.linalg.norm(modes[:, None, :] - modes[None, :, :], axis=-1)
    spacing = gaps[gaps > 0].min() if len(modes) > 1 else 1.0
    distance = np.linalg.norm(fake[:, None, :] - modes[None, :, :], axis=-1)
    nearest = distance.argmin(axis=1)
    close = distance[np.arange(len(fake)), nearest] < 0.25 * spacing
    counts = np.bincount(nearest[close], minlength=len(modes))
    return int((counts >= max(1, MODE_SHARE * len(fake))).sum())


class PointsView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("pointsView")
        self._pending = None
        self._modes: np.ndarray | None = None
        self._output_kind = "probability"
        self.step: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.show_heatmap = self._check("pointsShowHeatmap", "D's output", "Show the "
                                        "discriminator's output over the plane as the "
                                        "background colour")
        self.show_real = self._check("pointsShowReal", "Real", "Show real points (green)")
        self.show_fake = self._check("pointsShowFake", "Generated", "Show generated points "
                                     "(purple)")
        for box in (self.show_heatmap, self.show_real, self.show_fake):
            bar.addWidget(box)
        bar.addStretch(1)
        self.status = QLabel("Train on ring, grid or spiral to see points here.")
        self.status.setObjectName("pointsStatus")
        bar.addWidget(self.status)
        layout.addLayout(bar)

        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("pointsPlot")
        self.plot_widget.setAccessibleName("Real and generated points over D's output")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=False, y=False)
        self.heatmap = pg.ImageItem()
        self.heatmap.setZValue(-10)
        self.plot.addItem(self.heatmap)
        self.real_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(REAL_COLOUR),
                                            name="real")
        fake = QColor(FAKE_COLOUR)
        self.fake_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(fake),
                                            name="generated")
        self.plot.addItem(self.real_item)
        self.plot.addItem(self.fake_item)
        layout.addWidget(self.plot_widget, 1)
        self.caption = QLabel("Background: D's output — orange where D says “real”, pale "
                              "where it says “fake”. Green: real points; purple: generated.")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)

        self._timer = QTimer(self)
        self._timer.setInterval(UPDATE_INTERVAL_MS)
        self._timer.timeout.connect(self._apply_pending)
        self._timer.start()
        self.apply_theme()

    def _check(self, name: str, text: str, tip: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setObjectName(name)
        box.setAccessibleName(tip.split(" (")[0])
        box.setToolTip(tip)
        box.setChecked(True)
        box.toggled.connect(self._apply_visibility)
        return box

    # ----- data ---------------------------------------------------------------------------------
    def set_modes(self, modes: np.ndarray | None) -> None:
        self._modes = None if modes is None else np.asarray(modes, dtype=np.float32)

    def set_real(self, points: np.ndarray, bounds: tuple[float, float, float, float]) -> None:
        """Show the dataset's real points before any training (from the preview)."""
        self.real_item.setData(pos=np.asarray(points))
        self._set_bounds(bounds)

    def queue_points(self, event) -> None:
        """Queue a PointsReady event; drawn at the next tick (only the newest is drawn)."""
        self._pending = event

    def clear(self) -> None:
        self._pending = None
        self.step = None
        self.fake_item.clear()
        self.heatmap.clear()
        self.status.setText("")

    def _set_bounds(self, bounds) -> None:
        xmin, xmax, ymin, ymax = bounds
        self.plot.setXRange(xmin, xmax, padding=0)
        self.plot.setYRange(ymin, ymax, padding=0)

    def _apply_pending(self) -> None:
        event, self._pending = self._pending, None
        if event is None:
            return
        xmin, xmax, ymin, ymax = event.bounds
        self._output_kind = event.output_kind
        heat = np.asarray(event.heatmap, dtype=np.float32)
        if event.output_kind == "probability":
            levels = (0.0, 1.0)
        else:
            finite = heat[np.isfinite(heat)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            levels = (lo, hi if hi > lo else lo + 1)
        # ImageItem indexes [x, y]; the heatmap's rows are y (from ymin up).
        self.heatmap.setImage(heat.T, levels=levels, autoLevels=False)
        self.heatmap.setRect(QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
        self.real_item.setData(pos=np.asarray(event.real))
        self.fake_item.setData(pos=np.asarray(event.fake))
        if self.step is None:
            self._set_bounds(event.bounds)
        self.step = event.step
        text = f"step {event.step:,}"
        if self._modes is not None:
            covered = modes_covered(np.asarray(event.fake), self._modes)
            text += f" · generated points cover {covered} of {len(self._modes)} modes"
        self.status.setText(text)

    def _apply_visibility(self) -> None:
        self.heatmap.setVisible(self.show_heatmap.isChecked())
        self.real_item.setVisible(self.show_real.isChecked())
        self.fake_item.setVisible(self.show_fake.isChecked())

    def apply_theme(self) -> None:
        palette = QGuiApplication.palette()
        background = palette.color(QPalette.ColorRole.Base)
        dark = background.lightness() < 128
        self.plot_widget.setBackground(background)
        stops = _DARK_STOPS if dark else _LIGHT_STOPS
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [QColor(c) for c in stops])
        self.heatmap.setLookupTable(cmap.getLookupTable(nPts=256))
        text = palette.color(QPalette.ColorRole.WindowText)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen(pg.mkPen(text))
            self.plot.getAxis(axis).setPen(pg.mkPen(text.darker(130)))
