"""Preview and grid exports: sizes, provenance, and re-rendering an image from its PNG text."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ganstudio.engine.sampling import latent_batch, render
from ganstudio.export.images import (
    GRID_KIND,
    POINTS_CLOUD_SIZE,
    PREVIEW_KIND,
    export_grid,
    export_points_preview,
    export_preview,
    grid_image,
    label_tensor,
    preview_provenance,
    render_cloud,
    render_latents,
    rerender,
)
from ganstudio.export.png import read_png_metadata
from ganstudio.export.points import render_points

from .tiny_generators import tiny_export, tiny_source


def _pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


@pytest.mark.parametrize("scale,smooth", [(1, False), (3, False), (2, True), (8, False)])
def test_preview_export_records_provenance_and_renders_again_bit_for_bit(tmp_path, scale,
                                                                         smooth):
    source = tiny_export(tmp_path, step=42)
    generator = source.build_for_inference()
    latent = latent_batch(source.nz, [5])[0].numpy()
    latent[2] = 1.25                                   # edited by hand after picking seed 5
    image = render(generator, latent[None])[0]
    path = export_preview(tmp_path / "p.png", image, scale, smooth,
                          preview_provenance(source, seed=5, latent=latent))
    pixels = _pixels(path)
    assert pixels.shape == (32 * scale, 32 * scale, 3)
    meta = read_png_metadata(path)
    assert meta["kind"] == PREVIEW_KIND and meta["step"] == 42 and meta["seed"] == 5
    assert meta["checkpoint"] == str(tmp_path / "generator.safetensors")
    assert meta["scale"] == scale and meta["smooth"] is smooth
    assert meta["latent_edited"] is True and meta["nz"] == source.nz
    np.testing.assert_array_equal(np.asarray(meta["latent"], np.float32), latent)
    np.testing.assert_array_equal(rerender(path), pixels)


def test_conditional_preview_names_its_class(tmp_path):
    source = tiny_export(tmp_path, class_names=("disc", "square", "triangle"))
    latent = latent_batch(source.nz, [1])[0].numpy()
    image = render(source.build_for_inference(), latent[None], label_tensor(2))[0]
    path = export_preview(tmp_path / "c.png", image, 2, False,
                          preview_provenance(source, seed=1, latent=latent, label=2))
    meta = read_png_metadata(path)
    assert (meta["class_label"], meta["class_name"]) == (2, "triangle")
    assert meta["latent_edited"] is False
    np.testing.assert_array_equal(rerender(meta), _pixels(path))
    with pytest.raises(ValueError, match="needs a class label"):
        preview_provenance(source, seed=1, latent=latent)


def test_grid_tiles_are_the_previews_of_consecutive_seeds(tmp_path):
    source = tiny_export(tmp_path, step=7)
    generator = source.build_for_inference()
    path = export_grid(tmp_path / "g.png", source, 100, 3, scale=2)
    pixels = _pixels(path)
    tile = 32 * 2
    assert pixels.shape == ((3 * (32 + 2) + 2) * 2, (3 * (32 + 2) + 2) * 2, 3)
    meta = read_png_metadata(path)
    assert meta["kind"] == GRID_KIND and meta["seeds"] == [100, 108] and meta["grid"] == 3
    np.testing.assert_array_equal(rerender(path), pixels)
    # Row 1, column 2 is seed 100 + 5, exactly as the panel previews that seed on its own.
    top, left = (2 + 1 * 34) * 2, (2 + 2 * 34) * 2
    preview = render(generator, latent_batch(source.nz, [105]))[0]
    np.testing.assert_array_equal(pixels[top:top + tile, left:left + tile],
                                  preview.repeat(2, 0).repeat(2, 1))


def test_grid_render_stops_when_asked(tmp_path):
    source = tiny_source()
    calls = []
    result = grid_image(source.build_for_inference(), source, 0, 4,
                        progress=lambda done, total: calls.append((done, total)),
                        should_stop=lambda: len(calls) >= 3)
    assert result is None and calls == [(1, 16), (2, 16), (3, 16)]
    assert export_grid(tmp_path / "never.png", source, 0, 2, should_stop=lambda: True) is None
    assert not (tmp_path / "never.png").exists()


def test_bad_sizes_are_refused_with_the_range(tmp_path):
    source = tiny_source()
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="1x to 8x, not 9x"):
        export_preview(tmp_path / "x.png", image, 9, False, {})
    with pytest.raises(ValueError, match="2 to 16, not 17"):
        export_grid(tmp_path / "x.png", source, 0, 17)
    with pytest.raises(ValueError, match="takes 8"):
        preview_provenance(source, seed=0, latent=np.zeros(3))


def test_points_preview_marks_the_latent_and_renders_again(tmp_path):
    source = tiny_export(tmp_path, "points", nz=4)
    generator = source.build_for_inference()
    cloud = render_cloud(generator, source)
    assert cloud.shape == (POINTS_CLOUD_SIZE, 2)
    latent = latent_batch(4, [3])[0].numpy()
    path = export_points_preview(tmp_path / "pts.png", generator, source, latent,
                                 preview_provenance(source, seed=3, latent=latent), 2)
    pixels = _pixels(path)
    assert pixels.shape == (512, 512, 3)
    meta = read_png_metadata(path)
    np.testing.assert_allclose(meta["point"], render(generator, latent[None])[0])
    assert (pixels == [230, 80, 20]).all(axis=-1).sum() > 20      # the highlighted dot
    np.testing.assert_array_equal(rerender(meta), pixels)
    with pytest.raises(ValueError, match="2-D points"):
        grid_image(generator, source, 0, 2)


def test_render_points_without_highlight_is_unchanged():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(50, 2)), rng.normal(size=(50, 2))
    bounds = (-4.0, 4.0, -4.0, 4.0)
    plain = render_points(real, fake, None, bounds, 64)
    marked = render_points(real, fake, None, bounds, 64, highlight=np.array([0.0, 0.0]))
    assert (plain != marked).any(axis=-1).sum() > 0
    assert (marked[32, 32] == [230, 80, 20]).all()
    np.testing.assert_array_equal(render_points(real, fake, None, bounds, 64), plain)


def test_rerender_needs_a_weights_file():
    source = tiny_source()                     # a live snapshot: no checkpoint on disk
    meta = preview_provenance(source, seed=0, latent=latent_batch(source.nz, [0])[0].numpy())
    assert meta["checkpoint"] is None
    with pytest.raises(ValueError, match="names no checkpoint"):
        rerender(meta)
    with pytest.raises(ValueError, match="not a latent preview"):
        rerender({"kind": "fixed-noise grid"})


def test_render_latents_one_at_a_time_equals_single_renders():
    source = tiny_source()
    generator = source.build_for_inference()
    z = latent_batch(source.nz, range(4))
    together = render_latents(generator, z)
    for i in range(4):
        np.testing.assert_array_equal(together[i], render(generator, z[i:i + 1])[0])
