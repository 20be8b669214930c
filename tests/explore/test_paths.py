"""Interpolation, walks, truncation and exact latent text."""

from __future__ import annotations

import numpy as np
import pytest

from ganstudio.engine.sampling import latent_batch
from ganstudio.explore.paths import (
    compose_latent,
    interpolate,
    latent_from_text,
    latent_to_text,
    lerp,
    slerp,
    truncate,
    walk,
    walk_values,
)


def test_interpolations_start_and_end_at_the_endpoints():
    a, b = latent_batch(32, [1, 2]).numpy()
    for method in ("slerp", "lerp"):
        path = interpolate(a, b, 9, method)
        assert path.shape == (9, 32) and path.dtype == np.float32
        np.testing.assert_allclose(path[0], a, atol=1e-6)
        np.testing.assert_allclose(path[-1], b, atol=1e-6)
    np.testing.assert_allclose(lerp(a, b, 0.5), (a + b) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="frames must be 2 to 2000"):
        interpolate(a, b, 1)
    with pytest.raises(ValueError, match="slerp or lerp"):
        interpolate(a, b, 4, "cubic")


def test_slerp_keeps_gaussian_latents_typical_where_lerp_shrinks_them():
    a, b = latent_batch(512, [3, 4]).numpy()
    middle_slerp, middle_lerp = slerp(a, b, 0.5), lerp(a, b, 0.5)
    typical = (np.linalg.norm(a) + np.linalg.norm(b)) / 2
    assert abs(np.linalg.norm(middle_slerp) - typical) / typical < 0.02
    assert np.linalg.norm(middle_lerp) < 0.8 * typical       # ~1/sqrt(2) for independent a, b
    np.testing.assert_allclose(slerp(a, a, 0.3), a, atol=1e-6)   # parallel: no NaN


def test_truncation_pulls_towards_the_mean():
    z = latent_batch(16, [5])[0].numpy()
    np.testing.assert_array_equal(truncate(z, 1.0), z)
    np.testing.assert_allclose(truncate(z, 0.5), z * 0.5)
    np.testing.assert_array_equal(truncate(z, 0.0), np.zeros(16, np.float32))
    mean = np.ones(16, np.float32)
    np.testing.assert_allclose(truncate(z, 0.25, mean), 1 + 0.25 * (z - 1), rtol=1e-6)


def test_composition_and_walks_follow_the_direction():
    base = latent_batch(8, [0])[0].numpy()
    direction = np.eye(8, dtype=np.float32)[2]
    path = walk(base, direction, 2.0, 5, extent=3.0)
    np.testing.assert_allclose(path[:, 2] - base[2], [-6, -3, 0, 3, 6], atol=1e-5)
    np.testing.assert_array_equal(np.delete(path, 2, axis=1), np.tile(np.delete(base, 2), (5, 1)))
    np.testing.assert_allclose(walk_values(3, 1.5), [-1.5, 0, 1.5])
    moved = compose_latent(base, 0.5, direction)
    np.testing.assert_allclose(moved, base * 0.5 + direction, rtol=1e-6)


def test_latent_text_gives_back_the_same_bits():
    z = latent_batch(100, [11])[0].numpy() * np.float32(1.0000001)
    text = latent_to_text(z)
    assert text.startswith("b64:") and " " not in text
    np.testing.assert_array_equal(latent_from_text(text), z)
    np.testing.assert_array_equal(latent_from_text("1, 2.5,-3"), [1, 2.5, -3])
    with pytest.raises(ValueError, match="b64"):
        latent_from_text("b64:***")
