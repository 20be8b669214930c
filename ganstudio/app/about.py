"""The About dialog: what GAN Studio is, and the versions and devices a bug report needs."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio import __version__
from ganstudio.app.resources import app_icon


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def version_rows(devices: list[str] | None = None) -> list[tuple[str, str]]:
    """``(name, value)`` lines: GAN Studio, Python, Qt, libraries and compute devices."""
    torch = sys.modules.get("torch")
    rows = [
        ("GAN Studio", __version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
        ("pyqtgraph", _version("pyqtgraph")),
        ("NumPy", _version("numpy")),
        ("PyTorch", torch.__version__ if torch is not None else _version("torch")),
        ("torchvision", _version("torchvision")),
        ("Platform", f"{platform.system()} {platform.release()} ({platform.machine()})"),
    ]
    if torch is not None and torch.cuda.is_available():
        rows.append(("CUDA", str(torch.version.cuda)))
    for i, device in enumerate(devices or []):
        rows.append(("Devices" if i == 0 else "", device))
    return rows


class AboutDialog(QDialog):
    def __init__(self, devices: list[str] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About GAN Studio")
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(64, 64))
        logo.setAlignment(Qt.AlignmentFlag.AlignTop)
        top.addWidget(logo)
        blurb = QLabel(
            f"<h2>GAN Studio {__version__}</h2>"
            "<p>Train, watch and explore generative adversarial networks.</p>"
            "<p>Built on PyTorch, Qt for Python (PySide6) and pyqtgraph. MIT licence.</p>")
        blurb.setWordWrap(True)
        blurb.setTextFormat(Qt.TextFormat.RichText)
        top.addWidget(blurb, 1)
        layout.addLayout(top)
        self.rows = version_rows(devices)
        table = "".join(f"<tr><td style='padding-right:12px'><b>{name}</b></td><td>{value}</td>"
                        "</tr>" for name, value in self.rows)
        self.details = QLabel(f"<table>{table}</table>")
        self.details.setObjectName("aboutVersions")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy details")
        copy.setObjectName("aboutCopyButton")
        copy.setAccessibleName("Copy version details")
        copy.setToolTip("Copy the versions and devices to the clipboard, for a bug report")
        copy.clicked.connect(self.copy_details)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("aboutCloseButton")
        close.setAccessibleName("Close")
        close.setToolTip("Close this dialog")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def text(self) -> str:
        return "\n".join(f"{name}: {value}" if name else f"  {value}" for name, value in self.rows)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
