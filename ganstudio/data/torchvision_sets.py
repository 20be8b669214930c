"""MNIST, Fashion-MNIST and CIFAR-10 read from local files, downloaded only on request.

The files are parsed here rather than through torchvision's dataset classes, so that:

* the same files work in torchvision's own layout (``root/MNIST/raw``, ``root/FashionMNIST/raw``,
  ``root/cifar-10-batches-py``) and in a plain folder, gzipped or not, and CIFAR-10 straight from
  its ``cifar-10-python.tar.gz`` archive (read in memory, nothing is extracted);
* a damaged file gives an error naming the file and what is wrong with it;
* CIFAR-10's pickled batches are read by a restricted unpickler that can only rebuild numpy
  arrays, so a malicious "batch" cannot run code.

``root=""`` means ``$GANSTUDIO_CACHE_DIR/torchvision``, else ``$XDG_CACHE_HOME/ganstudio/
torchvision``, else ``~/.cache/ganstudio/torchvision``. torchvision is imported only when
``download=True`` and files are missing; then ``torchvision.datasets.MNIST`` (etc.) downloads
into ``root`` in its usual layout, which is searched again afterwards.
"""

from __future__ import annotations

import gzip
import importlib
import io
import os
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np
import torch

from ganstudio.data.base import (
    DatasetInfo,
    ImageDataset,
    ProgressCallback,
    convert_channels,
    resize_uint8,
)
from ganstudio.data.folder import user_cache_dir
from ganstudio.errors import DatasetError

__all__ = ["SPLITS", "TORCHVISION_SETS", "TorchvisionSetSpec", "default_torchvision_root",
           "open_torchvision_set", "read_cifar_batch", "read_idx"]

SPLITS = ("auto", "train", "test", "all")
_DOWNLOAD_HINT = "allow downloading (data.download = true / the Download box)"


@dataclass(frozen=True)
class TorchvisionSetSpec:
    """What one torchvision set is and which files hold it."""

    name: str                                 # "mnist": the name users type
    title: str                                # "MNIST": the name in messages
    description: str
    natural_size: int
    channels: int
    class_names: tuple[str, ...]
    split_files: dict[str, tuple[str, ...]]   # "train"/"test" -> file names (IDX: without .gz)
    layout: tuple[str, ...]                   # folders under root that may hold the files
    file_format: str                          # "idx" or "cifar"
    torchvision_class: str                    # torchvision.datasets class used to download
    archive: str | None = None                # CIFAR: the tarball torchvision downloads

    def expected_files(self, split: str) -> str:
        names = [f"{n}(.gz)" if self.file_format == "idx" else n for n in self.split_files[split]]
        return _join_words(names)


_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

TORCHVISION_SETS: dict[str, TorchvisionSetSpec] = {
    "mnist": TorchvisionSetSpec(
        name="mnist", title="MNIST",
        description="70,000 handwritten digits 0-9, 28x28 greyscale (local files or download)",
        natural_size=28, channels=1, class_names=tuple(str(d) for d in range(10)),
        split_files=_MNIST_FILES, layout=(".", "MNIST/raw", "raw"), file_format="idx",
        torchvision_class="MNIST"),
    "fashion-mnist": TorchvisionSetSpec(
        name="fashion-mnist", title="Fashion-MNIST",
        description="70,000 Zalando clothing photos in 10 classes, 28x28 greyscale "
                    "(local files or download)",
        natural_size=28, channels=1,
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                     "Sneaker", "Bag", "Ankle boot"),
        split_files=_MNIST_FILES, layout=(".", "FashionMNIST/raw", "raw"), file_format="idx",
        torchvision_class="FashionMNIST"),
    "cifar10": TorchvisionSetSpec(
        name="cifar10", title="CIFAR-10",
        description="60,000 small photos in 10 classes, 32x32 colour (local files or download)",
        natural_size=32, channels=3,
        class_names=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                     "ship", "truck"),
        split_files={"train": tuple(f"data_batch_{i}" for i in range(1, 6)),
                     "test": ("test_batch",)},
        layout=("cifar-10-batches-py", "."), file_format="cifar", torchvision_class="CIFAR10",
        archive="cifar-10-python.tar.gz"),
}


def default_torchvision_root() -> Path:
    """Where torchvision sets live when ``root`` is empty."""
    return user_cache_dir("torchvision")


