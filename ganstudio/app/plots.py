"""Live training curves: losses, D's outputs and gradient norms (pyqtgraph).

Metrics are appended to a :class:`~ganstudio.app.metric_store.MetricStore` as they arrive; the
curves are redrawn by one timer, only when something changed. Curves use peak downsampling and
clip-to-view, and smoothing is computed incrementally, so a million-step run stays smooth.
"""

from __future__ import annotations

import html
from typing import Any, Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio.app.metric_store import MetricStore, PeakDecimator, SmoothedSeries
from ganstudio.app.theme import D_COLOUR, FAKE_COLOUR, G_COLOUR, REAL_COLOUR

REDRAW_INTERVAL_MS = 500   # curves refresh twice a second: live to the eye, cheap for the GUI
RAW_POINTS_LIMIT = 2000   # more rows than this in view are drawn as a min/max envelope

# plot key -> (title, [(series, legend label, colour)], log-scale allowed)
PLOTS: dict[str, tuple[str, list[tuple[str, str, str]], bool]] = {
    "loss": ("Loss", [("d_loss", "D loss", D_COLOUR), ("g_loss", "G loss", G_COLOUR)], True),
    "output": ("D output", [("d_real", "D(x)", REAL_COLOUR),
                                        ("d_fake", "D(G(z))", FAKE_COLOUR)], False),
    "grad": ("Gradient norm", [("grad_norm_d", "‖∇D‖", D_COLOUR),
                               ("grad_norm_g", "‖∇G‖", G_COLOUR)], True),
}
READOUT_LABELS = {"d_loss": "D loss", "g_loss": "G loss", "d_real": "D(x)", "d_fake": "D(G(z))",
                  "grad_norm_d": "‖∇D‖", "grad_norm_g": "‖∇G‖"}


