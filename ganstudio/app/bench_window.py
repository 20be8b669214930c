"""Does the window ever make anyone wait? The three numbers of the speed issue, measured.

    python -m ganstudio.app.bench_window [--launches 5] [--train-seconds 30] [--rounds 2]
                                          [--json] [--skip launch,stall,slider]

(a) **launch → first paint**: ``python -m ganstudio`` is started ``--launches`` times; the time
    from the process's start (read from /proc, so interpreter start-up and imports count) to the
    window's first paint event is reported.
(b) **event-loop stalls while training**: the real window trains the default configuration at
    full speed while a 5 ms QTimer measures how late each tick fires; p50/p99/max lateness.
    The same run's images/s is compared with the same training run headless (no window, the
    engine alone), ``--rounds`` back-to-back pairs in alternating order; the ratio reported is
    the median of the pairs' ratios.
(c) **latent slider → preview painted**: runs :mod:`ganstudio.app.latent.bench_latency`
    (DCGAN-64, nz=100, width 64, 125 slider events/s).

Uses the platform Qt picks (an X server if ``DISPLAY`` is set, e.g. under Xvfb); without one it
falls back to ``offscreen``. Settings and runs go to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

_FIRST_PAINT_DRIVER = r"""
import logging, os, sys
class _FirstPaint(logging.Handler):
    def emit(self, record):
        text = record.getMessage()
        if text.startswith("window painted"):
            print("FIRST_PAINT", text.split()[2], flush=True)
            os._exit(0)  # do not wait for the engine to finish loading
