"""``ganstudio-train``: train a GAN from the command line, with the window's exact engine.

Examples::

    ganstudio-train                                   # built-in 'glyphs', DCGAN, CPU or CUDA
    ganstudio-train --dataset ring --steps 3000       # a 2-D toy with the MLP GAN
    ganstudio-train --dataset ~/photos --image-size 64 --out runs/photos
    ganstudio-train runs/photos/config.toml --out runs/photos-again
    ganstudio-train --resume runs/photos --steps 20000
    ganstudio-train --set optim.ema=true --set objective.loss=hinge
    ganstudio-train --fork runs/photos --from-step 19000 --set optim.lr_g=1e-4 --out runs/p2

Flags override the config file. Ctrl-C stops after the current step and saves a checkpoint.
Health alarms (NaN, exploding gradients, D overpowering G, mode collapse) print as WARNING
lines; with health.auto_pause (the default) an alarm stops the run with a checkpoint (exit
status 3), to be resumed or forked from an earlier snapshot.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Sequence

from ganstudio.config import RESUMABLE_CHANGES, RunConfig, describe_range, field_spec
from ganstudio.errors import ConfigError, GanStudioError

log = logging.getLogger("ganstudio.cli")

# The common settings get their own flags; every other field is reachable with --set.
FLAGS: dict[str, str] = {
    "--dataset": "data.name",
    "--data-root": "data.root",
    "--model": "model.architecture",
    "--loss": "objective.loss",
    "--image-size": "model.image_size",
    "--batch-size": "train.batch_size",
    "--steps": "train.steps",
    "--device": "train.device",
    "--seed": "train.seed",
    "--sample-every": "train.sample_every",
    "--checkpoint-every": "train.checkpoint_every",
    "--log-every": "train.log_every",
    "--lr-g": "optim.lr_g",
    "--lr-d": "optim.lr_d",
    "--k": "objective.g_steps",
    "--d-steps": "objective.d_steps",
}
FIELD_FLAGS = {path: flag for flag, path in FLAGS.items()}

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ALARM, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganstudio-train",
        description="Train a GAN (CUDA when present, else CPU). Flags override CONFIG.toml.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Any other setting: --set SECTION.KEY=VALUE (see a run's config.toml for all).")
    parser.add_argument("config", nargs="?", type=Path, help="a run configuration (TOML)")
    for flag, path in FLAGS.items():
        spec = field_spec(path)
        parser.add_argument(flag, dest=path, metavar=_metavar(spec), default=None,
                            help=f"{spec.help} [{describe_range(spec)}; default {spec.default}]")
    parser.add_argument("--out", type=Path, help="run folder to create (default: "
                        "runs/<dataset>-<model>-<time>)")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR",
                        help="continue a run from its newest checkpoint")
    parser.add_argument("--fork", type=Path, metavar="RUN_DIR",
                        help="start a new run (--out, default RUN_DIR-fork-STEP) from a "
                        "snapshot of RUN_DIR; --set may change hyperparameters that keep the "
                        "model's shapes (learning rates, betas, loss, batch size, seed...)")
    parser.add_argument("--from-step", type=int, metavar="N", default=None,
                        help="with --fork: the newest snapshot or checkpoint at or before "
                        "step N (default: the newest)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="set any config value, e.g. --set optim.ema=true (repeatable)")
    parser.add_argument("--download", action="store_true",
                        help="allow downloading a torchvision set (MNIST...) into --data-root")
    parser.add_argument("--list-datasets", action="store_true", help="list datasets and exit")
    parser.add_argument("--list-models", action="store_true", help="list models and exit")
    parser.add_argument("--no-progress", action="store_true",
                        help="print a line per report instead of a progress bar")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    return parser


def _metavar(spec) -> str:
    if spec.choices:
        return "{" + ",".join(map(str, spec.choices)) + "}"
    return {int: "N", float: "X", str: "TEXT", bool: "BOOL"}[spec.type]


def flag_for(field: str) -> str:
    """The flag a person would type for a config field (for error messages)."""
    return FIELD_FLAGS.get(field, f"--set {field}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    root = logging.getLogger()
    handler, level = _ReporterLogHandler(quiet=args.quiet), root.level
    root.addHandler(handler)
    root.setLevel(logging.ERROR if args.quiet else logging.INFO)
    try:
        return _main(args, handler)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _main(args: argparse.Namespace, log_handler: "_ReporterLogHandler") -> int:
    if args.list_datasets:
        return _list_datasets()
    if args.list_models:
        return _list_models()
    try:
        config, run_dir, resume = resolve_run(args)
        fork_from = resolve_fork_point(args)
    except ConfigError as exc:
        print(f"ganstudio-train: error: {flag_for(exc.field)}: {exc.reason}", file=sys.stderr)
        return EXIT_USAGE
    except GanStudioError as exc:
        print(f"ganstudio-train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return train(config, run_dir, resume=resume, quiet=args.quiet,
                 progress_bar=not args.no_progress and not args.quiet, fork_from=fork_from,
                 log_handler=log_handler)


def resolve_run(args: argparse.Namespace) -> tuple[RunConfig, Path | None, bool]:
    """Merge file, run and flags into one validated config; returns (config, run_dir, resume)."""
    overrides: dict[str, str] = {}
    for path in FLAGS.values():
        value = getattr(args, path)
        if value is not None:
            overrides[path] = value
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError("--set", f"expected SECTION.KEY=VALUE (got {item!r})")
        overrides[key.strip()] = value
    if args.download:
        overrides["data.download"] = "true"

    if args.from_step is not None and args.fork is None:
        raise GanStudioError("--from-step goes with --fork RUN_DIR")
    if args.fork is not None:
        return _resolve_fork(args, overrides)
    if args.resume is not None:
        if args.config is not None or args.out is not None:
            raise GanStudioError("--resume continues a run in its own folder: give no config "
                                 "file and no --out with it")
        config = _config_of_run(args.resume)
        for key, value in overrides.items():
            before = config.get(key)
            config.set(key, value)
            if config.get(key) != before and key not in RESUMABLE_CHANGES:
                raise ConfigError(key, f"cannot change on --resume (it defines the model or "
                                  f"data); start a new run instead")
        config.validate()
        return config, args.resume, True

    config = RunConfig.from_toml(args.config) if args.config else RunConfig()
    chosen = set(overrides) | (_keys_in_file(args.config) if args.config else set())
    for key, value in overrides.items():
        config.set(key, value)
    # Settings that suit the chosen dataset (e.g. big batches for 2-D toys) fill in whatever the
    # person did not choose in the file or on the command line.
    from ganstudio.data import recommended_settings

    for key, value in recommended_settings(config.data.name).items():
        if key not in chosen:
            config.set(key, value)
    config.validate()
    if args.out is not None and (args.out / "checkpoints").is_dir() and any(
            (args.out / "checkpoints").iterdir()):
        raise GanStudioError(f"{args.out} already holds a run; continue it with --resume "
                             f"{args.out}, or choose another --out")
    return config, args.out, False


def _fork_point(args: argparse.Namespace):
    from ganstudio.engine.runs import restore_point_at

    if not args.fork.is_dir():
        raise GanStudioError(f"--fork {args.fork}: no such run folder")
    step = args.from_step if args.from_step is not None else 2**62
    return restore_point_at(args.fork, step)


def _resolve_fork(args: argparse.Namespace, overrides: dict[str, str]
                  ) -> tuple[RunConfig, Path, bool]:
    """The parent's config at the fork point with the flags applied, checked for a fork."""
    from ganstudio.engine.checkpoint import load_checkpoint
    from ganstudio.engine.runs import fork_config, fork_run_dir

    if args.resume is not None or args.config is not None:
        raise GanStudioError("--fork starts from a run's snapshot: give no config file and no "
                             "--resume with it")
    point = _fork_point(args)
    parent = RunConfig.from_dict(load_checkpoint(point.path)["config"], source=str(point.path))
    config = fork_config(parent, overrides, point.step)
    out = args.out if args.out is not None else fork_run_dir(args.fork, point.step)
    if (out / "checkpoints").is_dir() and any((out / "checkpoints").iterdir()):
        raise GanStudioError(f"{out} already holds a run; choose another --out")
    return config, out, False


