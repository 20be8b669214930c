"""User-facing error types.

Every error raised for bad input says, in plain words, which file, folder, field or flag is wrong
and what would be accepted instead. The CLI prints ``str(error)``; the window shows it in a dialog.
"""


class GanStudioError(Exception):
    """Base class for errors whose message is meant for the user."""


class ConfigError(GanStudioError, ValueError):
    """A configuration value is missing, unknown or out of range.

    ``field`` is the dotted config path (``train.batch_size``) so the CLI can translate it to a
    flag name and the window can mark the offending input.
    """

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class DatasetError(GanStudioError):
    """A dataset cannot be opened (missing files, empty folder, unknown name)."""


class CheckpointError(GanStudioError):
    """A checkpoint or generator export cannot be read, is unsafe, or does not match the model."""


class DeviceError(GanStudioError):
    """The requested compute device does not exist on this machine."""


class TrainingStopped(GanStudioError):
    """Raised inside the trainer loop when a stop was requested (internal control flow)."""
