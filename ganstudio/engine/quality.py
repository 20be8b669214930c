"""Quality metrics during training, computed on their own thread so training never waits.

Every ``metrics.every`` steps the trainer hands a :class:`QualityEvaluator` a detached copy of
the sampling generator (a :class:`~ganstudio.engine.sampling.GeneratorSource`, EMA when enabled)
and carries on. The evaluator's thread rebuilds the generator (on the CPU, or on the training
GPU with its own CUDA stream), draws ``metrics.samples`` images from fixed latents, extracts
features and compares them with a fixed subset of real data: Fréchet distance, KID and
precision/recall (k = 3) from :mod:`ganstudio.metrics`.

* **Never mixed**: each result names its extractor (``random-conv-v1``, ``inception-v3-fid``,
  or ``points-2d`` for the 2-D toys, whose points are their own features).
* **Never disturbs training**: no global random state is touched (latents and labels come from
  the evaluator's own ``torch.Generator``, KID subsets from its own ``RandomState``), so a run
  with metrics trains exactly as one without, and resumes stay exact.
* **Cheap to repeat**: the real subset's features are computed once per run and kept in
  ``quality/`` in the run folder.
* **Never a queue**: one evaluation runs, at most one waits; a newer request replaces a waiting
  one (logged), so a slow extractor can only make the curve sparser.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from contextlib import nullcontext
from typing import Callable, Iterator

import numpy as np
import torch

from ganstudio.config import MetricsConfig
from ganstudio.data.base import ImageDataset, PointDataset
from ganstudio.engine.events import QualityMetrics
from ganstudio.engine.files import atomic_save
from ganstudio.engine.sampling import GeneratorSource
from ganstudio.errors import ConfigError

log = logging.getLogger(__name__)

POINTS_EXTRACTOR = "points-2d"   # 2-D toy points are compared as they are
PR_NEIGHBOURS = 3                # k of the k-NN manifolds (Kynkäänniemi et al. 2019)
KID_SUBSET_SIZE = 1000           # rows per KID subset (capped to the samples compared)
GENERATE_BATCH = 250
REAL_SEED_OFFSET = 7_000_001     # the real subset and the latents are fixed per run seed...
LATENT_SEED_OFFSET = 2_000_003   # ...and independent of the training's random state
CACHE_FOLDER = "quality"


def kid_subset_size(count: int) -> int:
    """Rows per KID subset: up to 1000 (torch-fidelity's), but at most half the samples, so
    subsets differ and the standard deviation means something."""
    return max(2, min(KID_SUBSET_SIZE, count // 2))


def extractor_name(config: MetricsConfig, data_kind: str) -> str:
    """The extractor whose name every value of this run will carry."""
    return POINTS_EXTRACTOR if data_kind == "points" else config.extractor


def check_metrics_config(config: MetricsConfig, data_kind: str) -> None:
    """Raise a ConfigError naming the field when metrics cannot run as configured."""
    if not config.enabled or data_kind == "points" or config.extractor != "inception-v3-fid":
        return
    from ganstudio.metrics import inception_weights_help

    path = Path(config.inception_weights).expanduser() if config.inception_weights else None
    if path is None or not path.is_file():
        where = f"{path} was not found. " if path is not None else "no file is set. "
        raise ConfigError("metrics.inception_weights", where + inception_weights_help(path))


def quality_latents(count: int, nz: int, seed: int, distribution: str = "normal",
                    num_classes: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The fixed latents (and class labels) every evaluation of a run generates from."""
    g = torch.Generator().manual_seed(seed + LATENT_SEED_OFFSET)
    if distribution == "uniform":
        z = torch.rand((count, nz), generator=g).mul_(2).sub_(1)
    else:
        z = torch.randn((count, nz), generator=g)
    labels = torch.randint(num_classes, (count,), generator=g) if num_classes else None
    return z, labels


def real_subset(dataset: ImageDataset | PointDataset, count: int, seed: int) -> np.ndarray:
    """The fixed real samples of a run: uint8 ``(N, C, H, W)`` images or float ``(N, 2)``."""
    if isinstance(dataset, PointDataset):
        return dataset.sample(count, seed=seed + REAL_SEED_OFFSET).astype(np.float64)
    images = dataset.preview(min(count, len(dataset)), seed=seed + REAL_SEED_OFFSET)
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2))


