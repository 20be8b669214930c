"""The run panel: every setting of a run, validated at the field, plus a dataset preview.

The inputs are generated from the config's field metadata (:mod:`ganstudio.app.field_editors`):
the common settings first, everything else under "Advanced settings". Each change re-validates
the whole config with ``RunConfig.set``/``validate`` and puts any message under the field it is
about, so Train is only enabled for a config the engine will accept.

The chosen dataset is opened on a background thread (progress shown) for the preview strip, its
size and its skipped files; the opened dataset is handed to the trainer when it still matches.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio.app import settings as keys
from ganstudio.app.field_editors import (
    ChoiceEditor,
    FieldEditor,
    label_for,
    make_editor,
    object_name_for,
    tooltip_for,
)
from ganstudio.app.images import ImageView, qimage_from_array
from ganstudio.app.resources import icon
from ganstudio.app.tasks import TaskHandle, TaskRunner
from ganstudio.app.theme import ERROR_COLOUR
from ganstudio.config import (
    RESUMABLE_CHANGES,
    RunConfig,
    field_spec,
    iter_fields,
    resolve_architecture,
)
from ganstudio.engine.control import LiveSettings
from ganstudio.errors import ConfigError

log = logging.getLogger(__name__)

# Shown in the main form, in this order; every other field goes under "Advanced settings".
MAIN_FIELDS = ("model.architecture", "objective.loss", "model.image_size", "train.batch_size",
               "optim.lr_g", "optim.lr_d", "objective.d_steps", "objective.g_steps",
               "train.steps", "train.seed", "train.device")
# Data fields shown in the dataset group, only for the kinds of dataset they apply to.
TORCHVISION_FIELDS = ("data.root", "data.split", "data.download")
FOLDER_FIELDS = ("data.class_labels", "data.cache")
# What may change while a run trains (TrainingControl.update) ...
LIVE_FIELDS = ("optim.lr_g", "optim.lr_d", "objective.d_steps", "objective.g_steps")
POINT_DATASETS_BEFORE_LOAD = ("ring", "grid", "spiral")
SECTION_TITLES = {"data": "Data", "model": "Model", "objective": "Objective",
                  "optim": "Optimiser", "train": "Training", "metrics": "Quality metrics",
                  "health": "Health alarms"}

MODE_NEW, MODE_RESUME, MODE_TRAINING = "new", "resume", "training"


class DatasetChooser(FieldEditor):
    """``data.name``: built-in and torchvision sets in a list, image folders via a picker."""

    folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(field_spec("data.name"), parent)
        self._kinds: dict[str, str] = {name: "points" for name in POINT_DATASETS_BEFORE_LOAD}
        self._groups: dict[str, str] = {}
        self.folder_button = QToolButton()
        self.folder_button.setObjectName("chooseDatasetFolderButton")
        self.folder_button.setIcon(icon("folder"))
        self.folder_button.setToolTip("Train on a folder of your own images (PNG, JPEG, WebP, "
                                      "BMP, GIF; sub-folders included). You can also drop a "
                                      "folder on the window.")
        self.folder_button.setAccessibleName("Choose an image folder")
        self.folder_button.clicked.connect(self.folder_requested)
        self.add_button(self.folder_button)

    def _make_input(self) -> QWidget:
        combo = QComboBox()
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        combo.currentIndexChanged.connect(self.edited)
        return combo

    @property
    def combo(self) -> QComboBox:
        return self.input

    def set_choices(self, choices: list[Any]) -> None:
        """Fill the list from ``list_datasets()`` rows (name, group, kind, description)."""
        current = self.value()
        combo = self.combo
        combo.blockSignals(True)
        combo.clear()
        headers = {"built-in": "Built-in", "torchvision": "Torchvision sets (local files)"}
        last_group = None
        for choice in choices:
            if choice.group == "folder":
                continue
            self._kinds[choice.name] = choice.kind
            self._groups[choice.name] = choice.group
            if choice.group != last_group:
                self._add_header(headers.get(choice.group, choice.group))
                last_group = choice.group
            suffix = " (2-D points)" if choice.kind == "points" else ""
            combo.addItem(f"{choice.name}{suffix}", choice.name)
            combo.setItemData(combo.count() - 1, choice.description, Qt.ItemDataRole.ToolTipRole)
        combo.blockSignals(False)
        self.set_value(current or field_spec("data.name").default)

    def _add_header(self, text: str) -> None:
        combo = self.combo
        combo.addItem(text, None)
        item = combo.model().item(combo.count() - 1)
        item.setEnabled(False)
        font = item.font()
        font.setBold(True)
        item.setFont(font)

    def value(self) -> str:
        data = self.combo.currentData()
        return data if isinstance(data, str) else ""

    def set_value(self, value: Any) -> None:
        name = str(value)
        combo = self.combo
        index = combo.findData(name)
        if index < 0:
            path = Path(name).expanduser()
            label = f"{path.name or name} (folder)" if self.is_folder(name) else name
            combo.addItem(label, name)
            combo.setItemData(combo.count() - 1, str(path), Qt.ItemDataRole.ToolTipRole)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def is_folder(self, name: str) -> bool:
        if not name or name.lower() in self._kinds:
            return False
        if not self._groups:  # the list is not loaded yet: only a path-like name is a folder
            return any(c in name for c in "/\\") or name.startswith(("~", "."))
        return True

    def group_of(self, name: str) -> str:
        return self._groups.get(name.lower(), "folder" if self.is_folder(name) else "built-in")

    def kind_of(self, name: str) -> str:
        return self._kinds.get(name.lower(), "image")


class RunPanel(QWidget):
    """Settings for the next run (or the run being resumed / trained)."""

    validity_changed = Signal(bool)
    config_changed = Signal()
    dataset_kind_changed = Signal(str)          # "image" or "points"
    preview_loaded = Signal(object)             # DatasetPreview
    live_settings_changed = Signal(object)      # LiveSettings
    folder_chosen = Signal(str)                 # a dataset folder the person picked

    def __init__(self, settings: keys.Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runPanel")
        self._settings = settings
        self._editors: dict[str, FieldEditor] = {}
        self._mode = MODE_NEW
        self._engine_ready = False
        self._resume_run: Path | None = None
        self._resume_step = 0
        self._errors: dict[str, str] = {}
        self._valid = False
        self._kind = "image"
        self._preview = None               # DatasetPreview of the current request, if loaded
        self._preview_error: str | None = None
        self._preview_handle: TaskHandle | None = None
        self._preview_request = None
        self._previews = TaskRunner("ganstudio-dataset", 1, self)
        self._loading_config = False
        self._edited_by_person: set[str] = set()   # fields typed/picked by hand
        self._recommended: dict[str, Any] = {}     # values the current dataset filled in
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(400)
        self._live_timer.timeout.connect(self._emit_live_settings)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(250)
        self._preview_timer.timeout.connect(self._request_preview)
        self._build()
        self.set_config(RunConfig())

    # ----- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setObjectName("runPanelScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        column = QVBoxLayout(body)
        column.setContentsMargins(8, 8, 8, 8)
        column.setSpacing(10)

        # Data
        data_box = QGroupBox("Data")
        data_box.setObjectName("dataGroup")
        self._data_form = form = self._form(data_box)
        self.dataset = DatasetChooser()
        self.dataset.edited.connect(self._on_dataset_changed)
        self.dataset.folder_requested.connect(self.choose_dataset_folder)
        self._editors["data.name"] = self.dataset
        form.addRow(self._label("data.name"), self.dataset)
        for path in TORCHVISION_FIELDS + FOLDER_FIELDS:
            self._add_field(form, path)
        root_button = QToolButton()
        root_button.setObjectName("chooseDataRootButton")
        root_button.setIcon(icon("folder"))
        root_button.setToolTip("Choose the folder holding the set's files "
                               "(e.g. t10k-images-idx3-ubyte.gz for MNIST)")
        root_button.setAccessibleName("Choose the data folder")
        root_button.clicked.connect(self._choose_data_root)
        self._editors["data.root"].add_button(root_button)

        self.preview_view = ImageView("")
        self.preview_view.setObjectName("datasetPreview")
        self.preview_view.setAccessibleName("Real images from the dataset")
        self.preview_view.setToolTip("A few real images from the chosen dataset, as the "
                                     "trainer will see them (resized and cropped)")
        self.preview_view.setMinimumSize(120, 64)
        self.preview_view.setFixedHeight(84)
        self.preview_progress = QProgressBar()
        self.preview_progress.setObjectName("datasetProgress")
        self.preview_progress.setAccessibleName("Dataset loading progress")
        self.preview_progress.setToolTip("Opening the dataset")
        self.preview_progress.setTextVisible(True)
        self.preview_progress.setMaximumHeight(16)
        self.preview_progress.hide()
        self.dataset_info = QLabel("Loading…")
        self.dataset_info.setObjectName("datasetInfo")
        self.dataset_info.setWordWrap(True)
        self.dataset_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.preview_view)
        form.addRow(self.preview_progress)
        form.addRow(self.dataset_info)
        column.addWidget(data_box)

        # Model and training
        main_box = QGroupBox("Model and training")
        main_box.setObjectName("trainingGroup")
        form = self._form(main_box)
        for path in MAIN_FIELDS:
            self._add_field(form, path)
        column.addWidget(main_box)

        # Run folder
        run_box = QGroupBox("Run folder")
        run_box.setObjectName("runFolderGroup")
        run_layout = QVBoxLayout(run_box)
        row = QHBoxLayout()
        self.runs_folder_edit = QLineEdit(str(self._settings.runs_folder))
        self.runs_folder_edit.setObjectName("runsFolderEdit")
        self.runs_folder_edit.setAccessibleName("Runs folder")
        self.runs_folder_edit.setToolTip("New runs are saved in a new sub-folder of this folder "
                                         "(config, metrics, sample grids, checkpoints)")
        self.runs_folder_edit.textEdited.connect(self._on_runs_folder_edited)
        browse = QToolButton()
        browse.setObjectName("runsFolderButton")
        browse.setIcon(icon("folder"))
        browse.setToolTip("Choose where new runs are saved")
        browse.setAccessibleName("Choose the runs folder")
        browse.clicked.connect(self._choose_runs_folder)
        self._runs_folder_button = browse
        row.addWidget(self.runs_folder_edit, 1)
        row.addWidget(browse)
        run_layout.addLayout(row)
        self.runs_folder_error = QLabel()
        self.runs_folder_error.setObjectName("error_runs_folder")
        self.runs_folder_error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.runs_folder_error.setWordWrap(True)
        self.runs_folder_error.hide()
        run_layout.addWidget(self.runs_folder_error)
        self.run_label = QLabel()
        self.run_label.setObjectName("runTargetLabel")
        self.run_label.setWordWrap(True)
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        run_layout.addWidget(self.run_label)
        column.addWidget(run_box)

        # Advanced
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setObjectName("advancedToggle")
        self.advanced_toggle.setText("Advanced settings")
        self.advanced_toggle.setAccessibleName("Show advanced settings")
        self.advanced_toggle.setToolTip("Every other setting of the run: model widths, latent "
                                        "size, penalties, Adam betas, EMA, report and sample "
                                        "intervals, precision")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.toggled.connect(self._on_advanced_toggled)
        column.addWidget(self.advanced_toggle)
        self.advanced = QWidget()
        self.advanced.setObjectName("advancedSettings")
        advanced_form = self._form(self.advanced)
        shown = set(MAIN_FIELDS) | set(TORCHVISION_FIELDS) | set(FOLDER_FIELDS) | {"data.name"}
        section = None
        for spec in iter_fields():
            if spec.path in shown:
                continue
            if spec.section != section:
                section = spec.section
                header = QLabel(SECTION_TITLES.get(section, section))
                font = header.font()
                font.setBold(True)
                header.setFont(font)
                advanced_form.addRow(header)
            self._add_field(advanced_form, spec.path)
        weights_button = QToolButton()
        weights_button.setObjectName("chooseInceptionWeightsButton")
        weights_button.setIcon(icon("open-file"))
        weights_button.setToolTip("Choose the FID Inception weights file "
                                  "(pt_inception-2015-12-05-6726825d.pth)")
        weights_button.setAccessibleName("Choose the Inception weights file")
        weights_button.clicked.connect(self._choose_inception_weights)
        self._editors["metrics.inception_weights"].add_button(weights_button)
        self.advanced.hide()
        column.addWidget(self.advanced)
        column.addStretch(1)

    def _form(self, parent: QWidget) -> QFormLayout:
        form = QFormLayout(parent)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        return form

    def _label(self, path: str) -> QLabel:
        label = QLabel(label_for(field_spec(path)))
        label.setToolTip(tooltip_for(field_spec(path)))
        return label

    def _add_field(self, form: QFormLayout, path: str) -> FieldEditor:
        editor = make_editor(field_spec(path))
        editor.edited.connect(lambda p=path: self._on_field_edited(p))
        self._editors[path] = editor
        label = self._label(path)
        label.setBuddy(editor.input)
        form.addRow(label, editor)
        return editor

    # ----- public API ---------------------------------------------------------------------------
    def editor(self, path: str) -> FieldEditor:
        return self._editors[path]

    def input_widget(self, path: str) -> QWidget:
        return self._editors[path].input

    @property
    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    @property
    def is_valid(self) -> bool:
        return self._valid

    @property
    def dataset_kind(self) -> str:
        return self._kind

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def preview(self):
        return self._preview

    def set_config(self, config: RunConfig) -> None:
        """Show ``config`` in the inputs (replacing what they held)."""
        self._recommended = {}  # a whole config's values are deliberate, not suggestions
        self._loading_config = True
        try:
            for path, editor in self._editors.items():
                editor.set_value(config.get(path))
        finally:
            self._loading_config = False
        self._after_data_change()

    def config(self) -> RunConfig:
        """The validated config; raises ConfigError naming the first wrong field."""
        config, errors = self._collect()
        if errors:
            path, message = next(iter(errors.items()))
            raise ConfigError(path, message)
        return config

    def runs_folder(self) -> Path:
        return Path(self.runs_folder_edit.text().strip()).expanduser()

    def set_runs_folder(self, folder: Path | str) -> None:
        self.runs_folder_edit.setText(str(folder))
        self._on_runs_folder_edited()

    def set_dataset(self, name: str) -> None:
        """Choose a dataset by name or folder path (the picker, a drop, the command line)."""
        self.dataset.set_value(name)
        self._after_data_change()

    def set_engine_ready(self, datasets: list[Any], devices: list[Any]) -> None:
        """The engine finished loading: fill the dataset and device lists, open the preview."""
        self._engine_ready = True
        self.dataset.set_choices(datasets)
        device_editor: ChoiceEditor = self._editors["train.device"]  # type: ignore[assignment]
        device_editor.set_choices([(d.value, d.label) for d in devices])
        self._after_data_change()

    def set_mode(self, mode: str, run_dir: Path | None = None, step: int = 0) -> None:
        """``new``: everything editable; ``resume``: only what a resume may change;
        ``training``: only learning rates and step counts (applied live)."""
        self._mode = mode
        if mode == MODE_RESUME:
            self._resume_run, self._resume_step = run_dir, step
        elif mode == MODE_NEW:
            self._resume_run, self._resume_step = None, 0
        for path, editor in self._editors.items():
            if mode == MODE_TRAINING:
                enabled = path in LIVE_FIELDS
            elif mode == MODE_RESUME:
                enabled = path in RESUMABLE_CHANGES
            else:
                enabled = True
            editor.setEnabled(enabled)
            if mode == MODE_RESUME and not enabled:
                editor.input.setToolTip("Fixed by the run being resumed (choose File ▸ New Run "
                                        "to change it).\n\n" + tooltip_for(editor.spec))
            elif mode == MODE_TRAINING and enabled:
                editor.input.setToolTip("Changes apply to the running training at its next "
                                        "step.\n\n" + tooltip_for(editor.spec))
            elif editor.error is None:
                editor.input.setToolTip(tooltip_for(editor.spec))
        editable_folder = mode == MODE_NEW
        self.runs_folder_edit.setEnabled(editable_folder)
        self._runs_folder_button.setEnabled(editable_folder)
        self._validate()

    def dataset_for(self, config: RunConfig):
        """The opened dataset when the preview was made for exactly this config's data."""
        from ganstudio.app.dataset_preview import DatasetRequest

        preview = self._preview
        if preview is None or preview.dataset is None:
            return None
        return preview.dataset if preview.request == DatasetRequest.from_config(config) else None

    def choose_dataset_folder(self) -> None:
        start = self._settings.folder(keys.LAST_DATASET_FOLDER)
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of images", str(start))
        if folder:
            self._settings.set_folder(keys.LAST_DATASET_FOLDER, Path(folder).parent)
            self.set_dataset(folder)
            self.folder_chosen.emit(folder)

    def refresh_palette(self) -> None:
        for editor in self._editors.values():
            editor.refresh_palette()

    def shutdown(self) -> None:
        self._preview_timer.stop()
        if self._preview_handle is not None:
            self._preview_handle.cancel()
        self._previews.shutdown(wait=False)

    # ----- reactions ----------------------------------------------------------------------------
    def _on_field_edited(self, path: str) -> None:
        if self._loading_config:
            return
        self._edited_by_person.add(path)
        if path in ("model.image_size", "data.channels", "data.root", "data.split",
                    "data.class_labels", "data.cache", "data.download"):
            self._after_data_change()
            return
        self._validate()
        if self._mode == MODE_TRAINING and path in LIVE_FIELDS:
            self._live_timer.start()

    def _on_dataset_changed(self) -> None:
        if not self._loading_config:
            self._apply_recommended_settings()
            self._after_data_change()

    def _apply_recommended_settings(self) -> None:
        """Fill in what suits the new dataset (e.g. big batches for 2-D toys) and put back the
        defaults the previous dataset's suggestions replaced, never touching hand-made values."""
        from ganstudio.data import recommended_settings

        wanted = recommended_settings(self.dataset.value())
        defaults = RunConfig()
        self._loading_config = True
        try:
            for path in set(self._recommended) | set(wanted):
                if path in self._edited_by_person or path not in self._editors:
                    continue
                self._editors[path].set_value(wanted.get(path, defaults.get(path)))
        finally:
            self._loading_config = False
        self._recommended = {p: v for p, v in wanted.items() if p not in self._edited_by_person}

    def _after_data_change(self) -> None:
        name = self.dataset.value()
        group = self.dataset.group_of(name)
        for path in TORCHVISION_FIELDS:
            self._data_form.setRowVisible(self._editors[path], group == "torchvision")
        for path in FOLDER_FIELDS:
            self._data_form.setRowVisible(self._editors[path], group == "folder")
        kind = self.dataset.kind_of(name)
        if kind != self._kind:
            self._kind = kind
            self.dataset_kind_changed.emit(kind)
        self._preview = None
        self._preview_error = None
        self._validate()
        if self._engine_ready:
            self.dataset_info.setText("Opening the dataset…")
            self._preview_timer.start()

    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAccessibleName("Hide advanced settings" if shown
                                               else "Show advanced settings")

    def _on_runs_folder_edited(self, _text: str = "") -> None:
        self._validate()

    def _choose_runs_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose where runs are saved",
                                                  str(self.runs_folder()))
        if folder:
            self.set_runs_folder(folder)

    def _choose_data_root(self) -> None:
        start = self._editors["data.root"].value() or str(
            self._settings.folder(keys.LAST_TORCHVISION_ROOT))
        folder = QFileDialog.getExistingDirectory(self, "Choose the folder holding the "
                                                  "dataset's files", start)
        if folder:
            self._settings.set_folder(keys.LAST_TORCHVISION_ROOT, folder)
            self._editors["data.root"].set_value(folder)
            self._after_data_change()

    def _choose_inception_weights(self) -> None:
        current = self._editors["metrics.inception_weights"].value()
        start = str(Path(current).expanduser().parent) if current else str(Path.home())
        path, _filter = QFileDialog.getOpenFileName(
            self, "Choose the FID Inception weights file", start,
            "PyTorch weights (*.pth *.pt);;All files (*)")
        if path:
            self._editors["metrics.inception_weights"].set_value(path)
            self._on_field_edited("metrics.inception_weights")

    def _emit_live_settings(self) -> None:
        if self._mode != MODE_TRAINING:
            return
        values: dict[str, Any] = {}
        for path in LIVE_FIELDS:
            if path in self._errors:
                continue
            spec = field_spec(path)
            try:
                probe = RunConfig()
                probe.set(path, self._editors[path].value())
            except ConfigError:
                continue
            values[spec.name] = probe.get(path)
        if values:
            self.live_settings_changed.emit(LiveSettings(**values))

    # ----- the dataset preview ------------------------------------------------------------------
    def _request_preview(self) -> None:
        from ganstudio.app.dataset_preview import DatasetRequest, load_preview

        config, errors = self._collect(check_data=False)
        data_errors = [p for p in errors if p.startswith("data.") or p == "model.image_size"]
        if data_errors:
            self.dataset_info.setText("")
            self.preview_view.set_image(None)
            return
        request = DatasetRequest.from_config(config)
        if request == self._preview_request and self._preview is not None:
            return
        if self._preview_handle is not None:
            self._preview_handle.cancel()
        self._preview_request = request
        self.preview_progress.setRange(0, 0)
        self.preview_progress.setFormat("Opening…")
        self.preview_progress.show()
        self._preview_handle = self._previews.submit(
            load_preview, request,
            on_done=lambda preview, r=request: self._on_preview_loaded(r, preview),
            on_error=lambda message, details, r=request: self._on_preview_failed(r, message),
            on_progress=self._on_preview_progress)

    def _on_preview_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.preview_progress.setRange(0, total)
            self.preview_progress.setValue(done)
            self.preview_progress.setFormat(f"{message} (%p%)" if message else "%p%")
        else:
            self.preview_progress.setRange(0, 0)
            self.preview_progress.setFormat(message or "Opening…")
        if message:
            self.dataset_info.setText(message)

    def _on_preview_loaded(self, request, preview) -> None:
        if request != self._preview_request:
            return
        from ganstudio.app.dataset_preview import describe

        self.preview_progress.hide()
        self._preview = preview
        self._preview_error = None
        if preview.info is None:
            self.dataset_info.setText(preview.note)
            self.preview_view.set_image(None)
        else:
            text = describe(preview.info)
            if preview.info.skipped_message:
                text += f"\n{preview.info.skipped_message}"
            self.dataset_info.setText(text)
            self.dataset_info.setToolTip(preview.info.description)
            self._show_strip(preview)
            kind = preview.info.kind
            if kind != self._kind:
                self._kind = kind
                self.dataset_kind_changed.emit(kind)
        self._validate()
        self.preview_loaded.emit(preview)

    def _show_strip(self, preview) -> None:
        from ganstudio.export.grid import make_grid

        images = preview.images
        if preview.kind == "image":
            images = make_grid(images[:8], columns=8, padding=1)
        else:
            images = images[0]
        self.preview_view.set_image(qimage_from_array(images))

    def _on_preview_failed(self, request, message: str) -> None:
        if request != self._preview_request:
            return
        self.preview_progress.hide()
        self._preview = None
        self._preview_error = message
        self.preview_view.set_image(None)
        self.dataset_info.setText("")
        self._validate()

    # ----- validation ---------------------------------------------------------------------------
    def _collect(self, check_data: bool = True) -> tuple[RunConfig, dict[str, str]]:
        config = RunConfig()
        errors: dict[str, str] = {}
        for path, editor in self._editors.items():
            try:
                config.set(path, editor.value())
            except ConfigError as exc:
                errors[exc.field] = exc.reason
        if not config.data.name:
            errors["data.name"] = "choose a dataset"
        if not errors:
            try:
                config.validate()
            except ConfigError as exc:
                errors[exc.field] = exc.reason
        if "model.architecture" not in errors:
            try:
                architecture = resolve_architecture(config, self._kind)
            except ConfigError as exc:
                errors[exc.field] = exc.reason
            else:
                self._check_model_fits_data(config, architecture, errors)
        if self._kind == "points" and config.objective.diffaugment:
            errors.setdefault("objective.diffaugment", "DiffAugment works on images; clear it "
                              "for 2-D point datasets")
        self._check_inception_weights(config, errors)
        if check_data:
            self._check_data(config, errors)
        return config, errors

    def _check_inception_weights(self, config: RunConfig, errors: dict[str, str]) -> None:
        """The Inception extractor needs its weights file; say how to get it, at the field."""
        metrics = config.metrics
        if not metrics.enabled or metrics.extractor != "inception-v3-fid" \
                or self._kind == "points" or "metrics.inception_weights" in errors:
            return
        path = Path(metrics.inception_weights).expanduser() if metrics.inception_weights \
            else None
        if path is not None and path.is_file():
            return
        where = f"{path} was not found. " if path is not None else "No file is set. "
        if not self._engine_ready:  # the full instructions live with PyTorch; soon loaded
            errors["metrics.inception_weights"] = where + "inception-v3-fid needs the file " \
                "pt_inception-2015-12-05-6726825d.pth."
            return
        from ganstudio.metrics.extractors import inception_weights_help

        errors["metrics.inception_weights"] = where + inception_weights_help(path)

    def _check_model_fits_data(self, config: RunConfig, architecture: str,
                               errors: dict[str, str]) -> None:
        """What the trainer would refuse about the model for this data (e.g. 48 px DCGAN)."""
        if not self._engine_ready or self._kind != "image":
            return  # the model registry needs PyTorch; it is loaded with the engine
        from ganstudio.models import check_supported

        info = self._preview.info if self._preview is not None else None
        channels = config.data.channels or (info.shape[0] if info is not None else 3)
        size = config.model.image_size
        reason = check_supported(architecture, (channels, size, size))
        if reason:
            field = ("model.image_size" if "pixel" in reason else
                     "data.channels" if "channel" in reason else "model.architecture")
            errors.setdefault(field, reason)

    def _check_data(self, config: RunConfig, errors: dict[str, str]) -> None:
        name = config.data.name
        if name and self.dataset.is_folder(name) and not Path(name).expanduser().is_dir():
            errors.setdefault("data.name", f"no folder at {Path(name).expanduser()}")
        elif self._preview_error:
            errors.setdefault("data.name", self._preview_error)
        info = self._preview.info if self._preview is not None else None
        if config.model.conditional and info is not None and info.num_classes < 2:
            errors.setdefault("model.conditional", f"{info.name} has no class labels"
                              + (" (turn on class labels to use sub-folders)"
                                 if self.dataset.is_folder(name) else ""))
        if self._mode == MODE_RESUME and config.train.steps <= self._resume_step:
            errors.setdefault("train.steps", f"the run is already at step "
                              f"{self._resume_step:,}; set more steps to continue it")

    def _validate(self) -> None:
        _config, errors = self._collect()
        runs_error = None
        if self._mode == MODE_NEW:
            folder = self.runs_folder_edit.text().strip()
            if not folder:
                runs_error = "choose a folder for the runs"
            elif Path(folder).expanduser().exists() and not Path(folder).expanduser().is_dir():
                runs_error = f"{Path(folder).expanduser()} is a file, not a folder"
        self.runs_folder_error.setText(runs_error or "")
        self.runs_folder_error.setVisible(bool(runs_error))
        if runs_error:
            errors["runs_folder"] = runs_error
        for path, editor in self._editors.items():
            editor.set_error(errors.get(path))
        self._errors = errors
        self._update_run_label()
        valid = not errors
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)
        self.config_changed.emit()

    def _update_run_label(self) -> None:
        if self._mode == MODE_RESUME and self._resume_run is not None:
            self.run_label.setText(f"Continues the run in {self._resume_run} from step "
                                   f"{self._resume_step:,}.")
        elif self._mode == MODE_NEW:
            name = Path(self.dataset.value()).name or "run"
            self.run_label.setText(f"Train creates a new folder in it, "
                                   f"like {name}-<model>-<date-time>.")

    def error_summary(self) -> str:
        """"Batch size: must be…" lines for the Train button's tooltip."""
        lines = []
        for path, message in self._errors.items():
            if path == "runs_folder":
                lines.append(f"Runs folder: {message}")
            else:
                lines.append(f"{label_for(field_spec(path))}: {message}")
        return "\n".join(lines)


__all__ = ["RunPanel", "DatasetChooser", "MAIN_FIELDS", "LIVE_FIELDS", "RESUMABLE_CHANGES",
           "MODE_NEW", "MODE_RESUME", "MODE_TRAINING", "object_name_for"]
