"""The one training loop behind the window, the CLI and (later) ``torchrun`` jobs.

A :class:`Trainer` owns a run: it opens the data, builds G and D for the configured
architecture and objective, and repeats *steps* — ``d_steps`` discriminator updates followed by
``g_steps`` generator updates (the tutorial's "one D update then k G updates"). Between steps it
obeys a :class:`~ganstudio.engine.control.TrainingControl`; every ``log_every`` steps it reports
averaged metrics, every ``sample_every`` steps a grid from a fixed noise batch, and every
``checkpoint_every`` steps it saves a checkpoint. Stop always ends with a checkpoint — unless
the weights or losses have become NaN/Inf: such a state is never written, so the last good
checkpoint survives.

It also watches itself: a :class:`~ganstudio.engine.health.HealthMonitor` checks each report
and sample grid (NaN, exploding gradients, D overpowering G, mode collapse) and can pause
training (``[health]``); every ``metrics.every`` steps a detached copy of G goes to a
:class:`~ganstudio.engine.quality.QualityEvaluator` on its own thread (FD, KID,
precision/recall); every ``train.snapshot_every`` steps a full checkpoint goes into the
``snapshots/`` ring to rewind or fork from. ``Trainer(config, run_dir=NEW, fork_from=PATH)``
starts a fork: the state of a parent's snapshot, continued in a new folder.

Per-step values are accumulated on the device and read back only at report steps, so a GPU
never waits on the host inside a step. On CUDA the whole step is captured as one CUDA graph when
the configuration allows (see :mod:`ganstudio.engine.fastpath`); everywhere the step is the same
computation, so a CPU run in fp32 gives the same update as the plain reference step.

Run directory layout::

    config.toml        the whole config (re-runnable with ganstudio-train config.toml)
    metrics.jsonl      one JSON object per report; quality lines ("kind": "quality") and
                       alarm lines ("kind": "alarm") too (read_metrics keeps only reports)
    samples/           step-000001000.png grids (and .npz point snapshots for 2-D data)
    checkpoints/       step-000001000.pt (the newest few)
    snapshots/         step-000000250.pt, the rewind ring (the newest snapshot_keep)
    quality/           the real subset's features, computed once per run
    status.json        running / completed / stopped / failed, and the step
    lineage.json       for a fork: parent run, fork step, restore point, what changed
    generator.safetensors   generator-only export (EMA weights when enabled)
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import shutil
import threading
import time
import traceback
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from ganstudio.config import RunConfig, resolve_architecture, resolve_d_norm
from ganstudio.data import open_dataset
from ganstudio.data.base import (
    ImageBatchSampler,
    ImageDataset,
    PointDataset,
    normalize_uint8,
    to_uint8_images,
)
from ganstudio.engine import objectives
from ganstudio.engine.augment import diff_augment
from ganstudio.engine.checkpoint import (
    checkpoint_name,
    export_generator,
    latest_checkpoint,
    load_checkpoint,
    load_module_state,
    prune_checkpoints,
    save_checkpoint,
)
from ganstudio.engine.control import LiveSettings, TrainingControl
from ganstudio.engine.device import describe_device, distributed_rank, resolve_device
from ganstudio.engine.fastpath import (
    StepGraph,
    adam_options,
    configure_threads,
    cuda_graph_off_reason,
    describe_failure,
    resolve_channels_last,
)
from ganstudio.engine.events import (
    CheckpointSaved,
    Event,
    GeneratorSnapshot,
    HealthAlarm,
    NullObserver,
    Observer,
    PointsReady,
    QualityMetrics,
    SamplesReady,
    StepMetrics,
    ThreadedObserver,
    TrainingFailed,
    TrainingFinished,
    TrainingPaused,
    TrainingResumed,
    TrainingStarted,
)
from ganstudio.engine.files import atomic_write_text
from ganstudio.engine.health import (
    ALARM_TITLES,
    EXPLODING,
    NAN,
    HealthMonitor,
    sample_diversity,
    thresholds_from_config,
    weights_are_finite,
)
from ganstudio.engine.quality import CACHE_FOLDER, QualityEvaluator, check_metrics_config
from ganstudio.engine.runs import (
    SNAPSHOT_FOLDER,
    Lineage,
    changed_settings,
    check_fork_config,
    fork_header,
    inherit_history,
    write_lineage,
    write_status,
)
from ganstudio.engine.sampling import GeneratorSource
from ganstudio.errors import CheckpointError, ConfigError, GanStudioError
from ganstudio.export.grid import make_grid
from ganstudio.export.png import save_png
from ganstudio.export.points import render_points
from ganstudio.models import GeneratorSpec, build_discriminator, build_generator, check_supported

log = logging.getLogger(__name__)

CONFIG_HEADER = (
    "# GAN Studio run configuration. Re-run it with:\n"
    "#   ganstudio-train config.toml --out NEW_RUN_DIR\n"
    "# (the output folder is not stored, so a re-run never overwrites this run)\n\n"
)
POINT_SAMPLES = 1000      # points drawn per 2-D snapshot
HEATMAP_RESOLUTION = 64   # D is evaluated on this many x this many positions


def default_run_dir(config: RunConfig, base: Path | str = "runs") -> Path:
    """``runs/<dataset>-<model>-<YYYYmmdd-HHMMSS>`` (a folder's name for folder datasets)."""
    name = Path(config.data.name).name or "data"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(base) / f"{name}-{config.model.architecture}-{stamp}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = Path(base) / f"{name}-{config.model.architecture}-{stamp}-{suffix}"
    return folder


class EMA:
    """An exponential moving average copy of G (Karras et al.), used for samples."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0

    def next_weight(self) -> float:
        """Count one update and return its interpolation weight (1 - decay)."""
        self.updates += 1
        # Warm-up: early on, follow G closely instead of averaging in the random init.
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        return 1.0 - decay

    @torch.no_grad()
    def update(self, model: nn.Module, weight: torch.Tensor | None = None) -> None:
        """One EMA step; ``weight`` is a device scalar inside a CUDA graph (counted by the
        caller with :meth:`next_weight`), else the weight is computed here."""
        ema_params = list(self.model.parameters())
        params = [p.detach() for p in model.parameters()]
        if weight is None:
            torch._foreach_lerp_(ema_params, params, self.next_weight())
        else:
            deltas = torch._foreach_sub(params, ema_params)
            torch._foreach_mul_(deltas, weight)
            torch._foreach_add_(ema_params, deltas)
        for ema_buf, buf in zip(self.model.buffers(), model.buffers()):
            ema_buf.copy_(buf)

    def state_dict(self) -> dict[str, Any]:
        return self.model.state_dict()


@dataclass
class _Accumulator:
    """Sums of per-step values kept on the device between reports."""

    sums: torch.Tensor
    count: int = 0

    FIELDS = ("d_loss", "g_loss", "d_real", "d_fake", "penalty")


class Trainer:
    """Trains one run. Construct, then call :meth:`run` (from any thread)."""

    def __init__(self, config: RunConfig, *, run_dir: Path | str | None = None,
                 observer: Observer | None = None, control: TrainingControl | None = None,
                 resume: bool = False, dataset: ImageDataset | PointDataset | None = None,
                 threaded_observer: bool = True, generator_snapshots: bool = False,
                 fork_from: Path | str | None = None):
        """``fork_from``: a snapshot or checkpoint of another run to continue in ``run_dir``
        (a fork; see :mod:`ganstudio.engine.runs`), instead of starting from scratch."""
        config.validate()
        if resume and fork_from is not None:
            raise ValueError("a run is either resumed in its own folder or forked into a new "
                             "one, not both")
        self.config = config
        self.control = control or TrainingControl()
        self.rank, self.world_size = distributed_rank()
        self.is_main = self.rank == 0
        inner = observer if (observer is not None and self.is_main) else NullObserver()
        self._threaded = ThreadedObserver(inner) if threaded_observer else None
        self.observer: Observer = self._threaded or inner
        self.run_dir = Path(run_dir) if run_dir else default_run_dir(config)
        self.resume = resume
        self.fork_from = Path(fork_from) if fork_from is not None else None
        self.lineage: Lineage | None = None
        self.dataset = dataset
        self.generator_snapshots = generator_snapshots
        self.step = 0
        self.elapsed = 0.0
        self._last_checkpoint: Path | None = None
        self._metrics_file = None
        self._metrics_lock = threading.Lock()  # the quality thread writes lines too
        self._set_up = False
        self.health: HealthMonitor | None = None
        self.quality: QualityEvaluator | None = None
        self.alarms: list[HealthAlarm] = []
        self._looping = False
        self._losses_finite = True   # at the last report: NaN/Inf losses block checkpoints
        # The real subset and latents of quality metrics: chosen by the run's first seed and
        # kept through resumes and forks, so a fork with a new seed stays comparable.
        self.quality_seed = config.train.seed
        # Fast-path decisions in words (TrainingStarted.speed_notes); a CUDA graph that falls
        # back to eager steps later adds its reason here.
        self.speed_notes: list[str] = []
        self.channels_last = False
        self.pair_discriminator = False
        self._step_graph: StepGraph | None = None
        # Static inputs of the captured step, keyed by (d_steps, g_steps).
        self._static_key: tuple[int, int] | None = None
        self._static_indices: torch.Tensor | None = None   # resident images: batch indices
        self._static_images: torch.Tensor | None = None    # images in host memory: uint8 batches
        self._static_labels: torch.Tensor | None = None
        self._static_real: torch.Tensor | None = None      # 2-D points
        self._static_ema: torch.Tensor | None = None

    # ----- public API ---------------------------------------------------------------------------
    def run(self) -> TrainingFinished | TrainingFailed:
        """Train until ``train.steps`` or a stop; never raises for training errors.

        The final event is returned and also sent to the observer.
        """
        final: TrainingFinished | TrainingFailed | None = None
        try:
            self._setup()
            final = self._loop()
        except Exception as exc:  # everything reaches the user as one clear event
            final = self._failure(exc)
        finally:
            if self.quality is not None:
                # A completed run waits for its last evaluation; a stopped or failed one
                # cancels it (closing the window must take seconds, not minutes).
                completed = isinstance(final, TrainingFinished) and final.reason == "completed"
                self.quality.close(wait=completed)
            with self._metrics_lock:
                if self._metrics_file is not None:
                    self._metrics_file.close()
                    self._metrics_file = None
        if self.is_main and self._set_up:
            if isinstance(final, TrainingFinished):
                write_status(self.run_dir, final.reason, final.step, final.note, final.checkpoint)
            else:
                write_status(self.run_dir, "failed", final.step, final.message, final.checkpoint)
        self._emit(final)
        if self._threaded is not None:
            self._threaded.close()
        return final

    def sample_images(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> np.ndarray:
        """Generate uint8 images (N, H, W, C) with the sampling generator (EMA when enabled)."""
        g = self.sampling_generator
        with torch.inference_mode(), self._autocast(), eval_mode(g):
            out = g(z.to(self.device), None if labels is None else labels.to(self.device))
        return to_uint8_images(out.float())

    @property
    def sampling_generator(self) -> nn.Module:
        return self.ema.model if self.ema is not None else self.G

    # ----- setup --------------------------------------------------------------------------------
    def _setup(self) -> None:
        cfg = self.config
        threads_note = configure_threads(cfg.train.threads)
        self.device = resolve_device(cfg.train.device)
        torch.manual_seed(cfg.train.seed + self.rank)
        if self.dataset is None:
            self.dataset = open_dataset(
                cfg.data.name, image_size=cfg.model.image_size, channels=cfg.data.channels,
                root=cfg.data.root, split=cfg.data.split, download=cfg.data.download,
                class_labels=cfg.data.class_labels, cache=cfg.data.cache)
        info = self.dataset.info
        self.data_kind = info.kind
        self.architecture = resolve_architecture(cfg, info.kind)
        reason = check_supported(self.architecture, info.shape)
        if reason:
            raise ConfigError("model.architecture", f"{reason} (dataset {info.name!r} has "
                              f"shape {'x'.join(map(str, info.shape))})")
        if info.kind == "points" and cfg.objective.diffaugment:
            raise ConfigError("objective.diffaugment", "DiffAugment works on images; turn it "
                              "off for 2-D point datasets")
        self.num_classes = info.num_classes if cfg.model.conditional else 0
        if cfg.model.conditional and self.num_classes < 2:
            raise ConfigError("model.conditional", f"dataset {info.name!r} has no class labels "
                              "(for image folders, set data.class_labels to use sub-folders)")
        self.loss = cfg.objective.loss
        self.output_kind = objectives.OUTPUT_KIND[self.loss]
        self.spec = GeneratorSpec(self.architecture, cfg.model.nz, tuple(info.shape),
                                  cfg.model.g_width, self.num_classes)
        self.G = build_generator(self.spec).to(self.device)
        self.D = build_discriminator(self.architecture, tuple(info.shape),
                                     width=cfg.model.d_width, num_classes=self.num_classes,
                                     norm=resolve_d_norm(cfg),
                                     spectral_norm=cfg.model.spectral_norm).to(self.device)
        self.use_bf16 = self._resolve_precision()
        self.channels_last, layout_note = resolve_channels_last(
            cfg.train.channels_last, self.device, self.architecture, self.use_bf16)
        if self.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        # D sees the real and the fake batch in one pass (half as many kernels, twice as
        # large) where that computes what two calls compute: DCGAN, whose norms run per batch,
        # without spectral norm (one power iteration per call). On a quiet 2-core CPU it gave
        # 2-5 % per step (docs/performance.md); on CUDA it halves the launches.
        self.pair_discriminator = (self.architecture == "dcgan"
                                   and not cfg.model.spectral_norm
                                   and hasattr(self.D, "forward_pair"))
        graph_off = cuda_graph_off_reason(cfg, self.device)
        if graph_off is None:
            self._step_graph = StepGraph(self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.optim.lr_g,
                                      betas=(cfg.optim.beta1_g, cfg.optim.beta2_g),
                                      **self._adam_options())
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.optim.lr_d,
                                      betas=(cfg.optim.beta1_d, cfg.optim.beta2_d),
                                      **self._adam_options())
        self._configure_optimizers()
        self.ema = EMA(self.G, cfg.optim.ema_decay) if cfg.optim.ema else None
        self.d_steps, self.g_steps = cfg.objective.d_steps, cfg.objective.g_steps
        self.sampler = self.dataset.sampler(cfg.train.batch_size, seed=cfg.train.seed + self.rank,
                                            device=self.device)
        self._make_fixed_inputs()
        # Tensors a captured step writes into: updated in place only, never reassigned.
        self.acc = _Accumulator(torch.zeros(len(_Accumulator.FIELDS), device=self.device))
        self._grad_norms = torch.zeros(2, device=self.device)
        if self.resume:
            self._restore()
        elif self.fork_from is not None:
            self._restore(self.fork_from, fork=True)
        if cfg.health.enabled:
            # Real data's diversity, once: mode collapse is judged relative to it.
            real = self.dataset.preview(64, seed=cfg.train.seed)
            self.health = HealthMonitor(thresholds_from_config(cfg.health),
                                        output_kind=self.output_kind,
                                        real_diversity=sample_diversity(real))
        if cfg.metrics.enabled:
            check_metrics_config(cfg.metrics, info.kind)
        self.speed_notes = self._describe_fast_path(threads_note, layout_note, graph_off)
        if self.is_main:
            self._prepare_run_dir()
            if cfg.metrics.enabled:
                self.quality = QualityEvaluator(
                    cfg.metrics, self.dataset, nz=cfg.model.nz, num_classes=self.num_classes,
                    latent_distribution=cfg.model.latent_distribution, seed=self.quality_seed,
                    device=self.device, cache_dir=self.run_dir / CACHE_FOLDER,
                    on_result=self._on_quality)
        self._set_up = True

    def _adam_options(self) -> dict[str, Any]:
        return adam_options(self.device)

    def _configure_optimizers(self) -> None:
        """Implementation flags and learning rates as this run needs them (also after loading
        an optimiser state saved by a run on another device)."""
        options = self._adam_options()
        optim = self.config.optim
        for opt, lr, betas in ((self.opt_G, optim.lr_g, (optim.beta1_g, optim.beta2_g)),
                               (self.opt_D, optim.lr_d, (optim.beta1_d, optim.beta2_d))):
            for group in opt.param_groups:
                group.update(options)
                group["betas"] = betas  # a fork may change them; a loaded state holds the old
                group["capturable"] = False  # set only while a CUDA graph is captured
                if self._step_graph is not None:
                    # A device tensor, so a captured step reads live learning-rate changes.
                    group["lr"] = torch.tensor(float(lr), dtype=torch.float32,
                                               device=self.device)
                else:
                    group["lr"] = float(lr)

    @staticmethod
    def _set_lr(opt: torch.optim.Optimizer, value: float) -> None:
        for group in opt.param_groups:
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(value)  # in place: a captured step holds this tensor
            else:
                group["lr"] = value

    @staticmethod
    def _lr(opt: torch.optim.Optimizer) -> float:
        return float(opt.param_groups[0]["lr"])

    def _describe_fast_path(self, threads_note: str, layout_note: str | None,
                            graph_off: str | None) -> list[str]:
        notes = [f"precision: {'bf16 autocast' if self.use_bf16 else 'fp32'}"]
        fused = bool(self.opt_G.param_groups[0].get("fused"))
        notes.append(f"optimiser: {'fused' if fused else 'for-each'} Adam")
        if layout_note:
            notes.append(layout_note)
        if self.pair_discriminator:
            notes.append("discriminator: real and fake batches in one pass (norms per batch)")
        if self.device.type == "cpu":
            notes.append(threads_note)
        if isinstance(self.sampler, ImageBatchSampler) and self.device.type != "cpu":
            size = self.sampler.images.numel() / 2**20
            if self.sampler.resident:
                notes.append(f"data: resident on {self.device} as uint8 ({size:,.1f} MiB)")
            else:
                notes.append(f"data: in host memory ({size:,.1f} MiB is more than half the "
                             f"free GPU memory); uint8 batches copied each step")
        if self.device.type == "cuda":
            notes.append("cuDNN autotuner: on")
        if graph_off is None:
            notes.append(f"CUDA graph: whole D+G step, captured after "
                         f"{self._step_graph.warmup_steps} eager steps")
        else:
            notes.append(f"CUDA graph: off ({graph_off})")
        return notes

    def _resolve_precision(self) -> bool:
        precision = self.config.train.precision
        if precision == "fp32":
            return False
        if precision == "bf16":
            return True
        return self.device.type == "cuda" and torch.cuda.is_bf16_supported()

    def _autocast(self):
        if not self.use_bf16:
            return nullcontext()
        # A captured graph must recompute the bf16 weight copies each replay, not reuse a cache.
        return torch.autocast(self.device.type, dtype=torch.bfloat16,
                              cache_enabled=self._step_graph is None)

    def _to_layout(self, images: torch.Tensor) -> torch.Tensor:
        if self.channels_last and images.dim() == 4:
            return images.contiguous(memory_format=torch.channels_last)
        return images

    def _make_fixed_inputs(self) -> None:
        """The fixed noise batch every sample grid is drawn from (same seed, same grid)."""
        cfg = self.config
        g = torch.Generator().manual_seed(cfg.train.seed + 1_000_003)
        count = POINT_SAMPLES if self.data_kind == "points" else cfg.train.sample_grid ** 2
        self.fixed_noise = self._latent(count, generator=g).to(self.device)
        if self.num_classes:
            # One class per grid row, so a conditional model's grid reads row by row.
            rows = torch.arange(count) // max(1, cfg.train.sample_grid)
            self.fixed_labels = (rows % self.num_classes).to(self.device)
        else:
            self.fixed_labels = None

    def _latent(self, count: int, generator: torch.Generator | None = None,
                device: torch.device | None = None) -> torch.Tensor:
        shape = (count, self.config.model.nz)
        device = device or torch.device("cpu")
        if self.config.model.latent_distribution == "uniform":
            return torch.rand(shape, generator=generator, device=device).mul_(2).sub_(1)
        return torch.randn(shape, generator=generator, device=device)

    def _prepare_run_dir(self) -> None:
        run = self.run_dir
        (run / "samples").mkdir(parents=True, exist_ok=True)
        (run / "checkpoints").mkdir(parents=True, exist_ok=True)
        header = CONFIG_HEADER
        if self.lineage is None and self.resume:
            from ganstudio.engine.runs import read_lineage

            self.lineage = read_lineage(run)  # a resumed fork keeps its note
        if self.lineage is not None:
            header += fork_header(self.lineage) + "\n"
        self.config.save(run / "config.toml", header=header)
        metrics = run / "metrics.jsonl"
        if self.resume and metrics.exists():
            _truncate_metrics(metrics, self.step)
        elif self.fork_from is not None:
            write_lineage(run, self.lineage)
            # The parent's history up to the fork step, so the fork's curves and gallery are
            # continuous on their own (lines marked "inherited").
            inherit_history(self.lineage.parent, run, self.step)
        elif metrics.exists():
            metrics.unlink()
        self._metrics_file = open(metrics, "a", encoding="utf-8")
        write_status(run, "running", self.step)

    def _write_metrics_line(self, values: dict[str, Any]) -> None:
        with self._metrics_lock:
            if self._metrics_file is not None:
                self._metrics_file.write(json.dumps(_finite(values)) + "\n")
                self._metrics_file.flush()

    # ----- checkpoints --------------------------------------------------------------------------
    def _restore(self, path: Path | None = None, fork: bool = False) -> None:
        """Load a checkpoint's whole state: this run's newest (resume) or ``path`` (a fork)."""
        if path is None:
            path = latest_checkpoint(self.run_dir / "checkpoints")
        if path is None:
            raise CheckpointError(f"{self.run_dir}: nothing to resume, no readable checkpoint "
                                  "in its checkpoints/ folder")
        state = load_checkpoint(path, map_location=self.device)
        if fork:
            parent_config = RunConfig.from_dict(state["config"], source=str(path))
            check_fork_config(parent_config, self.config, int(state["step"]))
            parent_dir = path.parent.parent
            self.lineage = Lineage(parent_dir, int(state["step"]), path,
                                   changed_settings(parent_config, self.config),
                                   datetime.now().isoformat(timespec="seconds"))
        if GeneratorSpec.from_dict(state["generator_spec"]) != self.spec:
            raise CheckpointError(f"{path}: the checkpoint's generator "
                                  f"({state['generator_spec']}) does not match this config "
                                  f"({self.spec.to_dict()})")
        load_module_state(self.G, state["G"], "generator", path)
        load_module_state(self.D, state["D"], "discriminator", path)
        if self.ema is not None:
            if state.get("G_ema") is None:
                self.ema = EMA(self.G, self.config.optim.ema_decay)  # EMA turned on at resume
            else:
                load_module_state(self.ema.model, state["G_ema"], "EMA generator", path)
                self.ema.updates = int(state.get("ema_updates", 0))
        try:
            self.opt_G.load_state_dict(state["opt_G"])
            self.opt_D.load_state_dict(state["opt_D"])
        except (ValueError, KeyError) as exc:
            raise CheckpointError(f"{path}: optimiser state does not match the model ({exc})"
                                  ) from None
        # Learning rates come from this config, so a resume can change them (like live edits);
        # implementation flags come from this device, whatever device saved the state.
        self._configure_optimizers()
        rng = state["rng"]
        torch.set_rng_state(rng["torch"].cpu())
        if self.device.type == "cuda" and rng.get("cuda") is not None:
            torch.cuda.set_rng_state(rng["cuda"].cpu(), self.device)
        try:
            self.sampler.load_state_dict(rng["sampler"])
        except (ValueError, KeyError) as exc:
            raise CheckpointError(f"{path}: the dataset differs from the one this run was "
                                  f"trained on ({exc})") from None
        self.fixed_noise = state["fixed_noise"].to(self.device)
        labels = state.get("fixed_labels")
        self.fixed_labels = None if labels is None else labels.to(self.device)
        self.acc.sums = state["accumulator"]["sums"].to(self.device)
        self.acc.count = int(state["accumulator"]["count"])
        self.step = int(state["step"])
        self.elapsed = float(state.get("elapsed", 0.0))
        self.quality_seed = int(state.get("quality_seed", state["config"]["train"]["seed"]))
        if fork:
            if self.lineage.changes.get("train.seed"):
                # A new seed: new noise and batches from here on (the same seed continues
                # exactly as the parent did). The fixed sample noise stays, for comparison.
                torch.manual_seed(self.config.train.seed + self.rank)
                self.sampler.generator.manual_seed(self.config.train.seed + self.rank)
            log.info("forked %s at step %d into %s", path, self.step, self.run_dir)
            return
        self._last_checkpoint = path
        log.info("resumed %s at step %d", self.run_dir, self.step)

    def _checkpoint_state(self) -> dict[str, Any]:
        info = self.dataset.info
        return {
            "step": self.step,
            "elapsed": self.elapsed,
            "config": self.config.to_dict(),
            "generator_spec": self.spec.to_dict(),
            "data": {"name": info.name, "kind": info.kind, "shape": list(info.shape),
                     "size": info.size if info.size is not None else -1,
                     "class_names": list(info.class_names)},
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.ema.state_dict() if self.ema is not None else None,
            "ema_updates": self.ema.updates if self.ema is not None else 0,
            "opt_G": self.opt_G.state_dict(),
            "opt_D": self.opt_D.state_dict(),
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": (torch.cuda.get_rng_state(self.device)
                             if self.device.type == "cuda" else None),
                    "sampler": self.sampler.state_dict()},
            "fixed_noise": self.fixed_noise,
            "fixed_labels": self.fixed_labels,
            "accumulator": {"sums": self.acc.sums, "count": self.acc.count},
            "quality_seed": self.quality_seed,
            "export_metadata": self._export_metadata(),
        }

    def state_is_finite(self) -> bool:
        """Whether weights, optimiser state and the last reported losses are all finite.

        A state that is not is never written: it cannot train on, and writing it would push
        the last good checkpoint out of the ring.
        """
        if not self._losses_finite or not bool(torch.isfinite(self.acc.sums).all()):
            return False
        modules = [self.G, self.D] + ([self.ema.model] if self.ema is not None else [])
        if not weights_are_finite(*modules):
            return False
        flags = [torch.isfinite(t).all() for opt in (self.opt_G, self.opt_D)
                 for group in opt.state.values() for t in group.values()
                 if isinstance(t, torch.Tensor) and t.is_floating_point()]
        return bool(torch.stack(flags).all()) if flags else True

    def save_checkpoint(self) -> Path | None:
        """Write ``checkpoints/step-N.pt`` (None when refused: NaN/Inf, or not rank 0)."""
        if not self.is_main or not self._finite_or_refuse("checkpoint"):
            return None
        folder = self.run_dir / "checkpoints"
        path = save_checkpoint(folder / checkpoint_name(self.step), self._checkpoint_state())
        prune_checkpoints(folder, self.config.train.keep_checkpoints)
        self._last_checkpoint = path
        self._emit(CheckpointSaved(self.step, path))
        return path

    def save_snapshot(self) -> Path | None:
        """Put the current state into the ``snapshots/`` ring (the same format as a
        checkpoint, so any snapshot can be resumed or forked from)."""
        if not self.is_main:
            return None
        folder = self.run_dir / SNAPSHOT_FOLDER
        target = folder / checkpoint_name(self.step)
        same = self._last_checkpoint
        if same is not None and same.name == target.name and same.is_file():
            _link_atomically(same, target)  # this step's checkpoint is this snapshot
        elif self._finite_or_refuse("snapshot"):
            save_checkpoint(target, self._checkpoint_state())
        else:
            return None
        prune_checkpoints(folder, self.config.train.snapshot_keep)
        self._emit(CheckpointSaved(self.step, target, "snapshot"))
        return target

    def _finite_or_refuse(self, what: str) -> bool:
        if self.state_is_finite():
            return True
        kept = (f"the last good checkpoint {self._last_checkpoint} is kept"
                if self._last_checkpoint else "no earlier checkpoint exists")
        log.warning("not writing the %s at step %d: the weights or losses are NaN/Inf (%s)",
                    what, self.step, kept)
        return False

    def _export_metadata(self) -> dict[str, Any]:
        info = self.dataset.info
        return {"step": self.step, "run": str(self.run_dir), "dataset": info.name,
                "class_names": list(info.class_names), "ema": self.ema is not None,
                "latent_distribution": self.config.model.latent_distribution,
                "loss": self.loss}

    def export_generator(self, path: Path | None = None) -> Path | None:
        if not self.is_main:
            return None
        if not weights_are_finite(self.sampling_generator):
            log.warning("not exporting the generator at step %d: its weights are NaN/Inf",
                        self.step)
            return None
        return export_generator(path or self.run_dir / "generator.safetensors",
                                self.sampling_generator, self.spec, self._export_metadata())

    # ----- the loop -----------------------------------------------------------------------------
    def _loop(self) -> TrainingFinished:
        cfg = self.config
        total = cfg.train.steps
        info = self.dataset.info
        self._emit(TrainingStarted(
            run_dir=self.run_dir, device=str(self.device), device_name=describe_device(self.device),
            start_step=self.step, total_steps=total, dataset=info.name, dataset_size=info.size,
            data_kind=info.kind, architecture=self.architecture, output_kind=self.output_kind,
            speed_notes=tuple(self._speed_notes()), dataset_message=info.skipped_message,
            parent=self.lineage.parent if self.lineage is not None else None,
            fork_step=self.lineage.fork_step if self.lineage is not None else None))
        if self.step == 0:
            self._report_samples()
        window_start, window_steps = time.perf_counter(), 0
        reason = "completed"
        snapshot_every = cfg.train.snapshot_every
        self._looping = True
        while self.step < total:
            was_paused_at = time.perf_counter()
            if not self.control.wait_until_runnable(
                    on_pause=lambda: self._emit(TrainingPaused(self.step)),
                    on_resume=lambda: self._emit(TrainingResumed(self.step))):
                reason = "stopped"
                break
            if time.perf_counter() - was_paused_at > 0.05:  # a pause: don't count it as training
                window_start, window_steps = time.perf_counter(), 0
            self._apply_live_settings()
            step_start = time.perf_counter()
            report = (self.step + 1) % cfg.train.log_every == 0
            self.train_step(measure_grad_norms=report)
            self.step += 1
            window_steps += 1
            if report or self.control.paused:
                self._sync()
            now = time.perf_counter()
            if report:
                rate = window_steps * cfg.train.batch_size / max(now - window_start, 1e-9)
                self._report_metrics(rate)
                window_start, window_steps = time.perf_counter(), 0
            if self.step % cfg.train.sample_every == 0:
                self._report_samples()
            if self.step % cfg.train.checkpoint_every == 0:
                self.save_checkpoint()
            if snapshot_every and self.step % snapshot_every == 0:
                self.save_snapshot()
            if self.quality is not None and self.step % cfg.metrics.every == 0:
                self._submit_quality()
            self.elapsed += time.perf_counter() - step_start
        self._looping = False
        if self.acc.count:
            # The run ends between reports: report the partial window, but keep its sums so a
            # resumed run's next report covers the same steps as an uninterrupted run's.
            rate = window_steps * cfg.train.batch_size / max(time.perf_counter() - window_start,
                                                             1e-9)
            self._report_metrics(rate, keep_window=True)
        if self.step % cfg.train.sample_every != 0:
            self._report_samples()
        checkpoint, note = self._last_checkpoint, ""
        if checkpoint is None or not checkpoint.name.endswith(checkpoint_name(self.step)):
            checkpoint = self.save_checkpoint()
            if checkpoint is None:
                checkpoint = self._last_checkpoint
                note = (f"The weights or losses are NaN/Inf at step {self.step:,}, so no "
                        "checkpoint was written there; "
                        + (f"the last good checkpoint is {checkpoint}." if checkpoint else
                           "there is no earlier checkpoint."))
        self.export_generator()
        return TrainingFinished(self.step, reason, checkpoint, self.elapsed, note)

    def _speed_notes(self) -> list[str]:
        return list(self.speed_notes)

    def _apply_live_settings(self) -> None:
        for change in self.control.take_updates():
            self._apply(change)

    def _apply(self, change: LiveSettings) -> None:
        if change.lr_g is not None:
            self.config.optim.lr_g = change.lr_g
            self._set_lr(self.opt_G, change.lr_g)
        if change.lr_d is not None:
            self.config.optim.lr_d = change.lr_d
            self._set_lr(self.opt_D, change.lr_d)
        if change.d_steps is not None:
            self.d_steps = self.config.objective.d_steps = change.d_steps
        if change.g_steps is not None:
            self.g_steps = self.config.objective.g_steps = change.g_steps
        log.info("live settings changed at step %d: %s", self.step, change)

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    # ----- one training step --------------------------------------------------------------------
    def _fake_labels(self, count: int) -> torch.Tensor | None:
        if not self.num_classes:
            return None
        return torch.randint(self.num_classes, (count,), device=self.device)

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        policy = self.config.objective.diffaugment
        return diff_augment(x, policy) if policy else x

    def train_step(self, measure_grad_norms: bool = False) -> None:
        """``d_steps`` D updates, then ``g_steps`` G updates; values accumulate on the device."""
        if self._step_graph is not None:
            self._graph_step()
        else:
            self._step(self._draw, measure_grad_norms)
        self.acc.count += 1

    def _draw(self, index: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.sampler.next()

    def _step(self, draw, measure_grad_norms: bool,
              ema_weights: torch.Tensor | None = None) -> None:
        """The step itself, eager or under CUDA graph capture: no host synchronisation and no
        host-side state changes in here (the caller counts)."""
        batch = self.config.train.batch_size
        G, D = self.G, self.D
        G.train()
        D.train()
        fake = fake_labels = None
        for k in range(self.d_steps):
            real, real_labels = draw(k)
            z = self._latent(batch, device=self.device)
            fake_labels = self._fake_labels(batch)
            with self._autocast():
                # G runs with autograd on so the first G update below can reuse this batch,
                # as the reference DCGAN step does (one G forward per step, not two).
                fake = G(z, fake_labels)
            d_loss, d_real, d_fake, penalty = self._discriminator_update(
                self._to_layout(real), real_labels, fake.detach(), fake_labels)
        grad_norm_d = self._grad_norm(D) if measure_grad_norms else None
        D.requires_grad_(False)  # G's update needs gradients through D, not for D's weights
        try:
            for i in range(self.g_steps):
                if i > 0:
                    z = self._latent(batch, device=self.device)
                    fake_labels = self._fake_labels(batch)
                    with self._autocast():
                        fake = G(z, fake_labels)
                with self._autocast():
                    g_loss = objectives.generator_loss(
                        self.loss, D(self._augment(fake), fake_labels).float())
                self.opt_G.zero_grad(set_to_none=True)
                g_loss.backward()
                if measure_grad_norms and i == self.g_steps - 1:
                    self._grad_norms.copy_(torch.stack([grad_norm_d, self._grad_norm(G)]))
                self.opt_G.step()
                if self.ema is not None:
                    self.ema.update(G, None if ema_weights is None else ema_weights[i])
        finally:
            D.requires_grad_(True)
        values = torch.stack([d_loss.detach(), g_loss.detach(), d_real, d_fake, penalty.detach()])
        self.acc.sums += values.float()

    # ----- the CUDA graph -----------------------------------------------------------------------
    def _graph_step(self) -> None:
        """Warm up eagerly, capture the whole step once, then replay it (eager on failure)."""
        graph = self._step_graph
        if graph.prepare((self.d_steps, self.g_steps)):
            with graph.side_stream():
                self._step(self._draw, True)
            return
        self._feed_graph()
        if not graph.captured:
            for opt in (self.opt_G, self.opt_D):
                opt.zero_grad(set_to_none=True)  # backward allocates grads from the graph pool
                for group in opt.param_groups:
                    group["capturable"] = True
            try:
                graph.capture(lambda: self._step(self._draw_static, True, self._static_ema))
            except Exception as exc:  # run on without the graph, and say why
                self._graph_fallback(f"capture failed: {describe_failure(exc)}")
                self._step(self._draw_static, True, self._static_ema)
                return
        graph.replay()

    def _feed_graph(self) -> None:
        """Copy what this step needs from the host into the graph's static buffers."""
        sampler, batch, device = self.sampler, self.config.train.batch_size, self.device
        images = isinstance(sampler, ImageBatchSampler)
        if self._static_key != (self.d_steps, self.g_steps):
            self._static_key = (self.d_steps, self.g_steps)
            shape = (self.d_steps, batch)
            if images and sampler.resident:
                self._static_indices = torch.zeros(shape, dtype=torch.int64, device=device)
            elif images:
                self._static_images = torch.zeros(*shape, *self.dataset.info.shape,
                                                  dtype=torch.uint8, device=device)
                self._static_labels = (None if sampler.labels is None else
                                       torch.zeros(shape, dtype=torch.int64, device=device))
            else:
                self._static_real = torch.zeros(*shape, *self.dataset.info.shape, device=device)
            self._static_ema = (torch.zeros(self.g_steps, device=device)
                                if self.ema is not None else None)
        for k in range(self.d_steps):
            # Indices come from the sampler's CPU generator, exactly as in eager steps.
            if images and sampler.resident:
                self._static_indices[k].copy_(sampler.next_indices(), non_blocking=True)
            elif images:
                pixels, labels = sampler.host_batch(sampler.next_indices())
                self._static_images[k].copy_(pixels, non_blocking=True)
                if labels is not None:
                    self._static_labels[k].copy_(labels, non_blocking=True)
            else:
                self._static_real[k].copy_(sampler.next()[0], non_blocking=True)
        if self._static_ema is not None:
            weights = [self.ema.next_weight() for _ in range(self.g_steps)]
            self._static_ema.copy_(torch.tensor(weights), non_blocking=True)

    def _draw_static(self, index: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not isinstance(self.sampler, ImageBatchSampler):
            return self._static_real[index], None
        if self.sampler.resident:
            return self.sampler.gather(self._static_indices[index])
        labels = None if self._static_labels is None else self._static_labels[index]
        return normalize_uint8(self._static_images[index]), labels

    def _graph_fallback(self, reason: str) -> None:
        self._step_graph = None
        for opt in (self.opt_G, self.opt_D):
            for group in opt.param_groups:
                group["capturable"] = False
        note = f"CUDA graph: off ({reason}); eager steps from step {self.step + 1}"
        self.speed_notes = [n for n in self.speed_notes if not n.startswith("CUDA graph:")]
        self.speed_notes.append(note)
        log.warning("%s", note)

    def _discriminator_update(self, real, real_labels, fake, fake_labels):
        cfg = self.config.objective
        use_r1 = cfg.r1_gamma > 0
        if use_r1:
            real = real.detach().requires_grad_(True)
        with self._autocast():
            real_in, fake_in = self._augment(real), self._augment(fake)
            if self.pair_discriminator:
                real_logits, fake_logits = self.D.forward_pair(real_in, fake_in, real_labels,
                                                               fake_labels)
            else:
                real_logits = self.D(real_in, real_labels)
                fake_logits = self.D(fake_in, fake_labels)
            real_logits, fake_logits = real_logits.float(), fake_logits.float()
            loss = objectives.discriminator_loss(self.loss, real_logits, fake_logits)
        penalty = torch.zeros((), device=self.device)
        if self.loss == "wgan-gp" and cfg.gp_weight > 0:
            # The penalty's double backward is kept in fp32: bf16 gradients of gradients are
            # too coarse for a unit-norm target.
            penalty = objectives.gradient_penalty(self.D, real, fake, real_labels) * cfg.gp_weight
        if use_r1:
            penalty = penalty + objectives.r1_penalty(real_logits, real) * (cfg.r1_gamma / 2)
        self.opt_D.zero_grad(set_to_none=True)
        (loss + penalty).backward()
        self.opt_D.step()
        return (loss + penalty, objectives.readout(self.loss, real_logits),
                objectives.readout(self.loss, fake_logits), penalty)

    @staticmethod
    def _grad_norm(module: nn.Module) -> torch.Tensor:
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            return torch.zeros((), device=next(module.parameters()).device)
        return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))

    # ----- reports ------------------------------------------------------------------------------
    def _report_metrics(self, images_per_sec: float, keep_window: bool = False) -> None:
        count = max(1, self.acc.count)
        d_loss, g_loss, d_real, d_fake, penalty = (self.acc.sums / count).tolist()
        grad_d, grad_g = self._grad_norms.tolist()
        if not keep_window:
            self.acc.sums.zero_()
            self.acc.count = 0
        event = StepMetrics(
            step=self.step, d_loss=d_loss, g_loss=g_loss, d_real=d_real, d_fake=d_fake,
            grad_norm_d=grad_d, grad_norm_g=grad_g, penalty=penalty,
            images_per_sec=images_per_sec, elapsed=self.elapsed,
            lr_g=self._lr(self.opt_G), lr_d=self._lr(self.opt_D),
            d_steps=self.d_steps, g_steps=self.g_steps)
        self._write_metrics_line(event.to_dict())
        self._emit(event)
        self._losses_finite = math.isfinite(d_loss) and math.isfinite(g_loss)
        if self.health is not None:
            found = self.health.check_report(
                self.step, d_loss=d_loss, g_loss=g_loss, d_real=d_real, d_fake=d_fake,
                grad_norm_d=grad_d, grad_norm_g=grad_g,
                weights_finite=weights_are_finite(self.G, self.D))
            if any(kind == NAN for kind, *_ in found):
                # NaN gradients are the NaN, not a second "explosion" alarm.
                found = [f for f in found if not (f[0] == EXPLODING and not math.isfinite(f[2]))]
            for kind, message, value, threshold in found:
                self._raise_alarm(kind, message, value, threshold)

    def _raise_alarm(self, kind: str, message: str, value: float, threshold: float) -> None:
        """Tell everyone (event, metrics.jsonl, log) and pause when the config says so."""
        pause = self.config.health.auto_pause and self._looping
        alarm = HealthAlarm(self.step, kind, ALARM_TITLES[kind], message[:1].upper()
                            + message[1:], value, threshold, pause)
        self.alarms.append(alarm)
        self._write_metrics_line(alarm.to_dict())
        log.warning("%s at step %d: %s%s", alarm.title, alarm.step, alarm.message,
                    " Training is paused." if pause else "", extra={"reported_as_event": True})
        self._emit(alarm)
        if pause:
            self.control.pause()

    def _check_collapse(self, samples: np.ndarray) -> None:
        if self.health is None:
            return
        found = self.health.check_samples(self.step, samples)
        if found is not None:
            self._raise_alarm(*found)

    def _submit_quality(self) -> None:
        if not self._losses_finite:
            return  # a NaN generator has no quality to measure
        label = f"training run, step {self.step}" + (" (EMA)" if self.ema is not None else "")
        self.quality.submit(self.step, GeneratorSource.from_module(
            self.sampling_generator, self.spec, step=self.step, label=label))

    def _on_quality(self, result: QualityMetrics) -> None:
        """Called on the quality thread with each evaluation."""
        self._write_metrics_line(result.to_dict())
        parts = [f"FD {result.fd:.4g}"]
        if result.kid is not None:
            parts.append(f"KID {result.kid:.4g}")
        if result.precision is not None:
            parts.append(f"precision {result.precision:.3f} recall {result.recall:.3f}")
        log.info("quality at step %d (%s, %d samples, %.1f s): %s", result.step,
                 result.extractor, result.samples, result.seconds, ", ".join(parts),
                 extra={"reported_as_event": True})
        self._emit(result)

    def _report_samples(self) -> None:
        if not self.is_main:
            return
        if self.generator_snapshots:
            label = f"training run, step {self.step}" + (" (EMA)" if self.ema is not None else "")
            self._emit(GeneratorSnapshot(self.step, GeneratorSource.from_module(
                self.sampling_generator, self.spec, step=self.step, label=label,
                metadata=self._export_metadata())))
        if self.data_kind == "points":
            self._report_points()
            return
        images = self.sample_images(self.fixed_noise, self.fixed_labels)
        self._check_collapse(images)
        grid = make_grid(images, columns=self.config.train.sample_grid)
        path = self.run_dir / "samples" / f"step-{self.step:09d}.png"
        save_png(path, grid, {"run": str(self.run_dir), "step": self.step,
                              "seed": self.config.train.seed, "kind": "fixed-noise grid",
                              "source": "ganstudio-train", "ema": self.ema is not None},
                 compress_level=1)  # fast: sample PNGs are written often, during training
        self._emit(SamplesReady(self.step, images, grid, path))

    @torch.inference_mode()
    def _report_points(self) -> None:
        dataset: PointDataset = self.dataset  # type: ignore[assignment]
        real = dataset.sample(POINT_SAMPLES, seed=self.config.train.seed)
        with eval_mode(self.sampling_generator) as g:
            fake = g(self.fixed_noise, self.fixed_labels).float().cpu().numpy()
        self._check_collapse(fake)
        xmin, xmax, ymin, ymax = dataset.bounds
        xs = torch.linspace(xmin, xmax, HEATMAP_RESOLUTION)
        ys = torch.linspace(ymin, ymax, HEATMAP_RESOLUTION)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        plane = torch.stack([gx.flatten(), gy.flatten()], dim=1).to(self.device)
        with eval_mode(self.D) as d:
            logits = d(plane, self._fake_labels(len(plane))).float()
        values = torch.sigmoid(logits) if self.output_kind == "probability" else logits
        heatmap = values.view(HEATMAP_RESOLUTION, HEATMAP_RESOLUTION).cpu().numpy()
        image = render_points(real, fake, heatmap, dataset.bounds)
        path = self.run_dir / "samples" / f"step-{self.step:09d}.png"
        save_png(path, image, {"run": str(self.run_dir), "step": self.step,
                               "kind": "2-D snapshot", "source": "ganstudio-train"},
                 compress_level=1)
        np.savez_compressed(path.with_suffix(".npz"), real=real, fake=fake, heatmap=heatmap,
                            bounds=np.array(dataset.bounds))
        self._emit(PointsReady(self.step, real, fake, heatmap, dataset.bounds, self.output_kind))
        self._emit(SamplesReady(self.step, image[None], image, path))

    def _emit(self, event: Event) -> None:
        self.observer.on_event(event)

    def _failure(self, exc: Exception) -> TrainingFailed:
        details = "".join(traceback.format_exception(exc))
        if isinstance(exc, GanStudioError):
            message = str(exc)
        elif isinstance(exc, torch.cuda.OutOfMemoryError):
            message = ("The GPU ran out of memory. Try a smaller batch size or image size, or "
                       "train on the CPU.")
        else:
            message = f"Training stopped by an unexpected error: {type(exc).__name__}: {exc}"
        log.error("training failed at step %d: %s", self.step, message)
        log.debug("%s", details)
        return TrainingFailed(self.step, message, details, self._last_checkpoint)


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Run ``module`` in eval mode (batch norm uses its running statistics and leaves them
    alone, as the latent explorer and exports do), then restore its previous mode."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN/Infinity: write them as null so every line stays standard JSON."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in values.items()}


