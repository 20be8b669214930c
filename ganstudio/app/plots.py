"""Live training curves: losses, D's outputs, gradient norms and quality metrics (pyqtgraph).

Metrics are appended to a :class:`~ganstudio.app.metric_store.MetricStore` as they arrive; the
curves are redrawn by one timer, only when something changed. Curves use peak downsampling and
clip-to-view, and smoothing is computed incrementally, so a million-step run stays smooth.

The *Quality* plot shows one metric at a time (FD, KID, precision or recall), one curve per
feature extractor, each labelled with the extractor's name: values of different extractors are
never joined into one curve. Health alarms are drawn as red dashed lines at their step on every
plot (hover near one to read it); a fork's first step as a grey dotted line. Other runs can be
overlaid, dashed, to compare them. Right-clicking a plot offers "Fork from step N…".
"""

from __future__ import annotations

import bisect
import html
import math
import weakref
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio.app.metric_store import MetricStore, PeakDecimator, SmoothedSeries, smooth
from ganstudio.app.theme import D_COLOUR, ERROR_COLOUR, FAKE_COLOUR, G_COLOUR, REAL_COLOUR

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
# Quality metric -> short name (and whether a log axis suits it).
QUALITY_METRICS: dict[str, tuple[str, str, bool]] = {
    "fd": ("FD", "Fréchet distance (FID with inception-v3-fid): lower is better", True),
    "kid": ("KID", "Kernel inception distance (mean over subsets): lower is better", True),
    "precision": ("Precision", "Share of generated samples inside the real data's k-NN "
                  "manifold: are they realistic?", False),
    "recall": ("Recall", "Share of real samples inside the generated k-NN manifold: is the "
               "data covered?", False),
}
EXTRACTOR_COLOURS = {"random-conv-v1": "#1f9e89", "inception-v3-fid": "#c2410c",
                     "points-2d": "#8957e5"}
OTHER_EXTRACTOR_COLOURS = ("#b8860b", "#2563eb", "#be185d")
ALARM_COLOUR = ERROR_COLOUR
FORK_COLOUR = "#8b9097"
OVERLAY_STYLES = ((Qt.PenStyle.DashLine, "– –"), (Qt.PenStyle.DotLine, "···"),
                  (Qt.PenStyle.DashDotLine, "–·–"), (Qt.PenStyle.DashDotDotLine, "–··"))
MIN_PLOT_WIDTH, MIN_PLOT_HEIGHT = 250, 115


