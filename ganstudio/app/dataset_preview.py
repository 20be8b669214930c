"""Opening the chosen dataset in the background for the run panel's preview (no Qt).

The opened dataset is kept with the preview: when its request still matches the config at
Train, the trainer gets it directly instead of decoding a large image folder a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ganstudio.config import RunConfig

PREVIEW_IMAGES = 64          # enough for an 8x8 real batch next to the sample grid
PREVIEW_POINTS = 1000
POINTS_PREVIEW_SIZE = 192


@dataclass(frozen=True)
class DatasetRequest:
    """The settings that decide what ``open_dataset`` returns."""

    name: str
    image_size: int
    channels: int
    root: str
    split: str
    class_labels: bool
    cache: bool
    download: bool

    @classmethod
    def from_config(cls, config: RunConfig) -> "DatasetRequest":
        d = config.data
        return cls(d.name, config.model.image_size, d.channels, d.root, d.split,
                   d.class_labels, d.cache, d.download)


@dataclass(frozen=True)
class DatasetPreview:
    request: DatasetRequest
    info: Any                           # DatasetInfo, or None when the files await a download
    images: np.ndarray | None           # uint8 (N, H, W, C) real images, or one 2-D render
    dataset: Any = None                 # the opened dataset, for the trainer to reuse
    bounds: tuple[float, float, float, float] | None = None
    points: np.ndarray | None = None    # (N, 2) for point datasets
    note: str = ""                      # e.g. "will be downloaded when training starts"

    @property
    def kind(self) -> str:
        return self.info.kind if self.info is not None else "image"


def load_preview(request: DatasetRequest,
                 progress: Callable[[int, int, str], None] | None = None) -> DatasetPreview:
    """Open the dataset (never downloading) and draw a reproducible handful of real items."""
    from ganstudio.data import open_dataset
    from ganstudio.errors import DatasetError

    try:
        dataset = open_dataset(request.name, image_size=request.image_size,
                               channels=request.channels, root=request.root,
                               split=request.split, download=False,
                               class_labels=request.class_labels, cache=request.cache,
                               progress=progress)
    except DatasetError:
        if request.download:
            return DatasetPreview(request, None, None,
                                  note=f"{request.name} will be downloaded into "
                                       f"{request.root or 'the default data folder'} when "
                                       "training starts.")
        raise
    info = dataset.info
    if info.kind == "points":
        from ganstudio.export.points import render_points

        points = dataset.preview(PREVIEW_POINTS, seed=0)
        image = render_points(points, None, None, dataset.bounds, size=POINTS_PREVIEW_SIZE)
        return DatasetPreview(request, info, image[None], dataset, tuple(dataset.bounds), points)
    return DatasetPreview(request, info, dataset.preview(PREVIEW_IMAGES, seed=0), dataset)


def describe(info: Any) -> str:
    """One line about an opened dataset: size, image shape, classes."""
    if info.kind == "points":
        return f"{info.description} · 2-D points, sampled without end"
    channels, h, w = info.shape
    colour = "RGB" if channels == 3 else "greyscale" if channels == 1 else f"{channels} channels"
    text = f"{info.size:,} images · {w}×{h} {colour}"
    if info.class_names:
        text += f" · {len(info.class_names)} classes"
    if info.skipped:
        text += f" · {info.skipped:,} skipped"
    return text
