"""bf16 against fp32: does the fast path train to the same quality? (run by gpu-check.sh)

Trains DCGAN on the built-in shapes twice with the same seed and the same CUDA-graph step, once
with ``train.precision=fp32`` and once with ``bf16``, and writes for each its final fixed-noise
sample grid (``quality-fp32.png``, ``quality-bf16.png``) and one JSON summary
(``quality.json``): the last reported losses, D(x) and D(G(z)), images/s, the speed notes, and a
Fréchet distance between 2,048 generated and 2,048 real images in a fixed, cheap feature space
(each image average-pooled to 8×8 pixels: 192 numbers for RGB). Two disjoint sets of real
images give that distance's floor. A bf16 distance near the fp32 one (both far below where
training started) says bf16 autocast does not trade quality for speed.

    python3 packaging/gpu_quality.py --out OUT [--steps 3000] [--image-size 64]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.config import RunConfig
from ganstudio.data import open_dataset
from ganstudio.engine.events import CollectingObserver, StepMetrics, TrainingFinished
from ganstudio.engine.trainer import Trainer
from ganstudio.metrics.distances import frechet_distance

EVAL_COUNT = 2048


def pooled_features(images: torch.Tensor) -> np.ndarray:
    """Images in [-1, 1] (N, C, H, W) -> (N, C*8*8) float64 features."""
    pooled = F.adaptive_avg_pool2d(images.float(), 8)
    return pooled.flatten(1).double().cpu().numpy()


def generated(trainer: Trainer, count: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(count, trainer.config.model.nz, generator=g)
    images = trainer.sample_images(z)  # uint8 (N, H, W, C), EMA/eval generator, inference mode
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def train(precision: str, args: argparse.Namespace, dataset, work: Path) -> dict:
    config = RunConfig()
    for key, value in {
        "data.name": "shapes", "model.architecture": "dcgan",
        "model.image_size": args.image_size, "train.batch_size": args.batch_size,
        "model.g_width": args.width, "model.d_width": args.width,
        "train.steps": args.steps, "train.seed": args.seed, "train.device": args.device,
        "train.precision": precision, "train.log_every": 50, "train.sample_every": args.steps,
        "train.checkpoint_every": args.steps,
    }.items():
        config.set(key, value)
    config.validate()
    observer = CollectingObserver()
    trainer = Trainer(config, run_dir=work / precision, observer=observer, dataset=dataset,
                      threaded_observer=False)
    start = time.perf_counter()
    final = trainer.run()
    seconds = time.perf_counter() - start
    if not isinstance(final, TrainingFinished):
        return {"precision": precision, "failed": final.message, "details": final.details[-2000:]}
    metrics = observer.of_type(StepMetrics)
    last = metrics[-1]
    fake = generated(trainer, EVAL_COUNT, seed=args.seed + 99)
    grid = sorted((work / precision / "samples").glob("step-*.png"))[-1]
    shutil.copy(grid, args.out / f"quality-{precision}.png")
    return {
        "precision": precision,
        "steps": final.step,
        "seconds": round(seconds, 1),
        "images_per_sec_last_report": round(last.images_per_sec, 1),
        "d_loss": last.d_loss, "g_loss": last.g_loss, "d_real": last.d_real,
        "d_fake": last.d_fake,
        "finite_losses": all(np.isfinite([m.d_loss, m.g_loss]).all() for m in metrics),
        "speed_notes": list(trainer.speed_notes),
        "fake_features": pooled_features(fake),
        "fake_mean_std": [float(fake.mean()), float(fake.std())],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for PNGs and JSON")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=64, help="ngf = ndf")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    dataset = open_dataset("shapes", image_size=args.image_size)
    g = torch.Generator().manual_seed(1)
    order = torch.randperm(len(dataset.images), generator=g)
    real = dataset.images[order[:2 * EVAL_COUNT]].float() / 127.5 - 1.0
    real_a, real_b = pooled_features(real[:EVAL_COUNT]), pooled_features(real[EVAL_COUNT:])
    from ganstudio.engine.device import describe_device, resolve_device

    summary: dict = {"torch": torch.__version__,
                     "device": describe_device(resolve_device(args.device)), "steps": args.steps,
                     "batch_size": args.batch_size, "image_size": args.image_size,
                     "feature": "8x8 average-pooled pixels", "eval_count": EVAL_COUNT,
                     "fd_real_vs_real": frechet_distance(real_a, real_b),
                     "real_mean_std": [float(real.mean()), float(real.std())], "runs": {}}
    with tempfile.TemporaryDirectory(prefix="ganstudio-quality-") as tmp:
        for precision in ("fp32", "bf16"):
            result = train(precision, args, dataset, Path(tmp))
            features = result.pop("fake_features", None)
            if features is not None:
                result["fd_vs_real"] = frechet_distance(features, real_a)
                summary.setdefault("_features", {})[precision] = features
            summary["runs"][precision] = result
            print(json.dumps({k: v for k, v in result.items() if k != "details"}), flush=True)
    features = summary.pop("_features", {})
    if len(features) == 2:
        summary["fd_fp32_vs_bf16"] = frechet_distance(features["fp32"], features["bf16"])
    (args.out / "quality.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"FD (8x8 pooled pixels) to real images: fp32 "
          f"{summary['runs']['fp32'].get('fd_vs_real', float('nan')):.4f}, bf16 "
          f"{summary['runs']['bf16'].get('fd_vs_real', float('nan')):.4f}; real vs real "
          f"{summary['fd_real_vs_real']:.4f}; fp32 vs bf16 "
          f"{summary.get('fd_fp32_vs_bf16', float('nan')):.4f}")
    failed = [p for p, r in summary["runs"].items() if "failed" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
