"""What each CPU speed-up gives: the measurements behind docs/performance.md.

``ablation`` times the canonical step, GAN Studio's trainer step, and the trainer with one
optimisation undone (or added) at a time, in alternating windows in one process, printing wall
and process-CPU medians and their ratios to the canonical step::

    .venv/bin/python packaging/cpu_ablation.py ablation                  # threads: one per core
    .venv/bin/python packaging/cpu_ablation.py ablation --threads 1      # every variant on 1

``plain`` times the canonical step the way a plain script runs it: torch imported first, so
OpenMP keeps whatever wait policy the environment gives it (GAN Studio sets PASSIVE when it is
imported first). Alternate it with the trainer to compare separate programs::

    for i in 1 2 3; do
        env -u OMP_WAIT_POLICY .venv/bin/python packaging/cpu_ablation.py plain
        OMP_WAIT_POLICY=PASSIVE .venv/bin/python packaging/cpu_ablation.py plain
        .venv/bin/ganstudio-bench --variants ganstudio --steps 1 --windows 10
    done
"""

from __future__ import annotations

import argparse
import os
import sys

WAIT_POLICY = os.environ.get("OMP_WAIT_POLICY", "unset")  # before anything can set it

if len(sys.argv) > 1 and sys.argv[1] == "plain":
    import torch  # noqa: F401  (first: OpenMP starts with the environment's own policy)

import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import ganstudio  # noqa: E402,F401  (sets OMP_WAIT_POLICY=PASSIVE unless torch came first)
import torch  # noqa: E402

from ganstudio import bench  # noqa: E402
from ganstudio.data.base import DatasetInfo, ImageDataset  # noqa: E402
from ganstudio.data.builtin import render_shapes  # noqa: E402
from ganstudio.engine import fastpath  # noqa: E402

SIZE, BATCH, WIDTH, NZ = 32, 64, 64, 100


def _data() -> tuple[torch.Tensor, ImageDataset]:
    pixels, labels = render_shapes(2048, SIZE, seed=12345)
    images = torch.from_numpy(pixels)
    info = DatasetInfo("shapes", "image", tuple(images.shape[1:]), len(images),
                       ("disc", "square", "triangle"))
    return images, ImageDataset(images, info, torch.from_numpy(labels))


def plain(steps: int) -> None:
    images, _ = _data()
    data = images.float() / 127.5 - 1.0
    torch.manual_seed(0)
    model = bench.CanonicalDCGAN(image_size=SIZE, nz=NZ, width=WIDTH)
    times = []
    for i in range(steps + 2):
        start = time.perf_counter()
        model.step(data[(i % 16) * BATCH:(i % 16 + 1) * BATCH])
        times.append(time.perf_counter() - start)
    print(f"plain script, OMP_WAIT_POLICY={WAIT_POLICY}: median "
          f"{statistics.median(times[2:]) * 1e3:.0f} ms/step over {steps} steps; load "
          f"{os.getloadavg()[0]:.2f}")


def _trainer_variant(name: str, options: bench.BenchOptions, dataset, work: Path,
                     settings=(), change: str | None = None) -> bench._TrainerVariant:
    original = fastpath.adam_options
    if change == "for-loop adam":
        # torch's CPU default: the single-tensor for-loop implementation
        import ganstudio.engine.trainer as trainer_module

        trainer_module.adam_options = lambda device: {"fused": None, "foreach": None}
    try:
        variant = bench._TrainerVariant(name, bench._trainer_config(
            options, torch.device("cpu"), list(settings)), dataset, work / name)
    finally:
        import ganstudio.engine.trainer as trainer_module

        trainer_module.adam_options = original
    trainer = variant.trainer
    if change == "d weight grads":
        # As the canonical step: D stays trainable in the G update, its gradients discarded.
        trainer.D.requires_grad_ = lambda requires_grad=True: trainer.D
    elif change == "two d passes":
        trainer.pair_discriminator = False
    return variant


def ablation(threads: int, steps: int, windows: int) -> None:
    if threads:
        torch.set_num_threads(threads)
    options = bench.BenchOptions(image_size=SIZE, batch_size=BATCH, width=WIDTH, nz=NZ,
                                 threads=threads)
    images, dataset = _data()
    extra = [f"train.threads={threads}"] if threads else []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        canonical = bench._CanonicalVariant(options, torch.device("cpu"), images)
        canonical.threads = torch.get_num_threads()
        variants = [canonical] + [
            _trainer_variant(name, options, dataset, work, [*extra, *settings], change)
            for name, settings, change in [
                ("ganstudio", (), None),
                ("NCHW (channels_last off)", ("train.channels_last=off",), None),
                ("D weight grads in G update", (), "d weight grads"),
                ("for-loop Adam", (), "for-loop adam"),
                ("real and fake through D apart", (), "two d passes"),
                *([] if threads else [("train.threads=1", ("train.threads=1",), None)]),
            ]]
        for variant in variants:
            torch.set_num_threads(variant.threads)
            for _ in range(2):
                variant.step()
        wall = {v.name: [] for v in variants}
        cpu = {v.name: [] for v in variants}
        for window in range(windows):
            shift = window % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                torch.set_num_threads(variant.threads)
                start, cpu_start = time.perf_counter(), time.process_time()
                for _ in range(steps):
                    variant.step()
                wall[variant.name].append((time.perf_counter() - start) / steps)
                cpu[variant.name].append((time.process_time() - cpu_start) / steps)
        for variant in variants:
            variant.close()
    base_wall = statistics.median(wall["canonical"])
    base_cpu = statistics.median(cpu["canonical"])
    print(f"DCGAN-{SIZE}, batch {BATCH}, width {WIDTH}; threads "
          f"{threads or 'one per core'}; {windows} windows of {steps} steps; load "
          f"{os.getloadavg()[0]:.2f}")
    for variant in variants:
        w, c = statistics.median(wall[variant.name]), statistics.median(cpu[variant.name])
        print(f"{variant.name:30s} wall {w * 1e3:7.1f} ms  x{base_wall / w:5.2f}   "
              f"CPU {c * 1e3:7.1f} ms  x{base_cpu / c:5.2f}   threads {variant.threads}")


def main() -> int:
    parser = argparse.ArgumentParser(description="CPU measurements for docs/performance.md")
    parser.add_argument("mode", choices=("ablation", "plain"))
    parser.add_argument("--threads", type=int, default=0, help="0: one per core")
    parser.add_argument("--steps", type=int, default=1, help="steps per window / plain steps")
    parser.add_argument("--windows", type=int, default=15)
    args = parser.parse_args()
    if args.mode == "plain":
        plain(max(args.steps, 10))
    else:
        ablation(args.threads, args.steps, args.windows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
