"""Built-in datasets that need no files: 2-D toy distributions and procedural images.

* ``glyphs`` (the default): the digits 0–9 drawn with the font that ships inside Pillow,
  jittered in size, angle, position and stroke — an offline stand-in for MNIST, labelled by
  digit. A DCGAN on a 2-core CPU draws recognisable digits within about a minute (measured:
  ~620 steps at width 32, batch 32), which is what a first run needs to show.
* ``shapes``: coloured discs, squares and triangles on plain backgrounds (RGB, labelled by
  shape); richer, so it takes a few minutes to go beyond coloured blobs.
* ``ring``, ``grid``, ``spiral``: the classic 2-D toys for watching mode collapse.

Images are rendered with fixed seeds, so the same name always gives the same data.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from ganstudio.data.base import DatasetInfo, ImageDataset, PointDataset, PointDistribution

DEFAULT_DATASET = "glyphs"
_IMAGE_COUNT = 10_000
_RENDER_SEED = 20141210  # Goodfellow et al.'s NeurIPS talk date; any fixed number would do


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    kind: str  # "image" or "points"
    description: str
    natural_size: int | None
    channels: int
    open: Callable[..., ImageDataset | PointDataset]
    # Settings that suit this dataset better than the general defaults; the CLI and the window
    # apply them unless the person chose those settings themselves.
    recommended: dict[str, Any] = field(default_factory=dict)


# ----- 2-D toy distributions --------------------------------------------------------------------

def _mixture(centres: np.ndarray, std: float) -> Callable[[int, torch.Generator], torch.Tensor]:
    centres_t = torch.as_tensor(centres, dtype=torch.float32)

    def sample(n: int, g: torch.Generator) -> torch.Tensor:
        which = torch.randint(len(centres_t), (n,), generator=g)
        return centres_t[which] + std * torch.randn(n, 2, generator=g)

    return sample


_RING_CENTRES = np.array([[2.0 * math.cos(2 * math.pi * i / 8), 2.0 * math.sin(2 * math.pi * i / 8)]
                          for i in range(8)], dtype=np.float32)
_GRID_CENTRES = np.array([[x, y] for x in (-2, -1, 0, 1, 2) for y in (-2, -1, 0, 1, 2)],
                         dtype=np.float32)


def _spiral(n: int, g: torch.Generator) -> torch.Tensor:
    # Two and a half turns of an Archimedean spiral, denser towards the centre like a swiss roll.
    t = torch.sqrt(torch.rand(n, generator=g)) * 2.5 * 2 * math.pi
    r = 0.12 * t + 0.1
    points = torch.stack([r * torch.cos(t), r * torch.sin(t)], dim=1)
    return points + 0.04 * torch.randn(n, 2, generator=g)


POINT_DISTRIBUTIONS: dict[str, PointDistribution] = {
    "ring": PointDistribution("ring", "8 Gaussians on a circle of radius 2",
                              _mixture(_RING_CENTRES, 0.05), (-3, 3, -3, 3), _RING_CENTRES),
    "grid": PointDistribution("grid", "25 Gaussians on a 5x5 grid",
                              _mixture(_GRID_CENTRES, 0.05), (-3, 3, -3, 3), _GRID_CENTRES),
    "spiral": PointDistribution("spiral", "a noisy two-and-a-half-turn spiral", _spiral,
                                (-2.5, 2.5, -2.5, 2.5)),
}


# ----- procedural images ------------------------------------------------------------------------

_SHAPE_NAMES = ("disc", "square", "triangle")


def render_shapes(count: int, size: int, seed: int = _RENDER_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Render ``count`` RGB images of one coloured shape each; returns (uint8 NCHW, labels)."""
    rng = np.random.default_rng(seed)
    ss = 4  # supersampling factor: smooth, anti-aliased edges after the box filter below
    big = size * ss
    coords = (np.arange(big, dtype=np.float32) + 0.5) / big  # pixel centres in [0, 1]
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    images = np.empty((count, 3, size, size), dtype=np.uint8)
    labels = rng.integers(0, 3, size=count)
    # Muted backgrounds, saturated foregrounds: the shape always stands out.
    background = rng.uniform(0.05, 0.35, size=(count, 3)).astype(np.float32)
    hue = rng.uniform(0, 1, size=count)
    foreground = _hsv_to_rgb(hue, rng.uniform(0.6, 1.0, count), rng.uniform(0.75, 1.0, count))
    radius = rng.uniform(0.18, 0.32, size=count).astype(np.float32)
    cx = rng.uniform(0.0, 1.0, size=count).astype(np.float32)
    cy = rng.uniform(0.0, 1.0, size=count).astype(np.float32)
    cx = radius + cx * (1 - 2 * radius)
    cy = radius + cy * (1 - 2 * radius)
    angle = rng.uniform(0, 2 * math.pi, size=count).astype(np.float32)
    for i in range(count):
        dx, dy = xx - cx[i], yy - cy[i]
        r = radius[i]
        if labels[i] == 0:
            mask = dx * dx + dy * dy <= r * r
        else:
            c, s = math.cos(angle[i]), math.sin(angle[i])
            u, v = c * dx + s * dy, -s * dx + c * dy
            if labels[i] == 1:
                half = r * 0.85
                mask = (np.abs(u) <= half) & (np.abs(v) <= half)
            else:  # equilateral triangle inscribed in the circle of radius r
                mask = np.ones_like(u, dtype=bool)
                for k in range(3):
                    a = 2 * math.pi * k / 3
                    nx, ny = math.cos(a), math.sin(a)
                    mask &= (u * nx + v * ny) <= r * 0.5
        cover = mask.reshape(size, ss, size, ss).mean(axis=(1, 3), dtype=np.float32)
        pixel = background[i][:, None, None] * (1 - cover) + foreground[i][:, None, None] * cover
        images[i] = np.clip(pixel * 255 + 0.5, 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    i = np.floor(h * 6).astype(int) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.empty((len(h), 3), dtype=np.float32)
    for k, (r, g, b) in enumerate(table):
        sel = i == k
        out[sel, 0], out[sel, 1], out[sel, 2] = r[sel], g[sel], b[sel]
    return out


def render_glyphs(count: int, size: int, seed: int = _RENDER_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Render ``count`` greyscale digits (white on black, like MNIST); returns (uint8 NCHW, labels)."""
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    canvas = 64  # draw large, then shrink: strokes stay smooth at any output size
    labels = rng.integers(0, 10, size=count)
    images = np.empty((count, 1, size, size), dtype=np.uint8)
    fonts = [ImageFont.load_default(size=px) for px in range(40, 56, 2)]
    for i in range(count):
        font = fonts[int(rng.integers(0, len(fonts)))]
        image = Image.new("L", (canvas, canvas), 0)
        draw = ImageDraw.Draw(image)
        stroke = int(rng.integers(1, 4))  # MNIST pen strokes are thick
        draw.text((canvas / 2, canvas / 2), str(labels[i]), fill=255, font=font, anchor="mm",
                  stroke_width=stroke, stroke_fill=255)
        angle = float(rng.uniform(-15, 15))
        shear = float(rng.uniform(-0.2, 0.2))
        shift = rng.uniform(-4, 4, size=2)
        # Inverse affine map (output -> input) about the centre: rotation with a slight slant.
        a, b = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        c0 = canvas / 2
        m = (a, b + shear, 0.0, -b, a, 0.0)
        m = (m[0], m[1], c0 - m[0] * c0 - m[1] * c0 - shift[0],
             m[3], m[4], c0 - m[3] * c0 - m[4] * c0 - shift[1])
        image = image.transform((canvas, canvas), Image.Transform.AFFINE, m,
                                resample=Image.Resampling.BILINEAR)
        image = image.resize((size, size), Image.Resampling.LANCZOS)
        images[i, 0] = np.asarray(image)
    return images, labels.astype(np.int64)


@functools.lru_cache(maxsize=8)
def _cached_render(name: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    if name == "shapes":
        return render_shapes(_IMAGE_COUNT, size)
    return render_glyphs(_IMAGE_COUNT, size)


def _open_images(name: str, image_size: int | None, channels: int = 0) -> ImageDataset:
    spec = BUILTIN_DATASETS[name]
    size = image_size or spec.natural_size
    images, labels = _cached_render(name, size)
    tensor = torch.from_numpy(images)
    if channels and channels != tensor.shape[1]:
        from ganstudio.data.base import convert_channels

        tensor = convert_channels(tensor, channels)
    class_names = _SHAPE_NAMES if name == "shapes" else tuple(str(d) for d in range(10))
    info = DatasetInfo(name=name, kind="image", shape=tuple(tensor.shape[1:]), size=len(tensor),
                       class_names=class_names, description=spec.description, source="built in")
    return ImageDataset(tensor, info, torch.from_numpy(labels))


def _open_points(name: str, image_size: int | None = None, channels: int = 0) -> PointDataset:
    return PointDataset(POINT_DISTRIBUTIONS[name])


# Tiny 2-D models are cheap per step, so big batches and a higher learning rate cover a ring of
# Gaussians in about 30 s on a 2-core CPU instead of minutes (measured; see docs/performance.md).
_POINT_SETTINGS = {"train.batch_size": 256, "optim.lr_g": 1e-3, "optim.lr_d": 1e-3}

BUILTIN_DATASETS: dict[str, BuiltinDataset] = {
    "glyphs": BuiltinDataset("glyphs", "image", "10,000 handwriting-like digits 0-9 drawn with "
                             "Pillow's font (greyscale, labelled)", 28, 1,
                             functools.partial(_open_images, "glyphs")),
    "shapes": BuiltinDataset("shapes", "image", "10,000 coloured discs, squares and triangles "
                             "(RGB, labelled by shape)", 32, 3,
                             functools.partial(_open_images, "shapes")),
    **{name: BuiltinDataset(name, "points", dist.description, None, 0,
                            functools.partial(_open_points, name), _POINT_SETTINGS)
       for name, dist in POINT_DISTRIBUTIONS.items()},
}
