"""Image folders: odd files decode right, bad files are skipped and named, the cache is honest."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from ganstudio.data import ImageDataset, open_dataset
from ganstudio.data import folder as folder_module
from ganstudio.data.folder import open_image_folder, user_cache_dir
from ganstudio.errors import DatasetError

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# ----- helpers -----------------------------------------------------------------------------------

def solid(size: tuple[int, int], colour, mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def noise_png_bytes(size: int = 64, seed: int = 0) -> bytes:
    # Noise compresses badly, so cutting the file in half lands inside the pixel data.
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **options)
    return buffer.getvalue()


def png16_rgb_bytes(pixels: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG written by hand (Pillow cannot write one)."""
    h, w, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def open_one(tmp_path: Path, name: str, write, **kwargs) -> ImageDataset:
    """Open a folder holding a single file made by ``write(path)``."""
    folder = tmp_path / "one"
    folder.mkdir(parents=True)
    write(folder / name)
    kwargs.setdefault("cache", False)
    return open_image_folder(folder, **kwargs)


def hwc(dataset: ImageDataset, index: int = 0) -> np.ndarray:
    return dataset.images[index].permute(1, 2, 0).numpy()


@pytest.fixture
def messy_folder(tmp_path: Path) -> Path:
    """Seven usable images in nested folders, five unusable files, and hidden clutter."""
    root = tmp_path / "messy"
    (root / "a" / "deeper").mkdir(parents=True)
    (root / "b").mkdir()
    (root / ".thumbnails").mkdir()
    solid((20, 20), RED).save(root / "red.png")
    solid((20, 30), BLUE).save(root / "a" / "blue.jpg", quality=95)
    solid((20, 20), GREEN).save(root / "a" / "deeper" / "green.webp", lossless=True)
    solid((20, 20), WHITE).save(root / "b" / "white.bmp")
    solid((20, 20), 128, "L").save(root / "b" / "grey.gif")
    solid((20, 20), (10, 20, 30)).save(root / "b" / "upper.PNG")
    solid((20, 20), (40, 50, 60)).save(root / "b" / "photo.JPEG", quality=95)
    # The unusable ones.
    (root / "empty.png").write_bytes(b"")
    (root / "a" / "broken.jpg").write_bytes(jpeg_bytes(
        Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), np.uint8)))[:900])
    png = noise_png_bytes()
    (root / "b" / "cut.png").write_bytes(png[:len(png) // 2])
    (root / "text.png").write_text("this is not a picture\n")
    (root / "notes.txt").write_text("training notes\n")
    # Hidden files and folders are ignored entirely (not even counted as skipped).
    (root / ".DS_Store").write_bytes(b"\x00\x01junk")
    solid((20, 20), RED).save(root / ".thumbnails" / "thumb.png")
    return root


# ----- folder contents ---------------------------------------------------------------------------

def test_messy_folder_decodes_usable_images_and_names_the_rest(messy_folder: Path):
    dataset = open_image_folder(messy_folder, image_size=16, cache=False)
    info = dataset.info
    assert dataset.images.shape == (7, 3, 16, 16)
    assert dataset.labels is None and info.class_names == ()
    assert info.size == 7 and info.shape == (3, 16, 16) and info.kind == "image"
    assert info.name == str(messy_folder)
    assert info.source == str(messy_folder.resolve())
    assert info.description == f"7 images from {messy_folder.resolve()}"
    assert info.skipped == 5
    message = info.skipped_message
    assert message.startswith(f"Skipped 5 of 12 files in {messy_folder.resolve()}: ")
    assert "1 empty (0 bytes), 3 corrupt or truncated, 1 not an image — e.g. " in message
    for example in ("empty.png", "a/broken.jpg", "notes.txt"):
        assert example in message
    assert ".DS_Store" not in message and "thumb" not in message


def test_files_are_read_in_sorted_order_with_the_right_colours(messy_folder: Path):
    dataset = open_image_folder(messy_folder, image_size=8, cache=False)
    # Sorted relative paths: a/blue.jpg, a/deeper/green.webp, b/grey.gif, b/photo.JPEG,
    # b/upper.PNG, b/white.bmp, red.png
    centres = [tuple(int(v) for v in hwc(dataset, i)[4, 4]) for i in range(7)]
    expected = [BLUE, GREEN, (128, 128, 128), (40, 50, 60), (10, 20, 30), WHITE, RED]
    for got, want in zip(centres, expected):
        assert np.abs(np.subtract(got, want)).max() <= 3, (got, want)


def test_truncated_images_are_never_half_loaded(tmp_path: Path):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    png = noise_png_bytes()
    with pytest.raises(DatasetError, match="1 corrupt or truncated"):
        open_one(tmp_path, "cut.png", lambda p: p.write_bytes(png[:-2000]), image_size=8)


def test_rgba_is_composited_onto_the_background(tmp_path: Path):
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[:, :4] = (255, 0, 0, 0)        # fully transparent red: must vanish
    pixels[:, 4:6] = (0, 0, 255, 255)     # opaque blue
    pixels[:, 6:] = (0, 0, 0, 128)        # half-transparent black: mid grey on white
    write = lambda p: Image.fromarray(pixels).save(p)  # noqa: E731
    white = hwc(open_one(tmp_path / "w", "rgba.png", write, image_size=8))
    assert (white[:, :4] == 255).all()
    assert (white[:, 4:6] == BLUE).all()
    assert np.abs(white[:, 6:].astype(int) - 127).max() <= 1
    black = hwc(open_one(tmp_path / "k", "rgba.png", write, image_size=8, background=(0, 0, 0)))
    assert (black[:, :4] == 0).all()


def test_palette_transparency_becomes_background_not_palette_colour(tmp_path: Path):
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 255, 0] + [255, 0, 0] + [0] * 762)  # index 0 green, index 1 red
    image.paste(1, (4, 0, 8, 8))
    write = lambda p: image.save(p, transparency=0)  # noqa: E731
    pixels = hwc(open_one(tmp_path, "palette.png", write, image_size=8, background=(0, 0, 255)))
    assert (pixels[:, :4] == BLUE).all()      # transparent index: background, never green
    assert (pixels[:, 4:] == RED).all()


