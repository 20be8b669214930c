"""Latent previews and sample grids as PNGs that say exactly how to make them again (no Qt).

Every image is rendered one latent at a time by a generator from
:meth:`~ganstudio.engine.sampling.GeneratorSource.build_for_inference`, the path the latent
explorer uses, so a grid tile is bit for bit the preview of the same seed, and
:func:`rerender` can reproduce any exported PNG from the provenance stored in it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch
from torch import nn

from ganstudio.engine.sampling import GeneratorSource, latent_batch, render
from ganstudio.export.grid import make_grid, resize_to, scale_image
from ganstudio.export.points import render_points
from ganstudio.export.png import read_png_metadata, save_png

PREVIEW_KIND = "latent preview"
GRID_KIND = "latent grid"
FRAME_KIND = "latent animation frame"
SCALES = range(1, 9)            # export sizes offered: 1x to 8x the generator's resolution
GRID_SIZES = range(2, 17)       # N for an N x N grid
GRID_PADDING = 2
POINTS_CLOUD_SEED = 1_000_000   # a points generator's scatter: fixed latents from this seed on
POINTS_CLOUD_SIZE = 1000
POINTS_IMAGE_SIZE = 256         # a points preview exports at this many pixels per scale step

Progress = Callable[[int, int], None]   # (done, total)
ShouldStop = Callable[[], bool]


def is_points(source: GeneratorSource) -> bool:
    return len(source.spec.out_shape) == 1


def weights_file(source: GeneratorSource) -> str | None:
    """The file a generator state can be opened from again, or None (a live training
    snapshot whose step has no checkpoint)."""
    meta = source.metadata
    weights = meta.get("source")
    run = meta.get("run")
    if not weights and run:
        # A live training snapshot: point at the run's checkpoint of that step, when it exists.
        candidate = Path(run) / "checkpoints" / f"step-{source.step:09d}.pt"
        weights = str(candidate) if candidate.is_file() else None
    return weights


def generator_provenance(source: GeneratorSource) -> dict[str, Any]:
    """Where a generator state came from: run, weights file, step, label, architecture."""
    meta = source.metadata
    weights = weights_file(source)
    run = meta.get("run")
    provenance: dict[str, Any] = {
        "run": run, "checkpoint": weights, "source": weights, "step": source.step,
        "generator": source.label, "architecture": source.spec.architecture,
        "generator_spec": source.spec.to_dict(), "nz": source.nz,
        "latent_distribution": source.latent_distribution,
        # SHA-256 of the weights (or of the program file): which generator, wherever it lives.
        "generator_sha256": source.sha256,
    }
    if source.open_options:
        provenance["open_options"] = source.open_options
    if meta.get("format"):
        provenance["source_format"] = meta["format"]
    for key in ("dataset", "ema"):
        if key in meta:
            provenance[key] = meta[key]
    return provenance


def _class_provenance(source: GeneratorSource, label: int | None) -> dict[str, Any]:
    if not source.spec.num_classes:
        return {}
    if label is None:
        raise ValueError(f"{source.label}: a conditional generator needs a class label")
    names = source.class_names
    return {"class_label": int(label),
            "class_name": names[label] if 0 <= label < len(names) else str(label)}


def view_provenance(*, base_latent: np.ndarray | None = None, truncation: float = 1.0,
                    directions: Any = None, direction_values: np.ndarray | None = None
                    ) -> dict[str, Any]:
    """How a shown latent was composed (see :func:`ganstudio.explore.paths.compose_latent`):
    the base latent, the truncation and the direction values with the basis they refer to."""
    out: dict[str, Any] = {"truncation": float(truncation)}
    if base_latent is not None:
        out["base_latent"] = [float(v) for v in np.asarray(base_latent, np.float32).reshape(-1)]
    if directions is not None and direction_values is not None:
        out["directions"] = {
            "basis_id": directions.basis_id, "layer": directions.layer,
            "components": directions.count, "samples": directions.samples,
            "fitted_on_sha256": directions.generator_sha256,
            "values": [float(v) for v in np.asarray(direction_values, np.float32)]}
    return out


def preview_provenance(source: GeneratorSource, *, seed: int, latent: np.ndarray,
                       label: int | None = None, view: Mapping[str, Any] | None = None
                       ) -> dict[str, Any]:
    """Provenance of one latent's preview (scale and smoothing are added on export).

    ``latent`` is exactly what the generator was given; ``view`` (from
    :func:`view_provenance`) says how it was composed, so the panel can restore the state.
    """
    latent = np.asarray(latent, dtype=np.float32).reshape(-1)
    if latent.shape != (source.nz,):
        raise ValueError(f"latent has {latent.size} values but {source.label} takes {source.nz}")
    seed_latent = latent_batch(source.nz, [seed], source.latent_distribution)[0].numpy()
    return {"kind": PREVIEW_KIND, **generator_provenance(source), "seed": int(seed),
            "latent": [float(v) for v in latent],
            "latent_edited": bool(not np.array_equal(latent, seed_latent)),
            "truncation": 1.0, **dict(view or {}), **_class_provenance(source, label)}


def animation_provenance(source: GeneratorSource, *, path_kind: str, frames: int,
                         label: int | None = None, **details: Any) -> dict[str, Any]:
    """Provenance of an animation (an interpolation or a walk); frames add their latents."""
    return {"kind": "latent animation", "path": path_kind, **generator_provenance(source),
            "frame_count": int(frames), **details, **_class_provenance(source, label)}


def frame_provenance(latent: np.ndarray, index: int, size: int, smooth: bool
                     ) -> dict[str, Any]:
    """What one PNG frame of an animation adds: its latent and how it was sized."""
    return {"kind": FRAME_KIND, "frame": int(index), "size": int(size), "smooth": bool(smooth),
            "latent": [float(v) for v in np.asarray(latent, np.float32).reshape(-1)]}


def grid_provenance(source: GeneratorSource, *, first_seed: int, n: int,
                    label: int | None = None) -> dict[str, Any]:
    """Provenance of an ``n`` x ``n`` grid of consecutive seeds (latents follow from seeds)."""
    return {"kind": GRID_KIND, **generator_provenance(source), "seed": int(first_seed),
            "seeds": [int(first_seed), int(first_seed) + n * n - 1], "grid": int(n),
            "padding": GRID_PADDING,
            "latent": {"kind": "one per seed, row by row",
                       "made_by": "ganstudio.engine.sampling.latent_batch(nz, range(seeds[0], "
                                  "seeds[1] + 1), latent_distribution)"},
            **_class_provenance(source, label)}


def _check_scale(scale: int) -> int:
    if int(scale) not in SCALES:
        raise ValueError(f"scale must be {SCALES.start}x to {SCALES.stop - 1}x, not {scale}x")
    return int(scale)


def _size_provenance(scale: int, smooth: bool) -> dict[str, Any]:
    # "resample" matches the gallery's snapshot exports; "smooth" is what rerender() reads.
    return {"scale": scale, "smooth": bool(smooth), "resample": "smooth" if smooth else "nearest"}


def export_preview(path: Path | str, image: np.ndarray, scale: int, smooth: bool,
                   provenance: Mapping[str, Any]) -> Path:
    """Write a rendered uint8 ``(H, W, C)`` preview enlarged ``scale`` times, with provenance."""
    scale = _check_scale(scale)
    big = scale_image(np.asarray(image), scale, smooth)
    return save_png(Path(path), big, {**provenance, **_size_provenance(scale, smooth),
                                      "image_size": [int(image.shape[1]), int(image.shape[0])]})


def label_tensor(label: int | None, count: int = 1) -> torch.Tensor | None:
    return None if label is None else torch.full((count,), int(label), dtype=torch.long)


def render_latents(generator: nn.Module, latents: np.ndarray | torch.Tensor,
                   label: int | None = None, *, progress: Progress | None = None,
                   should_stop: ShouldStop | None = None) -> np.ndarray | None:
    """Render latents one at a time (what makes tiles equal previews bit for bit).

    Returns uint8 ``(N, H, W, C)`` images or float ``(N, 2)`` points, or None when
    ``should_stop`` said so between two latents.
    """
    latents = torch.as_tensor(np.asarray(latents, dtype=np.float32))
    rows = []
    labels = label_tensor(label)
    for i in range(len(latents)):
        if should_stop is not None and should_stop():
            return None
        rows.append(render(generator, latents[i:i + 1], labels))
        if progress is not None:
            progress(i + 1, len(latents))
    return np.concatenate(rows)


def grid_image(generator: nn.Module, source: GeneratorSource, first_seed: int, n: int,
               label: int | None = None, *, progress: Progress | None = None,
               should_stop: ShouldStop | None = None) -> np.ndarray | None:
    """The ``n`` x ``n`` grid of seeds ``first_seed, first_seed + 1, ...``, row by row."""
    if is_points(source):
        raise ValueError(f"{source.label} makes 2-D points, not images: there is no image grid")
    if int(n) not in GRID_SIZES:
        raise ValueError(f"grid size must be {GRID_SIZES.start} to {GRID_SIZES.stop - 1}, "
                         f"not {n}")
    seeds = range(int(first_seed), int(first_seed) + n * n)
    latents = latent_batch(source.nz, seeds, source.latent_distribution)
    tiles = render_latents(generator, latents, label, progress=progress, should_stop=should_stop)
    return None if tiles is None else make_grid(tiles, columns=n, padding=GRID_PADDING)


def export_grid(path: Path | str, source: GeneratorSource, first_seed: int, n: int, *,
                label: int | None = None, scale: int = 1, smooth: bool = False,
                generator: nn.Module | None = None, progress: Progress | None = None,
                should_stop: ShouldStop | None = None) -> Path | None:
    """Render and write an ``n`` x ``n`` seed grid; None when stopped before the end.

    ``generator`` saves rebuilding one; it must come from ``source.build_for_inference()``.
    """
    scale = _check_scale(scale)
    provenance = grid_provenance(source, first_seed=first_seed, n=n, label=label)
    generator = generator if generator is not None else source.build_for_inference()
    grid = grid_image(generator, source, first_seed, n, label, progress=progress,
                      should_stop=should_stop)
    if grid is None:
        return None
    return save_png(Path(path), scale_image(grid, scale, smooth),
                    {**provenance, **_size_provenance(scale, smooth)})


# ----- 2-D points generators -------------------------------------------------------------------

def cloud_latents(source: GeneratorSource) -> torch.Tensor:
    """The fixed latents whose points draw a points generator's distribution."""
    return latent_batch(source.nz, range(POINTS_CLOUD_SEED, POINTS_CLOUD_SEED + POINTS_CLOUD_SIZE),
                        source.latent_distribution)


