"""Exceptions raised by shade-match.

One base class, and bad-input subclasses that are also :class:`ValueError`, so
callers can catch either the project's own tree or the standard one::

    ShadeMatchError                    base of everything shade-match raises on purpose
    ├── InputError(ValueError)         the caller gave something unusable
    │   ├── ImageLoadError             an image could not be read (has ``.source``)
    │   │   ├── EmptyFileError         zero bytes
    │   │   ├── NotAnImageError        bytes are not an image format we decode
    │   │   ├── TruncatedImageError    the file ends early or its data is corrupt
    │   │   ├── ImageTooLargeError     over the pixel limit (decompression bomb guard)
    │   │   └── UnsupportedImageError  an image, but of a kind we cannot analyse
    │   ├── PaletteError               a palette file is wrong (has ``.file``, ``.entry``, ``.field``)
    │   └── SettingsError              an analysis option is out of range or malformed
    └── AnalysisError                  the photo was read but cannot be measured

Every message says what was expected and what was received. The library never
prints; the CLI maps these to exit codes and the app shows them with ``st.error``.
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "ShadeMatchError",
    "InputError",
    "ImageLoadError",
    "EmptyFileError",
    "NotAnImageError",
    "TruncatedImageError",
    "ImageTooLargeError",
    "UnsupportedImageError",
    "PaletteError",
    "SettingsError",
    "AnalysisError",
]


class ShadeMatchError(Exception):
    """Base class of every error shade-match raises on purpose."""


class InputError(ShadeMatchError, ValueError):
    """The caller passed something shade-match cannot use."""


class ImageLoadError(InputError):
    """An image could not be loaded.

    Parameters
    ----------
    source : str
        The file name (or ``"<bytes>"``) the image came from.
    reason : str
        What was expected and what was found instead.
    """

    def __init__(self, source: str | PathLike[str], reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")

    def __reduce__(self):  # keep pickling (multiprocessing, Dask) working
        return (type(self), (self.source, self.reason))


class EmptyFileError(ImageLoadError):
    """The file has zero bytes."""


class NotAnImageError(ImageLoadError):
    """The bytes are not in any image format shade-match decodes."""


class TruncatedImageError(ImageLoadError):
    """The image data ends early or is corrupt."""


class ImageTooLargeError(ImageLoadError):
    """The image has more pixels than the configured limit."""


class UnsupportedImageError(ImageLoadError):
    """The file is an image, but not one shade-match can analyse."""


class PaletteError(InputError):
    """A palette file or entry is invalid.

    Parameters
    ----------
    file : str
        The palette file (or ``"<memory>"``).
    message : str
        What was expected and what was found.
    entry : str or None
        The entry's ``id`` (or its position, ``"#3"``) when the problem is in one entry.
    field : str or None
        The field name when the problem is in one field.
    """

    def __init__(
        self,
        file: str | PathLike[str],
        message: str,
        *,
        entry: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file)
        self.entry = entry
        self.field = field
        self.message = message
        where = self.file
        if entry is not None:
            where += f", entry {entry}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        return (_rebuild_palette_error, (self.file, self.message, self.entry, self.field))


def _rebuild_palette_error(file, message, entry, field):
    return PaletteError(file, message, entry=entry, field=field)


class SettingsError(InputError):
    """An analysis setting is malformed or out of range."""


class AnalysisError(ShadeMatchError):
    """The image was read but could not be measured (e.g. no scalp found)."""
