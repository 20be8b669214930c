"""Export dialogs: where and how big to write snapshots, latent previews, grids and animations.

:class:`ExportDialogBase` holds the rows every export dialog shares — the file or folder with
its Browse button, the scale (1×–8×) and resampling, the resulting size, the error line and
Export/Cancel — so the gallery's :class:`ExportDialog` and the latent explorer's dialogs
(:mod:`ganstudio.app.latent.export_dialog`) look and behave alike. Object names come from a
prefix (``export…`` here, ``latentExport…`` in the latent explorer) so tests and assistive tech
find each widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QIcon
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
from ganstudio.app.theme import ERROR_COLOUR

SCALE_RANGE = (1, 8)


@dataclass(frozen=True)
class ExportNames:
    """Object names of a dialog's shared rows."""

    dialog: str
    path: str
    browse: str
    scale: str
    resample: str
    size: str
    error: str
    ok: str
    cancel: str


SNAPSHOT_NAMES = ExportNames("exportDialog", "exportPath", "exportBrowse", "exportScale",
                             "exportResample", "exportSizeLabel", "exportError",
                             "exportOkButton", "exportCancelButton")


class ExportDialogBase(QDialog):
    """An intro, a form (path row first; subclasses add theirs), the error line and buttons.

    Subclasses call :meth:`add_path_row`, :meth:`add_scale_rows` (optional) and
    :meth:`finish`, and override :meth:`problem` and :meth:`size_text`.
    """

    def __init__(self, names: ExportNames, title: str, intro: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.names = names
        self.setObjectName(names.dialog)
        self.setWindowTitle(title)
        self._layout = QVBoxLayout(self)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self._layout.addWidget(self.intro)
        self.form = QFormLayout()
        self.scale_spin: QSpinBox | None = None
        self.resample_combo: QComboBox | None = None
        self._file_filter = ""
        self._choose_folder = False

    # ----- the shared rows ----------------------------------------------------------------------
    def add_path_row(self, target: Path, *, label: str, accessible: str, tooltip: str,
                     file_filter: str = "", folder: bool = False,
                     browse_icon: QIcon | None = None) -> QLineEdit:
        row = QHBoxLayout()
        self.path_edit = QLineEdit(str(target))
        self.path_edit.setObjectName(self.names.path)
        self.path_edit.setAccessibleName(accessible)
        self.path_edit.setToolTip(tooltip)
        self.path_edit.textChanged.connect(self._update)
        browse = QToolButton()
        browse.setObjectName(self.names.browse)
        browse.setIcon(browse_icon or icon("folder"))
        browse.setAccessibleName("Browse")
        browse.setToolTip("Choose the folder" if folder else "Choose the file")
        browse.clicked.connect(self._browse)
        self.browse_button = browse
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.form.addRow(label, row)
        self._file_filter, self._choose_folder = file_filter, folder
        return self.path_edit

    def add_scale_rows(self, *, scale: int, smooth: bool, scale_tooltip: str,
                       resample_enabled: bool = True, resample_tooltip: str | None = None
                       ) -> None:
        self.scale_spin = QSpinBox()
        self.scale_spin.setObjectName(self.names.scale)
        self.scale_spin.setAccessibleName("Scale")
        self.scale_spin.setToolTip(scale_tooltip)
        self.scale_spin.setRange(*SCALE_RANGE)
        self.scale_spin.setSuffix("×")
        self.scale_spin.setValue(min(max(scale, SCALE_RANGE[0]), SCALE_RANGE[1]))
        self.scale_spin.valueChanged.connect(self._update)
        self.form.addRow("Scale", self.scale_spin)
        self.add_resample_row(smooth=smooth and resample_enabled, enabled=resample_enabled,
                              tooltip=resample_tooltip)

    def add_resample_row(self, *, smooth: bool, enabled: bool = True,
                         tooltip: str | None = None) -> QComboBox:
        self.resample_combo = QComboBox()
        self.resample_combo.setObjectName(self.names.resample)
        self.resample_combo.setAccessibleName("Resampling")
        self.resample_combo.setToolTip(tooltip or "Nearest keeps every pixel a crisp square; "
                                       "smooth (Lanczos) blends them")
        self.resample_combo.addItem("Nearest (crisp pixels)", False)
        self.resample_combo.addItem("Smooth", True)
        self.resample_combo.setCurrentIndex(1 if smooth else 0)
        self.resample_combo.setEnabled(enabled)
        self.resample_combo.currentIndexChanged.connect(self._update)
        self.form.addRow("Resampling", self.resample_combo)
        return self.resample_combo

    def finish(self, ok_tooltip: str) -> None:
        """Add the size row, the error line and Export/Cancel; show the first state."""
        self.size_label = QLabel()
        self.size_label.setObjectName(self.names.size)
        self.form.addRow("Size", self.size_label)
        self._layout.addLayout(self.form)
        self.error_label = QLabel()
        self.error_label.setObjectName(self.names.error)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.error_label.setWordWrap(True)
        self._layout.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Export")
        ok.setObjectName(self.names.ok)
        ok.setAccessibleName("Export")
        ok.setToolTip(ok_tooltip)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName(self.names.cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setToolTip("Close without exporting")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._layout.addWidget(self.buttons)
        self._update()

    # ----- what subclasses say ------------------------------------------------------------------
    @property
    def target(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    @property
    def scale(self) -> int:
        return self.scale_spin.value() if self.scale_spin is not None else 1

    @property
    def smooth(self) -> bool:
        return bool(self.resample_combo.currentData()) if self.resample_combo else False

    def problem(self) -> str:
        """Why Export is disabled ("" when it is not)."""
        return "" if self.path_edit.text().strip() else "Choose where to export."

    def size_text(self) -> str:
        return ""

    @staticmethod
    def png_file_problem(target: Path, check_folder: bool = True) -> str:
        if target.is_dir():
            return f"{target} is a folder; give a file name ending in .png."
        if target.suffix.lower() != ".png":
            return "The file name must end in .png."
        if check_folder and not target.parent.is_dir():
            return f"The folder {target.parent} does not exist."
        return ""

    def _update(self) -> None:
        if not hasattr(self, "buttons"):
            return            # still being built
        problem = self.problem()
        self.error_label.setText(problem)
        self.error_label.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
        self.size_label.setText(self.size_text())

    def _browse(self) -> None:
        if self._choose_folder:
            chosen = QFileDialog.getExistingDirectory(self, self.windowTitle(), str(self.target))
        else:
            chosen, _filter = QFileDialog.getSaveFileName(self, self.windowTitle(),
                                                          self.path_edit.text(),
                                                          self._file_filter)
        if chosen:
            self.path_edit.setText(chosen)


class ExportDialog(ExportDialogBase):
    """Gallery snapshots. ``folder=False``: a PNG file; ``folder=True``: a folder for every
    snapshot."""

    def __init__(self, target: Path, *, folder: bool, count: int = 1,
                 source_size: tuple[int, int] | None = None, scale: int = 1,
                 smooth: bool = False, parent: QWidget | None = None):
        intro = (f"Writes the {count:,} sample grids of this run into a folder, each with its "
                 "run, step, seed and checkpoint in the PNG's text." if folder else
                 "Writes this sample grid as a PNG whose text records its run, step, seed and "
                 "checkpoint.")
        super().__init__(SNAPSHOT_NAMES, "Export all snapshots" if folder else "Export snapshot",
                         intro, parent)
        self._folder = folder
        self._source_size = source_size
        self.add_path_row(target, label="Folder" if folder else "File",
                          accessible="Export folder" if folder else "Export file",
                          tooltip="Where the PNG files go" if folder else "The PNG file to write",
                          file_filter="PNG images (*.png)", folder=folder)
        self.add_scale_rows(scale=scale, smooth=smooth,
                            scale_tooltip="Enlarge each image by this whole factor (1× to 8×)")
        self.finish("Write the PNG" + ("s" if folder else ""))

    @property
    def options(self) -> ExportOptions:
        return ExportOptions(self.scale, self.smooth)

    def problem(self) -> str:
        if not self.path_edit.text().strip():
            return "Choose where to export."
        target = self.target
        if self._folder:
            if target.exists() and not target.is_dir():
                return f"{target} is a file, not a folder."
            return ""
        return self.png_file_problem(target, check_folder=False)

    def size_text(self) -> str:
        if self._source_size:
            w, h = self._source_size
            return f"{w * self.scale:,} × {h * self.scale:,} pixels"
        return f"{self.scale}× the saved grid"