def render_cloud(generator: nn.Module, source: GeneratorSource,
                 label: int | None = None) -> np.ndarray:
    """``(POINTS_CLOUD_SIZE, 2)`` points: the generated distribution, one batch."""
    return render(generator, cloud_latents(source), label_tensor(label, POINTS_CLOUD_SIZE))


def points_bounds(cloud: np.ndarray, highlight: np.ndarray | None = None
                  ) -> tuple[float, float, float, float]:
    """A square view holding the toy datasets' usual ±4 box and every point shown."""
    points = cloud if highlight is None else np.concatenate([cloud, highlight.reshape(-1, 2)])
    finite = points[np.isfinite(points).all(axis=1)] if len(points) else points
    reach = float(np.abs(finite).max()) * 1.05 if len(finite) else 0.0
    half = max(4.0, math.ceil(reach))
    return (-half, half, -half, half)


def points_preview(generator: nn.Module, source: GeneratorSource, latent: np.ndarray,
                   label: int | None = None, scale: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The generated distribution with ``latent``'s point marked (``scale`` x 256 px square),
    and that point."""
    cloud = render_cloud(generator, source, label)
    point = render(generator, np.asarray(latent, np.float32).reshape(1, -1),
                   label_tensor(label))[0]
    image = render_points(np.zeros((0, 2)), cloud, None, points_bounds(cloud, point),
                          POINTS_IMAGE_SIZE * scale, highlight=point)
    return image, point


def export_points_preview(path: Path | str, generator: nn.Module, source: GeneratorSource,
                          latent: np.ndarray, provenance: Mapping[str, Any], scale: int,
                          label: int | None = None) -> Path:
    """Write :func:`points_preview` with provenance."""
    scale = _check_scale(scale)
    image, point = points_preview(generator, source, latent, label, scale)
    return save_png(Path(path), image, {**provenance, **_size_provenance(scale, False),
                                        "point": [float(v) for v in point],
                                        "cloud_seeds": [POINTS_CLOUD_SEED, POINTS_CLOUD_SIZE]})


# ----- tracing an image back ------------------------------------------------------------------

def source_of(provenance: Mapping[str, Any]) -> GeneratorSource:
    """Open the generator an image's provenance names, the way it was opened then."""
    weights = provenance.get("checkpoint") or provenance.get("source")
    if not weights:
        raise ValueError("the image names no checkpoint or generator export to render from")
    options = dict(provenance.get("open_options") or {})
    return GeneratorSource.open(weights, **options)


def rerender(provenance: Mapping[str, Any] | Path | str) -> np.ndarray:
    """The pixels of an exported PNG, made again from its provenance (a dict or the PNG).

    Opens the checkpoint or export named in it; raises ValueError when it names none (a
    snapshot of a training run that had no checkpoint at that step).
    """
    meta = read_png_metadata(Path(provenance)) if isinstance(provenance, (str, Path)) \
        else dict(provenance)
    kind = meta.get("kind")
    if kind not in (PREVIEW_KIND, GRID_KIND, FRAME_KIND):
        raise ValueError(f"not a latent preview, grid or animation frame (kind: {kind!r})")
    source = source_of(meta)
    generator = source.build_for_inference()
    label = meta.get("class_label")
    scale, smooth = int(meta.get("scale", 1)), bool(meta.get("smooth", False))
    if kind == GRID_KIND:
        grid = grid_image(generator, source, int(meta["seeds"][0]), int(meta["grid"]), label)
        assert grid is not None   # nothing asked it to stop
        return scale_image(grid, scale, smooth)
    latent = np.asarray(meta["latent"], dtype=np.float32).reshape(1, -1)
    if kind == FRAME_KIND:
        return resize_to(render(generator, latent, label_tensor(label))[0], int(meta["size"]),
                         smooth)
    if is_points(source):
        return points_preview(generator, source, latent, label, scale)[0]
    return scale_image(render(generator, latent, label_tensor(label))[0], scale, smooth)



# ----- animations -------------------------------------------------------------------------------

def render_frames(generator: nn.Module, latents: np.ndarray, label: int | None, size: int,
                  smooth: bool = False) -> Iterator[np.ndarray]:
    """Each latent's image (rendered alone, as the preview is) at ``size`` pixels."""
    latents = np.asarray(latents, dtype=np.float32)
    labels = label_tensor(label)
    for latent in latents:
        yield resize_to(render(generator, latent[None], labels)[0], size, smooth)


def export_animation(path: Path | str, source: GeneratorSource, latents: np.ndarray, *,
                     provenance: Mapping[str, Any], size: int, fps: float = 24,
                     smooth: bool = False, label: int | None = None,
                     generator: nn.Module | None = None, progress: Progress | None = None,
                     should_stop: ShouldStop | None = None) -> Path | None:
    """Render ``latents`` (one frame each) and write them as a GIF, MP4 or PNG frame folder
    (see :mod:`ganstudio.export.animation`); None when stopped (nothing is left behind)."""
    from ganstudio.export.animation import write_animation

    if is_points(source):
        raise ValueError(f"{source.label} makes 2-D points: animations are for image "
                         "generators")
    latents = np.asarray(latents, dtype=np.float32)
    generator = generator if generator is not None else source.build_for_inference()
    meta = {**dict(provenance), "size": int(size), "smooth": bool(smooth)}
    return write_animation(
        Path(path), render_frames(generator, latents, label, size, smooth), len(latents),
        fps=fps, provenance=meta,
        frame_metadata=lambda i: frame_provenance(latents[i], i, size, smooth),
        progress=progress, should_stop=should_stop)
