"""Health alarms fire on real trouble, once, and stay quiet on healthy numbers."""

from __future__ import annotations

import math

import numpy as np

from ganstudio.data.builtin import render_shapes
from ganstudio.engine.health import (
    COLLAPSE,
    EXPLODING,
    NAN,
    OVERPOWERING,
    HealthMonitor,
    HealthThresholds,
    sample_diversity,
    weights_are_finite,
)


def _healthy(step, rng):
    return dict(d_loss=1.2 + 0.1 * rng.standard_normal(), g_loss=1.0 + 0.2 * rng.standard_normal(),
                d_real=0.6 + 0.05 * rng.standard_normal(), d_fake=0.35 + 0.05 * rng.standard_normal(),
                grad_norm_d=5 * math.exp(0.5 * rng.standard_normal()),
                grad_norm_g=20 * math.exp(0.5 * rng.standard_normal()))


def test_no_alarm_on_a_long_noisy_healthy_run():
    rng = np.random.default_rng(0)
    monitor = HealthMonitor()
    for step in range(1, 5001):
        assert monitor.check_report(step, **_healthy(step, rng)) == []


def test_nan_fires_once_and_rearms_after_clearing():
    rng = np.random.default_rng(0)
    monitor = HealthMonitor()
    values = _healthy(1, rng)
    found = monitor.check_report(1, **{**values, "g_loss": float("nan")})
    assert [f[0] for f in found] == [NAN] and "G loss" in found[0][1]
    assert monitor.check_report(2, **{**values, "g_loss": float("nan")}) == []
    assert monitor.check_report(3, **values) == []
    assert [f[0] for f in monitor.check_report(4, **values, weights_finite=False)] == [NAN]


def test_exploding_gradients_relative_to_history():
    rng = np.random.default_rng(1)
    monitor = HealthMonitor()
    for step in range(30):
        assert monitor.check_report(step, **_healthy(step, rng)) == []
    spike = {**_healthy(30, rng), "grad_norm_g": 1e5}
    found = monitor.check_report(30, **spike)
    assert [f[0] for f in found] == [EXPLODING]
    assert "G's gradient norm" in found[0][1]


def test_discriminator_overpowering_must_be_sustained():
    monitor = HealthMonitor(HealthThresholds(overpower_reports=5))
    values = dict(d_loss=0.01, g_loss=8, d_real=0.999, d_fake=0.001, grad_norm_d=1, grad_norm_g=1)
    kinds = [k for step in range(10) for k, *_ in monitor.check_report(step, **values)]
    assert kinds == [OVERPOWERING]
    # Critic scores are not probabilities: the rule does not apply to them.
    critic = HealthMonitor(HealthThresholds(overpower_reports=5), output_kind="score")
    assert all(critic.check_report(s, **values) == [] for s in range(10))


def test_mode_collapse_after_diversity_then_sameness():
    images, _ = render_shapes(64, 32, seed=3)
    images = images.transpose(0, 2, 3, 1)
    monitor = HealthMonitor(real_diversity=sample_diversity(images))
    blank = np.zeros_like(images)
    assert monitor.check_samples(0, blank) is None  # a fresh G is not "collapsed"
    assert monitor.check_samples(1, images) is None
    assert monitor.check_samples(2, np.repeat(images[:1], 64, axis=0)) is None  # needs 2 in a row
    found = monitor.check_samples(3, np.repeat(images[:1], 64, axis=0))
    assert found is not None and found[0] == COLLAPSE and "diverse" in found[1]


def test_weights_are_finite():
    import torch

    layer = torch.nn.Linear(2, 2)
    assert weights_are_finite(layer)
    with torch.no_grad():
        layer.weight[0, 0] = float("inf")
    assert not weights_are_finite(layer)