def test_gif_uses_the_first_frame_and_its_transparency(tmp_path: Path):
    first = Image.new("P", (8, 8), 1)
    first.putpalette([0, 255, 0] + [255, 0, 0] + [0, 0, 255] + [0] * 759)
    first.paste(0, (0, 0, 8, 4))              # top half transparent
    second = Image.new("P", (8, 8), 2)
    second.putpalette(first.getpalette())
    write = lambda p: first.save(p, save_all=True, append_images=[second],  # noqa: E731
                                 transparency=0, duration=100, loop=0, disposal=2)
    pixels = hwc(open_one(tmp_path, "anim.gif", write, image_size=8))
    assert (pixels[:4] == WHITE).all()
    assert (pixels[4:] == RED).all()          # frame one, not the blue second frame


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path: Path):
    values = np.array([[0, 257, 32768, 65535]] * 4, np.uint16)
    dataset = open_one(tmp_path, "deep.png", lambda p: Image.fromarray(values).save(p),
                       image_size=4)
    assert dataset.info.shape == (1, 4, 4)    # greyscale stays one channel
    assert dataset.images[0, 0, 0].tolist() == [0, 1, 128, 255]


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I"])
def test_every_sixteen_bit_mode_scales_by_range(mode: str):
    values = np.array([[0, 257, 32768, 65535]], np.uint16)
    if mode == "I":
        image = Image.fromarray(values.astype(np.int32))
    else:
        dtype = ">u2" if mode == "I;16B" else "<u2"
        image = Image.frombytes(mode, (4, 1), values.astype(dtype).tobytes())
    grey = folder_module._to_grey_or_rgb(image, WHITE)
    assert grey.mode == "L"
    assert np.asarray(grey).tolist() == [[0, 1, 128, 255]]


def test_sixteen_bit_rgb_png(tmp_path: Path):
    pixels = np.zeros((4, 4, 3), np.uint16)
    pixels[..., 0], pixels[..., 1], pixels[..., 2] = 65535, 32768, 0
    dataset = open_one(tmp_path, "deep-rgb.png", lambda p: p.write_bytes(png16_rgb_bytes(pixels)),
                       image_size=4)
    assert dataset.info.shape == (3, 4, 4)
    assert tuple(hwc(dataset)[0, 0]) == (255, 128, 0)


