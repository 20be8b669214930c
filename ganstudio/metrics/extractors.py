"""Feature extractors: images -> fixed-length feature vectors for FD, KID and precision/recall.

Two extractors exist, and every metric value must be stored and shown next to the ``name`` of
the extractor that produced it — numbers from different extractors are on unrelated scales and
must never be compared or plotted together:

* ``inception-v3-fid`` (:class:`InceptionFID`): the FID Inception v3 network of pytorch-fid
  (TensorFlow's 2015 Inception graph ported to PyTorch), 2048-d pool3 features. With its
  standard weights file, FD with these features *is* FID and matches published values. The
  weights are never downloaded by GAN Studio; :func:`inception_weights_help` says how to get
  them.
* ``random-conv-v1`` (:class:`RandomConvFeatures`): a small convolutional network with fixed
  random weights, always available offline and fast on CPU. Its numbers are only comparable
  with themselves (other runs, other checkpoints), not with published FIDs.

Both take ``(N, C, H, W)`` images, ``C`` 1 or 3, any size, either ``uint8`` ``[0, 255]`` or
float ``[-1, 1]`` (the generator's tanh range). Float images are first quantised to the 256
levels of an 8-bit image, exactly as when they are saved as PNG — the standard FID protocol
scores saved 8-bit images, and quantising keeps real (uint8) and generated (float) inputs on
an equal footing. Grey images are repeated to three channels, as pytorch-fid's RGB loading does.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Iterable

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.data.base import ProgressCallback
from ganstudio.metrics.errors import InceptionWeightsError, MetricsError

INCEPTION_NAME = "inception-v3-fid"
RANDOM_CONV_NAME = "random-conv-v1"
DEFAULT_EXTRACTOR = RANDOM_CONV_NAME

INCEPTION_WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/"
                         "fid_weights/pt_inception-2015-12-05-6726825d.pth")
INCEPTION_WEIGHTS_SIZE = "about 91 MB"


def inception_weights_help(path: str | Path | None = None) -> str:
    """Plain-words instructions for obtaining the Inception weights (for the UI and errors)."""
    where = (f"save it as {Path(path).expanduser()}" if path else
             "save it anywhere (for example next to your datasets)")
    return (f"FID values comparable with published results need the FID Inception v3 weights "
            f"of pytorch-fid, the file {INCEPTION_WEIGHTS_FILENAME} ({INCEPTION_WEIGHTS_SIZE}). "
            f"Download it in a browser from {INCEPTION_WEIGHTS_URL}, {where}, and set the "
            f"Inception weights path setting to that file. GAN Studio never downloads it "
            f"itself. Without the file, use the offline extractor '{RANDOM_CONV_NAME}'; its "
            f"values are only comparable with other '{RANDOM_CONV_NAME}' values.")


# ---------------------------------------------------------------------------------------------
# The common interface


class FeatureExtractor(abc.ABC):
    """Maps images to feature vectors in batches, on one device.

    ``name`` is a stable id stored next to every metric value (it changes whenever the numbers
    would); ``dim`` is the feature length; ``description`` is one sentence for the UI.
    """

    name: ClassVar[str]
    dim: ClassVar[int]
    description: ClassVar[str]
    default_batch_size: ClassVar[int] = 64

    def __init__(self, device: str | torch.device = "cpu", batch_size: int | None = None):
        self.device = torch.device(device)
        self.batch_size = int(batch_size or self.default_batch_size)
        if self.batch_size < 1:
            raise MetricsError(f"feature batch size must be at least 1, got {batch_size}")

    @abc.abstractmethod
    def _forward(self, images01: torch.Tensor) -> torch.Tensor:
        """Features ``(B, dim)`` of float32 RGB images in ``[0, 1]`` already on ``device``."""

    def features(self, images: torch.Tensor | Iterable[torch.Tensor], *,
                 batch_size: int | None = None,
                 progress: ProgressCallback | None = None) -> np.ndarray:
        """Features of ``images`` as float64 ``(N, dim)``.

        ``images`` is one ``(N, C, H, W)`` tensor or an iterable of such batches (for example
        straight from a generator, so 50k samples never sit in memory at once). Work is split
        into chunks of ``batch_size`` on this extractor's device; ``progress(done, total,
        message)`` is called after each chunk (``total`` is 0 for an iterable).
        """
        step = int(batch_size or self.batch_size)
        if isinstance(images, torch.Tensor):
            _check_images(images)
            total = images.shape[0]
            batches: Iterable[torch.Tensor] = (images[i:i + step] for i in range(0, total, step))
        else:
            total = 0
            batches = (part for batch in images
                       for part in torch.split(_check_images(batch), step))
        out: list[np.ndarray] = []
        done = 0
        with torch.inference_mode():
            for batch in batches:
                if batch.shape[0] == 0:
                    continue
                feats = self._forward(_to_rgb01(batch.to(self.device, non_blocking=True)))
                out.append(feats.to("cpu", torch.float64).numpy())
                done += batch.shape[0]
                if progress is not None:
                    progress(done, total, f"{self.name} features")
        if not out:
            return np.zeros((0, self.dim), dtype=np.float64)
        return np.concatenate(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, device={self.device})"


def _check_images(images: torch.Tensor) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise MetricsError(f"images must be a tensor shaped (N, C, H, W), got {shape}")
    if images.shape[1] not in (1, 3):
        raise MetricsError(f"images must have 1 or 3 channels, got {images.shape[1]}")
    if images.dtype != torch.uint8 and not images.dtype.is_floating_point:
        raise MetricsError(f"images must be uint8 [0, 255] or float [-1, 1], got {images.dtype}")
    return images


def _to_rgb01(images: torch.Tensor) -> torch.Tensor:
    """uint8 or float ``[-1, 1]`` -> float32 RGB in ``[0, 1]`` on the 256 levels of 8-bit images."""
    if images.dtype == torch.uint8:
        x = images.to(torch.float32)
    else:
        # Same rounding as ganstudio.data.base.to_uint8_images, i.e. as saving a PNG would do.
        x = images.to(torch.float32).clamp(-1, 1).add(1.0).mul_(127.5).round_()
    x = x.div_(255.0)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return x


# ---------------------------------------------------------------------------------------------
# Offline extractor: fixed random convolutional features


class RandomConvFeatures(FeatureExtractor):
    """Multi-scale features of a fixed random convolutional network (``random-conv-v1``).

    Images are resized to 64×64 (bilinear, antialiased) and pass through five 3×3 convolutions
    with ReLU, 16-32-64-128-256 channels at 64, 32, 16, 8 and 4 pixels (2×2 average pooling in
    between); the spatial mean of every layer's activations is concatenated (496 values).
    Early layers respond to edges, blur, noise and colour; later ones, with receptive fields
    up to the whole image, to shape and layout. Random convolutional features are a known
    stand-in for a trained embedding where none is available (Naeem et al. 2020 evaluate
    randomly initialised networks for exactly this). On the real MNIST test set, FD between
    its even and odd halves is 0.054; blurring one half (Gaussian, sigma 1 px) gives 84 and
    uniform noise images 2250.

    Weights are He-scaled normals from ``np.random.RandomState(20240613)`` (numpy freezes that
    stream, so every machine builds identical weights); half of the first-layer filters have
    their mean removed, making them pure edge/texture detectors while the other half still
    see brightness and colour. Features are multiplied by 10, a purely cosmetic constant that
    puts FD values in the familiar FID range. Computed in float32, features are identical
    between runs on one machine and equal up to rounding (~1e-6 relative) across CPUs; GPUs
    may differ by ~1e-3 where cuDNN uses TF32. Any change to any of this needs a new ``name``.
    """

    name = RANDOM_CONV_NAME
    dim = 496
    description = ("Offline random-convolution features (always available, fast on CPU). "
                   "Comparable only with other random-conv-v1 values, not with published FIDs.")
    default_batch_size = 256
    resolution = 64
    widths = (16, 32, 64, 128, 256)
    seed = 20240613
    scale = 10.0

    def __init__(self, device: str | torch.device = "cpu", batch_size: int | None = None):
        super().__init__(device, batch_size)
        self.weights = [w.to(self.device) for w in self.make_weights()]

    @classmethod
    def make_weights(cls) -> list[torch.Tensor]:
        """The network's fixed conv weights (float32, CPU), identical on every machine."""
        rng = np.random.RandomState(cls.seed)
        weights, c_in = [], 3
        for i, c_out in enumerate(cls.widths):
            w = rng.standard_normal((c_out, c_in, 3, 3)) * math.sqrt(2.0 / (c_in * 9))
            if i == 0:
                half = c_out // 2
                w[:half] -= w[:half].mean(axis=(1, 2, 3), keepdims=True)
            weights.append(torch.from_numpy(w.astype(np.float32)))
            c_in = c_out
        return weights

    def _forward(self, images01: torch.Tensor) -> torch.Tensor:
        x = images01.mul(2.0).sub_(1.0)
        if x.shape[-2:] != (self.resolution, self.resolution):
            x = F.interpolate(x, size=(self.resolution, self.resolution), mode="bilinear",
                              antialias=True, align_corners=False)
        x = x.contiguous(memory_format=torch.channels_last)  # ~1.5× faster convs on CPU
        pooled = []
        for i, w in enumerate(self.weights):
            if i:
                x = F.avg_pool2d(x, 2)
            x = F.relu(F.conv2d(x, w, padding=1), inplace=True)
            pooled.append(x.mean(dim=(2, 3)))
        return torch.cat(pooled, dim=1).mul_(self.scale)


