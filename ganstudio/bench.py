"""``ganstudio-bench``: GAN Studio's training step against the canonical DCGAN step, side by side.

Three variants run in one process on one device, with the same model size, batch and image size:

* ``canonical`` — the PyTorch DCGAN example's training step written plainly: its ``netG`` and
  ``netD`` (``Sigmoid`` + ``BCELoss``), separate real and fake backward passes, ``netD(fake)``
  reused for the G update, default Adam, ``.item()`` on every logged value every step. Its data is
  already on the device as float batches (the example's DataLoader is left out, in its favour).
* ``ganstudio`` — :meth:`Trainer.train_step` itself (not a copy), with the trainer's own reports
  every ``train.log_every`` steps, on the built-in shapes rendered at the requested size.
* ``folder`` — the same trainer fed from PNG files written to a temporary folder and opened with
  :func:`ganstudio.data.open_dataset`, timing steps including batch drawing.

Variants are timed in alternating windows (A B C, B C A, C A B ...) so that load from other
programs hits them alike; each result is the median over windows, measured after warm-up with device
synchronisation around every window. ``--compare KEY=VALUE`` adds trainer variants with other
settings (``--compare train.channels_last=off``), which is how docs/performance.md was measured.

Examples::

    ganstudio-bench                                  # DCGAN-32, batch 64, on CUDA or the CPU
    ganstudio-bench --image-size 64 --batch-size 128 --device cuda --json
    ganstudio-bench --variants canonical,ganstudio --compare train.channels_last=off
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from ganstudio.config import RunConfig
from ganstudio.errors import ConfigError, GanStudioError

VARIANTS = ("canonical", "ganstudio", "folder")
DEFAULT_WINDOW_SECONDS = 2.0
# Values read with .item() every step by the example (its progress line prints all five).
_CANONICAL_READOUTS = 5


# ----- the canonical step: the PyTorch DCGAN example, written plainly --------------------------

def _middle_blocks(image_size: int) -> int:
    if image_size not in (32, 64, 128):
        raise ValueError(f"the DCGAN benchmark makes 32, 64 or 128 pixel images, not {image_size}")
    return int(math.log2(image_size)) - 3  # 3 at 64 px, as in the example


class CanonicalGenerator(nn.Module):
    """The example's ``Generator`` (``main.0`` … ``main.12`` at 64 px); one block per doubling."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, image_size: int = 64):
        super().__init__()
        blocks = _middle_blocks(image_size)
        width = ngf * 2 ** blocks
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False),
                                   nn.BatchNorm2d(width), nn.ReLU(True)]
        for _ in range(blocks):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.main(noise)


class CanonicalDiscriminator(nn.Module):
    """The example's ``Discriminator``: strided convolutions, BatchNorm, LeakyReLU, Sigmoid."""

    def __init__(self, ndf: int = 64, nc: int = 3, image_size: int = 64):
        super().__init__()
        blocks = _middle_blocks(image_size)
        layers: list[nn.Module] = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                                   nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for _ in range(blocks):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2, inplace=True)]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).view(-1, 1).squeeze(1)


