"""``ganstudio-sample``: images, grids and animations from any generator, with the window's engine.

Examples::

    ganstudio-sample runs/faces --seeds 1-64 --grid --out grid.png
    ganstudio-sample netG_epoch_24.pth --seeds 7 --truncation 0.7 --size 256 --out seven.png
    ganstudio-sample model.pt2 --seeds 1-16 --out samples/            # one PNG per seed
    ganstudio-sample runs/faces --interpolate 3 17 --frames 60 --out morph.gif
    ganstudio-sample runs/faces --interpolate a.png b.png --method lerp --out morph.mp4
    ganstudio-sample runs/faces --walk 1 --seeds 5 --frames 48 --out pc1-frames/
    ganstudio-sample generator.torchscript --latent-shape 100x1x1 --output-range 0,1 --info
    ganstudio-sample runs/faces --export-generator faces.pt2          # or faces.onnx

SOURCE is a run folder, a checkpoint, a generator export, a DCGAN-example netG state dict, a
torch.export archive (.pt2) or a TorchScript file. Images are rendered one latent at a time with
one CPU thread, exactly as the window's latent explorer renders them, so a command copied from
the window (Copy as command) makes the same pixels bit for bit.
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ganstudio.errors import GanStudioError

log = logging.getLogger("ganstudio.cli.sample")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_SEEDS = 100_000
SEED_MAX = 2**31 - 1


class UsageError(GanStudioError):
    """A bad flag value: the message starts with the flag."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganstudio-sample", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Render images, seed grids and latent animations from a generator.",
        epilog="Images carry their provenance in the PNG text; see README 'Exploring "
               "generators'.")
    parser.add_argument("source", type=Path, help="run folder, checkpoint (.pt), export "
                        "(.safetensors), DCGAN-example netG (.pth), .pt2 or TorchScript file")
    parser.add_argument("--out", type=Path, help="PNG file, folder, or animation (.gif, .mp4, "
                        "or a folder of PNG frames)")
    what = parser.add_argument_group("what to render")
    what.add_argument("--seeds", default=None, metavar="LIST",
                      help="seeds: 7, 1-64, 3,5,9 or a mix (default 0)")
    what.add_argument("--latent", default=None, metavar="b64:...",
                      help="an exact latent vector, as Copy as command writes it (one image)")
    what.add_argument("--grid", action="store_true", help="one grid PNG of all the seeds")
    what.add_argument("--columns", type=int, default=None, metavar="N",
                      help="grid columns (default: square)")
    what.add_argument("--truncation", type=float, default=1.0, metavar="T",
                      help="pull latents towards the mean: 0 to 1 (default 1, no truncation)")
    what.add_argument("--class", dest="class_label", default=None, metavar="C",
                      help="class index or name, for conditional generators")
    what.add_argument("--size", type=int, default=None, metavar="N",
                      help="pixels of each image's longer side (default: the generator's); a "
                           "whole multiple keeps pixels crisp")
    what.add_argument("--smooth", action="store_true",
                      help="resample smoothly (Lanczos) even at whole multiples")
    anim = parser.add_argument_group("animations")
    anim.add_argument("--interpolate", nargs=2, metavar=("A", "B"),
                      help="from A to B: each a seed, a GAN Studio PNG, or b64:... latent")
    anim.add_argument("--walk", type=int, default=None, metavar="K",
                      help="walk along principal direction K (1 = the strongest) through the "
                           "first seed (or --latent)")
    anim.add_argument("--method", choices=("slerp", "lerp"), default="slerp",
                      help="interpolation (default slerp)")
    anim.add_argument("--frames", type=int, default=60, metavar="N", help="frames (default 60)")
    anim.add_argument("--fps", type=float, default=24, metavar="F",
                      help="frames per second (default 24)")
    anim.add_argument("--extent", type=float, default=3.0, metavar="S",
                      help="a walk goes from -S to +S standard deviations (default 3)")
    dirs = parser.add_argument_group("principal directions (--walk)")
    dirs.add_argument("--layer", default="auto",
                      help="fit on: auto, z, output or a layer name (default auto)")
    dirs.add_argument("--components", type=int, default=8, metavar="K",
                      help="directions to fit (default 8)")
    dirs.add_argument("--samples", type=int, default=1000, metavar="N",
                      help="latents sampled for the fit (default 1000)")
    foreign = parser.add_argument_group("programs from other code (.pt2, TorchScript)")
    foreign.add_argument("--latent-shape", default=None, metavar="SHAPE",
                         help="latent shape per sample, e.g. 128 or 100x1x1 (default: read "
                              "from the program or found by trying)")
    foreign.add_argument("--output-range", default=None, metavar="LO,HI",
                         help="the program's output range: -1,1 or 0,1 or 0,255 (default: "
                              "stated by the file or detected)")
    other = parser.add_argument_group("other")
    other.add_argument("--info", action="store_true",
                       help="describe the generator and exit")
    other.add_argument("--export-generator", type=Path, default=None, metavar="PATH",
                       help="write the generator as a torch.export archive (.pt2) or ONNX "
                            "(.onnx) and exit")
    other.add_argument("--threads", type=int, default=1, metavar="N",
                       help="CPU threads for rendering (default 1, as the window; other "
                            "counts may change the last bit of some pixels)")
    other.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    return parser