# ---------------------------------------------------------------------------------------------
# Inception (the network itself lives in ganstudio.metrics.inception: torchvision loads slowly)


class InceptionFID(FeatureExtractor):
    """pytorch-fid's FID Inception v3, pool3 features (``inception-v3-fid``).

    Preprocessing is pytorch-fid's: RGB in ``[0, 1]``, bilinear resize to 299×299
    (``align_corners=False``, no antialiasing), scaled to ``[-1, 1]``. With the standard weights
    file FD of these features is FID as published. Loading uses ``weights_only=True``, so the
    file cannot run code; a missing or mismatching file raises :class:`InceptionWeightsError`
    explaining how to get the right one.
    """

    name = INCEPTION_NAME
    dim = 2048
    description = ("Inception v3 (pytorch-fid FID weights): FID comparable with published "
                   "results. Needs the weights file; slow on CPU.")
    default_batch_size = 50

    def __init__(self, weights_path: str | Path, device: str | torch.device = "cpu",
                 batch_size: int | None = None):
        super().__init__(device, batch_size)
        self.weights_path = Path(weights_path).expanduser()
        from ganstudio.metrics.inception import FIDInceptionPool3, build_fid_inception

        net = build_fid_inception()
        net.load_state_dict(load_inception_state_dict(self.weights_path), strict=True)
        self.model = FIDInceptionPool3(net).eval().requires_grad_(False).to(self.device)

    def _forward(self, images01: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(images01, size=(299, 299), mode="bilinear", align_corners=False)
        return self.model(2.0 * x - 1.0)


def load_inception_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read and check the FID Inception weights file; errors say how to get the right one."""
    from ganstudio.metrics.inception import build_fid_inception

    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "was not found"
        raise InceptionWeightsError(path, f"Inception weights file {path} {what}. "
                                    + inception_weights_help(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:   # pickle/zip errors of all kinds: the file is not a state_dict
        raise InceptionWeightsError(
            path, f"Inception weights file {path} cannot be read as PyTorch weights "
                  f"({type(exc).__name__}: {exc}). " + inception_weights_help(path)) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise InceptionWeightsError(path, f"{path} does not hold a plain state_dict of tensors. "
                                    + inception_weights_help(path))
    expected = build_fid_inception().state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected),
                            ("wrong shape", wrong)):
            if keys:
                more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
                parts.append(f"{label}: {', '.join(keys[:3])}{more}")
        raise InceptionWeightsError(
            path, f"{path} is not the FID Inception v3 weights file ({'; '.join(parts)}). "
                  + inception_weights_help(path))
    return state


# ---------------------------------------------------------------------------------------------
# Registry


@dataclass(frozen=True)
class ExtractorInfo:
    """One row of the extractor menu: what it is and whether it needs a weights file."""

    name: str
    dim: int
    description: str
    needs_weights: bool


EXTRACTORS: dict[str, ExtractorInfo] = {
    cls.name: ExtractorInfo(cls.name, cls.dim, cls.description, cls is InceptionFID)
    for cls in (RandomConvFeatures, InceptionFID)
}


def get_extractor(name: str, *, inception_weights: str | Path | None = None,
                  device: str | torch.device = "cpu",
                  batch_size: int | None = None) -> FeatureExtractor:
    """Build the extractor called ``name`` on ``device``.

    ``inception_weights`` is the path of the FID Inception weights file, required for
    ``inception-v3-fid`` and ignored otherwise. Building Inception reads ~91 MB: build once
    and reuse.
    """
    if name == RandomConvFeatures.name:
        return RandomConvFeatures(device, batch_size)
    if name == InceptionFID.name:
        if not inception_weights:
            raise InceptionWeightsError(None, "No Inception weights file is set. "
                                        + inception_weights_help())
        return InceptionFID(inception_weights, device, batch_size)
    raise MetricsError(f"unknown feature extractor {name!r}; choose one of "
                       + ", ".join(repr(n) for n in EXTRACTORS))
