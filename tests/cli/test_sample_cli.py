"""``ganstudio-sample`` run in-process: seeds, grids, truncation, animations, foreign files, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ganstudio.cli.sample import main, parse_seeds
from ganstudio.engine.sampling import GeneratorSource, latent_batch, render
from ganstudio.export.animation import count_frames
from ganstudio.export.images import rerender
from ganstudio.export.png import read_png_metadata
from ganstudio.explore.paths import latent_to_text
from tests.export.tiny_generators import tiny_export


@pytest.fixture
def export(tmp_path):
    tiny_export(tmp_path, step=12)
    return tmp_path / "generator.safetensors"


def _pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def test_one_image_per_seed_each_its_preview(export, tmp_path):
    out = tmp_path / "samples"
    assert main([str(export), "--seeds", "3-5,9", "--out", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "seed-000003.png", "seed-000004.png", "seed-000005.png", "seed-000009.png"]
    source = GeneratorSource.open(export)
    expected = render(source.build_for_inference(), latent_batch(source.nz, [4]))[0]
    np.testing.assert_array_equal(_pixels(out / "seed-000004.png"), expected)
    meta = read_png_metadata(out / "seed-000004.png")
    assert meta["seed"] == 4 and meta["made_by"] == "ganstudio-sample"
    np.testing.assert_array_equal(rerender(meta), expected)


def test_a_grid_with_truncation_and_size(export, tmp_path):
    out = tmp_path / "grid.png"
    assert main([str(export), "--seeds", "1-6", "--grid", "--columns", "3", "--truncation",
                 "0.5", "--size", "64", "--out", str(out), "-q"]) == 0
    pixels = _pixels(out)
    assert pixels.shape == (2 * 66 + 2, 3 * 66 + 2, 3)
    source = GeneratorSource.open(export)
    tile = render(source.build_for_inference(), latent_batch(source.nz, [5]) * 0.5)[0]
    np.testing.assert_array_equal(pixels[68:68 + 64:2, 68:68 + 64:2], tile)   # seed 5: row 1, col 1
    meta = read_png_metadata(out)
    assert meta["seeds"] == [1, 2, 3, 4, 5, 6] and meta["truncation"] == 0.5


def test_an_exact_latent_gives_the_same_bits(export, tmp_path):
    source = GeneratorSource.open(export)
    latent = latent_batch(source.nz, [8])[0].numpy()
    latent[1] = 2.345678
    out = tmp_path / "exact.png"
    assert main([str(export), "--seeds", "8", "--latent", latent_to_text(latent),
                 "--size", "96", "--out", str(out), "-q"]) == 0
    expected = render(source.build_for_inference(), latent[None])[0].repeat(3, 0).repeat(3, 1)
    np.testing.assert_array_equal(_pixels(out), expected)
    np.testing.assert_array_equal(np.asarray(read_png_metadata(out)["latent"], np.float32),
                                  latent)


@pytest.mark.parametrize("name", ["morph.gif", "morph.mp4", "morph-frames"])
def test_interpolations_have_the_frames_asked_for(export, tmp_path, name):
    out = tmp_path / name
    assert main([str(export), "--interpolate", "1", "2", "--frames", "7", "--out", str(out),
                 "-q"]) == 0
    assert count_frames(out) == 7


def test_an_interpolation_from_exported_pngs(export, tmp_path):
    main([str(export), "--seeds", "4,6", "--out", str(tmp_path / "ends"), "-q"])
    a, b = tmp_path / "ends" / "seed-000004.png", tmp_path / "ends" / "seed-000006.png"
    out = tmp_path / "between"
    assert main([str(export), "--interpolate", str(a), str(b), "--frames", "3", "--method",
                 "lerp", "--out", str(out), "-q"]) == 0
    np.testing.assert_array_equal(_pixels(out / "frame-0000.png"), _pixels(a))
    np.testing.assert_array_equal(_pixels(out / "frame-0002.png"), _pixels(b))


def test_a_walk_along_a_direction(export, tmp_path):
    out = tmp_path / "walk"
    assert main([str(export), "--walk", "2", "--seeds", "3", "--frames", "5", "--samples",
                 "60", "--components", "3", "--out", str(out), "-q"]) == 0
    assert count_frames(out) == 5
    meta = read_png_metadata(out / "frame-0002.png")
    assert meta["path"] == "walk" and meta["direction"] == 2 and meta["seed"] == 3
    source = GeneratorSource.open(export)
    np.testing.assert_allclose(meta["latent"], latent_batch(source.nz, [3])[0], atol=1e-6)


def test_foreign_generators_info_and_export(tmp_path, capsys):
    from tests.foreign_generators import save_all

    files = save_all(tmp_path / "foreign")
    assert main([str(files["mlp_scripted"]), "--info"]) == 0
    text = capsys.readouterr().out
    assert "128 values" in text and "[0, 1]" in text and "TorchScript" in text
    out = tmp_path / "netg.png"
    assert main([str(files["state_dict"]), "--seeds", "2", "--out", str(out), "-q"]) == 0
    assert _pixels(out).shape == (64, 64, 3)
    pt2 = tmp_path / "ours.pt2"
    assert main([str(files["state_dict"]), "--export-generator", str(pt2), "-q"]) == 0
    again = tmp_path / "again.png"
    assert main([str(pt2), "--seeds", "2", "--out", str(again), "-q"]) == 0
    assert np.abs(_pixels(again).astype(int) - _pixels(out).astype(int)).max() <= 1


@pytest.mark.parametrize("args,message", [
    (["--seeds", "9-2"], "--seeds: 9-2 counts down"),
    (["--seeds", "x"], "--seeds: 'x' is not a seed"),
    (["--truncation", "1.5"], "--truncation: 0 to 1"),
    (["--size", "0"], "--size: 1 to 8192"),
    (["--frames", "1", "--interpolate", "1", "2"], "--frames: 2 to 2000"),
    (["--seeds", "1-3"], "--out: 3 images go into a folder"),
    (["--latent", "b64:AAAAAA"], "--latent: 1 values"),
    (["--latent-shape", "10"], "--latent-shape: "),
    (["--class", "1"], "--class: "),
    (["--interpolate", "1", "nothing.png"], "--interpolate B: 'nothing.png'"),
])
def test_bad_flags_are_named(export, tmp_path, capsys, args, message):
    out = ["--out", str(tmp_path / "x.png")] if "--out" not in args else []
    if "--interpolate" in args:
        out = ["--out", str(tmp_path / "x.gif")]
    assert main([str(export), *args, *out]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_or_refused_source_fails_with_its_reason(tmp_path, capsys):
    assert main([str(tmp_path / "nope.pt"), "--info"]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_text("not a model")
    assert main([str(bad), "--info"]) == 1
    assert "not a file GAN Studio can open" in capsys.readouterr().err
    assert parse_seeds("1-3, 7") == [1, 2, 3, 7]
