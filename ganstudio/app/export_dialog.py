"""The dialog that asks where and how big to export snapshots (1×–8×, nearest or smooth)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio.app.resources import icon
from ganstudio.app.snapshot_export import ExportOptions


class ExportDialog(QDialog):
    """``folder=False``: a PNG file; ``folder=True``: a folder for every snapshot."""

    def __init__(self, target: Path, *, folder: bool, count: int = 1,
                 source_size: tuple[int, int] | None = None, scale: int = 1,
                 smooth: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self._folder = folder
        self._source_size = source_size
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export all snapshots" if folder else "Export snapshot")
        layout = QVBoxLayout(self)
        if folder:
            intro = QLabel(f"Writes the {count:,} sample grids of this run into a folder, "
                           "each with its run, step, seed and checkpoint in the PNG's text.")
        else:
            intro = QLabel("Writes this sample grid as a PNG whose text records its run, "
                           "step, seed and checkpoint.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        row = QHBoxLayout()
        self.path_edit = QLineEdit(str(target))
        self.path_edit.setObjectName("exportPath")
        self.path_edit.setAccessibleName("Export folder" if folder else "Export file")
        self.path_edit.setToolTip("Where the PNG files go" if folder else "The PNG file to write")
        self.path_edit.textChanged.connect(self._update)
        browse = QToolButton()
        browse.setObjectName("exportBrowse")
        browse.setIcon(icon("folder"))
        browse.setAccessibleName("Browse")
        browse.setToolTip("Choose the folder" if folder else "Choose the file")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("Folder" if folder else "File", row)
        self.scale_spin = QSpinBox()
        self.scale_spin.setObjectName("exportScale")
        self.scale_spin.setAccessibleName("Scale")
        self.scale_spin.setToolTip("Enlarge each image by this whole factor (1× to 8×)")
        self.scale_spin.setRange(1, 8)
        self.scale_spin.setSuffix("×")
        self.scale_spin.setValue(scale)
        self.scale_spin.valueChanged.connect(self._update)
        form.addRow("Scale", self.scale_spin)
        self.resample_combo = QComboBox()
        self.resample_combo.setObjectName("exportResample")
        self.resample_combo.setAccessibleName("Resampling")
        self.resample_combo.setToolTip("Nearest keeps every pixel a crisp square; smooth "
                                       "(Lanczos) blends them")
        self.resample_combo.addItem("Nearest (crisp pixels)", False)
        self.resample_combo.addItem("Smooth", True)
        self.resample_combo.setCurrentIndex(1 if smooth else 0)
        form.addRow("Resampling", self.resample_combo)
        self.size_label = QLabel()
        self.size_label.setObjectName("exportSizeLabel")
        form.addRow("Size", self.size_label)
        layout.addLayout(form)
        self.error_label = QLabel()
        self.error_label.setObjectName("exportError")
        self.error_label.setStyleSheet("color: #d73a49;")
        self.error_label.setWordWrap(True)
        layout.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Export")
        ok.setObjectName("exportOkButton")
        ok.setAccessibleName("Export")
        ok.setToolTip("Write the PNG" + ("s" if folder else ""))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("exportCancelButton")
        cancel.setAccessibleName("Cancel")
        cancel.setToolTip("Close without exporting")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update()

    @property
    def target(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    @property
    def options(self) -> ExportOptions:
        return ExportOptions(self.scale_spin.value(), bool(self.resample_combo.currentData()))

    def _problem(self) -> str:
        text = self.path_edit.text().strip()
        if not text:
            return "Choose where to export."
        target = self.target
        if self._folder:
            if target.exists() and not target.is_dir():
                return f"{target} is a file, not a folder."
        else:
            if target.is_dir():
                return f"{target} is a folder; give a file name ending in .png."
            if target.suffix.lower() != ".png":
                return "The file name must end in .png."
        return ""

    def _update(self) -> None:
        problem = self._problem()
        self.error_label.setText(problem)
        self.error_label.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
        if self._source_size:
            w, h = self._source_size
            s = self.scale_spin.value()
            self.size_label.setText(f"{w * s:,} × {h * s:,} pixels")
        else:
            self.size_label.setText(f"{self.scale_spin.value()}× the saved grid")

    def _browse(self) -> None:
        if self._folder:
            chosen = QFileDialog.getExistingDirectory(self, "Export into", str(self.target))
        else:
            chosen, _filter = QFileDialog.getSaveFileName(self, "Export snapshot",
                                                          str(self.target), "PNG images (*.png)")
        if chosen:
            self.path_edit.setText(chosen)
