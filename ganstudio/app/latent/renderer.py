"""The latent panel's renderer: "latest request wins" on a thread of its own.

Modelled on napari's ``StatusChecker``: one long-lived thread sleeps on a ``threading.Event``;
each request overwrites a single pending slot and sets the event, so however fast a slider is
dragged the thread only ever renders the newest latent and stale requests are dropped unseen.

* The **preview** (batch 1) is rendered first and sent at once.
* The **neighbour tiles** of that latent follow, one per forward, only once no new request has
  come for :attr:`LatentRenderer.neighbour_delay_s`; a new request abandons them. The
  **direction strips** (previews along each principal direction) come after them, the same way.
* A **new generator source** is built on a second thread (a DCGAN-64 takes ~0.1-0.3 s), so the
  preview keeps following the hand while a training snapshot is being loaded; the render thread
  swaps modules between two renders and re-renders the last request.

Results cross to the GUI thread as Qt signals carrying frozen dataclasses with numpy arrays and
a ``QImage`` that wraps the array's memory (made once, on the render thread, never copied).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage
from torch import nn

from ganstudio.engine.sampling import GeneratorSource, render
from ganstudio.export.images import is_points, label_tensor, render_cloud

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderRequest:
    request_id: int
    latent: np.ndarray                 # (nz,) float32
    label: int | None
    neighbours: np.ndarray | None      # (k, nz) float32 latents for the variation tiles
    tag: object = None                 # the caller's note (the panel's seed), handed back
    strips: np.ndarray | None = None   # (directions, positions, nz): the direction strips


@dataclass(frozen=True)
class PreviewFrame:
    """One rendered latent: an image (with a QImage over its memory) or a 2-D point."""

    request_id: int
    source: GeneratorSource = field(repr=False)
    latent: np.ndarray = field(repr=False)
    label: int | None
    image: np.ndarray | None = field(repr=False)    # uint8 (H, W, C)
    qimage: QImage | None = field(repr=False)
    point: np.ndarray | None                        # (2,) for points generators
    render_ms: float
    tag: object = None
    finished_at: float = 0.0                        # time.perf_counter() when it was ready


@dataclass(frozen=True)
class NeighbourTile:
    request_id: int
    index: int
    source: GeneratorSource = field(repr=False)
    latent: np.ndarray = field(repr=False)
    image: np.ndarray | None = field(repr=False)
    qimage: QImage | None = field(repr=False)
    point: np.ndarray | None


@dataclass(frozen=True)
class StripTile:
    """One preview of a direction's strip: direction ``direction`` at position ``position``."""

    request_id: int
    direction: int
    position: int
    source: GeneratorSource = field(repr=False)
    image: np.ndarray | None = field(repr=False)
    qimage: QImage | None = field(repr=False)


@dataclass(frozen=True)
class PointCloud:
    """A points generator's distribution: its output for fixed latents."""

    source: GeneratorSource = field(repr=False)
    label: int | None
    points: np.ndarray = field(repr=False)          # (N, 2)


def qimage_from_array(image: np.ndarray) -> QImage:
    """A QImage sharing ``image``'s memory (uint8 ``(H, W, 1|3)``, C-contiguous): no copy.

    The caller keeps ``image`` alive as long as the QImage (the frames hold both).
    """
    h, w, c = image.shape
    fmt = QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888
    return QImage(image.data, w, h, w * c, fmt)


def start_worker_thread(target: Callable[[], None], name: str,
                        torch_threads: int = 1) -> threading.Thread:
    """Start a daemon thread whose torch ops use ``torch_threads`` CPU threads.

    One intra-op thread (the default) keeps the other core for the GUI (and training) and avoids
    OpenMP barrier stalls on a busy 2-core machine. ``torch.set_num_threads`` also changes the
    default that later threads inherit, so the calling thread puts its own value back once the
    worker has taken its setting.
    """
    default = torch.get_num_threads()
    configured = threading.Event()

    def run() -> None:
        torch.set_num_threads(torch_threads)
        configured.set()
        target()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    configured.wait()
    torch.set_num_threads(default)
    return thread


