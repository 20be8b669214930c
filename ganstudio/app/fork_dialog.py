"""The fork dialog: continue a run from one of its snapshots, in a new folder, with new settings.

It lists the run's restore points (snapshots and checkpoints; the newest at or before the
clicked step is chosen), shows the run panel's editors for the settings a fork may change
(:data:`~ganstudio.config.FORK_CHANGES`; the most useful ones) prefilled with the values in
effect at that point, checks them with the engine's own fork rules
(:func:`ganstudio.engine.runs.fork_config`) at the field, and names the new run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ganstudio.app.field_editors import FieldEditor, format_value, label_for, make_editor
from ganstudio.app.theme import ERROR_COLOUR
from ganstudio.config import RunConfig, field_spec
from ganstudio.errors import ConfigError

# Offered in the dialog, in this order (every other fork-changeable setting keeps its value).
FORK_FIELDS = ("optim.lr_g", "optim.lr_d", "objective.d_steps", "objective.g_steps",
               "objective.loss", "train.batch_size", "optim.beta1_g", "optim.beta1_d",
               "optim.ema", "objective.r1_gamma", "objective.diffaugment", "train.seed",
               "train.steps")


class ForkDialog(QDialog):
    def __init__(self, parent_run: Path, parent_config: RunConfig, points: list[Any],
                 chosen: Any, runs_folder: Path, requested_step: int,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("forkDialog")
        self.setWindowTitle(f"Fork {parent_run.name}")
        self.setMinimumWidth(460)
        self.parent_run = Path(parent_run)
        self.parent_config = parent_config
        self.points = list(points)
        self.runs_folder = Path(runs_folder)
        self.requested_step = requested_step
        self._editors: dict[str, FieldEditor] = {}
        self._config: RunConfig | None = None
        self._name_edited = False

        layout = QVBoxLayout(self)
        intro = QLabel(f"Continue <b>{parent_run.name}</b> in a new run folder from one of its "
                       "snapshots, with the settings below. The new run records its parent "
                       "and starts with the parent's curves and samples up to that step.")
        intro.setWordWrap(True)
        intro.setObjectName("forkIntro")
        layout.addWidget(intro)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.point_combo = QComboBox()
        self.point_combo.setObjectName("forkRestorePoint")
        self.point_combo.setAccessibleName("Snapshot to start from")
        self.point_combo.setToolTip("The saved state the fork starts from: a snapshot (the "
                                    "ring kept every train.snapshot_every steps) or a "
                                    "checkpoint. Chosen: the newest at or before the step you "
                                    "clicked.")
        for point in self.points:
            self.point_combo.addItem(f"step {point.step:,} ({point.kind})", point.step)
        self.point_combo.setCurrentIndex(max(0, self.points.index(chosen)))
        self.point_combo.currentIndexChanged.connect(self._on_point_changed)
        form.addRow("Start from", self.point_combo)
        self.point_label = QLabel()
        self.point_label.setObjectName("forkPointInfo")
        self.point_label.setWordWrap(True)
        self.point_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("", self.point_label)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("forkRunName")
        self.name_edit.setAccessibleName("New run folder name")
        self.name_edit.setToolTip(f"The fork's folder, created in {self.runs_folder}")
        self.name_edit.textEdited.connect(self._on_name_edited)
        form.addRow("New run", self.name_edit)
        self.name_error = QLabel()
        self.name_error.setObjectName("forkRunNameError")
        self.name_error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.name_error.hide()
        form.addRow("", self.name_error)
        for path in FORK_FIELDS:
            editor = make_editor(field_spec(path))
            editor.input.setObjectName("fork_" + path.replace(".", "_"))
            editor.set_value(parent_config.get(path))
            editor.edited.connect(self._validate)
            self._editors[path] = editor
            label = QLabel(label_for(editor.spec))
            label.setBuddy(editor.input)
            form.addRow(label, editor)
        layout.addLayout(form)
        self.changes_label = QLabel()
        self.changes_label.setObjectName("forkChanges")
        self.changes_label.setWordWrap(True)
        layout.addWidget(self.changes_label)
        self.general_error = QLabel()
        self.general_error.setObjectName("forkError")
        self.general_error.setWordWrap(True)
        self.general_error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.general_error.hide()
        layout.addWidget(self.general_error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.setObjectName("forkButtons")
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Fork and Train")
        self.ok_button.setObjectName("forkAcceptButton")
        self.ok_button.setAccessibleName("Fork and train")
        self.ok_button.setToolTip("Create the new run folder and start training it")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("forkCancelButton")
        cancel.setAccessibleName("Cancel")
        cancel.setToolTip("Close without forking")
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._on_point_changed(self.point_combo.currentIndex())

    # ----- results ------------------------------------------------------------------------------
    @property
    def restore_point(self) -> Any:
        return self.points[self.point_combo.currentIndex()]

    @property
    def config(self) -> RunConfig | None:
        """The fork's validated config (None while something is wrong)."""
        return self._config

    @property
    def run_dir(self) -> Path:
        return self.runs_folder / self.name_edit.text().strip()

    def editor(self, path: str) -> FieldEditor:
        return self._editors[path]

    # ----- reactions ----------------------------------------------------------------------------
    def _on_point_changed(self, _index: int) -> None:
        point = self.restore_point
        where = point.path.relative_to(self.parent_run) if point.path.is_relative_to(
            self.parent_run) else point.path
        self.point_label.setText(f"Starts from the {point.kind} at step {point.step:,} "
                                 f"({where}).")
        if not self._name_edited:
            from ganstudio.engine.runs import fork_run_dir

            self.name_edit.setText(fork_run_dir(self.parent_run, point.step,
                                                self.runs_folder).name)
        steps = self._editors["train.steps"]
        if self.parent_config.train.steps <= point.step and not steps.error:
            steps.set_value(point.step + self.parent_config.train.steps)
        self._validate()

    def _on_name_edited(self, _text: str) -> None:
        self._name_edited = True
        self._validate()

    def _validate(self) -> None:
        from ganstudio.engine.runs import changed_settings, fork_config

        errors: dict[str, str] = {}
        changes: dict[str, Any] = {}
        for path, editor in self._editors.items():
            probe = RunConfig()
            try:
                probe.set(path, editor.value())
            except ConfigError as exc:
                errors[path] = exc.reason
                continue
            changes[path] = probe.get(path)
        config, general = None, ""
        if not errors:
            try:
                config = fork_config(self.parent_config, changes, self.restore_point.step)
            except ConfigError as exc:
                if exc.field in self._editors:
                    errors[exc.field] = exc.reason
                else:
                    general = str(exc)
        for path, editor in self._editors.items():
            editor.set_error(errors.get(path))
        name_error = self._name_error()
        self.name_error.setText(name_error)
        self.name_error.setVisible(bool(name_error))
        self.general_error.setText(general)
        self.general_error.setVisible(bool(general))
        self._config = config if not (errors or general or name_error) else None
        self.ok_button.setEnabled(self._config is not None)
        if config is not None:
            changed = {k: v for k, v in changed_settings(self.parent_config, config).items()
                       if k != "train.steps"}
            if changed:
                text = "Changes: " + "; ".join(
                    f"{label_for(field_spec(k))} {format_value(v[0])} → {format_value(v[1])}"
                    for k, v in changed.items())
            else:
                text = ("Nothing changed: the fork continues exactly as the parent did from "
                        "that step (change the seed to try the same state with new luck).")
            self.changes_label.setText(text)

    def _name_error(self) -> str:
        name = self.name_edit.text().strip()
        if not name:
            return "Name the new run folder"
        if any(c in name for c in "/\\") or name in (".", ".."):
            return "A folder name, not a path"
        if (self.runs_folder / name).exists():
            return f"{self.runs_folder / name} already exists"
        return ""

    def _accept_if_valid(self) -> None:
        self._validate()
        if self._config is not None:
            self.accept()
