"""What the trainer tells its observer: small frozen events, and delivery that never blocks.

Events carry plain Python numbers and numpy arrays, never live tensors, so they can cross threads
(the window's worker re-emits them as Qt signals) and be written to disk as they are.

An observer is anything with ``on_event(event)``. :class:`ThreadedObserver` wraps one so that the
trainer only appends to a queue: a slow observer delays its own view, never the training.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from ganstudio.engine.sampling import GeneratorSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingStarted:
    run_dir: Path
    device: str             # "cpu", "cuda:0"...
    device_name: str        # human name ("NVIDIA H200", "CPU (2 threads)")
    start_step: int         # > 0 when resuming
    total_steps: int
    dataset: str
    dataset_size: int | None
    data_kind: str          # "image" or "points"
    architecture: str
    output_kind: str        # "probability" (D(x) in [0, 1]) or "score" (critic value)
    speed_notes: tuple[str, ...] = ()  # fast-path decisions and why (CUDA graph, bf16...)
    dataset_message: str = ""          # e.g. which files of an image folder were skipped, why
    parent: Path | None = None         # a fork's parent run folder
    fork_step: int | None = None       # ...and the step it was forked at


@dataclass(frozen=True)
class StepMetrics:
    """Averages over the steps since the previous report."""

    step: int
    d_loss: float
    g_loss: float
    d_real: float           # mean D(x): probability or critic score (see output_kind)
    d_fake: float           # mean D(G(z)) in the D update
    grad_norm_d: float
    grad_norm_g: float
    penalty: float          # gradient penalty (WGAN-GP) or R1 term, 0 when off
    images_per_sec: float
    elapsed: float          # seconds of training (pauses excluded)
    lr_g: float
    lr_d: float
    d_steps: int
    g_steps: int

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class SamplesReady:
    """The fixed-noise grid at ``step``; ``images`` is uint8 (N, H, W, C)."""

    step: int
    images: np.ndarray = field(repr=False)
    grid: np.ndarray = field(repr=False)   # the tiled grid as saved, uint8 (H, W, C)
    path: Path | None


@dataclass(frozen=True)
class PointsReady:
    """For 2-D data: real and generated points and D's output over the plane (GAN Lab view)."""

    step: int
    real: np.ndarray = field(repr=False)        # (N, 2)
    fake: np.ndarray = field(repr=False)        # (N, 2)
    heatmap: np.ndarray = field(repr=False)     # (R, R) D output, rows = y from ymin to ymax
    bounds: tuple[float, float, float, float]   # xmin, xmax, ymin, ymax
    output_kind: str


@dataclass(frozen=True)
class GeneratorSnapshot:
    """A detached copy of the sampling generator (EMA when enabled), sent at sample steps when
    the trainer is asked for snapshots; the latent explorer renders from it."""

    step: int
    source: "GeneratorSource" = field(repr=False)


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: Path
    kind: str = "checkpoint"   # "checkpoint" (checkpoints/) or "snapshot" (the snapshots/ ring)


@dataclass(frozen=True)
class QualityMetrics:
    """Quality of the generator at ``step`` against a fixed real subset.

    Every value belongs to ``extractor`` (``random-conv-v1``, ``inception-v3-fid``, or
    ``points-2d`` where 2-D points are their own features): values of different extractors are
    on unrelated scales and must never be compared or drawn as one curve. ``None`` means the
    metric is turned off.
    """

    step: int
    extractor: str
    samples: int            # generated samples (and as many real ones)
    fd: float               # Frechet distance (FID with inception-v3-fid)
    kid: float | None       # kernel inception distance (mean over subsets)
    kid_std: float | None
    precision: float | None
    recall: float | None
    seconds: float          # wall time of the evaluation, on its own thread

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "kind": "quality",
                **{k: getattr(self, k) for k in self.__dataclass_fields__ if k != "step"}}


@dataclass(frozen=True)
class HealthAlarm:
    """Training went wrong in a way the numbers show (see :mod:`ganstudio.engine.health`)."""

    step: int
    kind: str          # nan, exploding_gradients, d_overpowering, mode_collapse
    title: str
    message: str       # one plain sentence with the numbers that triggered it
    value: float
    threshold: float
    paused: bool       # whether training was paused because of it

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "kind": "alarm", "alarm": self.kind, "title": self.title,
                "message": self.message, "value": self.value, "threshold": self.threshold,
                "paused": self.paused}


@dataclass(frozen=True)
class TrainingPaused:
    step: int


@dataclass(frozen=True)
class TrainingResumed:
    step: int


@dataclass(frozen=True)
class TrainingFinished:
    step: int
    reason: str              # "completed" or "stopped"
    checkpoint: Path | None  # the newest good checkpoint (never one with NaN/Inf weights)
    elapsed: float
    note: str = ""           # e.g. why the final checkpoint was not written


@dataclass(frozen=True)
class TrainingFailed:
    step: int
    message: str             # one plain sentence for a dialog
    details: str             # traceback and context, for "Show details"
    checkpoint: Path | None  # the last good checkpoint, untouched


Event = (TrainingStarted | StepMetrics | SamplesReady | PointsReady | GeneratorSnapshot
         | CheckpointSaved | QualityMetrics | HealthAlarm | TrainingPaused | TrainingResumed
         | TrainingFinished | TrainingFailed)

_FINAL = (TrainingFinished, TrainingFailed)


class Observer(Protocol):
    def on_event(self, event: Event) -> None: ...


class NullObserver:
    def on_event(self, event: Event) -> None:
        return None


class CollectingObserver:
    """Keeps every event in a list (tests, scripts)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


class ThreadedObserver:
    """Delivers events to ``inner`` from a background thread.

    ``on_event`` never blocks. If the observer falls behind by more than ``max_backlog`` events,
    the oldest metric and sample events are dropped (they are on disk anyway) while lifecycle
    events (started, checkpoint, quality metrics, health alarms, finished, failed) are always
    delivered in order.
    """

    _DROPPABLE = (StepMetrics, SamplesReady, PointsReady, GeneratorSnapshot)

    def __init__(self, inner: Observer, max_backlog: int = 256):
        self.inner = inner
        self.max_backlog = max_backlog
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._backlog = 0
        self._lock = threading.Lock()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="ganstudio-observer", daemon=True)
        self._thread.start()

    def on_event(self, event: Event) -> None:
        with self._lock:
            if self._backlog >= self.max_backlog and isinstance(event, self._DROPPABLE):
                self.dropped += 1
                return
            self._backlog += 1
        self._queue.put(event)

    def close(self, timeout: float | None = 10.0) -> None:
        """Deliver what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            with self._lock:
                self._backlog -= 1
            try:
                self.inner.on_event(event)
            except Exception:  # an observer bug must not kill delivery of later events
                log.exception("observer failed on %s", type(event).__name__)
