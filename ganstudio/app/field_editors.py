"""Input widgets generated from the config's field metadata (help, range, choices).

Every field of :class:`~ganstudio.config.RunConfig` gets an editor from :func:`make_editor`:
a check box for booleans, a combo box for choices, a spin box for integers, a text field for
numbers like ``2e-4``. The editor shows the field's help and range as its tooltip and an error
message right under itself; parsing and range checks are left to ``RunConfig.set`` so the window
accepts exactly what the CLI and TOML files accept.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio.config import FieldSpec, describe_range
from ganstudio.app.theme import ERROR_COLOUR, tint_invalid

# What a person reads next to each field (the dotted name stays in the tooltip).
LABELS: dict[str, str] = {
    "data.name": "Dataset",
    "data.root": "Data folder",
    "data.download": "Download if missing",
    "data.split": "Split",
    "data.class_labels": "Use class labels",
    "data.channels": "Channels",
    "data.cache": "Cache decoded images",
    "model.architecture": "Model",
    "model.image_size": "Image size",
    "model.nz": "Latent size (nz)",
    "model.latent_distribution": "Latent distribution",
    "model.g_width": "G width",
    "model.d_width": "D width",
    "model.conditional": "Class-conditional",
    "model.spectral_norm": "Spectral norm on D",
    "model.d_norm": "D normalisation",
    "objective.loss": "Loss",
    "objective.gp_weight": "Gradient penalty weight",
    "objective.r1_gamma": "R1 penalty (γ)",
    "objective.d_steps": "D steps per step",
    "objective.g_steps": "G steps per step (k)",
    "objective.diffaugment": "DiffAugment",
    "optim.lr_g": "G learning rate",
    "optim.lr_d": "D learning rate",
    "optim.beta1_g": "G Adam β1",
    "optim.beta2_g": "G Adam β2",
    "optim.beta1_d": "D Adam β1",
    "optim.beta2_d": "D Adam β2",
    "optim.ema": "EMA of G",
    "optim.ema_decay": "EMA decay",
    "train.steps": "Steps",
    "train.batch_size": "Batch size",
    "train.seed": "Seed",
    "train.device": "Device",
    "train.log_every": "Report every",
    "train.sample_every": "Samples every",
    "train.sample_grid": "Sample grid side",
    "train.checkpoint_every": "Checkpoint every",
    "train.keep_checkpoints": "Checkpoints kept",
    "train.precision": "Precision",
    "train.cuda_graph": "CUDA graph",
    "train.threads": "CPU threads",
    "train.snapshot_every": "Snapshot every",
    "train.snapshot_keep": "Snapshots kept",
    "metrics.enabled": "Quality metrics",
    "metrics.every": "Metrics every",
    "metrics.samples": "Samples compared",
    "metrics.extractor": "Feature extractor",
    "metrics.inception_weights": "Inception weights",
    "metrics.kid": "KID",
    "metrics.kid_subsets": "KID subsets",
    "metrics.precision_recall": "Precision / recall",
    "health.enabled": "Watch for trouble",
    "health.auto_pause": "Pause on an alarm",
    "health.grad_norm_factor": "Gradient spike factor",
    "health.grad_norm_floor": "Gradient norm floor",
    "health.d_real_high": "D(x) at least",
    "health.d_fake_low": "D(G(z)) at most",
    "health.overpower_reports": "Reports in a row",
    "health.collapse_ratio": "Collapse diversity ratio",
}

CHOICE_LABELS: dict[str, dict[Any, str]] = {
    "data.channels": {0: "as the dataset", 1: "1 (greyscale)", 3: "3 (colour)"},
    "model.architecture": {"auto": "auto (DCGAN for images, MLP for points)", "dcgan": "DCGAN",
                           "mlp": "MLP (fully connected)"},
    "objective.loss": {"nonsaturating": "non-saturating (Goodfellow)", "hinge": "hinge",
                       "wgan-gp": "WGAN-GP", "lsgan": "least squares (LSGAN)"},
    "metrics.extractor": {"random-conv-v1": "random-conv-v1 (offline, fast)",
                          "inception-v3-fid": "inception-v3-fid (FID; needs its weights)"},
}

# What an empty text field means, for text settings (numbers show their range instead).
PLACEHOLDERS = {"diffaugment": "off (or e.g. color,translation,cutout)",
                "path": "no file chosen"}

_INT32_MAX = 2**31 - 1


def label_for(spec: FieldSpec) -> str:
    return LABELS.get(spec.path, spec.name.replace("_", " ").capitalize())


def object_name_for(path: str) -> str:
    """``train.batch_size`` -> ``field_train_batch_size`` (stable, used by tests and a11y)."""
    return "field_" + path.replace(".", "_")


def tooltip_for(spec: FieldSpec) -> str:
    default = spec.default if spec.default != "" else "empty"
    return (f"{spec.help}\n\nAccepts {describe_range(spec)}; default {default}.\n"
            f"Setting: {spec.path}")


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class FieldEditor(QWidget):
    """One config field: an input widget and, under it, the field's error message."""

    edited = Signal()

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self.setObjectName("fieldRow_" + spec.path.replace(".", "_"))
        self._error: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self._row = QHBoxLayout()
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(4)
        layout.addLayout(self._row)
        self.error_label = QLabel()
        self.error_label.setObjectName("error_" + spec.path.replace(".", "_"))
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.input = self._make_input()
        self.input.setObjectName(object_name_for(spec.path))
        self.input.setToolTip(tooltip_for(spec))
        self.input.setAccessibleName(label_for(spec))
        self.input.setAccessibleDescription(spec.help)
        self._row.addWidget(self.input, 1)

    # ----- to override ------------------------------------------------------------------------
    def _make_input(self) -> QWidget:
        raise NotImplementedError

    def value(self) -> Any:
        """The raw value for ``RunConfig.set`` (text for text fields, so it can be rejected)."""
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    # ----- common -----------------------------------------------------------------------------
    def add_button(self, button: QToolButton) -> None:
        self._row.addWidget(button)

    @property
    def error(self) -> str | None:
        return self._error

    def set_error(self, message: str | None) -> None:
        if message == self._error:
            return
        self._error = message
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))
        self._apply_tint()
        if message:
            self.input.setToolTip(f"{message}\n\n{tooltip_for(self.spec)}")
            self.input.setAccessibleDescription(f"Error: {message}. {self.spec.help}")
        else:
            self.input.setToolTip(tooltip_for(self.spec))
            self.input.setAccessibleDescription(self.spec.help)

    def _apply_tint(self) -> None:
        # An empty QPalette resolves nothing, so a valid input inherits theme changes again.
        self.input.setPalette(tint_invalid(QApplication.palette()) if self._error
                              else QPalette())

    def refresh_palette(self) -> None:
        """The theme changed: re-tint an invalid input in the new colours."""
        self._apply_tint()


