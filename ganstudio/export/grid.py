"""Tiling images into grids and scaling them for display or export."""

from __future__ import annotations

import math

import numpy as np


def make_grid(images: np.ndarray, columns: int | None = None, padding: int = 2,
              pad_value: int = 0) -> np.ndarray:
    """Tile uint8 ``(N, H, W, C)`` images into one ``(rows*H', cols*W', C)`` image.

    ``columns`` defaults to a square layout; ``padding`` pixels of ``pad_value`` separate tiles
    (and frame the grid), as torchvision's ``make_grid`` does.
    """
    images = np.asarray(images)
    if images.ndim == 3:  # (N, H, W) greyscale
        images = images[..., None]
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError("expected uint8 images shaped (N, H, W, C)")
    n, h, w, c = images.shape
    cols = columns or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    out = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), pad_value,
                  dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        out[top:top + h, left:left + w] = images[i]
    return out


def scale_image(image: np.ndarray, factor: int, smooth: bool = False) -> np.ndarray:
    """Enlarge a uint8 ``(H, W, C)`` image by an integer factor (nearest or smooth)."""
    if factor == 1:
        return image
    if not smooth:
        return image.repeat(factor, axis=0).repeat(factor, axis=1)
    from PIL import Image

    pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    big = pil.resize((image.shape[1] * factor, image.shape[0] * factor),
                     Image.Resampling.LANCZOS)
    out = np.asarray(big)
    return out[..., None] if out.ndim == 2 else out
