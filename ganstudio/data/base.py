"""What every dataset looks like to the trainer.

Two kinds exist:

* :class:`ImageDataset` — decoded images held as one ``uint8`` tensor ``(N, C, H, W)`` (plus
  optional ``int64`` labels). Keeping images as uint8 makes them small enough to live on the GPU
  for the fast path; batches are normalised to ``[-1, 1]`` on the fly.
* :class:`PointDataset` — a 2-D toy distribution sampled analytically, so it is infinite.

Both draw batches through a :class:`BatchSampler` whose whole state (generator state, epoch
permutation and position) goes into checkpoints, which is what makes resume exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np
import torch
import torch.nn.functional as F

# Progress callbacks receive (done, total, message); total may be 0 when unknown.
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DatasetInfo:
    """Describes an opened dataset for the UI, the CLI and the run's metadata."""

    name: str                    # what the user asked for: "shapes", "mnist", a folder path
    kind: str                    # "image" or "points"
    shape: tuple[int, ...]       # (C, H, W) for images, (2,) for points
    size: int | None             # number of items; None for infinite toy distributions
    class_names: tuple[str, ...] = ()
    skipped: int = 0             # files that could not be used (image folders)
    skipped_message: str = ""    # one clear sentence about what was skipped and why
    description: str = ""
    source: str = ""             # where the data came from (folder, files)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def normalize_uint8(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``[0, 255]`` -> float32 ``[-1, 1]`` (the generator's tanh range)."""
    return images.to(torch.float32).mul_(1.0 / 127.5).sub_(1.0)


def to_uint8_images(images: torch.Tensor) -> np.ndarray:
    """Float ``[-1, 1]`` ``(N, C, H, W)`` -> uint8 numpy ``(N, H, W, C)`` for display and PNGs."""
    x = images.detach().to("cpu", torch.float32)
    x = ((x.clamp(-1, 1) + 1.0) * 127.5).round_().to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().numpy()


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize ``(N, C, h, w)`` uint8 images to ``size``×``size`` (area/antialias, centre crop)."""
    n, c, h, w = images.shape
    if h == size and w == size:
        return images
    scale = size / min(h, w)
    new_h, new_w = max(size, round(h * scale)), max(size, round(w * scale))
    out = []
    for start in range(0, n, 1024):  # chunks keep the float copy small for large sets
        chunk = images[start:start + 1024].to(torch.float32)
        chunk = F.interpolate(chunk, size=(new_h, new_w), mode="bilinear", antialias=True,
                              align_corners=False)
        top, left = (new_h - size) // 2, (new_w - size) // 2
        chunk = chunk[:, :, top:top + size, left:left + size]
        out.append(chunk.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(out) if out else images.new_zeros((0, c, size, size))


def convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Convert uint8 ``(N, C, H, W)`` images between 1 and 3 channels (0 keeps them)."""
    have = images.shape[1]
    if channels in (0, have):
        return images
    if channels == 3 and have == 1:
        return images.expand(-1, 3, -1, -1).contiguous()
    if channels == 1 and have == 3:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)  # ITU-R 601 luma
        grey = (images.to(torch.float32) * weights).sum(1, keepdim=True)
        return grey.round_().clamp_(0, 255).to(torch.uint8)
    raise ValueError(f"cannot convert {have}-channel images to {channels} channels")


class Dataset(Protocol):
    info: DatasetInfo

    def sampler(self, batch_size: int, *, seed: int, device: torch.device) -> "BatchSampler": ...

    def preview(self, count: int, *, seed: int = 0) -> np.ndarray: ...


class BatchSampler(Protocol):
    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


class ImageDataset:
    """Decoded images in memory as uint8; batches come out normalised to ``[-1, 1]``."""

    def __init__(self, images: torch.Tensor | np.ndarray, info: DatasetInfo,
                 labels: torch.Tensor | np.ndarray | None = None):
        images = torch.as_tensor(images)
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError("images must be a uint8 array shaped (N, C, H, W)")
        if len(images) == 0:
            raise ValueError(f"dataset {info.name!r} holds no images")
        self.images = images
        self.labels = None if labels is None else torch.as_tensor(labels, dtype=torch.int64)
        self.info = info

    def __len__(self) -> int:
        return len(self.images)

    def sampler(self, batch_size: int, *, seed: int, device: torch.device | str = "cpu"
                ) -> "ImageBatchSampler":
        return ImageBatchSampler(self, batch_size, seed=seed, device=torch.device(device))

    def preview(self, count: int, *, seed: int = 0) -> np.ndarray:
        """``count`` real images as uint8 ``(n, H, W, C)``, chosen reproducibly."""
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(self.images), generator=g)[:count]
        return self.images[idx].permute(0, 2, 3, 1).contiguous().numpy()


# A dataset stays resident on a GPU when it takes at most this share of the free memory: the
# rest is for the models, their activations and the optimiser state.
RESIDENT_SHARE = 0.5