def resolve_fork_point(args: argparse.Namespace) -> Path | None:
    """The snapshot or checkpoint a --fork starts from (None without --fork)."""
    return _fork_point(args).path if args.fork is not None else None


def _keys_in_file(path: Path) -> set[str]:
    import tomllib

    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return {f"{section}.{key}" for section, values in data.items() if isinstance(values, dict)
            for key in values}


def _config_of_run(run_dir: Path) -> RunConfig:
    from ganstudio.engine.checkpoint import latest_checkpoint, load_checkpoint

    if not run_dir.is_dir():
        raise GanStudioError(f"--resume {run_dir}: no such run folder")
    checkpoint = latest_checkpoint(run_dir / "checkpoints")
    if checkpoint is None:
        raise GanStudioError(f"--resume {run_dir}: no readable checkpoint in "
                             f"{run_dir / 'checkpoints'}")
    return RunConfig.from_dict(load_checkpoint(checkpoint)["config"], source=str(checkpoint))


def train(config: RunConfig, run_dir: Path | None, *, resume: bool = False, quiet: bool = False,
          progress_bar: bool = True, fork_from: Path | None = None,
          log_handler: "_ReporterLogHandler | None" = None) -> int:
    from ganstudio.engine.control import TrainingControl
    from ganstudio.engine.events import TrainingFinished
    from ganstudio.engine.trainer import Trainer

    control = TrainingControl()
    reporter = ConsoleReporter(quiet=quiet, progress_bar=progress_bar, control=control)
    trainer = Trainer(config, run_dir=run_dir, observer=reporter, control=control, resume=resume,
                      fork_from=fork_from)
    interrupted = _install_interrupt_handler(control, reporter)
    if log_handler is not None:
        log_handler.reporter = reporter
    try:
        final = trainer.run()
    finally:
        if log_handler is not None:
            log_handler.reporter = None
        reporter.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if isinstance(final, TrainingFinished):
        if not quiet:
            where = f"; checkpoint {final.checkpoint}" if final.checkpoint else ""
            print(f"{'Stopped' if final.reason == 'stopped' else 'Finished'} at step "
                  f"{final.step} in {final.elapsed:.1f} s{where}")
            if final.note:
                print(final.note)
            print(f"Run folder: {trainer.run_dir}")
            if reporter.stopping_alarm is not None:
                alarm = reporter.stopping_alarm
                print(f"Stopped by the alarm \"{alarm.title}\" (health.auto_pause). Rewind with: "
                      f"ganstudio-train --fork {trainer.run_dir} --from-step "
                      f"{max(0, alarm.step - 1)} --set ... ; or continue with: ganstudio-train "
                      f"--resume {trainer.run_dir} --set health.auto_pause=false")
            elif final.reason == "stopped":
                print(f"Continue with: ganstudio-train --resume {trainer.run_dir}")
        if interrupted.is_set():
            return EXIT_INTERRUPTED
        return EXIT_ALARM if reporter.stopping_alarm is not None else EXIT_OK
    print(f"ganstudio-train: error: {final.message}", file=sys.stderr)
    if final.checkpoint:
        print(f"The last good checkpoint is intact: {final.checkpoint}", file=sys.stderr)
    return EXIT_FAILED


