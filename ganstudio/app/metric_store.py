"""Growing numpy columns of training metrics, and TensorBoard-style smoothing (no Qt).

A million-step run reporting every 10 steps is 100,000 rows per series: kept in arrays that
double in capacity, appended in O(1), and smoothed incrementally so a redraw never re-walks the
whole history.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np

SERIES = ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g")


class MetricStore:
    """Columns ``step`` + :data:`SERIES`, appended row by row, views without copies."""

    def __init__(self, capacity: int = 1024):
        self._size = 0
        self._steps = np.empty(capacity, dtype=np.float64)
        self._columns = {name: np.empty(capacity, dtype=np.float64) for name in SERIES}
        self.revision = 0          # bumps on every change, so views know when to redraw
        self.truncated_at = 0      # bumps when rows are removed (smoothing must restart)

    def __len__(self) -> int:
        return self._size

    def _grow(self, need: int) -> None:
        capacity = len(self._steps)
        if need <= capacity:
            return
        while capacity < need:
            capacity *= 2
        steps = np.empty(capacity, dtype=np.float64)
        steps[:self._size] = self._steps[:self._size]
        self._steps = steps
        for name, column in self._columns.items():
            grown = np.empty(capacity, dtype=np.float64)
            grown[:self._size] = column[:self._size]
            self._columns[name] = grown

    def append(self, rows: Iterable[Any]) -> int:
        """Append StepMetrics events or metrics.jsonl dicts; returns how many were added."""
        rows = list(rows)
        if not rows:
            return 0
        self._grow(self._size + len(rows))
        start = self._size
        for i, row in enumerate(rows, start):
            get = row.get if isinstance(row, Mapping) else lambda k, r=row: getattr(r, k, None)
            self._steps[i] = _number(get("step"))
            for name, column in self._columns.items():
                column[i] = _number(get(name))
        self._size += len(rows)
        self.revision += 1
        return len(rows)

    def truncate_after(self, step: float) -> None:
        """Drop rows with a step greater than ``step`` (a resumed run rewrites them)."""
        keep = int(np.searchsorted(self._steps[:self._size], step, side="right"))
        if keep < self._size:
            self._size = keep
            self.revision += 1
            self.truncated_at += 1

    def clear(self) -> None:
        self._size = 0
        self.revision += 1
        self.truncated_at += 1

    @property
    def steps(self) -> np.ndarray:
        return self._steps[:self._size]

    def column(self, name: str) -> np.ndarray:
        return self._columns[name][:self._size]

    def index_near(self, step: float) -> int | None:
        """Row whose step is nearest to ``step`` (for the hover readout)."""
        if not self._size:
            return None
        steps = self.steps
        i = int(np.searchsorted(steps, step))
        if i >= self._size:
            return self._size - 1
        if i > 0 and abs(steps[i - 1] - step) <= abs(steps[i] - step):
            return i - 1
        return i

    def last(self, name: str) -> float | None:
        return float(self._columns[name][self._size - 1]) if self._size else None


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


_BLOCK = 256


def smooth(values: np.ndarray, weight: float, state: tuple[float, float] = (0.0, 0.0)
           ) -> tuple[np.ndarray, tuple[float, float]]:
    """Debiased exponential moving average, as TensorBoard's smoothing slider computes it.

    ``y[t] = num[t] / den[t]`` with ``num[t] = w * num[t-1] + (1 - w) * x[t]`` and ``den`` the
    same recursion on ones, so early values are not pulled towards zero. Non-finite inputs are
    skipped (the average carries over them). ``state`` is ``(num, den)`` after the previous
    chunk; the new state is returned so a growing series is smoothed incrementally.

    Vectorised blockwise: inside a block the recursion is a cumulative sum scaled by powers of
    ``w``, and blocks are short enough that ``w ** -block`` stays far from overflow.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    num, den = state
    if weight <= 0:
        finite = np.isfinite(values)
        out[:] = values
        # With no smoothing a NaN stays a gap; the state still follows the last finite value.
        if finite.any():
            last = values[finite][-1]
            num, den = last, 1.0
        return out, (num, den)
    w = min(float(weight), 0.999999)
    block = max(1, min(_BLOCK, int(300 / max(-math.log(w), 1e-12)) or 1))
    for start in range(0, len(values), block):
        x = values[start:start + block]
        finite = np.isfinite(x)
        # Per-element decay: w where the value counts, 1 where it is skipped.
        log_decay = np.where(finite, math.log(w), 0.0)
        cum = np.cumsum(log_decay)                 # log of prod(decay[0..t])
        scale = np.exp(cum)                        # prod(decay[0..t])
        gain = np.where(finite, 1.0 - w, 0.0)
        xs = np.where(finite, x, 0.0)
        inv = np.exp(-cum)
        num_t = scale * (num + np.cumsum(gain * xs * inv))
        den_t = scale * (den + np.cumsum(gain * inv))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + len(x)] = np.where(den_t > 0, num_t / den_t, np.nan)
        num, den = float(num_t[-1]), float(den_t[-1])
    return out, (num, den)


