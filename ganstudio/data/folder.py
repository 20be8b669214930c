"""Folders of images as a dataset: decode once, in parallel, then reuse a cache.

:func:`open_image_folder` walks a folder recursively, decodes every PNG, JPEG, WebP, BMP and GIF
(first frame) into square uint8 images, and returns an :class:`ImageDataset`.

What a user may rely on:

* **Size.** Each image is scaled so its shorter side is ``image_size`` and then centre-cropped
  to a square (LANCZOS, with Pillow's ``reduce`` for big shrinks and JPEG DCT scaling for big
  JPEGs). A folder has no natural size, so ``image_size=None`` means 64 pixels
  (:data:`DEFAULT_FOLDER_IMAGE_SIZE`).
* **Pixels.** EXIF orientation is applied. Transparent areas (RGBA, LA, palette or GIF
  transparency) are composited onto ``background`` (white by default). 16-bit images are scaled
  to 8 bits by value range (65535 -> 255), not clipped.
* **Channels.** ``channels=0`` gives 1 channel when every usable image is greyscale (a grey
  mode, or RGB with three equal channels), else 3; 1 or 3 forces it.
* **Skipped files.** Empty, corrupt, truncated and non-image files are skipped, never half
  loaded, and summed up in one sentence in ``DatasetInfo.skipped_message``. Names starting with
  ``.`` (hidden files and folders) are ignored entirely.
* **Class labels.** With ``class_labels=True`` the first-level sub-folder of each image is its
  class; class names are the sorted names of the sub-folders that hold at least one usable
  image. Images lying directly in the root are then an error (rather than a silent extra class
  named after the root), because they almost always mean the layout is not what the user thinks.
* **Cache.** The decoded array is saved under ``cache_dir``, else ``$GANSTUDIO_CACHE_DIR/folders``,
  else ``$XDG_CACHE_HOME/ganstudio/folders``, else ``~/.cache/ganstudio/folders``. An entry is
  reused only while every file's relative path, size and modification time and every setting
  are unchanged; a damaged entry is silently rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageFile, ImageOps

from ganstudio.data.base import DatasetInfo, ImageDataset, ProgressCallback
from ganstudio.engine.files import atomic_save, atomic_write_text
from ganstudio.errors import DatasetError

__all__ = [
    "DEFAULT_FOLDER_IMAGE_SIZE", "IMAGE_EXTENSIONS", "decode_image", "open_image_folder",
    "user_cache_dir",
]

log = logging.getLogger(__name__)

DEFAULT_FOLDER_IMAGE_SIZE = 64
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".bmp", ".dib",
                              ".gif"})
CACHE_FORMAT_VERSION = 1  # bump whenever decoding changes what pixels come out

# Reasons a file is skipped, in the order the summary lists them.
EMPTY = "empty (0 bytes)"
CORRUPT = "corrupt or truncated"
NOT_IMAGE = "not an image"
UNREADABLE = "unreadable (no permission or a broken link)"
TOO_LARGE = "too large to decode safely"
UNSUPPORTED = "in an unsupported pixel format"
_REASON_ORDER = (EMPTY, CORRUPT, NOT_IMAGE, UNREADABLE, TOO_LARGE, UNSUPPORTED)

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_EXAMPLES_IN_MESSAGE = 3


# ----- paths -------------------------------------------------------------------------------------

def user_cache_dir(*parts: str) -> Path:
    """GAN Studio's per-user cache folder (joined with ``parts``); nothing is created.

    ``$GANSTUDIO_CACHE_DIR`` wins, then ``$XDG_CACHE_HOME/ganstudio``, then
    ``~/.cache/ganstudio``.
    """
    override = os.environ.get("GANSTUDIO_CACHE_DIR", "").strip()
    if override:
        return Path(override).expanduser().joinpath(*parts)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    # The XDG spec says relative values are invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base.joinpath("ganstudio", *parts)


@dataclass(frozen=True)
class _Candidate:
    """One non-hidden file found under the folder."""

    relative: str       # POSIX-style path relative to the root: stable in messages and keys
    path: Path
    size: int           # bytes; -1 when the file could not be stat'ed
    mtime_ns: int

    @property
    def looks_like_image(self) -> bool:
        return Path(self.relative).suffix.lower() in IMAGE_EXTENSIONS

    @property
    def class_folder(self) -> str | None:
        head, sep, _ = self.relative.partition("/")
        return head if sep else None


@dataclass
class _Scan:
    files: list[_Candidate]
    hidden: int  # hidden entries ignored (only used to explain an "empty" folder)


def _scan_folder(root: Path) -> _Scan:
    """All non-hidden files under ``root``, sorted by relative path.

    Symbolic links to folders are followed (people link image collections together), but each
    real folder is visited once so a link loop cannot recurse forever.
    """
    files: list[_Candidate] = []
    hidden = 0
    visited: set[tuple[int, int]] = set()
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in visited:
                continue
            visited.add((info.st_dev, info.st_ino))
            entries = list(os.scandir(folder))
        except OSError as error:
            if folder == root:
                raise DatasetError(f"cannot read the folder {root}: {error.strerror or error}")
            log.warning("cannot read %s: %s", folder, error)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                hidden += 1
                continue
            relative = prefix + entry.name
            try:
                is_dir = entry.is_dir()  # follows links
            except OSError:
                is_dir = False
            if is_dir:
                stack.append((Path(entry.path), relative + "/"))
                continue
            try:
                info = entry.stat()
                if not stat.S_ISREG(info.st_mode):
                    continue  # sockets, pipes, devices: nothing a person would call a file
                files.append(_Candidate(relative, Path(entry.path), info.st_size,
                                        info.st_mtime_ns))
            except OSError:  # broken link, or vanished since listing
                files.append(_Candidate(relative, Path(entry.path), -1, 0))
    files.sort(key=lambda c: c.relative)
    return _Scan(files, hidden)


# ----- decoding one file -------------------------------------------------------------------------

class _Unusable(Exception):
    """A file that cannot become a training image; ``reason`` is one of the summary's words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def decode_image(path: Path, size: int, channels: int,
                 background: tuple[int, int, int]) -> np.ndarray:
    """Decode one file into a ``size``×``size`` uint8 array.

    Returns ``(H, W)`` for greyscale and ``(H, W, 3)`` for colour. With ``channels=0`` an RGB
    image whose three channels are identical also comes back as ``(H, W)``. Raises
    :class:`_Unusable` for files that cannot be decoded completely.
    """
    opened = _open_fully(path, size)
    try:
        image = _apply_exif_orientation(opened)
        image = _to_grey_or_rgb(image, background)
        if channels == 1 and image.mode != "L":
            image = image.convert("L")  # ITU-R 601 luma, the same weights as convert_channels
        image = _fit_square(image, size)
        pixels = np.asarray(image)
    except (ValueError, OSError) as error:  # e.g. a LAB TIFF renamed .png: Pillow can't convert
        raise _Unusable(UNSUPPORTED) from error
    finally:
        opened.close()  # multi-frame formats (GIF, APNG, WebP) keep the file open until closed
    if channels == 3 and pixels.ndim == 2:
        return np.repeat(pixels[:, :, None], 3, axis=2)
    if channels == 0 and pixels.ndim == 3 and _channels_equal(pixels):
        return np.ascontiguousarray(pixels[:, :, 0])
    return pixels


