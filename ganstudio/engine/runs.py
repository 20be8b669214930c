"""Run folders as a family: restore points to rewind to, forks that know their parent, status.

* **Restore points** are full checkpoints a run can continue from: the ``snapshots/`` ring
  (``train.snapshot_every``, newest ``train.snapshot_keep`` kept) and ``checkpoints/``.
* **A fork** is a new run folder that starts from one restore point of another run with some
  hyperparameters changed (:data:`~ganstudio.config.FORK_CHANGES`: only settings that leave
  every weight and optimiser-state shape as it was). It records ``lineage.json``
  (parent folder, fork step, the restore point, what changed) and starts with the parent's
  history up to the fork step — report lines marked ``"inherited": true`` and the parent's
  sample grids linked in — so its curves and gallery are continuous on their own.
* **status.json** says whether a run is running (and in which process), completed, stopped or
  failed, for the window's run list.

Nothing here imports Qt; the CLI and the window share it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from ganstudio.config import FORK_CHANGES, RunConfig, iter_fields, resolve_d_norm
from ganstudio.engine.checkpoint import list_checkpoints
from ganstudio.engine.files import atomic_write_text
from ganstudio.errors import ConfigError, GanStudioError

log = logging.getLogger(__name__)

LINEAGE_FILE = "lineage.json"
STATUS_FILE = "status.json"
SNAPSHOT_FOLDER = "snapshots"
CHECKPOINT_FOLDER = "checkpoints"


# ----- restore points -----------------------------------------------------------------------

@dataclass(frozen=True)
class RestorePoint:
    step: int
    path: Path
    kind: str      # "snapshot" or "checkpoint"


def restore_points(run_dir: Path | str) -> list[RestorePoint]:
    """Every snapshot and checkpoint of a run, oldest first (one per step)."""
    run_dir = Path(run_dir)
    points: dict[int, RestorePoint] = {}
    for step, path in list_checkpoints(run_dir / SNAPSHOT_FOLDER):
        points[step] = RestorePoint(step, path, "snapshot")
    for step, path in list_checkpoints(run_dir / CHECKPOINT_FOLDER):
        points[step] = RestorePoint(step, path, "checkpoint")  # kept longer than the ring
    return [points[s] for s in sorted(points)]


def restore_point_at(run_dir: Path | str, step: int) -> RestorePoint:
    """The newest restore point at or before ``step`` (what "fork from step N" starts from)."""
    points = restore_points(run_dir)
    before = [p for p in points if p.step <= step]
    if before:
        return before[-1]
    if points:
        raise GanStudioError(f"{run_dir}: no snapshot or checkpoint at or before step "
                             f"{step:,}; the earliest is at step {points[0].step:,}")
    raise GanStudioError(f"{run_dir}: no snapshots or checkpoints to fork from (snapshots are "
                         "kept every train.snapshot_every steps)")


# ----- fork rules ---------------------------------------------------------------------------

def changed_settings(parent: RunConfig, child: RunConfig) -> dict[str, list[Any]]:
    """``{setting: [parent value, child value]}`` for every field that differs."""
    return {spec.path: [parent.get(spec.path), child.get(spec.path)] for spec in iter_fields()
            if parent.get(spec.path) != child.get(spec.path)}


def check_fork_config(parent: RunConfig, child: RunConfig, fork_step: int) -> None:
    """Raise a ConfigError naming the field when ``child`` cannot continue ``parent``'s state."""
    for path in changed_settings(parent, child):
        if path not in FORK_CHANGES:
            raise ConfigError(path, "cannot change in a fork: it defines the model or the "
                              "data, so the parent's weights would not fit (start a new run "
                              "to change it)")
    before, after = resolve_d_norm(parent), resolve_d_norm(child)
    if before != after:
        culprit = next((p for p in ("objective.loss", "objective.r1_gamma")
                        if parent.get(p) != child.get(p)), "objective.loss")
        raise ConfigError(culprit, f"would switch the discriminator's normalisation from "
                          f"{before} to {after} (model.d_norm is auto), so the parent's "
                          "weights would not fit")
    if child.train.steps <= fork_step:
        raise ConfigError("train.steps", f"must be more than the fork step {fork_step:,} "
                          "for the fork to train at all")


def fork_config(parent: RunConfig, changes: Mapping[str, Any], fork_step: int) -> RunConfig:
    """The parent's config with ``changes`` applied and checked for a fork at ``fork_step``."""
    child = parent.copy()
    for key, value in changes.items():
        child.set(key, value)
    child.validate()
    check_fork_config(parent, child, fork_step)
    return child


def fork_run_dir(parent_dir: Path | str, step: int, base: Path | str | None = None) -> Path:
    """``<base>/<parent name>-fork-<step>`` (``base``: the parent's folder), never existing."""
    parent_dir = Path(parent_dir)
    base = Path(base) if base is not None else parent_dir.parent
    folder = base / f"{parent_dir.name}-fork-{step}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = base / f"{parent_dir.name}-fork-{step}-{suffix}"
    return folder


# ----- lineage ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lineage:
    parent: Path                  # the parent run folder
    fork_step: int
    restore_point: Path           # the snapshot or checkpoint the fork started from
    changes: dict[str, list[Any]] = field(default_factory=dict)
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"parent": str(self.parent), "parent_name": self.parent.name,
                "fork_step": self.fork_step, "restore_point": str(self.restore_point),
                "changes": self.changes, "created": self.created}


def write_lineage(run_dir: Path, lineage: Lineage) -> None:
    atomic_write_text(Path(run_dir) / LINEAGE_FILE,
                      json.dumps(lineage.to_dict(), indent=2, default=str) + "\n")


