"""numpy ↔ QImage, and a widget that shows one image crisply at any size.

``QImage`` (unlike ``QPixmap``) may be made on any thread, so decoders build QImages in the
background and the GUI thread only paints them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

if TYPE_CHECKING:
    import numpy as np


def qimage_from_array(array: "np.ndarray") -> QImage:
    """A QImage owning a copy of uint8 ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``."""
    import numpy as np

    a = np.ascontiguousarray(array)
    if a.dtype != np.uint8:
        raise ValueError("expected uint8 pixels")
    if a.ndim == 3 and a.shape[2] == 1:
        a = np.ascontiguousarray(a[:, :, 0])
    if a.ndim == 2:
        fmt, channels = QImage.Format.Format_Grayscale8, 1
    elif a.ndim == 3 and a.shape[2] == 3:
        fmt, channels = QImage.Format.Format_RGB888, 3
    elif a.ndim == 3 and a.shape[2] == 4:
        fmt, channels = QImage.Format.Format_RGBA8888, 4
    else:
        raise ValueError(f"cannot show an array shaped {a.shape} as an image")
    h, w = a.shape[:2]
    image = QImage(a.data, w, h, w * channels, fmt)
    return image.copy()  # detach from the numpy buffer


def array_from_qimage(image: QImage) -> "np.ndarray":
    """uint8 ``(H, W, 3)`` RGB pixels of a QImage (a copy)."""
    import numpy as np

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = rgb.height(), rgb.width()
    buffer = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=rgb.bytesPerLine() * h)
    return buffer.reshape(h, rgb.bytesPerLine())[:, :w * 3].reshape(h, w, 3).copy()


class ImageView(QWidget):
    """Paints a QImage scaled to fit, keeping its aspect ratio.

    Enlargement uses nearest-neighbour sampling (sample grids stay sharp pixel art, and high-DPI
    screens get real device pixels); reduction is smooth. Clicking emits :attr:`clicked`.
    """

    clicked = Signal()

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._image: QImage | None = None
        self._placeholder = placeholder
        self._clickable = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(64, 64)

    def set_image(self, image: QImage | None) -> None:
        self._image = image if image is not None and not image.isNull() else None
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        if self._image is None:
            self.update()

    def set_clickable(self, clickable: bool) -> None:
        self._clickable = clickable
        self.setCursor(Qt.CursorShape.PointingHandCursor if clickable else
                       Qt.CursorShape.ArrowCursor)

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def image_rect(self) -> QRectF:
        """Where the image is drawn, in widget coordinates."""
        if self._image is None:
            return QRectF()
        area = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        iw, ih = self._image.width(), self._image.height()
        scale = min(area.width() / iw, area.height() / ih)
        dpr = self.devicePixelRatioF()
        if scale * dpr >= 1:
            # Whole device pixels per image pixel: every sample pixel is the same size.
            scale = max(1.0, int(scale * dpr)) / dpr
        w, h = iw * scale, ih * scale
        return QRectF(area.center() - QPointF(w / 2, h / 2), QSize(round(w), round(h)).toSizeF())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self._image is None:
            colour = self.palette().color(QPalette.ColorGroup.Disabled,
                                          QPalette.ColorRole.WindowText)
            painter.setPen(colour)
            painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._placeholder)
            return
        target = self.image_rect()
        smooth = target.width() * self.devicePixelRatioF() < self._image.width()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        painter.drawImage(target, self._image)
        painter.setPen(QColor(127, 127, 127, 90))
        painter.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if (self._clickable and event.button() == Qt.MouseButton.LeftButton
                and self._image is not None):
            self.clicked.emit()
        super().mouseReleaseEvent(event)