def _open_fully(path: Path, size: int) -> Image.Image:
    """Open and fully decode ``path``; anything short of a complete image is :class:`_Unusable`."""
    try:
        image = Image.open(path)
    except (PermissionError, FileNotFoundError) as error:
        raise _Unusable(UNREADABLE) from error
    except Image.DecompressionBombError as error:
        raise _Unusable(TOO_LARGE) from error
    except Exception as error:  # UnidentifiedImageError, and whatever a mangled header raises
        raise _Unusable(CORRUPT) from error
    try:
        if image.format == "JPEG":
            # DCT scaling while decoding: big photos decode several times faster. Asking for
            # twice the target keeps the final LANCZOS pass doing real filtering.
            image.draft(None, _draft_request(image.size, size * 2))
        # With LOAD_TRUNCATED_IMAGES off (checked in open_image_folder) a truncated file raises
        # here instead of coming back half grey. GIF, APNG, WebP: this is the first frame.
        image.load()
    except Image.DecompressionBombError as error:
        image.close()
        raise _Unusable(TOO_LARGE) from error
    except Exception as error:  # truncated data, bad chunks, broken compression streams
        image.close()
        raise _Unusable(CORRUPT) from error
    return image


def _draft_request(original: tuple[int, int], shorter_side: int) -> tuple[int, int]:
    # draft() keeps both sides at least as large as requested; scale by the shorter side.
    w, h = original
    scale = min(1.0, shorter_side / min(w, h))
    return max(1, int(w * scale + 0.999)), max(1, int(h * scale + 0.999))


