"""Time the metric functions on random features: ``python -m ganstudio.metrics.bench``.

Defaults to the sizes of a standard evaluation (50k × 2048, KID 100 subsets of 1000, k=3).
``--n``/``--dim`` shrink the problem, ``--only`` picks metrics, ``--pr-samples`` times
precision/recall on a random subset, ``--extractor`` also times feature extraction.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable, TypeVar

import numpy as np
import torch

from ganstudio.metrics.distances import (
    feature_statistics,
    frechet_distance,
    kernel_inception_distance,
    precision_recall,
)
from ganstudio.metrics.extractors import get_extractor

T = TypeVar("T")


def _timed(label: str, fn: Callable[[], T]) -> T:
    # CPU seconds (all threads) are printed too: on a shared machine wall time mostly measures
    # the neighbours, while CPU seconds / cores approximates the wall time on an idle machine.
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:<44s} {wall:8.2f} s wall {cpu:8.2f} s CPU  -> {result}", flush=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ganstudio.metrics.bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50_000, help="samples per set (50000)")
    parser.add_argument("--dim", type=int, default=2048, help="feature dimensions (2048)")
    parser.add_argument("--only", default="fd,kid,pr",
                        help="comma-separated subset of fd,kid,pr (all)")
    parser.add_argument("--kid-subsets", type=int, default=100)
    parser.add_argument("--kid-subset-size", type=int, default=1000)
    parser.add_argument("--pr-samples", type=int, default=None,
                        help="precision/recall on this many random samples per set (all)")
    parser.add_argument("--pr-batch", type=int, default=4096, help="distance block size")
    parser.add_argument("--pr-float64", action="store_true", help="PR distances in float64")
    parser.add_argument("--device", default="cpu", help="device for PR and extractors (cpu)")
    parser.add_argument("--extractor", action="append", default=[],
                        help="also time this extractor on 1000 random 64x64 RGB images "
                             "(repeatable)")
    parser.add_argument("--inception-weights", default=None,
                        help="weights file for --extractor inception-v3-fid")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}

    print(f"{args.n} x {args.dim} features per set, {os.cpu_count()} CPUs, torch threads: "
          f"{torch.get_num_threads()}, load average: {os.getloadavg()[0]:.1f}")
    rng = np.random.default_rng(0)
    # Non-negative, correlated, differently distributed sets: closer to pooled CNN activations
    # than plain Gaussians, and the two covariances differ.
    mix = rng.standard_normal((args.dim, args.dim)) / np.sqrt(args.dim)
    real = np.abs(rng.standard_normal((args.n, args.dim)) @ mix)
    fake = np.abs(rng.standard_normal((args.n, args.dim)) @ mix * 1.02 + 0.01)

    if "fd" in only:
        _timed("feature_statistics (one set)", lambda: feature_statistics(real)[1].shape)
        s_real, s_fake = feature_statistics(real), feature_statistics(fake)
        _timed("frechet_distance from (mu, sigma) pairs", lambda: frechet_distance(s_real, s_fake))
        _timed("frechet_distance from two feature arrays", lambda: frechet_distance(real, fake))
    if "kid" in only:
        _timed(f"KID {args.kid_subsets} subsets x {args.kid_subset_size}",
               lambda: tuple(round(v, 8) for v in kernel_inception_distance(
                   fake, real, args.kid_subsets, args.kid_subset_size)))
    if "pr" in only:
        n_pr = min(args.n, args.pr_samples or args.n)
        dtype = torch.float64 if args.pr_float64 else torch.float32
        _timed(f"precision_recall k=3, {n_pr} per set, {str(dtype)[6:]}",
               lambda: tuple(round(v, 4) for v in precision_recall(
                   real, fake, 3, batch_size=args.pr_batch, device=args.device, dtype=dtype,
                   max_samples=args.pr_samples)))
    for name in args.extractor:
        extractor = get_extractor(name, inception_weights=args.inception_weights,
                                  device=args.device)
        images = torch.randint(0, 256, (1000, 3, 64, 64), dtype=torch.uint8,
                               generator=torch.Generator().manual_seed(0))
        extractor.features(images[:extractor.batch_size])   # warm-up (allocations, kernels)
        _timed(f"{name} features, 1000 images 64x64",
               lambda: extractor.features(images).shape)


if __name__ == "__main__":
    main()