def canonical_weights_init(m: nn.Module) -> None:
    """The example's ``weights_init``."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class CanonicalDCGAN:
    """One training step exactly as the PyTorch DCGAN example's loop body does it."""

    def __init__(self, *, image_size: int, nz: int = 100, width: int = 64, channels: int = 3,
                 device: torch.device | str = "cpu", lr: float = 2e-4, beta1: float = 0.5):
        self.device = torch.device(device)
        self.nz = nz
        self.netG = CanonicalGenerator(nz, width, channels, image_size).to(self.device)
        self.netD = CanonicalDiscriminator(width, channels, image_size).to(self.device)
        self.netG.apply(canonical_weights_init)
        self.netD.apply(canonical_weights_init)
        self.criterion = nn.BCELoss()
        self.optimizerD = torch.optim.Adam(self.netD.parameters(), lr=lr, betas=(beta1, 0.999))
        self.optimizerG = torch.optim.Adam(self.netG.parameters(), lr=lr, betas=(beta1, 0.999))
        self.real_label, self.fake_label = 1.0, 0.0

    def step(self, real_cpu: torch.Tensor, noise: torch.Tensor | None = None) -> dict[str, float]:
        """One D update and one G update on ``real_cpu`` (already normalised, on the device)."""
        netD, netG, criterion = self.netD, self.netG, self.criterion
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = real_cpu.to(self.device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), self.real_label, dtype=real_cpu.dtype,
                           device=self.device)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        if noise is None:
            noise = torch.randn(batch_size, self.nz, 1, 1, device=self.device)
        fake = netG(noise.view(batch_size, self.nz, 1, 1).to(self.device))
        label.fill_(self.fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        self.optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(self.real_label)  # fake labels are real for generator cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        self.optimizerG.step()
        # The example prints these five numbers every step.
        return {"loss_d": errD.item(), "loss_g": errG.item(), "d_x": D_x, "d_g_z1": D_G_z1,
                "d_g_z2": D_G_z2}


# ----- variants ---------------------------------------------------------------------------------

@dataclass
class VariantResult:
    name: str
    ms_per_step: float
    images_per_sec: float
    windows_ms: list[float]
    threads: int
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class _Variant:
    name: str = ""
    threads: int = 1
    notes: list[str]
    extra: dict[str, Any]

    def step(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None


class _CanonicalVariant(_Variant):
    def __init__(self, options: "BenchOptions", device: torch.device, images: torch.Tensor):
        self.name = "canonical"
        self.model = CanonicalDCGAN(image_size=options.image_size, nz=options.nz,
                                    width=options.width, channels=images.shape[1], device=device)
        batches = max(1, min(16, len(images) // options.batch_size))
        count = batches * options.batch_size
        # "Data already on the device": normalised float batches, sliced without any gather.
        self.data = (images[:count].to(device).float() / 127.5 - 1.0)
        self.batch_size = options.batch_size
        self.batches = batches
        self.index = 0
        self.threads = torch.get_num_threads()
        self.notes = ["fp32, NCHW, Sigmoid + BCELoss, default Adam, .item() every step"]
        self.extra = {}

    def step(self) -> None:
        start = (self.index % self.batches) * self.batch_size
        self.index += 1
        self.model.step(self.data[start:start + self.batch_size])


class _TrainerVariant(_Variant):
    """GAN Studio's Trainer, stepped the way its loop steps it (reports every log_every)."""

    def __init__(self, name: str, config: RunConfig, dataset, run_dir: Path):
        from ganstudio.engine.trainer import Trainer

        self.name = name
        self.trainer = Trainer(config, run_dir=run_dir, dataset=dataset, threaded_observer=False)
        self.trainer._setup()
        self.threads = torch.get_num_threads()
        self.notes = list(self.trainer.speed_notes)
        self.extra = {}
        self._window_start = time.perf_counter()
        self._window_steps = 0

    def step(self) -> None:
        trainer = self.trainer
        report = (trainer.step + 1) % trainer.config.train.log_every == 0
        trainer.train_step(measure_grad_norms=report)
        trainer.step += 1
        self._window_steps += 1
        if report:  # what the real loop does at a report: wait for the device, read the sums
            trainer._sync()
            now = time.perf_counter()
            rate = self._window_steps * trainer.config.train.batch_size / max(
                now - self._window_start, 1e-9)
            trainer._report_metrics(rate)
            self._window_start, self._window_steps = now, 0

    def close(self) -> None:
        self.notes = list(self.trainer.speed_notes)  # a capture that fell back says so here
        if self.trainer._metrics_file is not None:
            self.trainer._metrics_file.close()
            self.trainer._metrics_file = None


@dataclass
class BenchOptions:
    image_size: int = 32
    batch_size: int = 64
    width: int = 64
    nz: int = 100
    device: str = "auto"
    steps: int = 0             # per window; 0 picks enough for about window_seconds
    windows: int = 7
    warmup: int = -1           # steps per variant before timing; -1: 2 on the CPU, 25 on CUDA
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    variants: tuple[str, ...] = VARIANTS
    settings: tuple[str, ...] = ()          # KEY=VALUE for every trainer variant
    compare: tuple[str, ...] = ()           # extra trainer variants: "KEY=VALUE[,KEY=VALUE]"
    folder_images: int = 512
    images: int = 2048         # rendered shapes (the GPU-resident dataset of the trainer variants)
    seed: int = 0
    threads: int = 0           # CPU threads for every variant (0: torch's default)


def _trainer_config(options: BenchOptions, device: torch.device, extra: Sequence[str] = ()
                    ) -> RunConfig:
    config = RunConfig()
    values: dict[str, Any] = {
        "data.name": "shapes", "model.architecture": "dcgan",
        "model.image_size": options.image_size, "model.nz": options.nz,
        "model.g_width": options.width, "model.d_width": options.width,
        "train.batch_size": options.batch_size, "train.device": str(device),
        "train.seed": options.seed, "train.steps": 1_000_000_000,
        "train.sample_every": 1_000_000_000, "train.checkpoint_every": 1_000_000_000,
    }
    for item in (*options.settings, *extra):
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError("--set", f"expected SECTION.KEY=VALUE (got {item!r})")
        values[key.strip()] = value.strip()
    for key, value in values.items():
        config.set(key, value)
    config.validate()
    return config


def _write_folder(folder: Path, images: torch.Tensor) -> None:
    from PIL import Image

    array = images.permute(0, 2, 3, 1).numpy()
    for i, pixels in enumerate(array):
        Image.fromarray(pixels.squeeze(-1) if pixels.shape[-1] == 1 else pixels).save(
            folder / f"image-{i:06d}.png")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_window(variant: _Variant, steps: int, device: torch.device) -> tuple[float, float]:
    """Wall-clock and process CPU seconds per step over one window."""
    torch.set_num_threads(variant.threads)
    _sync(device)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(steps):
        variant.step()
    _sync(device)
    return ((time.perf_counter() - start) / steps, (time.process_time() - cpu_start) / steps)


def run_bench(options: BenchOptions, log=None) -> dict[str, Any]:
    """Run the benchmark and return its results (the ``--json`` document)."""
    from ganstudio.data import open_dataset
    from ganstudio.data.base import DatasetInfo, ImageDataset
    from ganstudio.data.builtin import render_shapes
    from ganstudio.engine.device import describe_device, resolve_device

    say = log or (lambda text: None)
    unknown = [v for v in options.variants if v not in VARIANTS]
    if unknown:
        raise ConfigError("--variants", f"unknown variant {unknown[0]!r} "
                          f"(known: {', '.join(VARIANTS)})")
    device = resolve_device(options.device)
    original_threads = torch.get_num_threads()
    original_benchmark = torch.backends.cudnn.benchmark
    if options.threads:
        torch.set_num_threads(options.threads)
        options = dataclasses.replace(
            options, settings=(*options.settings, f"train.threads={options.threads}"))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # what the example script sets, for both sides
    default_threads = torch.get_num_threads()
    count = max(options.batch_size, options.images)
    say(f"rendering {count} shapes at {options.image_size} px")
    pixels, labels = render_shapes(count, options.image_size, seed=12345)
    images = torch.from_numpy(pixels)
    info = DatasetInfo(name="shapes", kind="image", shape=tuple(images.shape[1:]), size=count,
                       class_names=("disc", "square", "triangle"), source="built in")
    dataset = ImageDataset(images, info, torch.from_numpy(labels))

    variants: list[_Variant] = []
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ganstudio-bench-") as tmp:
        tmp_path = Path(tmp)
        try:
            for name in options.variants:
                if name == "canonical":
                    torch.manual_seed(options.seed)
                    variants.append(_CanonicalVariant(options, device, images))
                    variants[-1].threads = default_threads
                elif name == "ganstudio":
                    variants.append(_TrainerVariant(
                        "ganstudio", _trainer_config(options, device), dataset,
                        tmp_path / "run-ganstudio"))
                elif name == "folder":
                    folder = tmp_path / "images"
                    folder.mkdir()
                    files = min(options.folder_images, count)
                    say(f"writing {files} PNG files to {folder}")
                    _write_folder(folder, images[:files])
                    start = time.perf_counter()
                    folder_data = open_dataset(str(folder), image_size=options.image_size,
                                               cache=False)
                    open_seconds = time.perf_counter() - start
                    variant = _TrainerVariant(
                        "folder", _trainer_config(options, device, [f"data.name={folder}"]),
                        folder_data, tmp_path / "run-folder")
                    variant.extra = {"files": files, "open_seconds": round(open_seconds, 3)}
                    variants.append(variant)
            for i, spec in enumerate(options.compare):
                settings = [s for s in spec.split(",") if s.strip()]
                variants.append(_TrainerVariant(
                    f"ganstudio[{','.join(settings)}]", _trainer_config(options, device, settings),
                    dataset, tmp_path / f"run-compare-{i}"))
            if not variants:
                raise ConfigError("--variants", "nothing to measure")

            warmup = options.warmup if options.warmup >= 0 else (
                25 if device.type == "cuda" else 2)
            estimates = []
            for variant in variants:
                say(f"warming up {variant.name} ({warmup} steps)")
                torch.set_num_threads(variant.threads)
                for _ in range(warmup):
                    variant.step()
                estimates.append(_time_window(variant, 1, device)[0])
            steps = options.steps or max(1, min(5000, round(
                options.window_seconds / max(max(estimates), 1e-6))))
            say(f"timing {options.windows} windows of {steps} steps per variant, alternating")
            windows: dict[str, list[float]] = {v.name: [] for v in variants}
            cpu_windows: dict[str, list[float]] = {v.name: [] for v in variants}
            for window in range(options.windows):
                # Rotate who goes first, so a variant never always follows the same one.
                shift = window % len(variants)
                for variant in variants[shift:] + variants[:shift]:
                    wall, cpu = _time_window(variant, steps, device)
                    windows[variant.name].append(wall)
                    cpu_windows[variant.name].append(cpu)
                say(f"window {window + 1}/{options.windows}: " + "  ".join(
                    f"{name} {times[-1] * 1e3:.1f} ms" for name, times in windows.items()))
        finally:
            torch.set_num_threads(original_threads)
            torch.backends.cudnn.benchmark = original_benchmark
            for variant in variants:
                variant.close()

    results = []
    for variant in variants:
        median = statistics.median(windows[variant.name])
        results.append(VariantResult(
            name=variant.name, ms_per_step=median * 1e3,
            images_per_sec=options.batch_size / median,
            windows_ms=[round(t * 1e3, 3) for t in windows[variant.name]],
            threads=variant.threads, notes=variant.notes,
            extra={**variant.extra, "cpu_ms_per_step": round(
                statistics.median(cpu_windows[variant.name]) * 1e3, 3)}))
    by_name = {r.name: r for r in results}
    ratios, paired = {}, {}
    if "canonical" in by_name:
        base = by_name["canonical"].ms_per_step
        ratios = {r.name: base / r.ms_per_step for r in results}
        # The same ratio window by window (each round runs every variant back to back), whose
        # median shrugs off load that comes and goes between rounds.
        paired = {name: statistics.median(c / t for c, t in zip(windows["canonical"], times))
                  for name, times in windows.items()}
    extra.update({
        "date": date.today().isoformat(),
        "device": str(device),
        "device_name": describe_device(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "threads": default_threads,
        "interop_threads": torch.get_num_interop_threads(),
        "model": f"DCGAN-{options.image_size}",
        "image_size": options.image_size,
        "batch_size": options.batch_size,
        "width": options.width,
        "nz": options.nz,
        "steps_per_window": steps,
        "windows": options.windows,
        "warmup": warmup,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "variants": [vars(r) for r in results],
        "ratio": ratios.get("ganstudio"),
        "ratios": ratios,
        "paired_ratios": paired,
    })
    return extra


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"GAN Studio bench: {result['model']}, batch {result['batch_size']}, "
        f"width {result['width']}, nz {result['nz']}",
        f"device: {result['device_name']}   torch {result['torch']}   threads "
        f"{result['threads']} (interop {result['interop_threads']})   {result['date']}",
        f"{result['windows']} alternating windows of {result['steps_per_window']} steps after "
        f"{result['warmup']} warm-up steps; medians"
        + (f"; load average {result['load_average'][0]:.2f}" if result["load_average"] else ""),
        "",
        f"{'variant':<34} {'ms/step':>10} {'images/s':>11} {'vs canonical':>13} "
        f"{'(per round)':>12}",
    ]
    ratios, paired = result["ratios"], result["paired_ratios"]
    for row in result["variants"]:
        ratio = f"{ratios[row['name']]:.2f}x" if row["name"] in ratios else "-"
        per_round = f"{paired[row['name']]:.2f}x" if row["name"] in paired else "-"
        lines.append(f"{row['name']:<34} {row['ms_per_step']:>10.2f} "
                     f"{row['images_per_sec']:>11,.0f} {ratio:>13} {per_round:>12}")
    lines.append("")
    for row in result["variants"]:
        windows = ", ".join(f"{t:.1f}" for t in row["windows_ms"])
        lines.append(f"{row['name']}: windows {windows} ms; threads {row['threads']}; "
                     f"process CPU {row['extra']['cpu_ms_per_step']:.1f} ms/step")
        for note in row["notes"]:
            lines.append(f"    {note}")
        if row["extra"].get("open_seconds") is not None:
            lines.append(f"    opened {row['extra']['files']} PNG files in "
                         f"{row['extra']['open_seconds']:.2f} s (decode, no cache)")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    defaults = BenchOptions()
    parser = argparse.ArgumentParser(
        prog="ganstudio-bench",
        description="Time GAN Studio's training step against the canonical PyTorch DCGAN step "
                    "(and GAN Studio fed from an image folder), side by side on one device.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Results: medians of alternating timed windows after warm-up, with device "
               "synchronisation. See docs/performance.md.")
    parser.add_argument("--image-size", type=int, default=defaults.image_size,
                        choices=(32, 64, 128), help="image side in pixels [default 32]")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size,
                        help="images per batch [default 64]")
    parser.add_argument("--width", type=int, default=defaults.width,
                        help="ngf = ndf, the DCGAN width [default 64]")
    parser.add_argument("--nz", type=int, default=defaults.nz,
                        help="latent dimensions [default 100]")
    parser.add_argument("--device", default=defaults.device,
                        help="auto, cpu, cuda or cuda:N [default auto]")
    parser.add_argument("--steps", type=int, default=defaults.steps,
                        help="steps per timed window (0: enough for about --window-seconds)")
    parser.add_argument("--window-seconds", type=float, default=defaults.window_seconds,
                        help=f"target length of a window when --steps is 0 "
                             f"[default {defaults.window_seconds:g}]")
    parser.add_argument("--windows", type=int, default=defaults.windows,
                        help="timed windows per variant (the median is reported) [default 7]")
    parser.add_argument("--warmup", type=int, default=defaults.warmup,
                        help="untimed steps per variant first (-1: 2 on the CPU, 25 on CUDA)")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma list of {', '.join(VARIANTS)} [default all]")
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="SECTION.KEY=VALUE",
                        help="a trainer setting for every GAN Studio variant (repeatable)")
    parser.add_argument("--compare", action="append", default=[],
                        metavar="KEY=VALUE[,KEY=VALUE]",
                        help="add a GAN Studio variant with these settings (repeatable), e.g. "
                             "--compare train.channels_last=off")
    parser.add_argument("--folder-images", type=int, default=defaults.folder_images,
                        help="PNG files written for the folder variant [default 512]")
    parser.add_argument("--images", type=int, default=defaults.images,
                        help=f"shapes rendered as the dataset [default {defaults.images}]")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    parser.add_argument("--threads", type=int, default=defaults.threads,
                        help="CPU threads for every variant, the canonical step included "
                             "(0: torch's default, one per core)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="also write the JSON document to FILE")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for flag, value, low in (("--batch-size", args.batch_size, 1), ("--width", args.width, 1),
                             ("--nz", args.nz, 1), ("--windows", args.windows, 1),
                             ("--steps", args.steps, 0), ("--threads", args.threads, 0),
                             ("--folder-images", args.folder_images, 1),
                             ("--images", args.images, 1)):
        if value < low:
            print(f"ganstudio-bench: error: {flag}: must be at least {low} (got {value})",
                  file=sys.stderr)
            return 2
    options = BenchOptions(
        image_size=args.image_size, batch_size=args.batch_size, width=args.width, nz=args.nz,
        device=args.device, steps=args.steps, windows=args.windows, warmup=args.warmup,
        window_seconds=args.window_seconds,
        variants=tuple(v.strip() for v in args.variants.split(",") if v.strip()),
        settings=tuple(args.settings), compare=tuple(args.compare),
        folder_images=args.folder_images, images=args.images, seed=args.seed,
        threads=args.threads)
    log = None if (args.quiet or args.json) else (
        lambda text: print(f"[bench] {text}", file=sys.stderr, flush=True))
    try:
        result = run_bench(options, log=log)
    except ConfigError as exc:
        print(f"ganstudio-bench: error: {exc.field}: {exc.reason}", file=sys.stderr)
        return 2
    except GanStudioError as exc:
        print(f"ganstudio-bench: error: {exc}", file=sys.stderr)
        return 2
    if args.output is not None:
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