def generate_batches(generator: torch.nn.Module, z: torch.Tensor, labels: torch.Tensor | None,
                     batch: int = GENERATE_BATCH, should_stop: Callable[[], bool] = lambda: False
                     ) -> Iterator[torch.Tensor]:
    """The generator's raw outputs (tanh-range images or points) for ``z``, batch by batch,
    on the generator's device (so 50k large images never sit in memory at once)."""
    device = next(generator.parameters()).device
    for start in range(0, len(z), batch):
        if should_stop():
            raise _Cancelled()
        zb = z[start:start + batch].to(device)
        lb = None if labels is None else labels[start:start + batch].to(device)
        with torch.inference_mode():
            yield generator(zb, lb).float()


def generate(generator: torch.nn.Module, z: torch.Tensor, labels: torch.Tensor | None,
             batch: int = GENERATE_BATCH) -> torch.Tensor:
    """All of :func:`generate_batches` at once, on the CPU (small counts and 2-D points)."""
    return torch.cat([b.cpu() for b in generate_batches(generator, z, labels, batch)])


def build_generator_quietly(source: GeneratorSource, device: torch.device) -> torch.nn.Module:
    """``source``'s generator in eval mode, built without drawing from the global random
    generator: a module's random initialisation would advance the RNG the training thread is
    drawing from, and runs would no longer be reproducible. The module is made on the meta
    device (shapes only) and then filled with the source's weights."""
    from ganstudio.engine.checkpoint import load_module_state
    from ganstudio.models import build_generator

    with torch.device("meta"):
        generator = build_generator(source.spec)
    generator = generator.to_empty(device=device)
    tensors = {k: torch.from_numpy(np.array(v)) for k, v in source.state.items()}
    load_module_state(generator, tensors, "generator", source.label)
    return generator.eval()


def _lower_thread_priority(niceness: int = 10) -> None:
    """Let training win the CPU: on Linux a thread's niceness is its own, and the worker
    threads its parallel regions start inherit it. Elsewhere this does nothing."""
    if not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except OSError as exc:
        log.debug("could not lower the quality thread's priority: %s", exc)


class _Cancelled(Exception):
    pass


@dataclass
class _RealSet:
    features: np.ndarray
    statistics: tuple[np.ndarray, np.ndarray]


