"""Rendering 2-D point snapshots (real, generated, D's output) into an image, without matplotlib.

Used for the PNG saved at each sample step of a toy run, so the gallery and the run folder show
2-D runs the same way they show image runs.
"""

from __future__ import annotations

import numpy as np

REAL_COLOUR = np.array([46, 160, 67], dtype=np.float32)     # green
FAKE_COLOUR = np.array([137, 87, 229], dtype=np.float32)    # purple
_LOW = np.array([250, 250, 250], dtype=np.float32)          # D says "fake"
_HIGH = np.array([255, 196, 120], dtype=np.float32)         # D says "real"
HIGHLIGHT_COLOUR = np.array([230, 80, 20], dtype=np.float32)  # one chosen point: orange-red


def render_points(real: np.ndarray, fake: np.ndarray, heatmap: np.ndarray | None,
                  bounds: tuple[float, float, float, float], size: int = 256,
                  highlight: np.ndarray | None = None) -> np.ndarray:
    """uint8 ``(size, size, 3)``: heatmap background, real points green, generated purple,
    and ``highlight`` (one ``(2,)`` point, optional) as a large orange-red dot on top."""
    xmin, xmax, ymin, ymax = bounds
    if heatmap is not None and heatmap.size:
        h = heatmap.astype(np.float32)
        lo, hi = float(np.nanmin(h)), float(np.nanmax(h))
        t = (h - lo) / (hi - lo) if hi > lo else np.zeros_like(h)
        idx = (np.arange(size) * h.shape[0] / size).astype(int)
        t = t[idx][:, idx][::-1]  # heatmap rows go up in y; image rows go down
        canvas = _LOW + (_HIGH - _LOW) * t[..., None]
    else:
        canvas = np.broadcast_to(_LOW, (size, size, 3)).copy()
    for points, colour in ((real, REAL_COLOUR), (fake, FAKE_COLOUR)):
        if points is None or len(points) == 0:
            continue
        px = ((points[:, 0] - xmin) / (xmax - xmin) * (size - 1)).round().astype(int)
        py = ((ymax - points[:, 1]) / (ymax - ymin) * (size - 1)).round().astype(int)
        for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):  # 2x2 dots stay visible when scaled
            x, y = px + dx, py + dy
            ok = (x >= 0) & (x < size) & (y >= 0) & (y < size)
            canvas[y[ok], x[ok]] = colour
    if highlight is not None and np.isfinite(highlight).all():
        hx = int(round((float(highlight[0]) - xmin) / (xmax - xmin) * (size - 1)))
        hy = int(round((ymax - float(highlight[1])) / (ymax - ymin) * (size - 1)))
        radius = max(3, size // 64)
        yy, xx = np.ogrid[:size, :size]
        canvas[(xx - hx) ** 2 + (yy - hy) ** 2 <= radius ** 2] = HIGHLIGHT_COLOUR
    return canvas.round().clip(0, 255).astype(np.uint8)