def parse_seeds(text: str) -> list[int]:
    """``7``, ``1-64``, ``3,5,9`` or a mix, in order."""
    seeds: list[int] = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        match = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        if match:
            first, last = int(match.group(1)), int(match.group(2))
            if last < first:
                raise UsageError(f"--seeds: {part} counts down; write {last}-{first}")
            seeds.extend(range(first, last + 1))
        elif part.isdigit():
            seeds.append(int(part))
        else:
            raise UsageError(f"--seeds: {part!r} is not a seed or a range like 1-64")
        if len(seeds) > MAX_SEEDS:
            raise UsageError(f"--seeds: at most {MAX_SEEDS:,} seeds at once")
    if not seeds:
        raise UsageError("--seeds: give at least one seed")
    if max(seeds) > SEED_MAX:
        raise UsageError(f"--seeds: seeds go up to {SEED_MAX:,}")
    return seeds


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.INFO,
                        format="%(levelname)s: %(message)s")
    try:
        return run(args)
    except UsageError as exc:
        print(f"ganstudio-sample: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GanStudioError as exc:
        print(f"ganstudio-sample: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"ganstudio-sample: error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _check_args(args: argparse.Namespace) -> None:
    if args.size is not None and not 1 <= args.size <= 8192:
        raise UsageError(f"--size: 1 to 8192 pixels, not {args.size}")
    if not 0.0 <= args.truncation <= 1.0:
        raise UsageError(f"--truncation: 0 to 1, not {args.truncation:g}")
    if not 1 <= args.threads <= 256:
        raise UsageError(f"--threads: 1 or more, not {args.threads}")
    if args.interpolate and args.walk is not None:
        raise UsageError("--walk: give either --interpolate or --walk, not both")
    if (args.interpolate or args.walk is not None) and args.grid:
        raise UsageError("--grid: grids are for --seeds, not animations")
    if args.latent is not None and args.grid:
        raise UsageError("--latent: one exact latent makes one image, not a grid")
    if not 2 <= args.frames <= 2000:
        raise UsageError(f"--frames: 2 to 2000, not {args.frames}")
    if not 1 <= args.fps <= 60:
        raise UsageError(f"--fps: 1 to 60, not {args.fps:g}")
    if args.columns is not None and args.columns < 1:
        raise UsageError(f"--columns: 1 or more, not {args.columns}")
    if not args.info and args.export_generator is None and args.out is None:
        raise UsageError("--out: say where to write (a .png, a folder, .gif or .mp4)")


def _open(args: argparse.Namespace):
    from ganstudio.engine.sampling import GeneratorSource

    if not args.source.exists():
        raise UsageError(f"SOURCE: {args.source}: no such file or folder")
    flag = "--latent-shape" if args.latent_shape is not None else "--output-range"
    try:
        return GeneratorSource.open(args.source, latent_shape=args.latent_shape,
                                    output_range=args.output_range)
    except ValueError as exc:   # option parsing, before anything is read
        flag = "--latent-shape" if "latent shape" in str(exc) else "--output-range"
        raise UsageError(f"{flag}: {exc}") from None
    except GanStudioError as exc:
        if "only given for exported programs" in str(exc):
            raise UsageError(f"{flag}: {exc}") from None
        raise


def _class(args: argparse.Namespace, source) -> int | None:
    classes = source.spec.num_classes
    if args.class_label is None:
        if classes:
            raise UsageError(f"--class: {source.label} is conditional; give a class (0 to "
                             f"{classes - 1}" + (f", or a name: {', '.join(source.class_names)}"
                                                 if source.class_names else "") + ")")
        return None
    if not classes:
        raise UsageError(f"--class: {source.label} is not conditional")
    text = str(args.class_label)
    if text in source.class_names:
        return source.class_names.index(text)
    if text.isdigit() and int(text) < classes:
        return int(text)
    raise UsageError(f"--class: {text!r} is not a class of {source.label} (0 to {classes - 1}"
                     + (f": {', '.join(source.class_names)}" if source.class_names else "") + ")")


def describe(source) -> str:
    meta = source.metadata
    lines = [f"{source.label}: {meta.get('format') or source.spec.architecture}",
             f"  latent: {source.nz} values ({source.latent_distribution})"
             + (f", shaped {'x'.join(map(str, meta['latent_shape']))}"
                if meta.get("latent_shape") else ""),
             f"  output: {'x'.join(map(str, source.spec.out_shape))}"
             + (f", range {meta['output_range']} ({meta.get('output_range_note', '')})"
                if meta.get("output_range") else ""),
             f"  step: {source.step:,}", f"  sha256: {source.sha256}"]
    if source.spec.num_classes:
        lines.append(f"  classes: {', '.join(source.class_names) or source.spec.num_classes}")
    if meta.get("fixed_batch"):
        lines.append(f"  exported for batches of {meta['fixed_batch']} (run in chunks)")
    if meta.get("trust"):
        lines.append(f"  note: {meta['trust']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import torch

    _check_args(args)
    torch.set_num_threads(args.threads)
    source = _open(args)
    if args.info:
        print(describe(source))
        return EXIT_OK
    if args.export_generator is not None:
        from ganstudio.export.programs import export_program

        try:
            path = export_program(source, args.export_generator)
        except ValueError as exc:
            raise UsageError(f"--export-generator: {exc}") from None
        log.info("wrote %s", path)
        return EXIT_OK
    label = _class(args, source)
    generator = source.build_for_inference()
    if args.interpolate or args.walk is not None:
        return _animate(args, source, generator, label)
    return _images(args, source, generator, label)


def _native_size(source) -> int:
    from ganstudio.export.images import POINTS_IMAGE_SIZE, is_points

    return POINTS_IMAGE_SIZE if is_points(source) else max(source.spec.out_shape[1:])


def _seed_latents(source, seeds: list[int], truncation: float) -> np.ndarray:
    from ganstudio.engine.sampling import latent_batch
    from ganstudio.explore.paths import compose_latent

    base = latent_batch(source.nz, seeds, source.latent_distribution).numpy()
    return np.stack([compose_latent(row, truncation) for row in base]) if len(base) else base


def _exact_latent(args: argparse.Namespace, source) -> np.ndarray:
    from ganstudio.explore.paths import latent_from_text

    try:
        latent = latent_from_text(args.latent)
    except ValueError as exc:
        raise UsageError(f"--latent: {exc}") from None
    if latent.shape != (source.nz,):
        raise UsageError(f"--latent: {latent.size} values, but {source.label} takes "
                         f"{source.nz}")
    return latent


def _images(args: argparse.Namespace, source, generator, label: int | None) -> int:
    from ganstudio.export.grid import make_grid, resize_to
    from ganstudio.export.images import (
        GRID_PADDING,
        is_points,
        points_preview,
        preview_provenance,
        render_latents,
        view_provenance,
    )
    from ganstudio.export.png import save_png

    seeds = parse_seeds(args.seeds if args.seeds is not None else "0")
    if args.latent is not None:
        if len(seeds) != 1:
            raise UsageError("--latent: one exact latent makes one image; give one seed (the "
                             "one it started from) or none")
        latents = _exact_latent(args, source)[None]
    else:
        latents = _seed_latents(source, seeds, args.truncation)
    size = args.size or _native_size(source)
    out: Path = args.out
    command = {"made_by": "ganstudio-sample"}
    if args.grid:
        if is_points(source):
            raise UsageError("--grid: this generator makes 2-D points, not images")
        if out.suffix.lower() != ".png":
            raise UsageError(f"--out: a grid is one PNG; {out} does not end in .png")
        tiles = render_latents(generator, latents, label)
        tiles = np.stack([resize_to(tile, size, args.smooth) for tile in tiles])
        columns = args.columns or max(1, math.ceil(math.sqrt(len(seeds))))
        grid = make_grid(tiles, columns=columns, padding=GRID_PADDING)
        from ganstudio.export.images import generator_provenance

        meta = {"kind": "latent seed grid", **generator_provenance(source), **command,
                "seeds": seeds, "columns": columns, "truncation": args.truncation,
                "size": size, "smooth": args.smooth, "padding": GRID_PADDING}
        _ensure_parent(out, "--out")
        save_png(out, grid, meta)
        log.info("wrote %s (%d images)", out, len(seeds))
        return EXIT_OK
    single = len(latents) == 1 and out.suffix.lower() == ".png"
    if not single:
        if out.suffix:
            raise UsageError(f"--out: {len(latents)} images go into a folder; {out} looks like "
                             "a file (add --grid for one grid PNG)")
        out.mkdir(parents=True, exist_ok=True)
    for seed, latent in zip(seeds, latents):
        provenance = preview_provenance(source, seed=seed, latent=latent, label=label,
                                        view=view_provenance(truncation=args.truncation))
        provenance.update(command)
        if is_points(source):
            scale = max(1, size // _native_size(source))
            image = points_preview(generator, source, latent, label, scale)[0]
            provenance.update({"scale": scale, "smooth": False})
        else:
            image = resize_to(render_latents(generator, latent[None], label)[0], size,
                              args.smooth)
            provenance.update({"size": size, "smooth": args.smooth,
                               "image_size": list(source.spec.out_shape[:0:-1])})
            native = _native_size(source)
            if size % native == 0:
                provenance["scale"] = size // native
        target = out if single else out / f"seed-{seed:06d}.png"
        _ensure_parent(target, "--out")
        save_png(target, image, provenance)
    log.info("wrote %s", out if single else f"{len(latents)} images into {out}")
    return EXIT_OK


def _ensure_parent(path: Path, flag: str) -> None:
    if not path.parent.is_dir():
        raise UsageError(f"{flag}: the folder {path.parent} does not exist")


def _endpoint(text: str, source, truncation: float, flag: str) -> tuple[np.ndarray, Any]:
    """A seed, a PNG with provenance, or an exact latent: the latent and how it was given."""
    from ganstudio.explore.paths import LATENT_TEXT_PREFIX, latent_from_text

    if text.isdigit():
        seed = int(text)
        if seed > SEED_MAX:
            raise UsageError(f"{flag}: seeds go up to {SEED_MAX:,}")
        return _seed_latents(source, [seed], truncation)[0], {"seed": seed}
    if text.startswith(LATENT_TEXT_PREFIX):
        latent = latent_from_text(text)
    else:
        path = Path(text)
        if not path.is_file():
            raise UsageError(f"{flag}: {text!r} is not a seed, a b64: latent or a PNG file")
        from ganstudio.export.png import read_png_metadata

        meta = read_png_metadata(path)
        if not isinstance(meta.get("latent"), list):
            raise UsageError(f"{flag}: {path} records no latent vector (not a GAN Studio "
                             "preview export)")
        latent = np.asarray(meta["latent"], dtype=np.float32)
        if meta.get("generator_sha256") not in (None, source.sha256):
            log.warning("%s was made by another generator (%s); using its latent anyway",
                        path, meta.get("generator"))
        if latent.shape != (source.nz,):
            raise UsageError(f"{flag}: {path} holds a {latent.size}-value latent, but "
                             f"{source.label} takes {source.nz}")
        return latent, {"png": str(path), "seed": meta.get("seed")}
    if latent.shape != (source.nz,):
        raise UsageError(f"{flag}: {latent.size} values, but {source.label} takes {source.nz}")
    return latent, {"latent": text}


def _animate(args: argparse.Namespace, source, generator, label: int | None) -> int:
    from ganstudio.export.animation import animation_format
    from ganstudio.export.images import animation_provenance, export_animation, is_points
    from ganstudio.explore.paths import interpolate

    if is_points(source):
        raise UsageError("--interpolate/--walk: animations are for image generators; this one "
                         "makes 2-D points")
    try:
        animation_format(args.out)
    except ValueError as exc:
        raise UsageError(f"--out: {exc}") from None
    if args.interpolate:
        a, a_info = _endpoint(args.interpolate[0], source, args.truncation, "--interpolate A")
        b, b_info = _endpoint(args.interpolate[1], source, args.truncation, "--interpolate B")
        latents = interpolate(a, b, args.frames, args.method)
        provenance = animation_provenance(source, path_kind="interpolation",
                                          frames=args.frames, label=label, method=args.method,
                                          a=a_info, b=b_info, truncation=args.truncation)
    else:
        latents, provenance = _walk(args, source, generator, label)
    size = args.size or _native_size(source)
    provenance["made_by"] = "ganstudio-sample"
    if not args.quiet:
        log.info("rendering %d frames at %d px…", len(latents), size)
    path = export_animation(args.out, source, latents, provenance=provenance, size=size,
                            fps=args.fps, smooth=args.smooth, label=label, generator=generator)
    log.info("wrote %s (%d frames)", path, len(latents))
    return EXIT_OK


def _walk(args: argparse.Namespace, source, generator, label: int | None
          ) -> tuple[np.ndarray, dict[str, Any]]:
    from ganstudio.explore.directions import cached_fit
    from ganstudio.explore.paths import walk_latents
    from ganstudio.export.images import animation_provenance

    if args.components < 1 or args.samples < 10:
        raise UsageError("--components: 1 or more; --samples: 10 or more")
    if not 1 <= args.walk <= args.components:
        raise UsageError(f"--walk: a direction from 1 to {args.components} (--components)")
    if not 0 < args.extent <= 10:
        raise UsageError(f"--extent: more than 0 and at most 10, not {args.extent:g}")
    try:
        directions = cached_fit(source, layer=args.layer, components=args.components,
                                samples=args.samples, generator=generator)
    except ValueError as exc:
        raise UsageError(f"--layer: {exc}") from None
    assert directions is not None
    if args.walk > directions.count:
        raise UsageError(f"--walk: only {directions.count} directions could be fitted")
    seeds = parse_seeds(args.seeds if args.seeds is not None else "0")
    if args.latent is not None:
        base, seed = _exact_latent(args, source), seeds[0]
        truncation = 1.0
    else:
        seed, truncation = seeds[0], args.truncation
        from ganstudio.engine.sampling import latent_batch

        base = latent_batch(source.nz, [seed], source.latent_distribution)[0].numpy()
    values = np.zeros(directions.count, np.float32)
    latents = walk_latents(base, truncation, directions, values, args.walk - 1, args.frames,
                           args.extent)
    provenance = animation_provenance(
        source, path_kind="walk", frames=args.frames, label=label, seed=seed,
        direction=args.walk, extent=args.extent, truncation=truncation,
        directions={"basis_id": directions.basis_id, "layer": directions.layer,
                    "components": directions.count, "samples": directions.samples})
    return latents, provenance


if __name__ == "__main__":
    sys.exit(main())