class BoolEditor(FieldEditor):
    def _make_input(self) -> QWidget:
        box = QCheckBox()
        box.toggled.connect(self.edited)
        return box

    def value(self) -> bool:
        return self.input.isChecked()

    def set_value(self, value: Any) -> None:
        self.input.setChecked(bool(value))


class ChoiceEditor(FieldEditor):
    def _make_input(self) -> QWidget:
        combo = QComboBox()
        # Long labels must not widen the run panel: the popup still shows them in full.
        combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        labels = CHOICE_LABELS.get(self.spec.path, {})
        for choice in self.spec.choices or ():
            combo.addItem(labels.get(choice, str(choice)), choice)
        combo.currentIndexChanged.connect(self.edited)
        return combo

    def set_choices(self, choices: list[tuple[Any, str]]) -> None:
        """Replace the items (``(value, label)``), keeping the current value when possible."""
        combo: QComboBox = self.input
        current = self.value()
        combo.blockSignals(True)
        combo.clear()
        for value, label in choices:
            combo.addItem(label, value)
        combo.blockSignals(False)
        self.set_value(current)

    def value(self) -> Any:
        combo: QComboBox = self.input
        data = combo.currentData()
        return data if data is not None else combo.currentText()

    def set_value(self, value: Any) -> None:
        combo: QComboBox = self.input
        index = combo.findData(value)
        if index < 0:
            combo.addItem(str(value), value)  # e.g. "cuda:3" from a config made elsewhere
            index = combo.count() - 1
        combo.setCurrentIndex(index)


class IntEditor(FieldEditor):
    def _make_input(self) -> QWidget:
        spin = QSpinBox()
        low = int(self.spec.min) if self.spec.min is not None else -_INT32_MAX
        high = int(self.spec.max) if self.spec.max is not None else _INT32_MAX
        spin.setRange(max(low, -_INT32_MAX), min(high, _INT32_MAX))
        spin.setGroupSeparatorShown(True)
        spin.setKeyboardTracking(False)  # "128" is one edit, not 1, 12, 128
        spin.setAccelerated(True)
        spin.valueChanged.connect(self.edited)
        return spin

    def value(self) -> int:
        return self.input.value()

    def set_value(self, value: Any) -> None:
        self.input.setValue(int(value))


class TextEditor(FieldEditor):
    """Numbers that do not suit a spin box (``2e-4``, 64-bit seeds) and free text."""

    def _make_input(self) -> QWidget:
        line = QLineEdit()
        line.textEdited.connect(self.edited)
        if self.spec.type in (int, float):
            line.setAlignment(Qt.AlignmentFlag.AlignRight)
        line.setPlaceholderText(PLACEHOLDERS.get(self.spec.kind or "", "")
                                if self.spec.type is str else describe_range(self.spec))
        return line

    def value(self) -> str:
        return self.input.text()

    def set_value(self, value: Any) -> None:
        self.input.setText(format_value(value))


def make_editor(spec: FieldSpec, parent: QWidget | None = None) -> FieldEditor:
    if spec.type is bool:
        return BoolEditor(spec, parent)
    if spec.choices is not None:
        return ChoiceEditor(spec, parent)
    if spec.kind == "device":
        editor = ChoiceEditor(spec, parent)
        editor.set_choices([("auto", "Automatic"), ("cpu", "CPU")])
        return editor
    if spec.type is int and (spec.max is None or spec.max <= _INT32_MAX):
        return IntEditor(spec, parent)
    return TextEditor(spec, parent)