def _install_interrupt_handler(control, reporter) -> threading.Event:
    interrupted = threading.Event()

    def on_sigint(signum, frame):
        if interrupted.is_set():  # second Ctrl-C: the person really wants out now
            raise KeyboardInterrupt
        interrupted.set()
        reporter.message("Stopping after this step and saving a checkpoint "
                         "(Ctrl-C again to quit without saving)...")
        control.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_sigint)
    return interrupted


class ConsoleReporter:
    """Progress bar (or plain lines) for the events of a run.

    Health alarms print as WARNING lines (also with ``--quiet``). Nobody is at a terminal to
    press Continue, so an alarm that pauses training (``health.auto_pause``) stops the run
    instead: a checkpoint is saved (unless the state is NaN) and the exit status is 3.
    """

    def __init__(self, *, quiet: bool, progress_bar: bool, control=None):
        self.quiet = quiet
        self.progress_bar = progress_bar
        self.control = control
        self.bar = None
        self.stopping_alarm = None
        self._lock = threading.Lock()

    def message(self, text: str, important: bool = False, stderr: bool = False) -> None:
        if self.quiet and not important:
            return
        with self._lock:
            if self.bar is not None:
                self.bar.write(text)
            else:
                print(text, file=sys.stderr if stderr else sys.stdout, flush=True)

    def close(self) -> None:
        with self._lock:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    def on_event(self, event) -> None:
        from ganstudio.engine import events as ev

        if isinstance(event, ev.TrainingStarted):
            verb = "Resuming" if event.start_step else "Training"
            if event.parent is not None:
                self.message(f"Forked from {event.parent} at step {event.fork_step:,}")
                verb = "Training the fork:"
            size = f"{event.dataset_size:,} items" if event.dataset_size else "infinite"
            self.message(f"{verb} {event.architecture} on {event.dataset} ({size}) with "
                         f"{event.device_name}; run folder {event.run_dir}")
            if event.dataset_message:
                self.message(f"Note: {event.dataset_message}")
            if self.progress_bar:
                from tqdm import tqdm

                with self._lock:
                    self.bar = tqdm(total=event.total_steps, initial=event.start_step,
                                    unit="step", dynamic_ncols=True, file=sys.stderr)
        elif isinstance(event, ev.StepMetrics):
            text = (f"D {event.d_loss:.3f}  G {event.g_loss:.3f}  D(x) {event.d_real:.2f}  "
                    f"D(G(z)) {event.d_fake:.2f}  {event.images_per_sec:,.0f} img/s")
            with self._lock:
                if self.bar is not None:
                    self.bar.update(event.step - self.bar.n)
                    self.bar.set_postfix_str(text, refresh=True)
                    return
            self.message(f"step {event.step}: {text}")
        elif isinstance(event, ev.HealthAlarm):
            self.message(f"WARNING: {event.title} at step {event.step:,}: {event.message}",
                         important=True)
            if event.paused and self.control is not None:
                self.stopping_alarm = event
                self.message("Stopping the run with a checkpoint (health.auto_pause; "
                             "--set health.auto_pause=false trains on through alarms).",
                             important=True)
                self.control.stop()
        elif isinstance(event, ev.QualityMetrics):
            parts = [f"FD {event.fd:.4g}"]
            if event.kid is not None:
                parts.append(f"KID {event.kid:.4g}")
            if event.precision is not None:
                parts.append(f"precision {event.precision:.2f}  recall {event.recall:.2f}")
            self.message(f"step {event.step}: quality ({event.extractor}, {event.samples} "
                         f"samples, {event.seconds:.1f} s): {'  '.join(parts)}")
        elif isinstance(event, ev.CheckpointSaved):
            log.debug("%s saved: %s", event.kind, event.path)
        elif isinstance(event, ev.TrainingFinished):
            with self._lock:
                if self.bar is not None:
                    self.bar.update(event.step - self.bar.n)