def test_exif_orientation_is_applied(tmp_path: Path):
    # Stored wide: left half red, right half blue. Orientation 6 means "rotate 90° clockwise to
    # view", which puts red on top and blue at the bottom.
    stored = Image.new("RGB", (32, 16), RED)
    stored.paste(BLUE, (16, 0, 32, 16))
    exif = Image.Exif()
    exif[0x0112] = 6
    dataset = open_one(tmp_path, "phone.jpg",
                       lambda p: p.write_bytes(jpeg_bytes(stored, exif=exif)), image_size=16)
    pixels = hwc(dataset).astype(int)
    assert pixels[2, 8, 0] > 200 and pixels[2, 8, 2] < 60      # top: red
    assert pixels[13, 8, 2] > 200 and pixels[13, 8, 0] < 60    # bottom: blue


def test_non_square_images_are_centre_cropped(tmp_path: Path):
    image = Image.new("RGB", (24, 8), RED)
    image.paste(BLUE, (8, 0, 16, 8))          # only the middle third is blue
    pixels = hwc(open_one(tmp_path, "wide.png", image.save, image_size=8))
    assert (pixels == BLUE).all()


def test_big_jpeg_downscales_smoothly(tmp_path: Path):
    # A fine checkerboard must average to grey, not alias into stripes (draft + LANCZOS).
    board = (np.indices((480, 640)).sum(axis=0) % 2 * 255).astype(np.uint8)
    dataset = open_one(tmp_path, "board.jpg",
                       lambda p: p.write_bytes(jpeg_bytes(Image.fromarray(board))), image_size=16)
    assert dataset.info.shape == (1, 16, 16)
    assert np.abs(dataset.images.numpy().astype(int) - 128).max() < 24


# ----- channels ----------------------------------------------------------------------------------

def grey_and_colour_folder(tmp_path: Path, with_colour: bool) -> Path:
    root = tmp_path / ("mixed" if with_colour else "grey")
    root.mkdir()
    solid((8, 8), 50, "L").save(root / "l.png")
    solid((8, 8), 1, "1").save(root / "bilevel.png")
    Image.new("LA", (8, 8), (90, 255)).save(root / "la.png")
    solid((8, 8), (70, 70, 70)).save(root / "grey-in-rgb.png")
    if with_colour:
        solid((8, 8), (200, 100, 0)).save(root / "orange.png")
    return root


def test_auto_channels_is_one_when_every_image_is_grey(tmp_path: Path):
    dataset = open_image_folder(grey_and_colour_folder(tmp_path, False), image_size=8,
                                cache=False)
    assert dataset.info.shape == (1, 8, 8)
    # bilevel.png, grey-in-rgb.png, l.png, la.png
    assert dataset.images[:, 0, 0, 0].tolist() == [255, 70, 50, 90]


def test_auto_channels_is_three_when_any_image_has_colour(tmp_path: Path):
    dataset = open_image_folder(grey_and_colour_folder(tmp_path, True), image_size=8, cache=False)
    assert dataset.info.shape == (3, 8, 8)
    assert dataset.images[:, :, 0, 0].tolist() == [
        [255, 255, 255], [70, 70, 70], [50, 50, 50], [90, 90, 90], [200, 100, 0]]


def test_channels_can_be_forced(tmp_path: Path):
    mixed = grey_and_colour_folder(tmp_path, True)
    grey = open_image_folder(mixed, image_size=8, channels=1, cache=False)
    assert grey.info.shape == (1, 8, 8)
    assert grey.images[-1, 0, 0, 0].item() == round(0.299 * 200 + 0.587 * 100)  # luma
    colour = open_image_folder(grey_and_colour_folder(tmp_path, False), image_size=8, channels=3,
                               cache=False)
    assert colour.info.shape == (3, 8, 8)
    assert colour.images[2, :, 0, 0].tolist() == [50, 50, 50]


# ----- empty, missing, layout --------------------------------------------------------------------

def test_empty_folder_is_an_error_naming_it(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="it holds no files") as caught:
        open_image_folder(empty, image_size=8)
    assert str(empty.resolve()) in str(caught.value)


def test_folder_with_only_hidden_files_says_so(tmp_path: Path):
    root = tmp_path / "hidden"
    (root / ".cache").mkdir(parents=True)
    solid((8, 8), RED).save(root / ".cache" / "x.png")
    with pytest.raises(DatasetError, match=r"1 hidden entry whose name starts with '\.' ignored"):
        open_image_folder(root, image_size=8)


def test_folder_without_usable_images_lists_what_was_found(tmp_path: Path):
    root = tmp_path / "junk"
    root.mkdir()
    (root / "a.txt").write_text("a")
    (root / "b.jpg").write_bytes(b"")
    with pytest.raises(DatasetError) as caught:
        open_image_folder(root, image_size=8)
    message = str(caught.value)
    assert str(root.resolve()) in message
    assert "all 2 files were skipped: 1 empty (0 bytes), 1 not an image — e.g. b.jpg, a.txt" \
        in message