def _link_atomically(source: Path, target: Path) -> None:
    """``target`` becomes a hard link to ``source`` (a copy where links are impossible),
    published with one rename like every other file of a run."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.link")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:
        shutil.copy2(source, temporary)
    os.replace(temporary, target)


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop report lines written after ``step`` (a crash after the last checkpoint)."""
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except json.JSONDecodeError:
            continue  # a line torn by a kill mid-write
    atomic_write_text(path, "".join(k + "\n" for k in kept))


REPORT_KIND = "report"   # loss reports carry no "kind" key (the original format)


def read_metric_lines(run_dir: Path) -> list[dict[str, Any]]:
    """Every line of a run's metrics.jsonl: reports, quality and alarm lines (torn lines
    skipped). Tell them apart by ``line.get("kind", "report")``."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def split_metric_lines(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """``{"report": [...], "quality": [...], "alarm": [...]}`` (unknown kinds kept apart)."""
    kinds: dict[str, list[dict[str, Any]]] = {REPORT_KIND: [], "quality": [], "alarm": []}
    for row in rows:
        kinds.setdefault(str(row.get("kind", REPORT_KIND)), []).append(row)
    return kinds


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Every loss report in a run's metrics.jsonl (quality and alarm lines left out)."""
    return split_metric_lines(read_metric_lines(run_dir))[REPORT_KIND]
