"""Metric columns and TensorBoard-style smoothing (pure numpy, no window)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganstudio.app.metric_store import MetricStore, SmoothedSeries, smooth


def _reference(values, weight):
    num = den = 0.0
    out = []
    for v in values:
        if math.isfinite(v):
            num = weight * num + (1 - weight) * v
            den = weight * den + (1 - weight)
        out.append(num / den if den > 0 else math.nan)
    return np.array(out)


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.9, 0.99, 0.999])
def test_smoothing_matches_the_step_by_step_definition_and_skips_nan(weight):
    values = np.random.default_rng(1).normal(3.0, 2.0, size=3000)
    values[[0, 17, 1500]] = np.nan
    got, _state = smooth(values, weight)
    want = values if weight == 0 else _reference(values, weight)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_smoothing_in_chunks_equals_smoothing_at_once():
    values = np.random.default_rng(2).normal(size=1000)
    whole, _ = smooth(values, 0.95)
    first, state = smooth(values[:333], 0.95)
    rest, _ = smooth(values[333:], 0.95, state)
    np.testing.assert_allclose(np.concatenate([first, rest]), whole, rtol=1e-12)


def test_store_grows_truncates_and_finds_the_nearest_row():
    store = MetricStore(capacity=4)
    store.append({"step": s, "d_loss": s / 10, "g_loss": None} for s in range(10, 110, 10))
    assert len(store) == 10 and store.steps[-1] == 100
    assert math.isnan(store.column("g_loss")[0])          # a JSON null stays a gap
    assert store.index_near(44) == 3 and store.index_near(1000) == 9
    store.truncate_after(50)
    assert list(store.steps) == [10, 20, 30, 40, 50]
    series = SmoothedSeries(store, "d_loss")
    assert len(series.values(0.5)) == 5
    store.append([{"step": 60, "d_loss": 6.0}])
    np.testing.assert_allclose(series.values(0.5),
                               _reference(store.column("d_loss"), 0.5))


def test_peak_decimation_keeps_every_spike_and_stays_small():
    from ganstudio.app.metric_store import PeakDecimator

    rng = np.random.default_rng(3)
    values = rng.normal(size=100_003)
    values[[10, 55_555, 99_999]] = [50.0, -40.0, 30.0]        # spikes that must stay visible
    values[2000:2100] = np.nan
    steps = np.arange(len(values), dtype=np.float64) * 10
    decimator = PeakDecimator(max_bins=1024)
    for end in (7, 50_000, 100_003):                          # grows as a run does
        decimator.update(values[:end])
    x, y = decimator.envelope(steps, values)
    assert len(x) <= 2 * 1024 + decimator.bin_size
    assert np.nanmax(y) == 50.0 and np.nanmin(y) == -40.0 and 30.0 in y
    assert x[-1] == steps[-1] and np.all(np.diff(x) >= 0)
    # A zoomed-in window only returns the bins it overlaps.
    x_part, _ = decimator.envelope(steps, values, 50_000, 60_000)
    assert steps[49_000] <= x_part[0] <= steps[50_000] and x_part[-1] <= steps[60_000]