def fits_on_device(nbytes: int, device: torch.device) -> bool:
    """Whether ``nbytes`` of dataset can live on ``device`` (always, off CUDA)."""
    if device.type != "cuda":
        return True
    free, _total = torch.cuda.mem_get_info(device)
    return nbytes <= free * RESIDENT_SHARE


class ImageBatchSampler:
    """Shuffled epochs over an :class:`ImageDataset`, drawn on ``device``.

    The uint8 images are copied to ``device`` once when they fit (the GPU fast path keeps the
    whole dataset resident); each batch is then an index gather plus normalisation, with no host
    round trip. A dataset too large for the GPU stays in host memory (``resident`` is False):
    each batch is gathered there and copied over as uint8. When the dataset is smaller than a
    batch, indices wrap across epochs.
    """

    def __init__(self, dataset: ImageDataset, batch_size: int, *, seed: int,
                 device: torch.device, resident: bool | None = None):
        self.batch_size = batch_size
        self.device = device
        nbytes = dataset.images.numel() + (0 if dataset.labels is None
                                           else dataset.labels.numel() * 8)
        self.resident = fits_on_device(nbytes, device) if resident is None else resident
        where = device if self.resident else torch.device("cpu")
        self.images = dataset.images.to(where)
        self.labels = None if dataset.labels is None else dataset.labels.to(where)
        self.count = len(dataset.images)
        # Index order comes from a CPU generator: identical on every device, cheap to save.
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch = 0
        self.position = 0
        self.order = self._new_order()

    def _new_order(self) -> torch.Tensor:
        return torch.randperm(self.count, generator=self.generator)

    def next_indices(self) -> torch.Tensor:
        parts, need = [], self.batch_size
        while need > 0:
            if self.position >= self.count:
                self.epoch += 1
                self.position = 0
                self.order = self._new_order()
            take = self.order[self.position:self.position + need]
            self.position += len(take)
            need -= len(take)
            parts.append(take)
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not self.resident:
            images, labels = self.host_batch(self.next_indices())
            return (normalize_uint8(images.to(self.device, non_blocking=True)),
                    None if labels is None else labels.to(self.device, non_blocking=True))
        return self.gather(self.next_indices().to(self.device, non_blocking=True))

    def gather(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The normalised batch at device indices ``idx`` of a resident dataset: device work
        only, no host synchronisation, so a CUDA graph can capture it."""
        x = normalize_uint8(self.images.index_select(0, idx))
        y = None if self.labels is None else self.labels.index_select(0, idx)
        return x, y

    def host_batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The uint8 images (and labels) at ``idx`` of a dataset kept in host memory."""
        images = self.images.index_select(0, idx)
        labels = None if self.labels is None else self.labels.index_select(0, idx)
        return images, labels

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "epoch": self.epoch,
                "position": self.position, "order": self.order.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        order = state["order"]
        if len(order) != self.count:
            raise ValueError(f"sampler state covers {len(order)} items but the dataset has "
                             f"{self.count}")
        self.order = order.clone()


@dataclass(frozen=True)
class PointDistribution:
    """A named 2-D toy distribution: ``sample(n, generator) -> (n, 2)`` float32 on CPU."""

    name: str
    description: str
    sample_fn: Callable[[int, torch.Generator], torch.Tensor]
    bounds: tuple[float, float, float, float] = (-4.0, 4.0, -4.0, 4.0)  # xmin, xmax, ymin, ymax
    modes: np.ndarray | None = field(default=None, compare=False)  # centres, for mode counting


class PointDataset:
    """An infinite 2-D distribution (GAN Lab style toys)."""

    def __init__(self, distribution: PointDistribution):
        self.distribution = distribution
        self.info = DatasetInfo(name=distribution.name, kind="points", shape=(2,), size=None,
                                description=distribution.description, source="built in")

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.distribution.bounds

    def sampler(self, batch_size: int, *, seed: int, device: torch.device | str = "cpu"
                ) -> "PointBatchSampler":
        return PointBatchSampler(self.distribution, batch_size, seed=seed,
                                 device=torch.device(device))

    def sample(self, count: int, *, seed: int = 0) -> np.ndarray:
        g = torch.Generator().manual_seed(seed)
        return self.distribution.sample_fn(count, g).numpy()

    def preview(self, count: int, *, seed: int = 0) -> np.ndarray:
        return self.sample(count, seed=seed)


class PointBatchSampler:
    def __init__(self, distribution: PointDistribution, batch_size: int, *, seed: int,
                 device: torch.device):
        self.distribution = distribution
        self.batch_size = batch_size
        self.device = device
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> tuple[torch.Tensor, None]:
        points = self.distribution.sample_fn(self.batch_size, self.generator)
        return points.to(self.device, non_blocking=True), None

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


def grid_side(count: int) -> int:
    return max(1, math.ceil(math.sqrt(count)))
