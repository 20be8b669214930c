"""PNG files that remember where they came from.

Every PNG GAN Studio writes carries a ``ganstudio`` text chunk holding JSON provenance (run,
checkpoint, step, seed, latent vector...), plus human-readable ``Software``/``Source``/``Comment``
chunks, so an image can always be traced back to the generator state that made it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ganstudio import __version__
from ganstudio.engine.files import atomic_write_bytes

METADATA_KEY = "ganstudio"


def encode_png(image: np.ndarray, metadata: Mapping[str, Any] | None = None,
               compress_level: int = 6) -> bytes:
    """Encode a uint8 ``(H, W)``/``(H, W, 1|3|4)`` image as PNG bytes with provenance text."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError("PNG export expects uint8 pixels")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    info = PngInfo()
    info.add_text("Software", f"GAN Studio {__version__}")
    if metadata:
        meta = dict(metadata)
        info.add_text(METADATA_KEY, json.dumps(meta, sort_keys=True, default=_jsonable))
        summary = ", ".join(f"{k}={meta[k]}" for k in ("run", "step", "seed") if k in meta)
        if summary:
            info.add_text("Comment", summary)
        if "source" in meta:
            info.add_text("Source", str(meta["source"]))
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", pnginfo=info, compress_level=compress_level)
    return buffer.getvalue()


def save_png(path: Path, image: np.ndarray, metadata: Mapping[str, Any] | None = None,
             compress_level: int = 6) -> Path:
    """Write a PNG atomically (a crash never leaves a half-written image)."""
    atomic_write_bytes(Path(path), encode_png(image, metadata, compress_level))
    return Path(path)


def read_png_metadata(path: Path) -> dict[str, Any]:
    """The JSON provenance stored by :func:`save_png` (empty dict when there is none)."""
    from PIL import Image

    with Image.open(path) as image:
        image.load()  # text chunks after the image data are only read once pixels are
        text = getattr(image, "text", {}) or {}
    raw = text.get(METADATA_KEY)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in PNG metadata")