class _Signals(QObject):
    preview_ready = Signal(object)      # PreviewFrame
    neighbour_ready = Signal(object)    # NeighbourTile
    cloud_ready = Signal(object)        # PointCloud
    strip_ready = Signal(object)        # StripTile
    failed = Signal(str)


class LatentRenderer:
    """Renders latent previews off the GUI thread on its own copy of the generator."""

    neighbour_delay_s = 0.08   # the hand has paused: now the variation tiles may render
    torch_threads = 1          # intra-op threads of the render and build threads (measured best)

    def __init__(self) -> None:
        self.signals = _Signals()
        self.preview_ready = self.signals.preview_ready
        self.neighbour_ready = self.signals.neighbour_ready
        self.cloud_ready = self.signals.cloud_ready
        self.strip_ready = self.signals.strip_ready
        self.failed = self.signals.failed
        self._lock = threading.Lock()
        self._wake = threading.Event()           # a request, a built generator, or stop
        self._build_wake = threading.Event()     # a source to build, or stop
        self._stopping = False
        self._pending: RenderRequest | None = None
        self._pending_source: GeneratorSource | None = None
        self._has_pending_source = False
        self._built: tuple[GeneratorSource | None, nn.Module | None] | None = None
        self._next_id = 0
        self.requests = 0      # counted on the GUI thread
        self.renders = 0       # previews actually rendered (the rest were dropped as stale)
        self._threads = [
            start_worker_thread(self._render_loop, "ganstudio-latent-render", self.torch_threads),
            start_worker_thread(self._build_loop, "ganstudio-latent-build", self.torch_threads)]

    # ----- called on the GUI thread ------------------------------------------------------------
    def set_source(self, source: GeneratorSource | None) -> None:
        """Use ``source`` from now on; it is built on the builder thread (cheap to call)."""
        with self._lock:
            self._pending_source = source
            self._has_pending_source = True
        self._build_wake.set()

    def request(self, latent: np.ndarray, label: int | None,
                neighbours: np.ndarray | None = None, tag: object = None,
                strips: np.ndarray | None = None) -> int:
        """Ask for a preview of ``latent``; replaces any request not yet started."""
        with self._lock:
            self._next_id += 1
            self._pending = RenderRequest(self._next_id, np.array(latent, np.float32), label,
                                          None if neighbours is None
                                          else np.array(neighbours, np.float32), tag,
                                          None if strips is None
                                          else np.asarray(strips, np.float32))
            self.requests += 1
            request_id = self._next_id
        self._wake.set()
        return request_id

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Stop both threads; True when they ended within ``timeout`` seconds.

        A build still running past the timeout is left to finish on its daemon thread; it emits
        nothing once stopping is set.
        """
        with self._lock:
            self._stopping = True
        self._wake.set()
        self._build_wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    @property
    def is_running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    # ----- builder thread ----------------------------------------------------------------------
    def _build_loop(self) -> None:
        while True:
            self._build_wake.wait()
            with self._lock:
                self._build_wake.clear()
                if self._stopping:
                    return
                if not self._has_pending_source:
                    continue
                source, self._has_pending_source = self._pending_source, False
                self._pending_source = None
            module = None
            if source is not None:
                try:
                    module = source.build_for_inference("cpu")
                except Exception as exc:  # a bad file must not kill the panel
                    log.exception("could not build the generator for %s", source.label)
                    self._emit(self.failed, f"{source.label}: could not build the generator "
                                            f"({exc})")
                    source = None   # render nothing rather than the previous generator
            with self._lock:
                if self._has_pending_source:   # superseded while building: build the newer
                    continue
                self._built = (source, module)
            self._wake.set()

    # ----- render thread -----------------------------------------------------------------------
    def _render_loop(self) -> None:
        source: GeneratorSource | None = None
        generator: nn.Module | None = None
        last: RenderRequest | None = None
        cloud_key: tuple[int, int | None] | None = None
        tiles: list[tuple[int, ...]] = []  # (index,) neighbours, (k, j) strips still to render
        tiles_due = 0.0
        while True:
            timeout = None if not tiles else max(0.0, tiles_due - time.monotonic())
            self._wake.wait(timeout)
            with self._lock:
                self._wake.clear()
                if self._stopping:
                    return
                built, self._built = self._built, None
                request, self._pending = self._pending, None
            if built is not None:
                source, generator = built
                cloud_key, tiles = None, []
                if generator is not None:
                    request = request or last   # a new generator re-renders the newest request
            if request is not None:
                last, tiles = request, []   # kept even when it cannot be rendered yet
            if generator is None or source is None:
                continue
            try:
                if request is not None:
                    if request.latent.shape != (source.nz,):
                        continue   # made for the generator still being built: wait for it
                    if is_points(source) and cloud_key != (id(source), request.label):
                        cloud_key = (id(source), request.label)
                        points = render_cloud(generator, source, request.label)
                        self._emit(self.cloud_ready, PointCloud(source, request.label, points))
                    self._render_preview(generator, source, request)
                    count = 0 if request.neighbours is None else len(request.neighbours)
                    tiles = [(i,) for i in range(count)]
                    if request.strips is not None:
                        k, m = request.strips.shape[:2]
                        tiles += [(d, j) for d in range(k) for j in range(m)]
                    tiles_due = time.monotonic() + self.neighbour_delay_s
                elif tiles and last is not None:
                    job = tiles.pop(0)
                    if len(job) == 1:
                        self._render_tile(generator, source, last, job[0])
                    else:
                        self._render_strip(generator, source, last, *job)
            except Exception as exc:
                log.exception("latent render failed")
                self._emit(self.failed, f"{source.label}: rendering failed ({exc})")
                tiles = []

    def _render_preview(self, generator: nn.Module, source: GeneratorSource,
                        request: RenderRequest) -> None:
        start = time.perf_counter()
        out = render(generator, request.latent[None], label_tensor(request.label))
        elapsed = (time.perf_counter() - start) * 1000.0
        image, qimage, point = self._unpack(out)
        self.renders += 1
        self._emit(self.preview_ready, PreviewFrame(request.request_id, source, request.latent,
                                                    request.label, image, qimage, point,
                                                    elapsed, request.tag,
                                                    time.perf_counter()))

    def _render_tile(self, generator: nn.Module, source: GeneratorSource,
                     request: RenderRequest, index: int) -> None:
        assert request.neighbours is not None
        latent = request.neighbours[index]
        out = render(generator, latent[None], label_tensor(request.label))
        image, qimage, point = self._unpack(out)
        self._emit(self.neighbour_ready, NeighbourTile(request.request_id, index, source, latent,
                                                       image, qimage, point))

    def _render_strip(self, generator: nn.Module, source: GeneratorSource,
                      request: RenderRequest, direction: int, position: int) -> None:
        assert request.strips is not None
        latent = request.strips[direction, position]
        out = render(generator, latent[None], label_tensor(request.label))
        image, qimage, _point = self._unpack(out)
        self._emit(self.strip_ready, StripTile(request.request_id, direction, position, source,
                                               image, qimage))

    @staticmethod
    def _unpack(out: np.ndarray) -> tuple[np.ndarray | None, QImage | None, np.ndarray | None]:
        if out.ndim == 4:
            image = out[0]
            return image, qimage_from_array(image), None
        return None, None, out[0]

    def _emit(self, signal: Signal, value: object) -> None:
        if self._stopping:
            return
        try:
            signal.emit(value)
        except RuntimeError:   # the panel was deleted while we rendered
            pass
