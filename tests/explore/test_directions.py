"""Principal directions: what they find, how they move a latent, and their cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ganstudio.engine.sampling import GeneratorSource, latent_batch
from ganstudio.explore.directions import (
    DirectionCache,
    Directions,
    cached_fit,
    candidate_layers,
    fit_directions,
)
from ganstudio.explore.paths import walk_latents
from ganstudio.models import GeneratorSpec
from tests.export.tiny_generators import tiny_source


class _Stretch(nn.Module):
    """A 'generator' whose output varies most along latent axis 3, then axis 0."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(6, 2, bias=False)
        self.act = nn.Tanh()
        with torch.no_grad():
            self.linear.weight.zero_()
            self.linear.weight[0, 3] = 1.0
            self.linear.weight[1, 0] = 0.3

    def forward(self, z, labels=None):
        return self.act(self.linear(z))


def _stretch_source() -> GeneratorSource:
    module = _Stretch()
    spec = GeneratorSpec("mlp", 6, (2,), 8)
    source = GeneratorSource.from_module(module, spec, step=0, label="stretch")
    object.__setattr__(source, "build_for_inference", lambda device="cpu": module.eval())
    return source


def test_the_strongest_direction_is_found_and_mapped_back_to_the_latent():
    source = _stretch_source()
    directions = fit_directions(source, layer="output", components=2, samples=400)
    assert directions.layer == "output" and directions.count == 2
    assert abs(directions.components[0][3]) > 0.99       # the axis that moves the output most
    assert abs(directions.components[1][0]) > 0.99
    assert directions.explained[0] > 0.8 and directions.explained.sum() <= 1.0 + 1e-9
    np.testing.assert_allclose(np.linalg.norm(directions.components, axis=1), 1, atol=1e-5)
    assert directions.label(0).startswith("PC1 · ")


def test_fits_on_a_dcgan_layer_are_repeatable_and_stoppable():
    source = tiny_source()
    generator = source.build_for_inference()
    assert candidate_layers(generator)[:2] == ["z", "main.2"]
    calls = []
    first = fit_directions(source, components=4, samples=100, generator=generator,
                           progress=lambda done, total: calls.append((done, total)))
    again = fit_directions(source, components=4, samples=100, generator=generator)
    assert first.layer == "main.2" and calls[-1] == (100, 100)
    np.testing.assert_array_equal(first.components, again.components)
    assert first.basis_id == again.basis_id and first.generator_sha256 == source.sha256
    assert fit_directions(source, samples=100, should_stop=lambda: True) is None
    with pytest.raises(ValueError, match="no layer 'nope'"):
        fit_directions(source, layer="nope", samples=100)


def test_offsets_and_walks_move_along_sigma_scaled_directions():
    source = tiny_source()
    directions = fit_directions(source, layer="z", components=3, samples=200)
    values = np.array([0.0, 2.0, 0.0], np.float32)
    offset = directions.offset(values)
    np.testing.assert_allclose(offset, 2 * directions.sigma[1] * directions.components[1],
                               rtol=1e-6)
    base = latent_batch(source.nz, [4])[0].numpy()
    frames = walk_latents(base, 1.0, directions, values, 0, 5, extent=2.0)
    coordinates = (frames - base - offset) @ directions.components[0] / directions.sigma[0]
    np.testing.assert_allclose(coordinates, [-2, -1, 0, 1, 2], atol=1e-4)


def test_the_cache_keeps_fits_per_generator(tmp_path):
    source = tiny_source()
    cache = DirectionCache(tmp_path)
    fitted = cached_fit(source, components=3, samples=60, cache=cache)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1 and files[0].name.startswith(source.sha256[:32])
    calls = []
    again = cached_fit(source, components=3, samples=60, cache=cache,
                       progress=lambda d, t: calls.append(d))
    assert again.basis_id == fitted.basis_id and calls == [60]       # read, not refitted
    assert cache.find(source.sha256, fitted.basis_id).basis_id == fitted.basis_id
    assert cache.find(tiny_source(seed=9).sha256, fitted.basis_id) is None
    loaded = Directions.load(files[0])
    np.testing.assert_array_equal(loaded.components, fitted.components)
