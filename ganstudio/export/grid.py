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


def resize_to(image: np.ndarray, size: int, smooth: bool = False) -> np.ndarray:
    """Enlarge or shrink a uint8 ``(H, W, C)`` image so its longer side is ``size`` pixels.

    A whole multiple of the longer side is :func:`scale_image` (crisp pixels unless
    ``smooth``), so ``size`` = 4 × 32 gives exactly the 4× export; other sizes are resampled
    with Lanczos.
    """
    h, w = image.shape[:2]
    longest = max(h, w)
    if size < 1:
        raise ValueError(f"an image size is at least 1 pixel, not {size}")
    if size % longest == 0:
        return scale_image(image, size // longest, smooth)
    from PIL import Image

    new_w, new_h = max(1, round(w * size / longest)), max(1, round(h * size / longest))
    pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    out = np.asarray(pil.resize((new_w, new_h), Image.Resampling.LANCZOS))
    return out[..., None] if out.ndim == 2 else out
