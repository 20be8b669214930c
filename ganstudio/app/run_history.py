"""Reading what a run folder holds, for opening it in the window (no Qt; runs off the GUI thread).

A run folder is what the trainer writes (see :mod:`ganstudio.engine.trainer`): ``config.toml``,
``metrics.jsonl``, ``samples/step-*.png`` (+ ``.npz`` for 2-D runs) and ``checkpoints/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganstudio.config import RunConfig
from ganstudio.errors import GanStudioError

_SAMPLE_FILE = re.compile(r"^step-(\d+)\.png$")


@dataclass
class RunHistory:
    run_dir: Path
    config: RunConfig | None
    config_error: str = ""
    metrics: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[tuple[int, Path]] = field(default_factory=list)
    checkpoints: list[tuple[int, Path]] = field(default_factory=list)
    last_points: dict[str, Any] | None = None
    output_kind: str = "probability"
    quality: list[dict[str, Any]] = field(default_factory=list)   # "kind": "quality" lines
    alarms: list[dict[str, Any]] = field(default_factory=list)    # "kind": "alarm" lines
    lineage: Any = None          # ganstudio.engine.runs.Lineage of a fork, else None

    @property
    def checkpoint_step(self) -> int:
        """The step a resume continues from (the newest checkpoint), 0 without one."""
        return self.checkpoints[-1][0] if self.checkpoints else 0

    @property
    def last_step(self) -> int:
        steps = [self.checkpoint_step]
        if self.metrics:
            steps.append(int(self.metrics[-1].get("step", 0)))
        if self.snapshots:
            steps.append(self.snapshots[-1][0])
        return max(steps)

    @property
    def resumable(self) -> bool:
        return self.config is not None and bool(self.checkpoints)


def is_run_dir(path: Path) -> bool:
    path = Path(path)
    return path.is_dir() and ((path / "config.toml").is_file()
                              or (path / "checkpoints").is_dir()
                              or (path / "metrics.jsonl").is_file())


def run_dir_of(path: Path) -> Path | None:
    """The run folder a path belongs to: itself, or the run holding a checkpoint or export."""
    path = Path(path)
    if path.is_dir():
        return path if is_run_dir(path) else None
    for candidate in (path.parent, path.parent.parent):
        if is_run_dir(candidate) and (candidate / "config.toml").is_file():
            return candidate
    return None


def list_snapshots(run_dir: Path) -> list[tuple[int, Path]]:
    folder = Path(run_dir) / "samples"
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        match = _SAMPLE_FILE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry))
    return sorted(found)


def load_history(run_dir: Path) -> RunHistory:
    """Everything the window shows about an existing run."""
    import numpy as np

    from ganstudio.engine.checkpoint import list_checkpoints
    from ganstudio.engine.objectives import OUTPUT_KIND
    from ganstudio.engine.runs import read_lineage
    from ganstudio.engine.trainer import read_metric_lines, split_metric_lines

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise GanStudioError(f"{run_dir}: no such folder")
    config, error = None, ""
    try:
        config = RunConfig.from_toml(run_dir / "config.toml")
    except GanStudioError as exc:
        error = str(exc)
    # Loss reports, quality lines and alarm lines share metrics.jsonl; each goes to its own
    # place (quality lines must never become points of the loss curves).
    lines = split_metric_lines(read_metric_lines(run_dir))
    history = RunHistory(run_dir, config, error, lines["report"], list_snapshots(run_dir),
                         list_checkpoints(run_dir / "checkpoints"), quality=lines["quality"],
                         alarms=lines["alarm"], lineage=read_lineage(run_dir))
    if config is not None:
        history.output_kind = OUTPUT_KIND.get(config.objective.loss, "probability")
    point_files = sorted((run_dir / "samples").glob("step-*.npz")) \
        if (run_dir / "samples").is_dir() else []
    if point_files:
        try:
            with np.load(point_files[-1]) as data:
                history.last_points = {k: data[k] for k in data.files}
                match = re.match(r"step-(\d+)", point_files[-1].stem)
                history.last_points["step"] = int(match.group(1)) if match else 0
        except (OSError, ValueError):
            history.last_points = None  # a torn file from a kill: the PNGs still show the run
    return history
