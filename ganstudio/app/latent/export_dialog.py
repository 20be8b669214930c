"""The latent explorer's export dialogs: the preview, an N×N grid of seeds, or an animation.

They share their rows with the gallery's dialog through
:class:`~ganstudio.app.export_dialog.ExportDialogBase`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from ganstudio.app.export_dialog import ExportDialogBase, ExportNames
from ganstudio.app.latent.icons import latent_icon
from ganstudio.explore.paths import FRAME_RANGE
from ganstudio.export.animation import FPS_RANGE, FRAMES, GIF, MP4, mp4_available
from ganstudio.export.images import GRID_PADDING, GRID_SIZES

PREVIEW = "preview"
GRID = "grid"
ANIMATION_SIZES = (16, 4096)

LATENT_NAMES = ExportNames("latentExportDialog", "latentExportPath", "latentExportBrowse",
                           "latentExportScale", "latentExportResample", "latentExportSize",
                           "latentExportError", "latentExportOk", "latentExportCancel")
ANIMATION_NAMES = ExportNames("latentAnimationDialog", "latentAnimationPath",
                              "latentAnimationBrowse", "latentAnimationScale",
                              "latentAnimationResample", "latentAnimationSizeLabel",
                              "latentAnimationError", "latentAnimationOk",
                              "latentAnimationCancelDialog")
FORMAT_SUFFIX = {GIF: ".gif", MP4: ".mp4", FRAMES: ""}


@dataclass(frozen=True)
class LatentExportChoice:
    path: Path
    scale: int
    smooth: bool
    grid: int          # N of the N x N grid (grid exports only)


class LatentExportDialog(ExportDialogBase):
    """``kind`` is :data:`PREVIEW` or :data:`GRID`; ``tile_size`` is the generator's (w, h)."""

    def __init__(self, kind: str, target: Path, *, tile_size: tuple[int, int], scale: int = 1,
                 smooth: bool = False, grid: int = 4, first_seed: int = 0,
                 points: bool = False, parent: QWidget | None = None):
        if kind == GRID:
            intro = (f"Renders an N×N grid of seeds starting at seed {first_seed:,}, row by row. "
                     "The PNG's text records the run, checkpoint, step and seeds.")
        else:
            intro = ("Writes the preview as a PNG whose text records the generator (its file "
                     "and SHA-256), step, seed, the exact latent vector, truncation and "
                     "direction values, so it can be rendered again — or dropped back on the "
                     "window to restore this view.")
        super().__init__(LATENT_NAMES, "Export grid of seeds" if kind == GRID
                         else "Export preview", intro, parent)
        self._kind, self._tile_size, self._points = kind, tile_size, points
        self.add_path_row(target, label="File", accessible="Export file",
                          tooltip="The PNG file to write", file_filter="PNG images (*.png)",
                          browse_icon=latent_icon("folder"))
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
            self.form.addRow("Grid", self.grid_spin)
        else:
            self.grid_spin.hide()
        self.add_scale_rows(
            scale=scale, smooth=smooth, resample_enabled=not points,
            scale_tooltip="Enlarge by this whole factor (1× to 8× the generator's resolution)",
            resample_tooltip="A points plot is drawn at the chosen size, so there is nothing "
                             "to resample" if points else None)
        self.finish("Write the PNG")

    @property
    def choice(self) -> LatentExportChoice:
        return LatentExportChoice(self.target, self.scale, self.smooth, self.grid_spin.value())

    def output_size(self) -> tuple[int, int]:
        w, h = self._tile_size
        scale = self.scale
        if self._kind == GRID:
            n = self.grid_spin.value()
            w, h = n * (w + GRID_PADDING) + GRID_PADDING, n * (h + GRID_PADDING) + GRID_PADDING
        return w * scale, h * scale

    def problem(self) -> str:
        if not self.path_edit.text().strip():
            return "Choose a file to export to."
        return self.png_file_problem(self.target)

    def size_text(self) -> str:
        w, h = self.output_size()
        extra = f", {self.grid_spin.value() ** 2} images" if self._kind == GRID else ""
        return f"{w:,} × {h:,} pixels{extra}"


@dataclass(frozen=True)
class AnimationChoice:
    path: Path
    size: int          # pixels of the longer side
    smooth: bool
    frames: int
    fps: float