# ----- locating files ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Source:
    """Where one split's files were found: loose files, or members of the CIFAR archive."""

    files: tuple[Path, ...] = ()
    archive: Path | None = None
    members: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        return self.archive if self.archive is not None else self.files[0].parent


def _search_folders(spec: TorchvisionSetSpec, root: Path) -> list[Path]:
    return [root if sub == "." else root / sub for sub in spec.layout]


def _locate(spec: TorchvisionSetSpec, root: Path, split: str) -> _Source | None:
    folders = _search_folders(spec, root)
    found: list[Path] = []
    for name in spec.split_files[split]:
        # Uncompressed first: torchvision leaves both, and the plain file reads faster.
        variants = (name, name + ".gz") if spec.file_format == "idx" else (name,)
        path = next((folder / v for folder in folders for v in variants
                     if (folder / v).is_file()), None)
        if path is None:
            break
        found.append(path)
    else:
        return _Source(files=tuple(found))
    if spec.archive and (root / spec.archive).is_file():
        members = tuple(f"cifar-10-batches-py/{n}" for n in spec.split_files[split])
        return _Source(archive=root / spec.archive, members=members)
    return None


def _missing_message(spec: TorchvisionSetSpec, root: Path, split: str) -> str:
    train, test = f"{spec.expected_files('train')} (train)", f"{spec.expected_files('test')} (test)"
    if split == "all":
        expected = f"{train} and {test}"
    elif split == "auto":  # either split will do; name the smaller test split first
        expected = f"{test} or {train}"
    else:
        expected = train if split == "train" else test
    where = _join_words([str(f) for f in _search_folders(spec, root)], "or")
    archive = f", or the archive {spec.archive} in {root}" if spec.archive else ""
    return (f"{spec.title} files not found. Expected {expected} in {where}{archive}. "
            f"Copy them there, or {_DOWNLOAD_HINT}.")


def _join_words(words: list[str], last: str = "and") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


# ----- IDX (MNIST, Fashion-MNIST) ----------------------------------------------------------------

_IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DatasetError(f"{path}: cannot be read ({error}); the file is damaged or not a "
                           "gzip file — replace it with a fresh copy") from error


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes, checking its magic number and length."""
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetError(f"{path}: only {len(data)} bytes, too short to be an IDX file")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        kind = "images" if expected_magic == _IDX_IMAGES_MAGIC else "labels"
        raise DatasetError(f"{path}: not an IDX {kind} file (magic number 0x{magic:08X}, "
                           f"expected 0x{expected_magic:08X}); is it the right file, and "
                           "decompressed correctly?")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: IDX header cut short ({len(data)} bytes, the header alone "
                           f"needs {header})")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    need = int(np.prod(shape, dtype=np.int64))
    have = len(data) - header
    if have != need:
        raise DatasetError(f"{path}: the header says {'x'.join(map(str, shape))} = {need:,} "
                           f"bytes of data but the file holds {have:,}; it is truncated or "
                           "damaged")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def _read_idx_split(spec: TorchvisionSetSpec, source: _Source) -> tuple[np.ndarray, np.ndarray]:
    image_path, label_path = source.files
    images = read_idx(image_path, _IDX_IMAGES_MAGIC)
    labels = read_idx(label_path, _IDX_LABELS_MAGIC)
    size = spec.natural_size
    if images.shape[1:] != (size, size):
        raise DatasetError(f"{image_path}: images are {images.shape[1]}x{images.shape[2]} but "
                           f"{spec.title} images are {size}x{size}")
    if len(images) != len(labels):
        raise DatasetError(f"{image_path} holds {len(images):,} images but {label_path} holds "
                           f"{len(labels):,} labels; they must come from the same split")
    _check_labels(labels, len(spec.class_names), label_path)
    return images[:, None], labels.astype(np.int64)


def _check_labels(labels: np.ndarray, classes: int, where: Path | str) -> None:
    if len(labels) and int(labels.max()) >= classes:
        raise DatasetError(f"{where}: label {int(labels.max())} is out of range; labels must be "
                           f"0..{classes - 1}")


# ----- CIFAR-10 batches --------------------------------------------------------------------------

def _numpy_attr(dotted: str) -> Callable:
    """numpy 2 moved ``numpy.core`` to ``numpy._core``; accept pickles naming either."""
    module, _, name = dotted.rpartition(".")
    for candidate in (module, module.replace("numpy.core", "numpy._core"),
                      module.replace("numpy._core", "numpy.core")):
        try:
            return getattr(importlib.import_module(candidate), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"numpy has no {dotted}")


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    # Python 2 pickles carry array bytes as str + _codecs.encode(s, "latin1"); allow only that.
    if encoding.lower().replace("-", "") not in ("latin1", "iso88591"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


# The only globals a CIFAR-10 batch (Python 2 original, or re-pickled by Python 3) refers to.
_CIFAR_GLOBALS: dict[tuple[str, str], Callable[[], object]] = {
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("_codecs", "encode"): lambda: _latin1_encode,
    **{(module, "_reconstruct"): (lambda: _numpy_attr("numpy._core.multiarray._reconstruct"))
       for module in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(module, "scalar"): (lambda: _numpy_attr("numpy._core.multiarray.scalar"))
       for module in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(module, "_frombuffer"): (lambda: _numpy_attr("numpy._core.numeric._frombuffer"))
       for module in ("numpy.core.numeric", "numpy._core.numeric")},
}


class RefusedPickle(pickle.UnpicklingError):
    """A pickle asked for something a CIFAR-10 batch never needs."""


class _CifarUnpickler(pickle.Unpickler):
    """Rebuilds plain containers and numpy arrays only; any other global is refused unrun."""

    def find_class(self, module: str, name: str) -> object:
        factory = _CIFAR_GLOBALS.get((module, name))
        if factory is None:
            raise RefusedPickle(
                f"refusing to load {module}.{name}: a CIFAR-10 batch holds only numpy arrays "
                "and lists, so this file is not a genuine batch (it may try to run code)")
        return factory()

    def persistent_load(self, pid: object) -> object:
        raise RefusedPickle("refusing a persistent id: not a CIFAR-10 batch")


def read_cifar_batch(handle: BinaryIO, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 batch safely; returns uint8 ``(N, 3, 32, 32)`` and int64 labels."""
    try:
        # encoding="bytes": the original Python 2 pickles store the pixels as byte strings.
        batch = _CifarUnpickler(handle, encoding="bytes").load()
    except RefusedPickle as error:
        raise DatasetError(f"{where}: {error}") from error
    except Exception as error:  # truncated or garbage data: pickle raises many kinds
        raise DatasetError(f"{where}: not a readable CIFAR-10 batch ({type(error).__name__}: "
                           f"{error}); replace it with a fresh copy") from error
    if not isinstance(batch, dict):
        raise DatasetError(f"{where}: not a CIFAR-10 batch (holds a {type(batch).__name__}, "
                           "expected a dict with data and labels)")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetError(f"{where}: 'data' must be uint8 rows of 3072 pixels (got {got})")
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as error:
        raise DatasetError(f"{where}: 'labels' is not a list of class numbers") from error
    if len(labels) != len(data):
        raise DatasetError(f"{where}: {len(data):,} images but {len(labels):,} labels")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DatasetError(f"{where}: labels must be 0..9 (found {labels.min()}..{labels.max()})")
    return data.reshape(-1, 3, 32, 32), labels


def _read_cifar_split(source: _Source) -> tuple[np.ndarray, np.ndarray]:
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    if source.archive is None:
        for path in source.files:
            with path.open("rb") as handle:
                parts.append(read_cifar_batch(handle, str(path)))
    else:
        parts = _read_cifar_archive(source.archive, source.members)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _read_cifar_archive(archive: Path, members: tuple[str, ...]
                        ) -> list[tuple[np.ndarray, np.ndarray]]:
    # One sequential pass: seeking backwards in a .tar.gz would decompress from the start again.
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in members and member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None  # isfile() guarantees a file object
                    data = io.BytesIO(extracted.read())
                    found[member.name] = read_cifar_batch(data, f"{archive}!{member.name}")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DatasetError(f"{archive}: cannot be read as a .tar.gz archive ({error}); replace "
                           "it with a fresh download") from error
    missing = [m for m in members if m not in found]
    if missing:
        raise DatasetError(f"{archive}: the archive lacks {_join_words(missing)}")
    return [found[m] for m in members]


# ----- downloading -------------------------------------------------------------------------------

def _download(spec: TorchvisionSetSpec, root: Path, splits: list[str]) -> None:
    """Let torchvision fetch the files into ``root``; raises whatever it raises."""
    import torchvision.datasets as datasets  # slow import; only needed here

    dataset_class = getattr(datasets, spec.torchvision_class)
    root.mkdir(parents=True, exist_ok=True)
    for split in splits:
        dataset_class(str(root), train=(split == "train"), download=True)