def read_lineage(run_dir: Path | str) -> Lineage | None:
    """A fork's lineage, or None for a run that is not a fork (or an unreadable file)."""
    path = Path(run_dir) / LINEAGE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Lineage(Path(data["parent"]), int(data["fork_step"]),
                       Path(data["restore_point"]), dict(data.get("changes", {})),
                       str(data.get("created", "")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s: unreadable lineage (%s)", path, exc)
        return None


def fork_header(lineage: Lineage) -> str:
    """Lines for the top of a fork's config.toml."""
    changes = ", ".join(f"{k} {v[0]!r} -> {v[1]!r}" for k, v in lineage.changes.items())
    return (f"# [fork] forked from {lineage.parent} at step {lineage.fork_step:,}\n"
            f"#   restore point: {lineage.restore_point}\n"
            f"#   changed: {changes or 'nothing (an exact continuation)'}\n"
            "#   (lineage.json holds the same, for programs)\n")


def inherit_history(parent_dir: Path, child_dir: Path, fork_step: int) -> int:
    """Give a fork its parent's history up to ``fork_step``; returns the report lines copied.

    Metrics lines (losses, quality, alarms) are copied with ``"inherited": true``; sample
    grids and the real-feature cache are hard-linked (copied where links are impossible).
    """
    parent_dir, child_dir = Path(parent_dir), Path(child_dir)
    lines = []
    source = parent_dir / "metrics.jsonl"
    if source.is_file():
        for line in source.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a kill mid-write
            if isinstance(row, dict) and int(row.get("step", 0)) <= fork_step:
                row["inherited"] = True
                lines.append(json.dumps(row))
    atomic_write_text(child_dir / "metrics.jsonl", "".join(line + "\n" for line in lines))
    for folder, keep in (("samples", lambda p: _step_of(p) is not None
                          and _step_of(p) <= fork_step),
                         ("quality", lambda p: p.suffix == ".npz")):
        src = parent_dir / folder
        if not src.is_dir():
            continue
        (child_dir / folder).mkdir(parents=True, exist_ok=True)
        for path in src.iterdir():
            if path.is_file() and keep(path):
                _link_or_copy(path, child_dir / folder / path.name)
    return len(lines)


def _step_of(path: Path) -> int | None:
    stem = path.stem
    if stem.startswith("step-") and stem[5:].isdigit():
        return int(stem[5:])
    return None


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# ----- status -------------------------------------------------------------------------------

def write_status(run_dir: Path, state: str, step: int, message: str = "",
                 checkpoint: Path | None = None) -> None:
    """``state``: running, completed, stopped or failed (the last three end a run)."""
    data = {"state": state, "step": step, "message": message,
            "checkpoint": str(checkpoint) if checkpoint else None,
            "pid": os.getpid(), "host": socket.gethostname(),
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        atomic_write_text(Path(run_dir) / STATUS_FILE, json.dumps(data, indent=2) + "\n")
    except OSError as exc:  # status is a convenience; never fail a run over it
        log.warning("cannot write %s: %s", Path(run_dir) / STATUS_FILE, exc)


def read_status(run_dir: Path | str) -> dict[str, Any]:
    """The run's status; a "running" run whose process is gone reads as "interrupted"."""
    try:
        data = json.loads((Path(run_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    if data.get("state") == "running" and not _process_alive(data):
        data["state"] = "interrupted"
    return data


def _process_alive(data: Mapping[str, Any]) -> bool:
    if data.get("host") != socket.gethostname():
        return True  # another machine's run: trust what it says
    try:
        os.kill(int(data.get("pid", -1)), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


# ----- the runs of a folder -----------------------------------------------------------------

@dataclass(frozen=True)
class RunSummary:
    path: Path
    name: str
    dataset: str
    architecture: str
    steps_done: int
    total_steps: int
    status: str          # running, completed, stopped, failed, interrupted, or "" (unknown)
    parent: Path | None
    fork_step: int | None
    modified: float


def summarize_run(run_dir: Path | str) -> RunSummary | None:
    """What the run list shows of one folder (None when it is not a run folder)."""
    run_dir = Path(run_dir)
    config_path = run_dir / "config.toml"
    if not config_path.is_file():
        return None
    try:
        config = RunConfig.from_toml(config_path)
        dataset, arch, total = Path(config.data.name).name, config.model.architecture, \
            config.train.steps
    except GanStudioError:
        dataset, arch, total = "?", "?", 0
    status = read_status(run_dir)
    lineage = read_lineage(run_dir)
    done = max(int(status.get("step", 0) or 0), _last_reported_step(run_dir),
               max((s for s, _ in list_checkpoints(run_dir / CHECKPOINT_FOLDER)), default=0))
    try:
        modified = max(p.stat().st_mtime for p in (config_path, run_dir / "metrics.jsonl",
                                                   run_dir / STATUS_FILE) if p.exists())
    except OSError:
        modified = 0.0
    return RunSummary(run_dir, run_dir.name, dataset, arch, done, total,
                      str(status.get("state", "")), lineage.parent if lineage else None,
                      lineage.fork_step if lineage else None, modified)


def _last_reported_step(run_dir: Path, tail_bytes: int = 4096) -> int:
    """The newest step in metrics.jsonl, read from the file's end (cheap for long runs)."""
    path = run_dir / "metrics.jsonl"
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - tail_bytes))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return 0
    best = 0
    for line in tail.splitlines():
        try:
            best = max(best, int(json.loads(line).get("step", 0)))
        except (ValueError, AttributeError, TypeError):
            continue
    return best


def scan_runs(folder: Path | str) -> list[RunSummary]:
    """Every run folder directly inside ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        if entry.is_dir():
            summary = summarize_run(entry)
            if summary is not None:
                found.append(summary)
    return sorted(found, key=lambda s: (s.modified, s.name))