class QualityEvaluator:
    """Owns the metrics thread of one run; :meth:`submit` never blocks."""

    def __init__(self, config: MetricsConfig, dataset: ImageDataset | PointDataset, *,
                 nz: int, num_classes: int, latent_distribution: str, seed: int,
                 device: torch.device, cache_dir: Path | None,
                 on_result: Callable[[QualityMetrics], None]):
        self.config = config
        self.dataset = dataset
        self.points = isinstance(dataset, PointDataset)
        self.extractor_name = POINTS_EXTRACTOR if self.points else config.extractor
        self.count = config.samples if self.points else min(config.samples, len(dataset))
        self.nz, self.num_classes = nz, num_classes
        self.latent_distribution = latent_distribution
        self.seed = seed
        # A GPU run evaluates on its GPU, on a stream of its own; a CPU run on the CPU.
        self.device = device if device.type == "cuda" else torch.device("cpu")
        self.cache_dir = cache_dir
        self.on_result = on_result
        self._cond = threading.Condition()
        self._pending: tuple[int, GeneratorSource] | None = None
        self._busy = False
        self._closing = False
        self._cancel = threading.Event()
        self._failed: str | None = None
        self._extractor = None
        self._real: _RealSet | None = None
        self._cuda_stream = None
        self.evaluations = 0
        self.skipped: list[int] = []
        self._thread = threading.Thread(target=self._run, name="ganstudio-quality", daemon=True)
        self._thread.start()

    # ----- called by the trainer --------------------------------------------------------------
    def submit(self, step: int, source: GeneratorSource) -> None:
        """Evaluate ``source`` (the generator at ``step``) when the thread is free."""
        with self._cond:
            if self._closing or self._failed:
                return
            if self._pending is not None:
                self.skipped.append(self._pending[0])
                log.info("quality metrics for step %d skipped: the evaluation before it was "
                         "still running (raise metrics.every or lower metrics.samples)",
                         self._pending[0])
            self._pending = (step, source)
            self._cond.notify_all()

    def close(self, wait: bool) -> None:
        """End the thread: ``wait`` finishes what was submitted, else it is cancelled."""
        with self._cond:
            self._closing = True
            if not wait:
                self._pending = None
                self._cancel.set()
            self._cond.notify_all()
        self._thread.join(None if wait else 30)

    @property
    def idle(self) -> bool:
        with self._cond:
            return self._pending is None and not self._busy

    # ----- the thread -------------------------------------------------------------------------
    def _run(self) -> None:
        _lower_thread_priority()
        try:
            self._prepare()  # real features right away, so the first evaluation is quick
        except _Cancelled:
            return
        except Exception as exc:
            self._fail(exc)
        while True:
            with self._cond:
                while self._pending is None and not self._closing:
                    self._cond.wait()
                if self._pending is None or self._failed:
                    return
                step, source = self._pending
                self._pending = None
                self._busy = True
            try:
                result = self._evaluate(step, source)
            except _Cancelled:
                return
            except Exception as exc:
                self._fail(exc)
                return
            finally:
                with self._cond:
                    self._busy = False
            if result is not None:
                self.evaluations += 1
                self.on_result(result)

    def _fail(self, exc: Exception) -> None:
        self._failed = f"{type(exc).__name__}: {exc}"
        log.error("quality metrics are off for the rest of this run: %s", exc)
        log.debug("quality metrics failure", exc_info=exc)

    def _check_cancel(self, *_args) -> None:
        if self._cancel.is_set():
            raise _Cancelled()

    def _stream(self):
        """Work on a CUDA stream of its own, so it overlaps training instead of queueing."""
        if self.device.type != "cuda":
            return nullcontext()
        if self._cuda_stream is None:
            self._cuda_stream = torch.cuda.Stream(self.device)
        return torch.cuda.stream(self._cuda_stream)

    def _prepare(self) -> None:
        if self._real is not None:
            return
        with self._stream():
            if not self.points:
                from ganstudio.metrics import get_extractor

                self._extractor = get_extractor(
                    self.extractor_name, inception_weights=self.config.inception_weights or None,
                    device=self.device)
            self._real = self._load_or_compute_real()

    def _features(self, samples: torch.Tensor | np.ndarray | Iterator[torch.Tensor]
                  ) -> np.ndarray:
        if self.points:
            if not isinstance(samples, (torch.Tensor, np.ndarray)):
                samples = torch.cat([b.cpu() for b in samples])
            return np.asarray(samples, dtype=np.float64)
        if isinstance(samples, np.ndarray):
            samples = torch.from_numpy(samples)
        return self._extractor.features(samples, progress=self._check_cancel)

    def _cache_key(self) -> str:
        info = self.dataset.info
        text = (f"{info.name}|{info.kind}|{tuple(info.shape)}|{info.size}|{self.count}|"
                f"{self.seed}|{self.extractor_name}")
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def _load_or_compute_real(self) -> _RealSet:
        from ganstudio.metrics import feature_statistics

        key = self._cache_key()
        path = (self.cache_dir / f"real-{self.extractor_name}-n{self.count}.npz"
                if self.cache_dir is not None else None)
        features = None
        if path is not None and path.is_file():
            try:
                with np.load(path) as data:
                    if str(data["key"]) == key:
                        features = data["features"]
            except (OSError, ValueError, KeyError):
                features = None  # a torn or foreign file: recompute it
        if features is None:
            started = time.perf_counter()
            features = self._features(real_subset(self.dataset, self.count, self.seed))
            log.info("real %s features for quality metrics: %d samples in %.1f s",
                     self.extractor_name, len(features), time.perf_counter() - started)
            if path is not None:
                try:
                    atomic_save(path, lambda handle: np.savez(handle, features=features,
                                                              key=np.array(key)))
                except OSError as exc:
                    log.warning("cannot cache the real features in %s: %s", path, exc)
        return _RealSet(features, feature_statistics(features))

    def _evaluate(self, step: int, source: GeneratorSource) -> QualityMetrics | None:
        from ganstudio.metrics import (
            frechet_distance,
            kernel_inception_distance,
            precision_recall,
        )

        started = time.perf_counter()
        self._prepare()
        real = self._real
        z, labels = quality_latents(self.count, self.nz, self.seed, self.latent_distribution,
                                    self.num_classes)
        with self._stream():
            generator = build_generator_quietly(source, self.device)
            fake = self._features(generate_batches(generator, z, labels,
                                                   should_stop=self._cancel.is_set))
        self._check_cancel()
        if not np.isfinite(fake).all():
            log.warning("no quality metrics for step %d: the generated samples hold NaN/Inf",
                        step)
            return None
        fd = frechet_distance(real.statistics, fake)
        kid = kid_std = precision = recall = None
        if self.config.kid:
            result = kernel_inception_distance(real.features, fake,
                                               subsets=self.config.kid_subsets,
                                               subset_size=kid_subset_size(len(fake)))
            kid, kid_std = result.mean, result.std
        self._check_cancel()
        if self.config.precision_recall:
            pr = precision_recall(real.features, fake, k=PR_NEIGHBOURS)
            precision, recall = pr.precision, pr.recall
        return QualityMetrics(step=step, extractor=self.extractor_name, samples=len(fake),
                              fd=fd, kid=kid, kid_std=kid_std, precision=precision,
                              recall=recall, seconds=time.perf_counter() - started)