@dataclass
class OverlayRun:
    """Another run's history, drawn dashed over this one's curves. Build it off the GUI
    thread: the columns are made into arrays once, here."""

    name: str
    reports: list[dict[str, Any]] = field(default_factory=list, repr=False)
    quality: list[dict[str, Any]] = field(default_factory=list, repr=False)
    columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.columns["step"] = np.asarray([_number(r.get("step")) for r in self.reports])
        for name in READOUT_LABELS:
            self.columns[name] = np.asarray([_number(r.get(name)) for r in self.reports])

    @property
    def extractors(self) -> list[str]:
        return sorted({str(q.get("extractor")) for q in self.quality})

    def quality_column(self, extractor: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
        rows = [q for q in self.quality if str(q.get("extractor")) == extractor]
        return (np.asarray([_number(q.get("step")) for q in rows]),
                np.asarray([_number(q.get(metric)) for q in rows]))


@dataclass
class AlarmMarker:
    step: int
    kind: str
    title: str
    message: str
    lines: list[Any] = field(default_factory=list, repr=False)


class _StepViewBox(pg.ViewBox):
    """A plot's view box whose context menu starts with "Fork from step N…"."""

    def __init__(self, panel: "PlotsPanel"):
        super().__init__()
        self._panel = weakref.ref(panel)

    def getMenu(self, ev):
        menu = super().getMenu(ev)
        panel = self._panel()
        if panel is not None and menu is not None:
            panel._prepare_fork_action(menu, self.mapSceneToView(ev.scenePos()).x())
        return menu


def _extractor_colour(name: str, index: int) -> str:
    return EXTRACTOR_COLOURS.get(name, OTHER_EXTRACTOR_COLOURS[index % len(
        OTHER_EXTRACTOR_COLOURS)])


class PlotsPanel(QWidget):
    """Four linked plots with smoothing, log scale and a hover readout.

    Every tick of the display timer compares what is shown (data revision, smoothing, rows in
    view) with what should be; a zoom or pan is picked up by the next tick like new data.
    """

    redrawn = Signal()
    fork_requested = Signal(int)        # "Fork from step N…" chosen in a plot's menu

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
        # Quality: extractor -> columns (step, fd, kid, kid_std, precision, recall), by step.
        self._quality: dict[str, dict[str, list[float]]] = {}
        self.quality_curves: dict[str, pg.PlotDataItem] = {}
        self._alarms: list[AlarmMarker] = []
        self._fork_lines: list[Any] = []
        self._fork_point: tuple[int, str] | None = None
        self._overlays: list[tuple[OverlayRun, dict[str, pg.PlotDataItem]]] = []
        self._extra_revision = 0         # quality, overlays or the metric shown changed
        self._overlay_revision = 0
        self._overlays_drawn: tuple = ()
        self._fork_enabled = False
        self._fork_actions: dict[int, QAction] = {}
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
        bar.addSpacing(12)
        bar.addWidget(QLabel("Quality"))
        self.quality_combo = QComboBox()
        self.quality_combo.setObjectName("plotQualityMetric")
        self.quality_combo.setAccessibleName("Quality metric shown")
        self.quality_combo.setToolTip("Which quality metric the Quality plot shows. Each curve "
                                      "is labelled with the feature extractor that produced "
                                      "it; values of different extractors are never joined.")
        for key, (label, tip, _log) in QUALITY_METRICS.items():
            self.quality_combo.addItem(label, key)
            self.quality_combo.setItemData(self.quality_combo.count() - 1, tip,
                                           Qt.ItemDataRole.ToolTipRole)
        self.quality_combo.currentIndexChanged.connect(self._on_quality_metric_changed)
        bar.addWidget(self.quality_combo)
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
        self.overlay_legend = QLabel()
        self.overlay_legend.setObjectName("plotOverlayLegend")
        self.overlay_legend.setTextFormat(Qt.TextFormat.RichText)
        self.overlay_legend.setWordWrap(True)
        self.overlay_legend.hide()
        layout.addWidget(self.overlay_legend)

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
            plot = self.view.addPlot(row=row, col=0, viewBox=_StepViewBox(self))
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
        quality = self.view.addPlot(row=len(PLOTS), col=0, viewBox=_StepViewBox(self))
        quality.setMinimumSize(120, 60)
        quality.showGrid(x=False, y=True, alpha=0.15)
        quality.setMenuEnabled(True)
        quality.setXLink(first)
        quality.vb.sigRangeChangedManually.connect(self._on_manual_range)
        cursor = pg.InfiniteLine(angle=90, movable=False,
                                 pen=pg.mkPen((127, 127, 127, 140), width=1))
        cursor.hide()
        quality.addItem(cursor, ignoreBounds=True)
        self._cursors.append(cursor)
        self.plots["quality"] = quality
        self._quality_note = pg.TextItem("Quality metrics appear here\nevery metrics.every "
                                         "steps", anchor=(0.5, 0.5))
        self._quality_note.setPos(0.5, 0.5)
        quality.addItem(self._quality_note, ignoreBounds=True)
        self._layout_shape: tuple[int, int] | None = None
        self._arrange(columns=1)
        self._empty_note = pg.TextItem("Curves appear here\nonce training starts",
                                       anchor=(0.5, 0.5))
        self._empty_note.setPos(0.5, 0.5)
        self.plots["loss"].addItem(self._empty_note, ignoreBounds=True)
        self._mouse_proxy = pg.SignalProxy(self.view.scene().sigMouseMoved, rateLimit=30,
                                           slot=self._on_mouse_moved)
        self._on_smoothing_changed(self.smoothing_slider.value())
        self._apply_log_mode(log_scale)
        self.apply_theme()

    def _arrange(self, columns: int) -> None:
        """A grid of ``columns`` columns: side by side under the gallery, stacked in a tall
        dock, two by two in between."""
        count = len(self.plots)
        columns = max(1, min(count, columns))
        rows = math.ceil(count / columns)
        if (rows, columns) == self._layout_shape:
            return
        self._layout_shape = (rows, columns)
        layout = self.view.ci
        for plot in self.plots.values():
            layout.removeItem(plot)
        for i, plot in enumerate(self.plots.values()):
            row, col = divmod(i, columns)
            layout.addItem(plot, row=row, col=col)
            bottom = row == rows - 1 or (row == rows - 2 and i + columns >= count)
            plot.getAxis("bottom").setStyle(showValues=bottom or rows <= 2)
            plot.setLabel("bottom", "step" if bottom else None)

    @staticmethod
    def columns_for(width: int, height: int, count: int) -> int:
        """As many columns as keep each plot at least MIN_PLOT_WIDTH wide, then more if the
        rows would be too short to read."""
        columns = max(1, min(count, width // MIN_PLOT_WIDTH))
        while columns < count and height / math.ceil(count / columns) < MIN_PLOT_HEIGHT:
            columns += 1
        return columns

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        size = event.size()
        self._arrange(self.columns_for(size.width(), size.height() - 40, len(self.plots)))

    # ----- data ---------------------------------------------------------------------------------
    def append(self, metrics: Iterable[Any]) -> None:
        """StepMetrics events (or metrics.jsonl rows); drawn at the next timer tick."""
        self.store.append(metrics)

    def set_history(self, rows: Iterable[Any], quality: Iterable[Any] = (),
                    alarms: Iterable[Any] = ()) -> None:
        """A whole run: loss reports, then its quality lines and alarm lines (dicts as in
        metrics.jsonl, or events)."""
        self.store.clear()
        self.store.append(rows)
        self._quality.clear()
        self.append_quality(quality)
        self.set_alarms(alarms)
        self.redraw()
        self.auto_range()

    def truncate_after(self, step: int) -> None:
        self.store.truncate_after(step)
        for columns in self._quality.values():
            keep = bisect.bisect_right(columns["step"], step)
            for values in columns.values():
                del values[keep:]
        for marker in [m for m in self._alarms if m.step > step]:
            self._remove_marker(marker)
        self._extra_revision += 1

    def clear(self) -> None:
        self.store.clear()
        self._quality.clear()
        self.set_alarms(())
        self.set_fork_point(None)
        self._extra_revision += 1
        self.readout.setText(" ")
        self.redraw()

    # ----- quality ------------------------------------------------------------------------------
    def append_quality(self, results: Iterable[Any]) -> None:
        """QualityMetrics events or ``"kind": "quality"`` lines; one curve per extractor."""
        for result in results:
            get = result.get if isinstance(result, dict) else \
                (lambda k, r=result: getattr(r, k, None))
            extractor = str(get("extractor") or "?")
            columns = self._quality.setdefault(extractor, {k: [] for k in (
                "step", "fd", "kid", "kid_std", "precision", "recall")})
            step = float(get("step") or 0)
            at = bisect.bisect_left(columns["step"], step)  # in step order (usually the end)
            if at < len(columns["step"]) and columns["step"][at] == step:
                for values in columns.values():
                    del values[at]
            for key, values in columns.items():
                value = get(key)
                values.insert(at, float(value) if value is not None else math.nan)
        self._extra_revision += 1

    @property
    def quality_extractors(self) -> list[str]:
        return list(self._quality)

    @property
    def quality_metric(self) -> str:
        return str(self.quality_combo.currentData())

    def set_quality_metric(self, key: str) -> None:
        self.quality_combo.setCurrentIndex(self.quality_combo.findData(key))

    def quality_data(self, extractor: str, metric: str | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        columns = self._quality.get(extractor)
        if columns is None:
            return np.empty(0), np.empty(0)
        return (np.asarray(columns["step"]),
                np.asarray(columns[metric or self.quality_metric], dtype=np.float64))

    def _on_quality_metric_changed(self, _index: int) -> None:
        self._apply_log_mode(self.log_check.isChecked())
        self._extra_revision += 1
        self._set_titles()
        self.redraw()

    def _draw_quality(self) -> None:
        metric = self.quality_metric
        plot = self.plots["quality"]
        for index, extractor in enumerate(self._quality):
            curve = self.quality_curves.get(extractor)
            colour = _extractor_colour(extractor, index)
            if curve is None:
                curve = plot.plot(pen=pg.mkPen(colour, width=1.6), symbol="o", symbolSize=5,
                                  symbolBrush=colour, symbolPen=None)
                self.quality_curves[extractor] = curve
            x, y = self.quality_data(extractor, metric)
            curve.setData(x, y, connect="finite")
        for extractor in [e for e in self.quality_curves if e not in self._quality]:
            plot.removeItem(self.quality_curves.pop(extractor))
        self._quality_note.setVisible(not self._quality)
        self._set_titles()

    # ----- alarms and the fork point ------------------------------------------------------------
    def add_alarm(self, step: int, kind: str, title: str, message: str) -> AlarmMarker:
        """A red dashed line at ``step`` on every plot; hovering near it tells what it was."""
        marker = AlarmMarker(int(step), kind, title, message)
        tip = f"⚠ {title} at step {int(step):,}\n{message}"
        for plot in self.plots.values():
            line = pg.InfiniteLine(pos=step, angle=90, movable=False,
                                   pen=pg.mkPen(ALARM_COLOUR, width=1.5,
                                                style=Qt.PenStyle.DashLine),
                                   label="⚠", labelOpts={"position": 0.92,
                                                         "color": ALARM_COLOUR,
                                                         "movable": False})
            line.setToolTip(tip)
            line.setZValue(20)
            plot.addItem(line, ignoreBounds=True)
            marker.lines.append(line)
        self._alarms.append(marker)
        return marker

    def set_alarms(self, alarms: Iterable[Any]) -> None:
        """Replace the markers with these HealthAlarm events or alarm lines."""
        for marker in list(self._alarms):
            self._remove_marker(marker)
        for alarm in alarms:
            get = alarm.get if isinstance(alarm, dict) else \
                (lambda k, a=alarm: getattr(a, k, None))
            kind = get("alarm") if isinstance(alarm, dict) else get("kind")
            self.add_alarm(int(get("step") or 0), str(kind or ""), str(get("title") or kind),
                           str(get("message") or ""))

    def _remove_marker(self, marker: AlarmMarker) -> None:
        for plot, line in zip(self.plots.values(), marker.lines):
            plot.removeItem(line)
        self._alarms.remove(marker)

    @property
    def alarm_markers(self) -> list[AlarmMarker]:
        return list(self._alarms)

    def set_fork_point(self, fork: tuple[int, str] | None) -> None:
        """``(step, parent name)``: a grey dotted line where a fork left its parent."""
        for plot, line in zip(self.plots.values(), self._fork_lines):
            plot.removeItem(line)
        self._fork_lines = []
        self._fork_point = fork
        if fork is None:
            return
        step, parent = fork
        for plot in self.plots.values():
            line = pg.InfiniteLine(pos=step, angle=90, movable=False,
                                   pen=pg.mkPen(FORK_COLOUR, width=1.2,
                                                style=Qt.PenStyle.DotLine))
            line.setToolTip(f"Forked from {parent} at step {step:,}; the curve before it is "
                            "the parent's")
            plot.addItem(line, ignoreBounds=True)
            self._fork_lines.append(line)

    @property
    def fork_point(self) -> tuple[int, str] | None:
        return self._fork_point

    # ----- overlays -----------------------------------------------------------------------------
    def set_overlays(self, runs: Iterable[OverlayRun]) -> None:
        """Draw these runs' curves dashed over this run's (an empty list removes them)."""
        for _run, items in self._overlays:
            for name, item in items.items():
                self._plot_of(name).removeItem(item)
        self._overlays = []
        legend = []
        for index, run in enumerate(runs):
            style, glyph = OVERLAY_STYLES[index % len(OVERLAY_STYLES)]
            items: dict[str, pg.PlotDataItem] = {}
            for key, (_title, series, _log) in PLOTS.items():
                for name, _label, colour in series:
                    item = self.plots[key].plot(pen=pg.mkPen(colour, width=1.3, style=style))
                    item.setDownsampling(auto=True, method="peak")
                    item.setClipToView(True)
                    items[name] = item
            for e_index, extractor in enumerate(run.extractors):
                colour = _extractor_colour(extractor, e_index)
                items[f"quality:{extractor}"] = self.plots["quality"].plot(
                    pen=pg.mkPen(colour, width=1.3, style=style), symbol="t", symbolSize=6,
                    symbolBrush=None, symbolPen=pg.mkPen(colour))
            self._overlays.append((run, items))
            legend.append(f"<b>{glyph}</b>&nbsp;{html.escape(run.name)}")
        self.overlay_legend.setText("Compared with: " + "&nbsp;&nbsp;&nbsp;".join(legend))
        self.overlay_legend.setVisible(bool(legend))
        self.overlay_legend.setToolTip("Dashed and dotted curves are other runs, ticked in the "
                                       "Runs list; the plot colours stay the series' colours")
        self._extra_revision += 1
        self._overlay_revision += 1
        self.redraw(force=True)

    @property
    def overlay_names(self) -> list[str]:
        return [run.name for run, _items in self._overlays]

    def overlay_data(self, run_name: str, series: str) -> tuple[np.ndarray, np.ndarray]:
        for run, items in self._overlays:
            if run.name == run_name and series in items:
                x, y = items[series].xData, items[series].yData
                return (np.empty(0), np.empty(0)) if x is None else (np.asarray(x),
                                                                     np.asarray(y))
        return np.empty(0), np.empty(0)

    def _plot_of(self, series: str) -> pg.PlotItem:
        if series.startswith("quality:"):
            return self.plots["quality"]
        for key, (_title, names, _log) in PLOTS.items():
            if any(name == series for name, _l, _c in names):
                return self.plots[key]
        raise KeyError(series)

    def _draw_overlays(self, weight: float) -> None:
        metric = self.quality_metric
        for run, items in self._overlays:
            steps = run.columns["step"]
            for name in READOUT_LABELS:
                values = run.columns[name]
                if weight > 0 and len(values):
                    values, _state = smooth(values, weight)
                items[name].setData(steps, values, connect="finite")
            for key, item in items.items():
                if key.startswith("quality:"):
                    item.setData(*run.quality_column(key.split(":", 1)[1], metric),
                                 connect="finite")

    # ----- "Fork from step N…" ------------------------------------------------------------------
    def set_fork_enabled(self, enabled: bool, reason: str = "") -> None:
        """Whether the plots' menus offer forking (a run with snapshots is open)."""
        self._fork_enabled = enabled
        self._fork_disabled_reason = reason

    def snap_step(self, x: float) -> int:
        """The reported step nearest to ``x`` (the clicked point), or ``x`` rounded."""
        index = self.store.index_near(x)
        return int(self.store.steps[index]) if index is not None else max(0, int(round(x)))

    def _prepare_fork_action(self, menu, x: float) -> QAction:
        step = self.snap_step(x)
        action = self._fork_actions.get(id(menu))
        if action is None:
            action = QAction(menu)
            action.setObjectName("plotForkAction")
            action.triggered.connect(lambda _checked=False, a=action: self.fork_requested.emit(
                int(a.data())))
            first = menu.actions()[0] if menu.actions() else None
            menu.insertAction(first, action)
            menu.insertSeparator(first)
            self._fork_actions[id(menu)] = action
        action.setData(step)
        action.setText(f"Fork from step {step:,}…")
        action.setEnabled(self._fork_enabled)
        action.setToolTip("Continue this run from the nearest snapshot at or before this step "
                          "in a new run folder, with hyperparameters you choose"
                          if self._fork_enabled else getattr(self, "_fork_disabled_reason", ""))
        return action

    def context_menu_at(self, x: float, key: str = "loss"):
        """The menu a right-click at step ``x`` on plot ``key`` shows (prepared, not shown)."""
        menu = self.plots[key].vb.menu
        self._prepare_fork_action(menu, x)
        return menu

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
        state = (self.store.revision, weight, self.store.truncated_at, first, last,
                 self._extra_revision)
        if state == self._drawn:
            return
        extra_changed = not self._drawn or self._drawn[-1] != self._extra_revision \
            or self._drawn[1] != weight
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
        if extra_changed:
            self._draw_quality()
            overlay_state = (self._overlay_revision, weight, self.quality_metric)
            if overlay_state != self._overlays_drawn:  # smoothing long overlays costs: only
                self._overlays_drawn = overlay_state   # when they, the weight or metric change
                self._draw_overlays(weight)
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
        metric = QUALITY_METRICS.get(self.quality_metric)
        self.plots["quality"].setLogMode(y=on and metric is not None and metric[2])

    def _set_titles(self) -> None:
        """Titles double as legends: each series' name in its curve's colour."""
        text = QGuiApplication.palette().color(QPalette.ColorRole.WindowText).name()
        for key, (_title, series, _log) in PLOTS.items():
            keys = "&nbsp;&nbsp;".join(f"<span style='color:{colour}'>━ {html.escape(label)}"
                                       "</span>" for _name, label, colour in series)
            title = html.escape(self._titles.get(key, _title))
            self.plots[key].setTitle(f"<span style='color:{text}'>{title}</span>"
                                     f"&nbsp;&nbsp;&nbsp;{keys}", size="9pt")
        # Quality: the metric, and per curve the extractor that produced it.
        short = QUALITY_METRICS[self.quality_metric][0]
        curves = [f"<span style='color:{_extractor_colour(e, i)}'>━ {short} "
                  f"({html.escape(e)})</span>" for i, e in enumerate(self._quality)]
        label = "&nbsp;&nbsp;".join(curves) if curves else f"{short} (no values yet)"
        self.plots["quality"].setTitle(f"<span style='color:{text}'>Quality</span>"
                                       f"&nbsp;&nbsp;&nbsp;{label}", size="9pt")

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
        for note in (self._empty_note, self._quality_note):
            note.setColor(palette.color(QPalette.ColorGroup.Disabled,
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
        parts.extend(self._quality_readout(at))
        parts.extend(self._alarm_readout(step))
        self.readout.setText(" · ".join(parts))
        for cursor in self._cursors:
            cursor.setValue(at)
            cursor.show()


    def _quality_readout(self, step: float) -> list[str]:
        """The newest quality value at or before ``step`` per extractor, named with it."""
        metric = self.quality_metric
        short = QUALITY_METRICS[metric][0]
        parts = []
        for extractor, columns in self._quality.items():
            i = bisect.bisect_right(columns["step"], step) - 1
            if i >= 0:
                parts.append(f"{short} ({html.escape(extractor)}) "
                             f"{_fmt(columns[metric][i])} at step {columns['step'][i]:,.0f}")
        return parts

    def _alarm_readout(self, x: float) -> list[str]:
        """Alarms drawn within a few pixels' worth of steps of the pointer."""
        x0, x1 = self.plots["loss"].vb.viewRange()[0]
        near = max(1.0, (x1 - x0) * 0.015)
        return [f"<span style='color:{ALARM_COLOUR}'>⚠ {html.escape(m.title)} at step "
                f"{m.step:,}: {html.escape(m.message)}</span>"
                for m in self._alarms if abs(m.step - x) <= near]


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "–"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