# ----- entry point -------------------------------------------------------------------------------

def open_torchvision_set(name: str, *, root: str = "", split: str = "auto",
                         download: bool = False, image_size: int | None = None,
                         channels: int = 0, progress: ProgressCallback | None = None
                         ) -> ImageDataset:
    """Open MNIST, Fashion-MNIST or CIFAR-10 from files under ``root`` (see module docstring).

    ``split`` is "train", "test", "all" (both) or "auto" (train when its files exist, else
    test). A download is attempted only with ``download=True`` and only when files are missing.
    Images come back resized to ``image_size`` (``None`` keeps 28 or 32) with ``channels``
    channels (0 keeps the set's own); labels are always returned.
    """
    key = name.strip().lower()
    spec = TORCHVISION_SETS.get(key)
    if spec is None:
        raise DatasetError(f"unknown torchvision set {name!r}; choose one of "
                           f"{', '.join(TORCHVISION_SETS)}")
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r} for {spec.title}; choose one of "
                           f"{', '.join(SPLITS)}")
    if channels not in (0, 1, 3):
        raise ValueError(f"channels must be 0 (keep), 1 or 3 (got {channels})")
    report = progress or (lambda done, total, message: None)
    folder = Path(root).expanduser() if root.strip() else default_torchvision_root()
    folder = Path(os.path.abspath(folder))  # absolute and tidy; links left as the user made them

    wanted = {"train": ["train"], "test": ["test"], "all": ["train", "test"],
              "auto": ["train", "test"]}[split]
    sources = {s: _locate(spec, folder, s) for s in wanted}
    chosen = _choose_splits(split, sources)
    if chosen is None and download:
        to_fetch = ["train"] if split == "auto" else wanted
        report(0, 0, f"Downloading {spec.title} into {folder}")
        try:
            _download(spec, folder, [s for s in to_fetch if sources[s] is None])
        except Exception as error:  # URLError, RuntimeError from torchvision, disk errors...
            reason = " ".join(str(error).split()) or type(error).__name__
            raise DatasetError(f"{_missing_message(spec, folder, split)} "
                               f"Downloading {spec.title} into {folder} failed: {reason}"
                               ) from error
        sources = {s: _locate(spec, folder, s) for s in wanted}
        chosen = _choose_splits(split, sources)
    if chosen is None:
        raise DatasetError(_missing_message(spec, folder, split))

    size = image_size or spec.natural_size
    steps = len(chosen) + (size != spec.natural_size)
    images_parts, label_parts, read_from = [], [], []
    for index, (split_name, source) in enumerate(chosen):
        report(index, steps, f"Reading {spec.title} {split_name} from {source.folder}")
        if spec.file_format == "idx":
            images, labels = _read_idx_split(spec, source)
        else:
            images, labels = _read_cifar_split(source)
        images_parts.append(images)
        label_parts.append(labels)
        read_from.append(str(source.folder))
    tensor = torch.from_numpy(np.concatenate(images_parts))
    labels = torch.from_numpy(np.concatenate(label_parts))

    if size != spec.natural_size:
        report(len(chosen), steps, f"Resizing {len(tensor):,} images to {size}x{size}")
        tensor = resize_uint8(tensor, size)
    tensor = convert_channels(tensor, channels)
    report(steps, steps, f"Loaded {len(tensor):,} {spec.title} images")

    split_words = " + ".join(s for s, _ in chosen)
    info = DatasetInfo(
        name=spec.name, kind="image", shape=tuple(tensor.shape[1:]), size=len(tensor),
        class_names=spec.class_names,
        description=f"{spec.title} {split_words}: {len(tensor):,} images "
                    f"({spec.natural_size}x{spec.natural_size} originals), "
                    f"{len(spec.class_names)} classes",
        source=" and ".join(dict.fromkeys(read_from)))
    return ImageDataset(tensor, info, labels)


def _choose_splits(split: str, sources: dict[str, _Source | None]
                   ) -> list[tuple[str, _Source]] | None:
    if split == "auto":
        for candidate in ("train", "test"):
            if sources[candidate] is not None:
                return [(candidate, sources[candidate])]
        return None
    if any(source is None for source in sources.values()):
        return None
    return [(s, source) for s, source in sources.items() if source is not None]

