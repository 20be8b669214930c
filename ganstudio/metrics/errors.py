"""Errors raised by the metrics package (all are :class:`~ganstudio.errors.GanStudioError`)."""

from __future__ import annotations

from pathlib import Path

from ganstudio.errors import GanStudioError


class MetricsError(GanStudioError, ValueError):
    """Features or images handed to a metric cannot be used (shape, sample count, NaN, name)."""


class InceptionWeightsError(GanStudioError):
    """The Inception weights file is missing or is not the pytorch-fid FID Inception state_dict.

    ``path`` is the file that was looked for; the message says where to get the right one.
    """

    def __init__(self, path: str | Path | None, message: str):
        super().__init__(message)
        self.path = None if path is None else Path(path)
