"""The run list: every run in the runs folder, forks nested under their parents.

Each row shows the run's name, dataset, steps done of its total and its status; a fork sits
under the run it was forked from (its tooltip says at which step and what changed). Double-click
(or Open) opens a run; ticking runs overlays their curves on the plots, dashed, to compare them.
The folder is scanned on a background thread (:func:`ganstudio.engine.runs.scan_runs`); this
widget only shows the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ganstudio.app.resources import text_tool_button

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_TEXT = {"running": "running", "completed": "finished", "stopped": "stopped",
               "failed": "failed", "interrupted": "interrupted", "": ""}


class RunsPanel(QWidget):
    open_requested = Signal(object)        # Path of the run to open
    compare_changed = Signal(object)       # list[Path] of the ticked runs
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self._current: Path | None = None
        self._updating = False
        self._summaries: list[Any] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        bar = QHBoxLayout()
        self.folder_label = QLabel()
        self.folder_label.setObjectName("runsFolderLabel")
        self.folder_label.setWordWrap(True)
        bar.addWidget(self.folder_label, 1)
        self.open_button = self._button("runsOpenButton", "open-folder", "Open",
                                        "Open the selected run: its curves, samples and "
                                        "snapshots (or double-click it)", self._open_selected)
        self.clear_button = self._button("runsClearCompareButton", None, "Clear",
                                         "Untick every run compared on the plots",
                                         self.clear_comparison)
        self.refresh_button = self._button("runsRefreshButton", "refresh", "Refresh",
                                           "Read the runs folder again",
                                           self.refresh_requested.emit)
        for button in (self.open_button, self.clear_button, self.refresh_button):
            bar.addWidget(button)
        layout.addLayout(bar)
        self.tree = QTreeWidget()
        self.tree.setObjectName("runsTree")
        self.tree.setAccessibleName("Runs and their forks")
        self.tree.setToolTip("Runs in the runs folder; forks are nested under the run they were "
                             "forked from. Tick runs to overlay their curves on the plots; "
                             "double-click one to open it.")
        self.tree.setHeaderLabels(["Run", "Dataset", "Steps", "Status"])
        self.tree.setColumnCount(4)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setObjectName("runsTreeHeader")
        header.setAccessibleName("Run list columns")
        header.setToolTip("Run name (tick to compare), dataset, steps done of the total, "
                          "status")
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.tree, 1)
        self.note = QLabel("")
        self.note.setObjectName("runsNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self._update_buttons()

    def _button(self, name: str, icon_name: str | None, text: str, tip: str, slot
                ) -> QToolButton:
        button = text_tool_button(name, icon_name, text, tip, slot)
        button.setAutoRaise(True)
        return button

    # ----- content ------------------------------------------------------------------------------
    def set_runs(self, folder: Path, summaries: Iterable[Any]) -> None:
        """Show RunSummary rows (``ganstudio.engine.runs.scan_runs``), ticks kept."""
        ticked = set(self.compared())
        self._summaries = list(summaries)
        self.folder_label.setText(f"<b>{folder.name or folder}</b>")
        self.folder_label.setToolTip(f"Runs in {folder} (choose the folder in Run setup)")
        self._updating = True
        try:
            self.tree.clear()
            items: dict[Path, QTreeWidgetItem] = {}
            by_name = {s.path.name: s.path for s in self._summaries}
            pending = list(self._summaries)
            # Parents first, so a fork finds its parent's item (forks of forks nest deeper).
            for _round in range(len(pending) + 1):
                later = []
                for summary in pending:
                    parent = self._parent_path(summary, by_name)
                    if parent is not None and parent not in items and any(
                            s.path == parent for s in pending):
                        later.append(summary)
                        continue
                    item = self._item(summary, ticked)
                    if parent is not None and parent in items:
                        # Under its parent, "parent-fork-400" reads as "…-fork-400".
                        prefix = parent.name + "-"
                        if summary.name.startswith(prefix) and len(summary.name) > len(prefix):
                            item.setText(0, "…-" + summary.name[len(prefix):])
                        items[parent].addChild(item)
                        items[parent].setExpanded(True)
                    else:
                        self.tree.addTopLevelItem(item)
                    items[summary.path] = item
                if not later or len(later) == len(pending):
                    for summary in later:  # a cycle cannot happen, but never lose a run
                        self.tree.addTopLevelItem(self._item(summary, ticked))
                    break
                pending = later
        finally:
            self._updating = False
        self.note.setText("" if self._summaries else "No runs yet: press Train to make one.")
        self._highlight_current()
        self._update_buttons()
        if ticked != set(self.compared()):
            self.compare_changed.emit(self.compared())

    @staticmethod
    def _parent_path(summary: Any, by_name: dict[str, Path]) -> Path | None:
        parent = summary.parent
        if parent is None:
            return None
        if any(parent == path for path in by_name.values()):
            return parent
        return by_name.get(Path(parent).name)  # the folder moved: match by name

    def _item(self, summary: Any, ticked: set[Path]) -> QTreeWidgetItem:
        steps = (f"{summary.steps_done:,}/{summary.total_steps:,}" if summary.total_steps
                 else f"{summary.steps_done:,}")
        item = QTreeWidgetItem([summary.name, summary.dataset, steps,
                                STATUS_TEXT.get(summary.status, summary.status)])
        item.setData(0, PATH_ROLE, str(summary.path))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(0, Qt.CheckState.Checked if summary.path in ticked
                           else Qt.CheckState.Unchecked)
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tip = [str(summary.path), f"{summary.architecture} on {summary.dataset}",
               f"step {summary.steps_done:,} of {summary.total_steps:,}"]
        if summary.parent is not None:
            tip.insert(1, f"forked from {Path(summary.parent).name} at step "
                          f"{summary.fork_step:,}")
        tip.append("Tick to overlay its curves on the plots; double-click to open it")
        for column in range(4):
            item.setToolTip(column, "\n".join(tip))
        return item

    def items(self) -> list[QTreeWidgetItem]:
        found = []

        def walk(item: QTreeWidgetItem) -> None:
            found.append(item)
            for i in range(item.childCount()):
                walk(item.child(i))

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i))
        return found

    def item_for(self, path: Path) -> QTreeWidgetItem | None:
        for item in self.items():
            if Path(item.data(0, PATH_ROLE)) == Path(path):
                return item
        return None

    def compared(self) -> list[Path]:
        return [Path(item.data(0, PATH_ROLE)) for item in self.items()
                if item.checkState(0) == Qt.CheckState.Checked]

    def set_compared(self, path: Path, ticked: bool) -> None:
        item = self.item_for(path)
        if item is not None:
            item.setCheckState(0, Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def clear_comparison(self) -> None:
        self._updating = True
        try:
            for item in self.items():
                item.setCheckState(0, Qt.CheckState.Unchecked)
        finally:
            self._updating = False
        self.compare_changed.emit([])
        self._update_buttons()

    def set_current(self, path: Path | None) -> None:
        """The run open in the window: bold, and not offered for comparison with itself."""
        self._current = Path(path) if path is not None else None
        self._highlight_current()

    def _highlight_current(self) -> None:
        self._updating = True
        try:
            for item in self.items():
                current = self._current is not None and Path(item.data(0, PATH_ROLE)) == \
                    self._current
                font = item.font(0)
                font.setBold(current)
                item.setFont(0, font)
                flags = item.flags()
                if current:
                    item.setCheckState(0, Qt.CheckState.Unchecked)
                    item.setFlags(flags & ~Qt.ItemFlag.ItemIsUserCheckable)
                else:
                    item.setFlags(flags | Qt.ItemFlag.ItemIsUserCheckable)
        finally:
            self._updating = False

    # ----- reactions ----------------------------------------------------------------------------
    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._updating or column != 0:
            return
        self._update_buttons()
        self.compare_changed.emit(self.compared())

    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        self.open_requested.emit(Path(item.data(0, PATH_ROLE)))

    def _open_selected(self) -> None:
        items = self.tree.selectedItems()
        if items:
            self.open_requested.emit(Path(items[0].data(0, PATH_ROLE)))

    def _update_buttons(self) -> None:
        self.open_button.setEnabled(bool(self.tree.selectedItems()))
        self.clear_button.setEnabled(bool(self.compared()))
