"""Animations written as GIF, MP4 and PNG frames: opened back and counted; stopping leaves nothing."""

from __future__ import annotations

import json

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from ganstudio.engine.sampling import latent_batch, render
from ganstudio.explore.paths import interpolate
from ganstudio.export.animation import animation_format, count_frames, write_animation
from ganstudio.export.images import animation_provenance, export_animation, rerender
from ganstudio.export.png import read_png_metadata

from .tiny_generators import tiny_export, tiny_source


def _frames(count: int, size=(30, 33)) -> list[np.ndarray]:
    frames = [np.full((*size, 3), 8 * i, np.uint8) for i in range(count)]
    frames[3] = frames[2].copy()              # identical neighbours still count as two frames
    return frames


def test_a_gif_has_every_frame_its_timing_and_provenance(tmp_path):
    path = write_animation(tmp_path / "a.gif", iter(_frames(10)), 10, fps=20,
                           provenance={"kind": "test"})
    with Image.open(path) as gif:
        assert gif.n_frames == 10 and gif.info["duration"] == 50 and gif.info["loop"] == 0
        gif.seek(6)
        assert tuple(np.asarray(gif.convert("RGB"))[5, 5]) == (48, 48, 48)
        assert json.loads(gif.info["comment"])["kind"] == "test"


def test_an_mp4_has_every_frame_even_at_an_odd_size(tmp_path):
    path = write_animation(tmp_path / "a.mp4", iter(_frames(12, (31, 45))), 12, fps=12)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == 12 and seconds == pytest.approx(1.0, abs=0.1)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    assert tuple(meta["size"]) == (46, 32)
    reader.close()


def test_a_frame_folder_holds_numbered_pngs_with_their_metadata(tmp_path):
    out = tmp_path / "frames"
    write_animation(out, iter(_frames(5)), 5, provenance={"kind": "test"},
                    frame_metadata=lambda i: {"t": i / 4})
    assert sorted(p.name for p in out.iterdir()) == [f"frame-{i:04d}.png" for i in range(5)]
    assert read_png_metadata(out / "frame-0004.png")["t"] == 1.0
    assert count_frames(out) == 5
    with pytest.raises(FileExistsError, match="already holds frames"):
        write_animation(out, iter(_frames(5)), 5)


@pytest.mark.parametrize("name", ["stop.gif", "stop.mp4", "stop-frames"])
def test_stopping_leaves_nothing_behind(tmp_path, name):
    made = []

    def frames():
        for frame in _frames(20):
            made.append(1)
            yield frame
    result = write_animation(tmp_path / name, frames(), 20, should_stop=lambda: len(made) >= 6)
    assert result is None and len(made) == 6
    assert list(tmp_path.iterdir()) == []


def test_formats_come_from_the_name():
    assert animation_format("x.GIF") == "gif" and animation_format("x.mp4") == "mp4"
    assert animation_format("frames") == "frames"
    with pytest.raises(ValueError, match=".gif, .mp4 or a folder"):
        animation_format("x.avi")


def test_an_interpolation_renders_each_frame_as_its_preview(tmp_path):
    source = tiny_export(tmp_path)
    generator = source.build_for_inference()
    a, b = latent_batch(source.nz, [1, 2]).numpy()
    latents = interpolate(a, b, 6, "slerp")
    provenance = animation_provenance(source, path_kind="interpolation", frames=6,
                                      method="slerp", a={"seed": 1}, b={"seed": 2})
    progress = []
    out = export_animation(tmp_path / "morph", source, latents, provenance=provenance, size=64,
                           progress=lambda d, t: progress.append((d, t)))
    assert count_frames(out) == 6 and progress[-1] == (6, 6)
    third = out / "frame-0003.png"
    meta = read_png_metadata(third)
    assert meta["kind"] == "latent animation frame" and meta["path"] == "interpolation"
    np.testing.assert_array_equal(np.asarray(meta["latent"], np.float32), latents[3])
    with Image.open(third) as image:
        pixels = np.asarray(image)
    np.testing.assert_array_equal(pixels[::2, ::2], render(generator, latents[3:4])[0])
    np.testing.assert_array_equal(rerender(third), pixels)
    gif = export_animation(tmp_path / "morph.gif", source, latents, provenance=provenance,
                           size=48)
    assert count_frames(gif) == 6
    with pytest.raises(ValueError, match="2-D points"):
        export_animation(tmp_path / "p.gif", tiny_source("points", nz=4), latents[:, :4],
                         provenance={}, size=64)
