"""How fast the latent panel follows the hand: slider value change -> new preview painted.

    python -m ganstudio.app.latent.bench_latency [--seconds 5] [--rate 125] [--threads 1]

Drives the real :class:`~ganstudio.app.latent.panel.LatentPanel` offscreen with a DCGAN-64
generator (nz=100, width 64, random weights and BatchNorm statistics), drags one latent slider
back and forth from a precise QTimer at ``--rate`` events per second, and prints percentiles of
the latency from each value change to the first paint of a preview at least that new (an event
whose request was dropped as stale waits for the newer preview that replaced it), plus renders
versus requests. Speed is measured here, by a script, not by timed tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def _random_dcgan(nz: int, width: int, size: int):
    import torch
    from torch import nn

    from ganstudio.engine.sampling import GeneratorSource
    from ganstudio.models import GeneratorSpec, build_generator

    spec = GeneratorSpec("dcgan", nz, (3, size, size), width)
    torch.manual_seed(0)
    generator = build_generator(spec)
    with torch.no_grad():
        for m in generator.modules():
            if isinstance(m, nn.BatchNorm2d):   # trained-like statistics, so folding matters
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    return GeneratorSource.from_module(generator.eval(), spec, step=0,
                                       label=f"benchmark DCGAN-{size} (random weights)")


def _percentiles(values_ms: list[float]) -> str:
    if not values_ms:
        return "no samples"
    a = np.asarray(values_ms)
    return (f"p50 {np.percentile(a, 50):.1f} ms, p95 {np.percentile(a, 95):.1f} ms, "
            f"max {a.max():.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganstudio.app.latent.bench_latency",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the drag")
    parser.add_argument("--rate", type=int, default=125, help="slider events per second")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads of the render thread (the panel uses 1)")
    parser.add_argument("--plain", action="store_true",
                        help="render with the module as trained (no BatchNorm folding, library "
                             "transposed convolutions), to compare")
    parser.add_argument("--size", type=int, default=64, choices=(32, 64, 128))
    parser.add_argument("--nz", type=int, default=100)
    parser.add_argument("--width", type=int, default=64)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from ganstudio.app.latent.panel import LatentPanel
    from ganstudio.app.latent.renderer import LatentRenderer

    from ganstudio.engine.sampling import GeneratorSource

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from ganstudio.app import gc_guard

    gc_guard.install(app)   # Qt objects are never collected on a worker thread
    LatentRenderer.torch_threads = args.threads
    if args.plain:
        GeneratorSource.build_for_inference = GeneratorSource.build  # type: ignore[method-assign]
    source = _random_dcgan(args.nz, args.width, args.size)
    panel = LatentPanel()
    panel.resize(1100, 720)
    panel.show()
    panel.set_source(source)

    def wait(condition, timeout: float = 30.0) -> bool:
        """Run the real event loop (as the app does) until ``condition`` or ``timeout``."""
        loop = QEventLoop()
        QTimer.singleShot(int(timeout * 1000), loop.quit)
        poll = QTimer()
        poll.timeout.connect(lambda: condition() and loop.quit())
        poll.start(5)                      # only ends the wait; not on the measured path
        loop.exec()
        poll.stop()
        return condition()

    if not wait(lambda: panel.preview_is_current and panel.preview.request_id > 0):
        print("the first preview never appeared", file=sys.stderr)
        return 1

    slider = panel.sliders.sliders[0]
    sent: dict[int, float] = {}          # request id -> when its value change happened
    unpainted: list[int] = []
    latency_ms: list[float] = []         # every value change -> a preview at least as new
    painted_ms: list[float] = []         # value changes whose own preview was painted
    handler_ms: list[float] = []         # GUI-thread time spent handling one value change
    paints = 0

    def on_painted(request_id: int) -> None:
        nonlocal paints
        now = time.perf_counter()
        if not unpainted or unpainted[0] > request_id:
            return                        # a repaint of a preview already counted
        paints += 1
        while unpainted and unpainted[0] <= request_id:
            rid = unpainted.pop(0)
            latency_ms.append((now - sent[rid]) * 1000.0)
        painted_ms.append((now - sent[request_id]) * 1000.0)
    panel.preview.frame_painted.connect(on_painted)

    lo, hi = slider.minimum(), slider.maximum()
    position, direction, step = 0, 1, 3    # 0.03 in z per event, back and forth

    def tick() -> None:
        nonlocal position, direction
        if not lo <= position + direction * step <= hi:
            direction = -direction
        position += direction * step
        start = time.perf_counter()
        slider.setValue(position)            # valueChanged -> panel -> renderer.request
        handler_ms.append((time.perf_counter() - start) * 1000.0)
        rid = panel.last_request_id
        sent[rid] = start
        unpainted.append(rid)

    def drag(seconds: float) -> None:
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(max(1, round(1000 / args.rate)))
        timer.timeout.connect(tick)
        timer.start()
        wait(lambda: False, seconds)
        timer.stop()
        wait(lambda: not unpainted, 10.0)

    drag(0.5)                                 # warm-up: caches, allocator, first paints
    sent.clear()
    latency_ms.clear()
    painted_ms.clear()
    handler_ms.clear()
    paints = 0
    renders0, requests0 = panel.renderer.renders, panel.renderer.requests
    render_times: list[float] = []
    panel.renderer.preview_ready.connect(lambda frame: render_times.append(frame.render_ms))
    ready_at: dict[int, float] = {}
    panel.renderer.preview_ready.connect(
        lambda frame: ready_at.__setitem__(frame.request_id, frame.finished_at))
    delivery_ms: list[float] = []
    panel.preview.frame_painted.connect(
        lambda rid: rid in ready_at and delivery_ms.append(
            (time.perf_counter() - ready_at.pop(rid)) * 1000.0))
    started = time.perf_counter()
    drag(args.seconds)
    elapsed = time.perf_counter() - started
    renders = panel.renderer.renders - renders0
    requests = panel.renderer.requests - requests0
    backlog = len(unpainted)
    panel.shutdown()
    panel.close()
    panel.deleteLater()
    app.processEvents()

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"latent panel latency: DCGAN-{args.size} (nz={args.nz}, width {args.width}), random "
          f"weights, CPU, render thread with {args.threads} torch thread(s), "
          f"{'plain module' if args.plain else 'fast inference copy'}")
    print(f"machine: {os.cpu_count()} CPUs, load average {load}")
    print(f"drag: {len(sent)} slider events in {elapsed:.1f} s "
          f"({len(sent) / max(elapsed, 1e-9):.0f}/s requested {args.rate}/s)")
    print(f"requests {requests}, previews rendered {renders} ({requests - renders} dropped as "
          f"stale), previews painted {paints}, backlog after the drag {backlog}")
    print(f"value change -> preview painted (every event): {_percentiles(latency_ms)}")
    print(f"value change -> its own preview painted:      {_percentiles(painted_ms)}")
    print(f"render on the render thread (forward + uint8): {_percentiles(render_times)}")
    print(f"rendered -> painted on the GUI thread:          {_percentiles(delivery_ms)}")
    print(f"GUI thread handling one value change:           {_percentiles(handler_ms)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