def test_missing_folder_is_an_error(tmp_path: Path):
    with pytest.raises(DatasetError, match="no folder of images at"):
        open_image_folder(tmp_path / "nope", image_size=8)


def test_symlink_loops_do_not_hang(tmp_path: Path):
    root = tmp_path / "loop"
    root.mkdir()
    solid((8, 8), RED).save(root / "x.png")
    try:
        os.symlink(root, root / "again", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("symbolic links are not available here")
    dataset = open_image_folder(root, image_size=8, cache=False)
    assert len(dataset) == 1


# ----- class labels ------------------------------------------------------------------------------

def test_class_labels_come_from_first_level_folders(tmp_path: Path):
    root = tmp_path / "pets"
    for relative, colour in [("dogs/d1.png", RED), ("cats/c1.png", GREEN), ("cats/c2.png", GREEN),
                             ("dogs/puppies/p1.png", BLUE)]:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        solid((8, 8), colour).save(root / relative)
    (root / "empty-class").mkdir()
    (root / "README.txt").write_text("not an image, so it may sit in the root")
    dataset = open_image_folder(root, image_size=8, class_labels=True, cache=False)
    assert dataset.info.class_names == ("cats", "dogs")
    assert dataset.labels.tolist() == [0, 0, 1, 1]  # cats/c1, cats/c2, dogs/d1, dogs/puppies/p1
    assert dataset.info.description.endswith("in 2 classes")
    unlabelled = open_image_folder(root, image_size=8, class_labels=False, cache=False)
    assert unlabelled.labels is None and unlabelled.info.class_names == ()


def test_class_labels_refuse_images_in_the_root(tmp_path: Path):
    root = tmp_path / "flat"
    (root / "cats").mkdir(parents=True)
    solid((8, 8), RED).save(root / "cats" / "c.png")
    solid((8, 8), RED).save(root / "stray.png")
    with pytest.raises(DatasetError) as caught:
        open_image_folder(root, image_size=8, class_labels=True)
    message = str(caught.value)
    assert "stray.png" in message and str(root.resolve()) in message
    assert "class labels off" in message


# ----- progress ----------------------------------------------------------------------------------

def test_progress_reaches_the_total(tmp_path: Path):
    root = tmp_path / "many"
    root.mkdir()
    for i in range(150):
        solid((4, 4), (i, 0, 0)).save(root / f"{i:03d}.png")
    calls: list[tuple[int, int, str]] = []
    dataset = open_image_folder(root, image_size=4, cache=False,
                                progress=lambda done, total, msg: calls.append((done, total, msg)))
    assert dataset.images[:, 0, 0, 0].tolist() == list(range(150))  # order kept across threads
    decoding = [c for c in calls if c[1] == 150]
    assert decoding[-1][:2] == (150, 150)
    assert 100 <= len(decoding) <= 160       # about every 1%
    assert all(a[0] <= b[0] for a, b in zip(decoding, decoding[1:]))


# ----- cache -------------------------------------------------------------------------------------

def count_decodes(monkeypatch) -> list[Path]:
    seen: list[Path] = []
    real = folder_module.decode_image

    def counting(path, *args):
        seen.append(path)
        return real(path, *args)

    monkeypatch.setattr(folder_module, "decode_image", counting)
    return seen


def forbid_decoding(monkeypatch) -> None:
    def fail(path, *args):
        raise AssertionError(f"decoded {path} although the cache should have been used")

    monkeypatch.setattr(folder_module, "decode_image", fail)


def test_unchanged_folder_loads_from_cache_without_decoding(messy_folder: Path, tmp_path: Path,
                                                            monkeypatch):
    cache_dir = tmp_path / "cache"
    first = open_image_folder(messy_folder, image_size=8, cache_dir=cache_dir)
    assert sorted(p.suffix for p in cache_dir.iterdir()) == [".json", ".npy"]
    forbid_decoding(monkeypatch)
    second = open_image_folder(messy_folder, image_size=8, cache_dir=cache_dir)
    assert (second.images == first.images).all()
    assert second.info == first.info          # skip message kept from the manifest


def test_cache_keeps_labels(tmp_path: Path, monkeypatch):
    root = tmp_path / "classes"
    for name in ("x", "y"):
        (root / name).mkdir(parents=True)
        solid((8, 8), RED).save(root / name / "i.png")
    first = open_image_folder(root, image_size=8, class_labels=True, cache_dir=tmp_path / "c")
    forbid_decoding(monkeypatch)
    second = open_image_folder(root, image_size=8, class_labels=True, cache_dir=tmp_path / "c")
    assert second.labels.tolist() == first.labels.tolist() == [0, 1]
    assert second.info.class_names == ("x", "y")


@pytest.mark.parametrize("change", ["modify", "add", "remove", "settings"])
def test_cache_notices_changes(messy_folder: Path, tmp_path: Path, monkeypatch, change: str):
    cache_dir = tmp_path / "cache"
    open_image_folder(messy_folder, image_size=8, cache_dir=cache_dir)
    size = 8
    if change == "modify":
        solid((20, 20), (1, 2, 3)).save(messy_folder / "red.png")
        os.utime(messy_folder / "red.png", ns=(1, 1))  # a different mtime, even on coarse clocks
    elif change == "add":
        solid((20, 20), RED).save(messy_folder / "b" / "new.png")
    elif change == "remove":
        (messy_folder / "a" / "blue.jpg").unlink()
    else:
        size = 4
    decoded = count_decodes(monkeypatch)
    dataset = open_image_folder(messy_folder, image_size=size, cache_dir=cache_dir)
    assert decoded, "the cache was used although the folder or settings changed"
    if change == "modify":
        assert tuple(hwc(dataset, len(dataset) - 1)[0, 0]) == (1, 2, 3)
    expected = {"modify": 7, "add": 8, "remove": 6, "settings": 7}[change]
    assert len(dataset) == expected


@pytest.mark.parametrize("damage", ["images", "manifest", "truncate"])
def test_damaged_cache_is_rebuilt_silently(messy_folder: Path, tmp_path: Path, monkeypatch,
                                           damage: str):
    cache_dir = tmp_path / "cache"
    first = open_image_folder(messy_folder, image_size=8, cache_dir=cache_dir)
    images_file = next(cache_dir.glob("*.images.npy"))
    manifest_file = next(cache_dir.glob("*.json"))
    if damage == "images":  # same length, different bytes: only the checksum can tell
        data = bytearray(images_file.read_bytes())
        data[-10:] = bytes(255 - b for b in data[-10:])
        images_file.write_bytes(bytes(data))
    elif damage == "manifest":
        manifest_file.write_text("{ not json")
    else:
        images_file.write_bytes(images_file.read_bytes()[:100])
    decoded = count_decodes(monkeypatch)
    again = open_image_folder(messy_folder, image_size=8, cache_dir=cache_dir)
    assert decoded
    assert (again.images == first.images).all()
    assert json.loads(manifest_file.read_text())["shape"] == [7, 3, 8, 8]  # rewritten


def test_cache_false_writes_nothing(messy_folder: Path, tmp_path: Path):
    open_image_folder(messy_folder, image_size=8, cache=False, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_default_cache_location_follows_environment(messy_folder: Path, tmp_path: Path,
                                                    monkeypatch):
    monkeypatch.setenv("GANSTUDIO_CACHE_DIR", str(tmp_path / "gs"))
    assert user_cache_dir("folders") == tmp_path / "gs" / "folders"
    open_image_folder(messy_folder, image_size=8)
    assert list((tmp_path / "gs" / "folders").glob("*.json"))
    monkeypatch.delenv("GANSTUDIO_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir("folders") == tmp_path / "xdg" / "ganstudio" / "folders"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache_dir("folders") == Path.home() / ".cache" / "ganstudio" / "folders"


# ----- through the public entry point ------------------------------------------------------------

def test_open_dataset_opens_a_folder_end_to_end(messy_folder: Path):
    dataset = open_dataset(str(messy_folder), image_size=16, channels=1)
    assert isinstance(dataset, ImageDataset)
    assert dataset.info.shape == (1, 16, 16) and dataset.info.skipped == 5
    batch, labels = dataset.sampler(4, seed=0).next()
    assert batch.shape == (4, 1, 16, 16) and labels is None
    assert -1.0 <= batch.min().item() and batch.max().item() <= 1.0


def test_image_size_none_means_64(tmp_path: Path):
    dataset = open_one(tmp_path, "x.png", lambda p: solid((100, 80), RED).save(p),
                       image_size=None)
    assert dataset.info.shape == (3, 64, 64)