def _apply_exif_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block should not cost the user the whole image
        return image


def _to_grey_or_rgb(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Any Pillow mode -> "L" or "RGB", compositing transparency onto ``background``."""
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        return _sixteen_bit_to_grey(image)
    if mode == "1":
        return image.convert("L")
    if mode in _ALPHA_MODES or "transparency" in image.info:
        # Palette images go through RGBA so a transparent index becomes alpha, not a colour.
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    if mode in ("L", "RGB"):
        return image
    return image.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV, F...


def _sixteen_bit_to_grey(image: Image.Image) -> Image.Image:
    values = np.asarray(image)
    if image.mode == "I":
        # 32-bit integer mode is how Pillow may hand over 16-bit PNGs; their values are 0..65535.
        values = np.clip(values, 0, 65535)
    # round(v * 255 / 65535): 65535 -> 255, 32768 -> 128, 257 -> 1.
    grey = (values.astype(np.uint32) * 255 + 32767) // 65535
    return Image.fromarray(grey.astype(np.uint8))


def _fit_square(image: Image.Image, size: int) -> Image.Image:
    """Scale the shorter side to ``size`` and centre-crop, in one resampling pass."""
    w, h = image.size
    if (w, h) == (size, size):
        return image
    side = min(w, h)
    left, top = (w - side) / 2, (h - side) / 2
    # reducing_gap: an integer box reduce first, then LANCZOS -- fast and alias-free.
    return image.resize((size, size), Image.Resampling.LANCZOS,
                        box=(left, top, left + side, top + side), reducing_gap=3.0)


def _channels_equal(pixels: np.ndarray) -> bool:
    return bool(np.array_equal(pixels[:, :, 0], pixels[:, :, 1])
                and np.array_equal(pixels[:, :, 0], pixels[:, :, 2]))


# ----- decoding the folder -----------------------------------------------------------------------

@dataclass
class _Decoded:
    images: np.ndarray                 # uint8 (N, C, H, W)
    labels: np.ndarray | None          # int64 (N,)
    class_names: tuple[str, ...]
    skips: list[tuple[str, str]]       # (relative path, reason)


class _ImageStore:
    """Grows an (N, C, H, W) array in file order; starts with 1 channel and widens to 3 on the
    first colour image, so an all-greyscale folder never pays for three channels."""

    def __init__(self, capacity: int, size: int, channels: int):
        self.array = np.empty((capacity, 3 if channels == 3 else 1, size, size), np.uint8)
        self.count = 0

    def add(self, pixels: np.ndarray) -> None:
        if pixels.ndim == 3 and self.array.shape[1] == 1:
            wider = np.empty((len(self.array), 3, *self.array.shape[2:]), np.uint8)
            wider[:self.count] = self.array[:self.count]
            self.array = wider
        self.array[self.count] = pixels if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        self.count += 1

    def result(self) -> np.ndarray:
        return self.array if self.count == len(self.array) else self.array[:self.count].copy()


def _decode_folder(root: Path, files: Sequence[_Candidate], size: int, channels: int,
                   class_labels: bool, background: tuple[int, int, int],
                   report: ProgressCallback) -> _Decoded:
    skips: list[tuple[str, str]] = []
    to_decode: list[_Candidate] = []
    for candidate in files:
        if candidate.size < 0:
            skips.append((candidate.relative, UNREADABLE))
        elif candidate.size == 0:
            skips.append((candidate.relative, EMPTY))
        elif not candidate.looks_like_image:
            skips.append((candidate.relative, NOT_IMAGE))  # never handed to a decoder
        else:
            to_decode.append(candidate)

    def decode(candidate: _Candidate) -> np.ndarray | str:
        try:
            return decode_image(candidate.path, size, channels, background)
        except _Unusable as unusable:
            return unusable.reason

    store = _ImageStore(len(to_decode), size, channels)
    classes: list[str] = []
    total = len(to_decode)
    step = max(1, total // 100)  # about 1% per report: smooth bars, negligible overhead
    report(0, total, f"Decoding {total:,} images in {root}")
    Image.init()  # register every format plugin once, before threads race to do it lazily
    # Pillow releases the GIL while decoding and resampling, so threads scale with cores.
    pool = ThreadPoolExecutor(max_workers=_worker_count(), thread_name_prefix="decode")
    try:
        for done, (candidate, result) in enumerate(zip(to_decode, pool.map(decode, to_decode)),
                                                   start=1):
            if isinstance(result, str):
                skips.append((candidate.relative, result))
            else:
                store.add(result)
                if class_labels:
                    classes.append(candidate.class_folder or "")
            if done % step == 0 or done == total:
                report(done, total, f"Decoded {done:,} of {total:,} images")
    finally:
        # Stop promptly when the caller cancels from inside ``report`` or a worker fails.
        pool.shutdown(wait=True, cancel_futures=True)

    skips.sort()
    images = store.result()
    if class_labels:
        class_names = tuple(sorted(set(classes)))
        index = {name: i for i, name in enumerate(class_names)}
        labels = np.array([index[name] for name in classes], dtype=np.int64)
    else:
        class_names, labels = (), None
    return _Decoded(images, labels, class_names, skips)


def _worker_count() -> int:
    try:
        cores = len(os.sched_getaffinity(0))  # respects taskset / container CPU limits
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(16, cores))


# ----- messages ----------------------------------------------------------------------------------

def _reasons_phrase(skips: Sequence[tuple[str, str]]) -> str:
    """'1 empty (0 bytes), 2 corrupt or truncated — e.g. a.png, b.jpg'."""
    counts = Counter(reason for _, reason in skips)
    parts = [f"{counts[reason]:,} {reason}" for reason in _REASON_ORDER if counts[reason]]
    # One example per reason first, so every kind of problem has a name to look at.
    examples: list[str] = []
    for reason in _REASON_ORDER:
        first = next((name for name, r in skips if r == reason), None)
        if first is not None:
            examples.append(first)
    for name, _ in skips:
        if len(examples) >= _EXAMPLES_IN_MESSAGE:
            break
        if name not in examples:
            examples.append(name)
    return f"{', '.join(parts)} — e.g. {', '.join(examples)}"


def _skipped_message(skips: Sequence[tuple[str, str]], total: int, root: Path) -> str:
    if not skips:
        return ""
    return f"Skipped {len(skips):,} of {total:,} files in {root}: {_reasons_phrase(skips)}"


def _check_class_layout(root: Path, files: Sequence[_Candidate]) -> None:
    loose = [c.relative for c in files if c.class_folder is None and c.looks_like_image]
    if loose:
        examples = ", ".join(loose[:_EXAMPLES_IN_MESSAGE])
        raise DatasetError(
            f"class labels are on, so every image must sit in a sub-folder of {root} named after "
            f"its class (for example {root / 'cats' / 'a.png'}), but {len(loose):,} image "
            f"file{'s are' if len(loose) != 1 else ' is'} directly in the folder (e.g. "
            f"{examples}). Move them into class sub-folders, or turn class labels off.")


# ----- cache -------------------------------------------------------------------------------------

class _FolderCache:
    """One cache entry per (folder, settings): ``<id>.json`` (written last) + ``<id>.images.npy``
    (+ ``<id>.labels.npy``). The manifest holds a digest of the file list and checksums of the
    arrays, so a changed folder or a damaged entry is noticed and rebuilt."""

    def __init__(self, cache_dir: Path, root: Path, settings: dict, files: Sequence[_Candidate]):
        identity = json.dumps({"folder": str(root), "settings": settings}, sort_keys=True)
        entry = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
        listing = json.dumps([(c.relative, c.size, c.mtime_ns) for c in files],
                             separators=(",", ":"))
        self.files_digest = hashlib.sha256(listing.encode("utf-8")).hexdigest()
        self.root = root
        self.settings = settings
        self.manifest_path = cache_dir / f"{entry}.json"
        self.images_path = cache_dir / f"{entry}.images.npy"
        self.labels_path = cache_dir / f"{entry}.labels.npy"

    def load(self) -> tuple[np.ndarray, np.ndarray | None, dict] | None:
        """The cached arrays and manifest, or ``None`` when absent, stale or damaged."""
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if (manifest.get("format") != CACHE_FORMAT_VERSION
                    or manifest.get("folder") != str(self.root)
                    or manifest.get("settings") != self.settings
                    or manifest.get("files_digest") != self.files_digest):
                return None
            images = _load_checked(self.images_path, tuple(manifest["shape"]), np.uint8,
                                   manifest["images_crc32"])
            labels = None
            if manifest["has_labels"]:
                labels = _load_checked(self.labels_path, (manifest["shape"][0],), np.int64,
                                       manifest["labels_crc32"])
            return images, labels, manifest
        except FileNotFoundError:
            return None
        except Exception as error:  # damaged entry: rebuild rather than bother the user
            log.info("ignoring damaged folder cache entry %s: %s", self.manifest_path, error)
            return None

    def save(self, decoded: _Decoded, info: DatasetInfo) -> None:
        manifest = {
            "format": CACHE_FORMAT_VERSION,
            "folder": str(self.root),
            "settings": self.settings,
            "files_digest": self.files_digest,
            "shape": list(decoded.images.shape),
            "images_crc32": _crc32(decoded.images),
            "has_labels": decoded.labels is not None,
            "labels_crc32": None if decoded.labels is None else _crc32(decoded.labels),
            "class_names": list(decoded.class_names),
            "skipped": info.skipped,
            "skipped_message": info.skipped_message,
        }
        try:
            atomic_save(self.images_path, lambda handle: np.save(handle, decoded.images))
            if decoded.labels is not None:
                atomic_save(self.labels_path, lambda handle: np.save(handle, decoded.labels))
            atomic_write_text(self.manifest_path, json.dumps(manifest, indent=1))
        except OSError as error:  # a full disk or read-only cache only costs speed next time
            log.warning("could not write the folder cache in %s: %s",
                        self.manifest_path.parent, error)


def _load_checked(path: Path, shape: tuple[int, ...], dtype: type, crc: int) -> np.ndarray:
    array = np.load(path, allow_pickle=False)
    if array.shape != shape or array.dtype != dtype or _crc32(array) != crc:
        raise ValueError(f"{path.name} does not match its manifest")
    return array


def _crc32(array: np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


# ----- entry point -------------------------------------------------------------------------------

def open_image_folder(path: str | os.PathLike[str], *, image_size: int | None, channels: int = 0,
                      class_labels: bool = False, cache: bool = True,
                      cache_dir: Path | None = None, progress: ProgressCallback | None = None,
                      background: tuple[int, int, int] = (255, 255, 255)) -> ImageDataset:
    """Open a folder of images (searched recursively) as an :class:`ImageDataset`.

    ``image_size=None`` means :data:`DEFAULT_FOLDER_IMAGE_SIZE` (64). See the module docstring
    for how sizes, transparency, 16-bit images, channels, skipped files, class labels and the
    cache behave. Raises :class:`DatasetError` when the folder is missing or holds no usable
    image, and when ``class_labels`` is on but images lie directly in the folder.
    """
    size = DEFAULT_FOLDER_IMAGE_SIZE if image_size is None else int(image_size)
    if size < 1:
        raise ValueError(f"image_size must be a positive number of pixels (got {image_size})")
    if channels not in (0, 1, 3):
        raise ValueError(f"channels must be 0 (auto), 1 or 3 (got {channels})")
    background = _check_background(background)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES was set to True in this process; "
                           "image folders refuse to open then, because truncated files would "
                           "load half grey instead of being skipped")
    report = progress or _ignore_progress

    folder = Path(path).expanduser()
    if not folder.is_dir():
        where = folder.absolute()
        raise DatasetError(f"{where}: is a file, not a folder of images" if where.exists()
                           else f"no folder of images at {where}")
    root = folder.resolve()
    report(0, 0, f"Scanning {root}")
    scan = _scan_folder(root)
    if not scan.files:
        hidden = ("entries whose names start" if scan.hidden != 1
                  else "entry whose name starts")
        note = (f" ({scan.hidden:,} hidden {hidden} with '.' ignored)" if scan.hidden else "")
        raise DatasetError(f"no images in {root}: it holds no files, sub-folders included{note}. "
                           "Put PNG, JPEG, WebP, BMP or GIF files in it or in sub-folders.")
    if class_labels:
        _check_class_layout(root, scan.files)

    settings = {"image_size": size, "channels": channels, "class_labels": bool(class_labels),
                "background": list(background)}
    folder_cache = None
    if cache:
        folder_cache = _FolderCache(Path(cache_dir) if cache_dir else user_cache_dir("folders"),
                                    root, settings, scan.files)
        cached = folder_cache.load()
        if cached is not None:
            images, labels, manifest = cached
            report(len(images), len(images), f"Loaded {len(images):,} images from the cache")
            info = _make_info(path, root, images, tuple(manifest["class_names"]),
                              int(manifest["skipped"]), str(manifest["skipped_message"]))
            return ImageDataset(images, info, labels)

    decoded = _decode_folder(root, scan.files, size, channels, class_labels, background, report)
    if len(decoded.images) == 0:
        raise DatasetError(f"no usable images in {root}: all {len(scan.files):,} files were "
                           f"skipped: {_reasons_phrase(decoded.skips)}")
    info = _make_info(path, root, decoded.images, decoded.class_names, len(decoded.skips),
                      _skipped_message(decoded.skips, len(scan.files), root))
    if info.skipped:
        log.warning("%s", info.skipped_message)
    if folder_cache is not None:
        folder_cache.save(decoded, info)
    return ImageDataset(decoded.images, info, decoded.labels)


def _make_info(path: str | os.PathLike[str], root: Path, images: np.ndarray,
               class_names: tuple[str, ...], skipped: int, skipped_message: str) -> DatasetInfo:
    description = f"{len(images):,} images from {root}"
    if class_names:
        description += f" in {len(class_names)} classes"
    return DatasetInfo(name=str(path), kind="image", shape=tuple(int(s) for s in images.shape[1:]),
                       size=len(images), class_names=class_names, skipped=skipped,
                       skipped_message=skipped_message, description=description,
                       source=str(root))


def _check_background(background: Sequence[int]) -> tuple[int, int, int]:
    values = tuple(int(v) for v in background)
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise ValueError(f"background must be three values from 0 to 255 (got {background!r})")
    return values  # type: ignore[return-value]


def _ignore_progress(done: int, total: int, message: str) -> None:
    pass