class _ReporterLogHandler(logging.Handler):
    """Log records on stderr, through the reporter while one runs, so they never tear the
    progress bar. Records of events the reporter prints itself (health alarms, quality
    lines) are left to it."""

    def __init__(self, quiet: bool):
        super().__init__(level=logging.ERROR if quiet else logging.INFO)
        self.reporter: ConsoleReporter | None = None
        self.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "reported_as_event", False):
            return
        try:
            text = self.format(record)
            reporter = self.reporter
            if reporter is not None:
                reporter.message(text, important=True, stderr=True)
            else:
                print(text, file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


def _list_datasets() -> int:
    from ganstudio.data import list_datasets

    rows = list_datasets()
    width = max(len(r.name) for r in rows)
    for row in rows:
        print(f"{row.name:<{width}}  {row.group:<11}  {row.kind:<6}  {row.description}")
    return EXIT_OK


def _list_models() -> int:
    from ganstudio.config import LOSSES
    from ganstudio.models import MODELS

    for name, info in MODELS.items():
        print(f"{name:<6}  {info.description}")
    print(f"\nlosses: {', '.join(LOSSES)}")
    print("options: --set model.conditional=true, model.spectral_norm=true, optim.ema=true, "
          "objective.r1_gamma=10, objective.diffaugment=color,translation,cutout")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