class PlotsPanel(QWidget):
    """Three linked plots with smoothing, log scale and a hover readout.

    Every tick of the display timer compares what is shown (data revision, smoothing, rows in
    view) with what should be; a zoom or pan is picked up by the next tick like new data.
    """

    redrawn = Signal()

    def __init__(self, smoothing: float = 0.6, log_scale: bool = False,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("plotsPanel")
        self.store = MetricStore()
        self._smoothed = {name: SmoothedSeries(self.store, name)
                          for _t, series, _l in PLOTS.values() for name, _lab, _c in series}
        self._drawn: tuple = ()
        self._following = True          # showing the whole run, until the person zooms
        self._drawn_weight = -1.0
        self._truncations = self.store.truncated_at
        names = list(self._smoothed)
        self._raw_peaks = {name: PeakDecimator() for name in names}
        self._smooth_peaks = {name: PeakDecimator() for name in names}
        self._output_kind = "probability"
        self._build(smoothing, log_scale)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    # ----- layout -------------------------------------------------------------------------------
    def _build(self, smoothing: float, log_scale: bool) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Smoothing"))
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setObjectName("plotSmoothing")
        self.smoothing_slider.setAccessibleName("Curve smoothing")
        self.smoothing_slider.setToolTip("Exponential moving average of the curves, like "
                                         "TensorBoard's smoothing (0 shows raw values; the raw "
                                         "curve stays visible, faint)")
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(smoothing * 100))
        self.smoothing_slider.setMaximumWidth(160)
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_changed)
        bar.addWidget(self.smoothing_slider)
        self.smoothing_label = QLabel()
        self.smoothing_label.setMinimumWidth(32)
        bar.addWidget(self.smoothing_label)
        self.log_check = QCheckBox("Log scale")
        self.log_check.setObjectName("plotLogScale")
        self.log_check.setAccessibleName("Logarithmic loss and gradient axes")
        self.log_check.setToolTip("Logarithmic y axis for the loss and gradient-norm plots")
        self.log_check.setChecked(log_scale)
        self.log_check.toggled.connect(self._apply_log_mode)
        bar.addWidget(self.log_check)
        bar.addStretch(1)
        self.fit_button = QToolButton()
        self.fit_button.setObjectName("plotAutoRange")
        self.fit_button.setText("Fit")
        self.fit_button.setAccessibleName("Fit the plots to the data")
        self.fit_button.setToolTip("Show the whole run again after zooming (mouse wheel zooms, "
                                   "dragging pans, right-click for more)")
        self.fit_button.clicked.connect(self.auto_range)
        bar.addWidget(self.fit_button)
        layout.addLayout(bar)

        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("plotsView")
        self.view.setAccessibleName("Training curves")
        self.view.setToolTip("")
        self.view.ci.layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        self.readout = QLabel(" ")
        self.readout.setObjectName("plotReadout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setWordWrap(True)
        layout.addWidget(self.readout)

        self._titles: dict[str, str] = {}
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.raw_curves: dict[str, pg.PlotDataItem] = {}
        self._cursors: list[pg.InfiniteLine] = []
        first = None
        for row, (key, (title, series, _log)) in enumerate(PLOTS.items()):
            plot = self.view.addPlot(row=row, col=0)
            plot.setMinimumSize(120, 60)
            self._titles[key] = title
            plot.showGrid(x=False, y=True, alpha=0.15)  # vertical grid lines cost paint time
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.setMenuEnabled(True)
            for name, label, colour in series:
                faint = QColor(colour)
                faint.setAlpha(60)
                raw = plot.plot(pen=pg.mkPen(faint, width=1))
                curve = plot.plot(pen=pg.mkPen(colour, width=1.6), name=label)
                for item in (raw, curve):
                    item.setDownsampling(auto=True, method="peak")
                    item.setClipToView(True)
                self.curves[name] = curve
                self.raw_curves[name] = raw
            cursor = pg.InfiniteLine(angle=90, movable=False,
                                     pen=pg.mkPen((127, 127, 127, 140), width=1))
            cursor.hide()
            plot.addItem(cursor, ignoreBounds=True)
            self._cursors.append(cursor)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            plot.vb.sigRangeChangedManually.connect(self._on_manual_range)
            self.plots[key] = plot
        self._horizontal: bool | None = None
        self._arrange(horizontal=False)
        self._empty_note = pg.TextItem("Curves appear here\nonce training starts",
                                       anchor=(0.5, 0.5))
        self._empty_note.setPos(0.5, 0.5)
        self.plots["loss"].addItem(self._empty_note, ignoreBounds=True)
        self._mouse_proxy = pg.SignalProxy(self.view.scene().sigMouseMoved, rateLimit=30,
                                           slot=self._on_mouse_moved)
        self._on_smoothing_changed(self.smoothing_slider.value())
        self._apply_log_mode(log_scale)
        self.apply_theme()

    def _arrange(self, horizontal: bool) -> None:
        """Side by side in a wide dock (under the gallery), stacked in a tall one."""
        if horizontal == self._horizontal:
            return
        self._horizontal = horizontal
        layout = self.view.ci
        for plot in self.plots.values():
            layout.removeItem(plot)
        last = len(self.plots) - 1
        for i, plot in enumerate(self.plots.values()):
            if horizontal:
                layout.addItem(plot, row=0, col=i)
            else:
                layout.addItem(plot, row=i, col=0)
            plot.getAxis("bottom").setStyle(showValues=horizontal or i == last)
            plot.setLabel("bottom", "step" if horizontal or i == last else None)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        size = event.size()
        # Side by side only when each plot gets a useful width.
        self._arrange(horizontal=size.width() >= 600 and size.width() > 1.6 * size.height())

    # ----- data ---------------------------------------------------------------------------------
    def append(self, metrics: Iterable[Any]) -> None:
        """StepMetrics events (or metrics.jsonl rows); drawn at the next timer tick."""
        self.store.append(metrics)

    def set_history(self, rows: Iterable[Any]) -> None:
        self.store.clear()
        self.store.append(rows)
        self.redraw()
        self.auto_range()

    def truncate_after(self, step: int) -> None:
        self.store.truncate_after(step)

    def clear(self) -> None:
        self.store.clear()
        self.readout.setText(" ")
        self.redraw()

    def set_output_kind(self, kind: str) -> None:
        """``probability``: D(x) is in [0, 1]; ``score``: an unbounded critic value."""
        self._output_kind = kind
        plot = self.plots["output"]
        if kind == "probability":
            self._titles["output"] = "D output"
            plot.setYRange(0, 1, padding=0.02)
            plot.enableAutoRange(y=False)
        else:
            self._titles["output"] = "Critic score"
            plot.enableAutoRange(y=True)
        self._set_titles()

    @property
    def smoothing(self) -> float:
        return self.smoothing_slider.value() / 100

    @property
    def log_scale(self) -> bool:
        return self.log_check.isChecked()

    @property
    def point_count(self) -> int:
        return len(self.store)

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """What is drawn for a series now (x, y), full resolution."""
        curve = self.curves[name]
        x, y = curve.xData, curve.yData
        if x is None:
            return np.empty(0), np.empty(0)
        return np.asarray(x), np.asarray(y)

    # ----- drawing ------------------------------------------------------------------------------
    def redraw(self, force: bool = False) -> None:
        """Push what changed to the curves (the display timer calls this)."""
        if not force and not self.isVisible():
            return  # a hidden dock or tab: catch up when shown
        first, last = self._visible_rows()
        weight = self.smoothing
        state = (self.store.revision, weight, self.store.truncated_at, first, last)
        if state == self._drawn:
            return
        if self.store.truncated_at != self._truncations:
            self._truncations = self.store.truncated_at
            for decimator in (*self._raw_peaks.values(), *self._smooth_peaks.values()):
                decimator.reset()
        if weight != self._drawn_weight:
            self._drawn_weight = weight
            for decimator in self._smooth_peaks.values():
                decimator.reset()
        self._drawn = state
        if self._following:
            # Linked views switch each other's auto-range off; following means "show it all".
            for plot in self.plots.values():
                plot.vb.enableAutoRange(x=True)
        steps = self.store.steps
        self._empty_note.setVisible(len(steps) == 0)
        for name, curve in self.curves.items():
            raw = self.store.column(name)
            raw_x, raw_y = self._decimated(self._raw_peaks[name], steps, raw, first, last)
            if weight > 0:
                smoothed = self._smoothed[name].values(weight)
                x, y = self._decimated(self._smooth_peaks[name], steps, smoothed, first, last)
                curve.setData(x, y, connect="finite")
                self.raw_curves[name].setData(raw_x, raw_y, connect="finite")
                self.raw_curves[name].show()
            else:
                curve.setData(raw_x, raw_y, connect="finite")
                self.raw_curves[name].hide()
        self.redrawn.emit()

    def _visible_rows(self) -> tuple[int, int]:
        """Rows in view: everything while the plots follow the run, else the zoomed window."""
        count = len(self.store)
        box = self.plots["loss"].vb
        if self._following or count == 0:
            return 0, count
        x0, x1 = box.viewRange()[0]
        steps = self.store.steps
        first = max(0, int(np.searchsorted(steps, x0)) - 1)
        last = min(count, int(np.searchsorted(steps, x1)) + 1)
        return first, last

    @staticmethod
    def _decimated(decimator: PeakDecimator, steps: np.ndarray, values: np.ndarray,
                   first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw points when few are in view, else the min/max envelope (a few thousand)."""
        if last - first <= RAW_POINTS_LIMIT:
            return steps[first:last], values[first:last]
        decimator.update(values)
        return decimator.envelope(steps, values, first, last)

    def _on_manual_range(self, *_args) -> None:
        self._following = False

    def auto_range(self) -> None:
        self._following = True
        for key, plot in self.plots.items():
            if key == "output" and self._output_kind == "probability":
                plot.enableAutoRange(x=True, y=False)
            else:
                plot.enableAutoRange()

    def _on_smoothing_changed(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self.redraw()

    def _apply_log_mode(self, on: bool) -> None:
        for key, (_title, _series, allowed) in PLOTS.items():
            if allowed:
                self.plots[key].setLogMode(y=on)

    def _set_titles(self) -> None:
        """Titles double as legends: each series' name in its curve's colour."""
        text = QGuiApplication.palette().color(QPalette.ColorRole.WindowText).name()
        for key, (_title, series, _log) in PLOTS.items():
            keys = "&nbsp;&nbsp;".join(f"<span style='color:{colour}'>━ {html.escape(label)}"
                                       "</span>" for _name, label, colour in series)
            title = html.escape(self._titles.get(key, _title))
            self.plots[key].setTitle(f"<span style='color:{text}'>{title}</span>"
                                     f"&nbsp;&nbsp;&nbsp;{keys}", size="9pt")

    def apply_theme(self) -> None:
        palette = QGuiApplication.palette()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.WindowText)
        self.view.setBackground(background)
        for plot in self.plots.values():
            for axis in ("left", "bottom"):
                ax = plot.getAxis(axis)
                ax.setPen(pg.mkPen(text.darker(110) if background.lightness() > 128
                                   else text.darker(140)))
                ax.setTextPen(pg.mkPen(text))
        self._set_titles()
        self._empty_note.setColor(palette.color(QPalette.ColorGroup.Disabled,
                                                QPalette.ColorRole.WindowText))

    # ----- hover readout ------------------------------------------------------------------------
    def _on_mouse_moved(self, event: tuple) -> None:
        position = event[0]
        for plot in self.plots.values():
            if plot.sceneBoundingRect().contains(position):
                step = plot.vb.mapSceneToView(position).x()
                self.show_readout_at(step)
                return
        for cursor in self._cursors:
            cursor.hide()

    def show_readout_at(self, step: float) -> None:
        index = self.store.index_near(step)
        if index is None:
            return
        at = float(self.store.steps[index])
        weight = self.smoothing
        parts = [f"<b>step {at:,.0f}</b>"]
        for name, label in READOUT_LABELS.items():
            value = (self._smoothed[name].values(weight)[index] if weight > 0
                     else self.store.column(name)[index])
            parts.append(f"{label} {_fmt(value)}")
        self.readout.setText(" · ".join(parts))
        for cursor in self._cursors:
            cursor.setValue(at)
            cursor.show()


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "–"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