class AnimationExportDialog(ExportDialogBase):
    """Where and how to write an interpolation or a walk: GIF, MP4 or a folder of PNG frames,
    at a size in pixels, with a frame count and rate."""

    def __init__(self, target: Path, *, what: str, native_size: int, size: int, frames: int,
                 fps: float, smooth: bool = False, parent: QWidget | None = None):
        super().__init__(ANIMATION_NAMES, f"Export {what}",
                         f"Renders the {what} frame by frame, exactly as the preview shows "
                         "each frame, and writes it as a GIF, an MP4 or a folder of PNG frames "
                         "(each frame's PNG records its latent). A progress bar shows in the "
                         "panel; Cancel there stops it and leaves nothing behind.", parent)
        self._native = native_size
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("latentAnimationFormat")
        self.format_combo.setAccessibleName("Animation format")
        self.format_combo.setToolTip("GIF (plays anywhere), MP4 (H.264, small) or a folder "
                                     "of PNG frames (lossless)")
        self.format_combo.addItem("GIF", GIF)
        if mp4_available():
            self.format_combo.addItem("MP4 video", MP4)
        self.format_combo.addItem("PNG frames (folder)", FRAMES)
        self.form.addRow("Format", self.format_combo)
        self.add_path_row(target, label="Save as", accessible="Animation file or folder",
                          tooltip="The .gif or .mp4 file, or the folder for PNG frames",
                          file_filter="Animations (*.gif *.mp4)",
                          browse_icon=latent_icon("folder"))
        suffix = target.suffix.lower()
        fmt = GIF if suffix == ".gif" else MP4 if suffix == ".mp4" else FRAMES
        index = self.format_combo.findData(fmt)
        self.format_combo.setCurrentIndex(max(0, index))
        self._choose_folder = fmt == FRAMES
        self.format_combo.currentIndexChanged.connect(self._on_format_change)
        self.size_spin = QSpinBox()
        self.size_spin.setObjectName("latentAnimationSize")
        self.size_spin.setAccessibleName("Frame size")
        self.size_spin.setToolTip(f"Pixels of each frame's longer side; a multiple of "
                                  f"{native_size} keeps pixels crisp")
        self.size_spin.setRange(*ANIMATION_SIZES)
        self.size_spin.setSingleStep(native_size)
        self.size_spin.setSuffix(" px")
        self.size_spin.setValue(min(max(size, ANIMATION_SIZES[0]), ANIMATION_SIZES[1]))
        self.size_spin.valueChanged.connect(self._update)
        self.form.addRow("Frame size", self.size_spin)
        self.frames_spin = QSpinBox()
        self.frames_spin.setObjectName("latentAnimationFrames")
        self.frames_spin.setAccessibleName("Frames")
        self.frames_spin.setToolTip(f"How many frames ({FRAME_RANGE[0]} to {FRAME_RANGE[1]})")
        self.frames_spin.setRange(*FRAME_RANGE)
        self.frames_spin.setValue(frames)
        self.frames_spin.valueChanged.connect(self._update)
        self.form.addRow("Frames", self.frames_spin)
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setObjectName("latentAnimationFps")
        self.fps_spin.setAccessibleName("Frames per second")
        self.fps_spin.setToolTip("Playback speed of the GIF or MP4")
        self.fps_spin.setRange(*FPS_RANGE)
        self.fps_spin.setDecimals(0)
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.setValue(fps)
        self.fps_spin.valueChanged.connect(self._update)
        self.form.addRow("Speed", self.fps_spin)
        self.add_resample_row(smooth=smooth)
        self.finish("Render and write the animation")

    @property
    def format(self) -> str:
        return str(self.format_combo.currentData())

    @property
    def choice(self) -> AnimationChoice:
        return AnimationChoice(self.target, self.size_spin.value(), self.smooth,
                               self.frames_spin.value(), float(self.fps_spin.value()))

    def _on_format_change(self, _index: int) -> None:
        text = self.path_edit.text().strip()
        if not text:
            return
        path = Path(text)
        stem = path.with_suffix("") if path.suffix.lower() in (".gif", ".mp4") else path
        self.path_edit.setText(str(stem) + FORMAT_SUFFIX[self.format])
        self._choose_folder = self.format == FRAMES

    def problem(self) -> str:
        if not self.path_edit.text().strip():
            return "Choose where to write the animation."
        target = self.target
        if not target.parent.is_dir():
            return f"The folder {target.parent} does not exist."
        suffix = target.suffix.lower()
        if self.format == FRAMES:
            if target.exists() and not target.is_dir():
                return f"{target} is a file; PNG frames go into a folder."
            if suffix:
                return "A folder for PNG frames has no suffix (like .gif)."
            if target.is_dir() and any(target.glob("frame-*.png")):
                return f"{target} already holds frames; choose an empty or new folder."
            return ""
        wanted = FORMAT_SUFFIX[self.format]
        if suffix != wanted:
            return f"The file name must end in {wanted}."
        if target.is_dir():
            return f"{target} is a folder; give a file name ending in {wanted}."
        return ""

    def size_text(self) -> str:
        size, frames, fps = self.size_spin.value(), self.frames_spin.value(), self.fps_spin.value()
        return f"{size:,} px frames, {frames} frames, {frames / max(fps, 1):.1f} s"
