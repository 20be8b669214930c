"""Exporting gallery snapshots as PNGs that say where they came from (no Qt).

A snapshot is a fixed-noise sample grid the trainer saved at some step. An exported copy is
enlarged (1×–8×, nearest or smooth) and carries the trainer's provenance plus what the window
knows: run folder, the checkpoint saved at that step (when one is kept), seed, and where the
latent vectors live.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ganstudio import __version__

SCALES = (1, 2, 3, 4, 5, 6, 7, 8)


@dataclass(frozen=True)
class ExportOptions:
    scale: int = 1
    smooth: bool = False

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"scale must be 1 to 8 (got {self.scale})")


@dataclass(frozen=True)
class RunContext:
    """What the window knows about the run the snapshots belong to."""

    run_dir: Path | None
    seed: int | None
    checkpoints: dict[int, Path]        # step -> checkpoint file still on disk
    grid_count: int | None = None       # images per grid (sample_grid ** 2)


def snapshot_metadata(source_meta: dict[str, Any], step: int, context: RunContext,
                      options: ExportOptions, source: Path) -> dict[str, Any]:
    checkpoint = context.checkpoints.get(step)
    meta = dict(source_meta)
    meta.update({
        "run": str(context.run_dir) if context.run_dir else meta.get("run"),
        "checkpoint": str(checkpoint) if checkpoint else None,
        "step": step,
        "seed": context.seed if context.seed is not None else meta.get("seed"),
        # The grid is drawn from the run's fixed noise batch: the same vectors at every step,
        # stored in each checkpoint (so a grid can be regenerated from any checkpoint).
        "latent": {"kind": "fixed noise batch", "stored_in": "fixed_noise in the run's "
                   "checkpoints", "count": context.grid_count},
        "kind": meta.get("kind", "fixed-noise grid"),
        "source": f"GAN Studio {__version__} window (gallery export)",
        "exported_from": str(source),
        "scale": options.scale,
        "resample": "smooth" if options.smooth else "nearest",
    })
    return meta


def export_snapshot(source: Path, target: Path, step: int, context: RunContext,
                    options: ExportOptions = ExportOptions()) -> Path:
    """Write ``source`` (a samples/step-*.png) enlarged to ``target`` with provenance."""
    from PIL import Image

    from ganstudio.export.grid import scale_image
    from ganstudio.export.png import read_png_metadata, save_png

    source, target = Path(source), Path(target)
    with Image.open(source) as image:
        mode = "L" if image.mode in ("L", "I;16", "I") else "RGB"
        pixels = np.asarray(image.convert(mode))
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    pixels = scale_image(pixels, options.scale, options.smooth)
    meta = snapshot_metadata(read_png_metadata(source), step, context, options, source)
    return save_png(target, pixels, meta)


def export_name(step: int) -> str:
    return f"samples-step-{step:09d}.png"


def export_all(snapshots: list[tuple[int, Path]], folder: Path, context: RunContext,
               options: ExportOptions = ExportOptions(),
               progress: Callable[[int, int, str], None] | None = None) -> list[Path]:
    """Export every snapshot into ``folder``; returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    total = len(snapshots)
    for done, (step, source) in enumerate(snapshots):
        if progress is not None:
            progress(done, total, f"Exporting step {step:,}")
        written.append(export_snapshot(source, folder / export_name(step), step, context,
                                       options))
    if progress is not None:
        progress(total, total, f"Exported {total:,} snapshots")
    return written