logger = logging.getLogger("ganstudio.app.window")
logger.addHandler(_FirstPaint())
logger.setLevel(logging.INFO)
from ganstudio.app.main import main
main(sys.argv[1:])
"""


def _environment(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["GANSTUDIO_CONFIG_DIR"] = str(scratch / "config")
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def measure_launch(launches: int, scratch: Path) -> dict:
    times = []
    for _ in range(launches):
        result = subprocess.run([sys.executable, "-c", _FIRST_PAINT_DRIVER],
                                capture_output=True, text=True, timeout=120,
                                env=_environment(scratch))
        line = next((l for l in result.stdout.splitlines() if l.startswith("FIRST_PAINT")), None)
        if line is None:
            raise RuntimeError("the window never painted:\n" + result.stderr[-2000:])
        times.append(float(line.split()[1]))
    return {"first_paint_s": times, "median_s": statistics.median(times), "max_s": max(times)}


def _headless_rate(config, seconds: float, run_dir: Path) -> float:
    from ganstudio.engine.control import TrainingControl
    from ganstudio.engine.events import CollectingObserver, StepMetrics
    from ganstudio.engine.trainer import Trainer

    control = TrainingControl()
    observer = CollectingObserver()
    timer = threading.Timer(seconds, control.stop)
    timer.start()
    Trainer(config, run_dir=run_dir, observer=observer, control=control).run()
    timer.cancel()
    rates = [m.images_per_sec for m in observer.of_type(StepMetrics)][2:]  # skip warm-up
    return float(np.median(rates)) if rates else float("nan")


def measure_stalls_and_speed(seconds: float, rounds: int, scratch: Path) -> dict:
    os.environ.update({k: v for k, v in _environment(scratch).items()
                       if k in ("GANSTUDIO_CONFIG_DIR", "QT_QPA_PLATFORM")})
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from ganstudio.app.settings import Settings
    from ganstudio.app.window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    from ganstudio.app import gc_guard

    gc_guard.install(app)   # Qt objects are never collected on a worker thread
    settings = Settings()
    settings.runs_folder = scratch / "runs"
    window = MainWindow(settings)
    window.show()
    while not window.engine_ready:
        app.processEvents()
        time.sleep(0.01)  # a plain polling loop of this script, not of the window under test
    config = window.run_panel.config()
    config.train.steps = 10_000_000

    def window_round() -> tuple[list[float], list[float]]:
        lateness: list[float] = []
        rates: list[float] = []
        clock = QElapsedTimer()
        probe = QTimer()
        probe.setInterval(5)
        last = [0]

        def tick():
            now = clock.nsecsElapsed()
            lateness.append((now - last[0]) / 1e6 - 5.0)
            last[0] = now
            if clock.elapsed() > seconds * 1000:
                probe.stop()
                window.controller.stop()

        def on_started(_event):
            clock.start()
            last[0] = clock.nsecsElapsed()
            probe.start()

        def on_metrics(batch):
            items = batch if isinstance(batch, (list, tuple)) else [batch]
            rates.extend(m.images_per_sec for m in items)

        probe.timeout.connect(tick)
        window.controller.training_started.connect(on_started)
        window.controller.metrics_received.connect(on_metrics)
        done: list = []
        loop = QEventLoop()   # the real event loop, as the app runs it (no polling)

        def on_done(*event) -> None:
            done.append(event)
            loop.quit()
        window.controller.training_finished.connect(on_done)
        window.controller.training_failed.connect(on_done)
        if window.new_run_action.isEnabled():  # after a round the finished run is still open
            window.new_run_action.trigger()
        window.run_panel.editor("train.steps").set_value(config.train.steps)
        window.train_action.trigger()
        if not done:
            loop.exec()
        for signal, slot in ((window.controller.training_started, on_started),
                             (window.controller.metrics_received, on_metrics),
                             (window.controller.training_finished, on_done),
                             (window.controller.training_failed, on_done)):
            signal.disconnect(slot)
        return lateness[20:], rates[2:]

    results = {"window_lateness_ms": [], "window_img_s": [], "headless_img_s": []}
    for i in range(rounds):
        # Alternate which goes first: this machine's speed drifts over minutes, and pairs
        # taken back to back, in both orders, cancel that drift out of the ratio.
        if i % 2:
            results["headless_img_s"].append(_headless_rate(config, seconds,
                                                            scratch / f"headless-{i}"))
        lateness, rates = window_round()
        results["window_lateness_ms"].extend(lateness)
        results["window_img_s"].append(float(np.median(rates)) if rates else float("nan"))
        if not i % 2:
            results["headless_img_s"].append(_headless_rate(config, seconds,
                                                            scratch / f"headless-{i}"))
    window.close()
    lat = np.asarray(results["window_lateness_ms"])
    pairs = [w / h for w, h in zip(results["window_img_s"], results["headless_img_s"]) if h]
    return {"ticks": int(lat.size), "lateness_p50_ms": float(np.percentile(lat, 50)),
            "lateness_p99_ms": float(np.percentile(lat, 99)), "lateness_max_ms": float(lat.max()),
            "window_img_s": results["window_img_s"], "headless_img_s": results["headless_img_s"],
            "window_vs_headless": float(np.median(pairs)) if pairs else float("nan")}


def measure_slider(scratch: Path) -> list[str]:
    result = subprocess.run([sys.executable, "-m", "ganstudio.app.latent.bench_latency"],
                            capture_output=True, text=True, timeout=300,
                            env=_environment(scratch))
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganstudio.app.bench_window",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--train-seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma list of launch, stall, slider")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    report: dict = {"platform": os.environ.get("QT_QPA_PLATFORM") or
                    ("xcb" if os.environ.get("DISPLAY") else "offscreen"),
                    "cores": os.cpu_count(), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="ganstudio-bench-window-") as tmp:
        scratch = Path(tmp)
        if "launch" not in skip:
            report["launch"] = measure_launch(args.launches, scratch)
        if "slider" not in skip:
            report["slider"] = measure_slider(scratch)
        if "stall" not in skip:
            report["training"] = measure_stalls_and_speed(args.train_seconds, args.rounds,
                                                          scratch)
    report["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(report))
    else:
        print(_format(report))
    return 0


def _format(r: dict) -> str:
    lines = [f"platform {r['platform']}, {r['cores']} cores, load {r['load_before']:.1f} → "
             f"{r['load_after']:.1f}"]
    if "launch" in r:
        l = r["launch"]
        lines.append(f"(a) launch → first paint: median {l['median_s']:.2f} s, max "
                     f"{l['max_s']:.2f} s over {len(l['first_paint_s'])} launches "
                     f"(target ≤ 2 s)")
    if "training" in r:
        t = r["training"]
        lines.append(f"(b) event loop while training: lateness p50 {t['lateness_p50_ms']:.1f} ms, "
                     f"p99 {t['lateness_p99_ms']:.1f} ms, max {t['lateness_max_ms']:.1f} ms over "
                     f"{t['ticks']} ticks (target p99 ≤ 25 ms)")
        lines.append(f"    training speed: window {', '.join(f'{x:.0f}' for x in t['window_img_s'])}"
                     f" img/s, headless {', '.join(f'{x:.0f}' for x in t['headless_img_s'])} img/s"
                     f" → window/headless {t['window_vs_headless']:.3f}, median of the "
                     f"rounds' ratios (target ≥ 0.97)")
    if "slider" in r:
        lines.append("(c) slider → preview painted (python -m ganstudio.app.latent.bench_latency):")
        lines += [f"    {line}" for line in r["slider"]]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
