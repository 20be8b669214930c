"""Asks where and how big to export the latent preview, or an N×N grid of seeds."""

from __future__ import annotations

from dataclasses import dataclass
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

from ganstudio.app.latent.icons import latent_icon
from ganstudio.app.theme import ERROR_COLOUR
from ganstudio.export.images import GRID_PADDING, GRID_SIZES, SCALES

PREVIEW = "preview"
GRID = "grid"


@dataclass(frozen=True)
class LatentExportChoice:
    path: Path
    scale: int
    smooth: bool
    grid: int          # N of the N x N grid (grid exports only)


class LatentExportDialog(QDialog):
    """``kind`` is :data:`PREVIEW` or :data:`GRID`; ``tile_size`` is the generator's (w, h)."""

    def __init__(self, kind: str, target: Path, *, tile_size: tuple[int, int], scale: int = 1,
                 smooth: bool = False, grid: int = 4, first_seed: int = 0,
                 points: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self._kind, self._tile_size, self._points = kind, tile_size, points
        self.setObjectName("latentExportDialog")
        self.setWindowTitle("Export grid of seeds" if kind == GRID else "Export preview")
        layout = QVBoxLayout(self)
        if kind == GRID:
            intro = (f"Renders an N×N grid of seeds starting at seed {first_seed:,}, row by row. "
                     "The PNG's text records the run, checkpoint, step and seeds.")
        else:
            intro = ("Writes the preview as a PNG whose text records the run, checkpoint, step, "
                     "seed and the exact latent vector, so it can be rendered again.")
        text = QLabel(intro)
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()

        row = QHBoxLayout()
        self.path_edit = QLineEdit(str(target))
        self.path_edit.setObjectName("latentExportPath")
        self.path_edit.setAccessibleName("Export file")
        self.path_edit.setToolTip("The PNG file to write")
        self.path_edit.textChanged.connect(self._update)
        browse = QToolButton()
        browse.setObjectName("latentExportBrowse")
        browse.setIcon(latent_icon("folder"))
        browse.setAccessibleName("Browse")
        browse.setToolTip("Choose the file")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("File", row)

        self.grid_spin = QSpinBox()
        self.grid_spin.setObjectName("latentExportGridSize")
        self.grid_spin.setAccessibleName("Grid size")
        self.grid_spin.setToolTip(f"Images per side: N×N seeds ({GRID_SIZES.start} to "
                                  f"{GRID_SIZES.stop - 1})")
        self.grid_spin.setRange(GRID_SIZES.start, GRID_SIZES.stop - 1)
        self.grid_spin.setValue(min(max(grid, GRID_SIZES.start), GRID_SIZES.stop - 1))
        self.grid_spin.setPrefix("N = ")
        self.grid_spin.valueChanged.connect(self._update)
        if kind == GRID:
            form.addRow("Grid", self.grid_spin)
        else:
            self.grid_spin.hide()

        self.scale_spin = QSpinBox()
        self.scale_spin.setObjectName("latentExportScale")
        self.scale_spin.setAccessibleName("Scale")
        self.scale_spin.setToolTip("Enlarge by this whole factor (1× to 8× the generator's "
                                   "resolution)")
        self.scale_spin.setRange(SCALES.start, SCALES.stop - 1)
        self.scale_spin.setSuffix("×")
        self.scale_spin.setValue(min(max(scale, SCALES.start), SCALES.stop - 1))
        self.scale_spin.valueChanged.connect(self._update)
        form.addRow("Scale", self.scale_spin)

        self.resample_combo = QComboBox()
        self.resample_combo.setObjectName("latentExportResample")
        self.resample_combo.setAccessibleName("Resampling")
        self.resample_combo.setToolTip("Nearest keeps every pixel a crisp square; smooth "
                                       "(Lanczos) blends them")
        self.resample_combo.addItem("Nearest (crisp pixels)", False)
        self.resample_combo.addItem("Smooth", True)
        self.resample_combo.setCurrentIndex(1 if smooth and not points else 0)
        self.resample_combo.setEnabled(not points)
        if points:
            self.resample_combo.setToolTip("A points plot is drawn at the chosen size, so there "
                                           "is nothing to resample")
        form.addRow("Resampling", self.resample_combo)

        self.size_label = QLabel()
        self.size_label.setObjectName("latentExportSize")
        form.addRow("Size", self.size_label)
        layout.addLayout(form)

        self.error_label = QLabel()
        self.error_label.setObjectName("latentExportError")
        self.error_label.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.error_label.setWordWrap(True)
        layout.addWidget(self.error_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Export")
        ok.setObjectName("latentExportOk")
        ok.setAccessibleName("Export")
        ok.setToolTip("Write the PNG")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("latentExportCancel")
        cancel.setAccessibleName("Cancel")
        cancel.setToolTip("Close without exporting")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update()

    @property
    def choice(self) -> LatentExportChoice:
        return LatentExportChoice(Path(self.path_edit.text().strip()).expanduser(),
                                  self.scale_spin.value(),
                                  bool(self.resample_combo.currentData()), self.grid_spin.value())

    def output_size(self) -> tuple[int, int]:
        w, h = self._tile_size
        scale = self.scale_spin.value()
        if self._kind == GRID:
            n = self.grid_spin.value()
            w, h = n * (w + GRID_PADDING) + GRID_PADDING, n * (h + GRID_PADDING) + GRID_PADDING
        return w * scale, h * scale

    def _problem(self) -> str:
        text = self.path_edit.text().strip()
        if not text:
            return "Choose a file to export to."
        target = Path(text).expanduser()
        if target.is_dir():
            return f"{target} is a folder; give a file name ending in .png."
        if target.suffix.lower() != ".png":
            return "The file name must end in .png."
        if not target.parent.is_dir():
            return f"The folder {target.parent} does not exist."
        return ""

    def _update(self) -> None:
        problem = self._problem()
        self.error_label.setText(problem)
        self.error_label.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
        w, h = self.output_size()
        extra = f", {self.grid_spin.value() ** 2} images" if self._kind == GRID else ""
        self.size_label.setText(f"{w:,} × {h:,} pixels{extra}")

    def _browse(self) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(self, self.windowTitle(),
                                                      self.path_edit.text(),
                                                      "PNG images (*.png)")
        if chosen:
            self.path_edit.setText(chosen)
