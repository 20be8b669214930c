"""Datasets, all usable offline: built-ins, torchvision sets from a local folder, image folders.

:func:`open_dataset` is the one entry point the trainer, the CLI and the window use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ganstudio.data.base import (
    BatchSampler,
    Dataset,
    DatasetInfo,
    ImageDataset,
    PointDataset,
    ProgressCallback,
)
from ganstudio.data.builtin import BUILTIN_DATASETS, DEFAULT_DATASET
from ganstudio.errors import DatasetError

__all__ = [
    "BatchSampler", "Dataset", "DatasetInfo", "ImageDataset", "PointDataset", "DEFAULT_DATASET",
    "DatasetChoice", "list_datasets", "open_dataset", "dataset_kind", "recommended_settings",
]


@dataclass(frozen=True)
class DatasetChoice:
    """One row of ``--list-datasets`` and of the window's dataset menu."""

    name: str
    group: str        # "built-in", "torchvision" or "folder"
    kind: str         # "image" or "points"
    description: str


def list_datasets() -> list[DatasetChoice]:
    from ganstudio.data.torchvision_sets import TORCHVISION_SETS

    rows = [DatasetChoice(b.name, "built-in", b.kind, b.description)
            for b in BUILTIN_DATASETS.values()]
    rows += [DatasetChoice(name, "torchvision", "image", spec.description)
             for name, spec in TORCHVISION_SETS.items()]
    rows.append(DatasetChoice("PATH", "folder", "image",
                              "any folder of PNG/JPEG/WebP/BMP/GIF images (searched recursively)"))
    return rows


def recommended_settings(name: str) -> dict[str, object]:
    """Config values (dotted keys) that suit dataset ``name`` better than the defaults."""
    builtin = BUILTIN_DATASETS.get(name.strip().lower())
    return dict(builtin.recommended) if builtin else {}


def dataset_kind(name: str) -> str:
    """"image" or "points" for a dataset name or folder, without opening it."""
    builtin = BUILTIN_DATASETS.get(name)
    return builtin.kind if builtin else "image"


def open_dataset(name: str, *, image_size: int | None, channels: int = 0, root: str = "",
                 split: str = "auto", download: bool = False, class_labels: bool = False,
                 cache: bool = True, cache_dir: Path | None = None,
                 progress: ProgressCallback | None = None) -> ImageDataset | PointDataset:
    """Open a dataset by built-in name, torchvision set name, or folder path.

    Images come back resized and centre-cropped to ``image_size`` (``None`` keeps the dataset's
    natural size) with ``channels`` channels (0 keeps the dataset's own).
    """
    key = name.strip().lower()
    if key in BUILTIN_DATASETS:
        return BUILTIN_DATASETS[key].open(image_size, channels)
    from ganstudio.data.torchvision_sets import TORCHVISION_SETS, open_torchvision_set

    if key in TORCHVISION_SETS:
        return open_torchvision_set(key, root=root, split=split, download=download,
                                    image_size=image_size, channels=channels, progress=progress)
    path = Path(name).expanduser()
    if path.is_dir():
        from ganstudio.data.folder import open_image_folder

        return open_image_folder(path, image_size=image_size, channels=channels,
                                 class_labels=class_labels, cache=cache, cache_dir=cache_dir,
                                 progress=progress)
    if path.exists():
        raise DatasetError(f"{path}: is a file, not a folder; give a folder of images, a "
                           "built-in dataset or a torchvision set name")
    known = ", ".join(list(BUILTIN_DATASETS) + list(TORCHVISION_SETS))
    raise DatasetError(f"unknown dataset {name!r}: it is not a built-in or torchvision set "
                       f"({known}) and no folder exists at {path.resolve()}")