class SmoothedSeries:
    """Keeps the smoothed copy of one store column up to date with as little work as possible."""

    def __init__(self, store: MetricStore, name: str):
        self.store = store
        self.name = name
        self._weight = -1.0
        self._truncations = -1
        self._done = 0
        self._state = (0.0, 0.0)
        self._values = np.empty(0, dtype=np.float64)

    def values(self, weight: float) -> np.ndarray:
        store = self.store
        if weight != self._weight or store.truncated_at != self._truncations:
            self._weight, self._truncations = weight, store.truncated_at
            self._done, self._state = 0, (0.0, 0.0)
        size = len(store)
        if len(self._values) < size:
            grown = np.empty(max(size, 2 * len(self._values), 1024), dtype=np.float64)
            grown[:self._done] = self._values[:self._done]
            self._values = grown
        if self._done < size:
            chunk, self._state = smooth(store.column(self.name)[self._done:size], weight,
                                        self._state)
            self._values[self._done:size] = chunk
            self._done = size
        return self._values[:size]


class PeakDecimator:
    """Min/max envelope of a growing series, so a million-step run draws as a few thousand
    points.

    Complete bins of ``bin_size`` raw points are reduced to their minimum and maximum once; when
    there are more than ``max_bins`` bins the bin size doubles by merging neighbours, so each
    redraw costs O(new points + max_bins), never O(run length). Spikes survive (that is what
    "peak" decimation is for); NaNs are skipped unless a whole bin is NaN.
    """

    def __init__(self, max_bins: int = 1024):
        self.max_bins = max_bins
        self.reset()

    def reset(self) -> None:
        self.bin_size = 1
        self.done = 0                                   # raw points folded into bins
        self._mins = np.empty(0, dtype=np.float64)
        self._maxs = np.empty(0, dtype=np.float64)

    @property
    def bins(self) -> int:
        return len(self._mins)

    def update(self, values: np.ndarray) -> None:
        """Fold in what was appended to ``values`` since the last call."""
        n = len(values)
        if n < self.done:
            self.reset()
        while n // self.bin_size > self.max_bins:
            pairs = len(self._mins) // 2
            self._mins = np.fmin(self._mins[0:2 * pairs:2], self._mins[1:2 * pairs:2])
            self._maxs = np.fmax(self._maxs[0:2 * pairs:2], self._maxs[1:2 * pairs:2])
            self.bin_size *= 2
            self.done = pairs * self.bin_size           # an unpaired last bin is redone
        complete = (n - self.done) // self.bin_size
        if complete:
            block = values[self.done:self.done + complete * self.bin_size]
            block = block.reshape(complete, self.bin_size)
            with np.errstate(invalid="ignore"):
                self._mins = np.concatenate([self._mins, np.fmin.reduce(block, axis=1)])
                self._maxs = np.concatenate([self._maxs, np.fmax.reduce(block, axis=1)])
            self.done += complete * self.bin_size

    def envelope(self, steps: np.ndarray, values: np.ndarray, first: int = 0,
                 last: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` covering raw rows ``first..last``: min and max per bin, then the raw
        points not yet in a complete bin. Call :meth:`update` with ``values`` first."""
        last = len(values) if last is None else last
        size = self.bin_size
        b0, b1 = first // size, min(self.bins, -(-last // size))
        xs = steps[b0 * size:b1 * size:size]
        x = np.repeat(xs, 2)
        y = np.empty(2 * len(xs), dtype=np.float64)
        y[0::2] = self._mins[b0:b1]
        y[1::2] = self._maxs[b0:b1]
        tail = max(self.done, first)
        if tail < last:
            x = np.concatenate([x, steps[tail:last]])
            y = np.concatenate([y, values[tail:last]])
        return x, y
