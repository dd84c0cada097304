"""Decode an image file (or bytes) into the project's working image.

:func:`load_image` turns a path, ``bytes`` or a binary file object into a
:class:`LoadedImage` whose ``rgb`` follows the project's image convention
(``(H, W, 3)`` ``uint8`` RGB, sRGB-encoded, C-contiguous; see ``ARCHITECTURE.md``):

1. **Open the header only** (Pillow's ``Image.open`` is lazy) and refuse images
   with more than ``max_pixels`` pixels *before* any pixel is decoded.
2. **Decode**, at reduced size where the format allows it: a JPEG is decoded by
   libjpeg straight to 1/2, 1/4 or 1/8 scale (DCT-domain scaling, Pillow's
   ``Image.draft``) when that still leaves at least ``max_side`` pixels on the long
   side. A 12 MP (4000 × 3000) q90 JPEG thus decodes at 1/4 scale straight to the
   default 1000 × 750: about 38 ms on one core of the development machine, the same
   as OpenCV's ``IMREAD_REDUCED_COLOR_4`` and half a full decode (76 ms; 100 ms
   with the area resize), see ``benchmarks/speed.py`` and ``benchmarks/decode.py``.
   Pillow is used because OpenCV's decoder drops embedded ICC profiles and prints
   libjpeg's warnings on truncated files, and one path then serves every format.
3. **Normalise the pixel format**: 16-bit samples are rounded to 8 bits
   (``round(v * 255 / 65535)``, not truncated to the high byte); alpha is
   composited over **white** (a design choice: transparent areas of a screenshot or
   a cut-out photo are white on every common viewer, and white is never mistaken
   for hair or scalp); palette, grey and CMYK images become RGB.
4. **Colour-manage**: an embedded ICC profile (JPEG APP2, PNG iCCP, TIFF, WebP,
   HEIF ``colr``) is converted to sRGB with LittleCMS through :mod:`PIL.ImageCms`,
   rendering intent **media-relative colorimetric** (ICC.1:2010, "Rendering
   intents"): a measurement wants colorimetric values, with the source white
   mapped to sRGB white; perceptual intent is a gamut-compression choice for
   pictures, not for measuring. (A matrix/TRC profile such as Display P3 holds a
   single colorimetric transform, so for iPhone photos the intents coincide.)
   Out-of-gamut colours are clipped. The transform runs at working size, after
   the resize. Images without a profile are assumed to be sRGB (the web
   default, IEC 61966-2-1).
5. **Orient** by the EXIF orientation tag (``0x0112``, Exif 2.32 / TIFF 6.0) so the
   result looks like the photo did on the phone; HEIF orientation is applied by
   libheif itself (``irot``/``imir`` boxes) and is reported, not re-applied.
6. **Resize** with area averaging (``cv2.INTER_AREA``) so the long side is at
   most ``max_side``; no side becomes smaller than 1 pixel. A shrink by less than
   2× (what is left after a reduced JPEG decode) is a Gaussian anti-aliasing blur
   and a bilinear resample instead, 3× faster (see ``_resize``). (This runs before
   steps 4 and 5, in the stored orientation: the cheapest order.)

Multi-frame files (TIFF pages, animated GIF/WebP) use their first frame; the
fact is recorded in :attr:`LoadedImage.notes`.

Errors are :class:`shade_match.errors.ImageLoadError` subclasses whose message
names the source and says what was expected and what was found. Pillow's own
warnings (decompression-bomb warning, corrupt EXIF, ...) never escape as Python
warnings; the ones that matter are recorded in :attr:`LoadedImage.notes`. (This
uses :class:`warnings.catch_warnings`, which changes process-wide filters for
the duration of the call: parallel loading should use processes, not threads.)

Known limits (of the decoders, not checked here): libjpeg treats *some*
corruption inside the entropy-coded data (a bad Huffman code, a marker where
data should be) as a warning, fills the rest of the image and carries on, and
Pillow (like OpenCV) does not expose that warning; likewise a PNG whose
compressed stream ends cleanly but early decodes with the missing rows black.
Such files load as partly wrong images instead of raising. Files cut short,
corrupt Huffman tables and broken streams are detected.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import os
import stat
import warnings
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from shade_match.errors import (
    EmptyFileError,
    ImageLoadError,
    ImageTooLargeError,
    NotAnImageError,
    SettingsError,
    TruncatedImageError,
    UnsupportedImageError,
)
from shade_match.results import ImageInfo

__all__ = ["LoadedImage", "load_image", "DEFAULT_MAX_PIXELS", "DEFAULT_MAX_SIDE", "SUPPORTED_FORMATS"]

#: Longest side of the working image, in pixels. A design choice, for speed (issue 3:
#: a 12 MP photo analysed in < 0.3 s and ≤ 3× its full decode): a 12 MP
#: (4000 × 3000) phone JPEG decodes at 1/4 scale straight to 1000 × 750, in about
#: half the time of a full decode (research/colour-science.md §6: 45 against 88 ms;
#: benchmarks/speed.py), and 1000 px is the size segmentation works at anyway
#: (``segmentation.SEGMENT_MAX_SIDE``: a larger image was shrunk to 1000 px there
#: before, so the masks do not change). A 12 MP close-up keeps its hairs ≥ 1–2 px
#: wide at this size while the frame spans ≲ 5 cm of scalp (50 µm per pixel; scalp
#: hairs are commonly quoted as 50–100 µm thick, not measured here); whole-head
#: photos (640 px in the dataset) are never shrunk.
DEFAULT_MAX_SIDE = 1000

#: Largest image accepted, in pixels: 2 × Pillow's default ``Image.MAX_IMAGE_PIXELS``
#: (89,478,485), the size above which Pillow itself refuses to open a file
#: (``DecompressionBombError``), so a larger default could never be reached. It
#: admits 108 MP phone photos (12000 × 9000, Samsung ISOCELL HM-series sensors) and
#: 100 MP medium-format files (Fujifilm GFX100, 11648 × 8736); 200 MP full-resolution
#: phone files (about 16300 × 12200) are refused with a message asking for a
#: smaller export. A decoded image of this size needs at most ~540 MB as 8-bit
#: RGB (JPEGs are decoded at reduced scale).
DEFAULT_MAX_PIXELS = 178_956_970

#: Formats the loader opens (Pillow format names; each is tested). Pillow is
#: told to try only these, so files in the dozens of other formats Pillow knows
#: (EPS, which runs Ghostscript; PSD; ICO; ...) are refused as not-an-image.
#: Multi-picture JPEGs (MPO, written by some cameras) open as JPEG and report "MPO".
SUPPORTED_FORMATS = ("JPEG", "PNG", "HEIF", "AVIF", "TIFF", "WEBP", "BMP", "GIF")

_EXIF_ORIENTATION = 0x0112  # Exif 2.32 / TIFF 6.0, tag 274 "Orientation"

# First bytes of the formats we read, to tell "not an image" from "an image whose
# header is broken" when Pillow cannot identify a file.
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")

_heif_registered = False


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image at working resolution, and facts about the original.

    Attributes
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        The working image: RGB, sRGB-encoded, C-contiguous, long side at most the
        ``max_side`` it was loaded with.
    width, height : int
        Size of the original image after EXIF orientation (before resizing).
    format : str
        Pillow's format name: ``"JPEG"``, ``"PNG"``, ``"HEIF"``, ``"TIFF"``, ...
    source : str
        The file name, or ``"<bytes>"`` (or the ``name`` given to :func:`load_image`).
    colour_profile : str
        How colours were interpreted, e.g. ``"sRGB (assumed, no profile)"``,
        ``"Display P3 → sRGB (ICC)"``, ``"CMYK → sRGB (naive, no profile)"``.
    orientation : int
        The EXIF orientation (1–8) of the file; 1 means none. The image is
        already turned upright.
    notes : tuple of str
        Things the caller may want to show: first page of a multi-page file used,
        alpha composited over white, 16-bit reduced to 8-bit, ...
    """

    rgb: np.ndarray
    width: int
    height: int
    format: str
    source: str
    colour_profile: str
    orientation: int = 1
    notes: tuple[str, ...] = field(default=())

    @property
    def working_width(self) -> int:
        """Width of :attr:`rgb` in pixels."""
        return int(self.rgb.shape[1])

    @property
    def working_height(self) -> int:
        """Height of :attr:`rgb` in pixels."""
        return int(self.rgb.shape[0])

    def image_info(self) -> ImageInfo:
        """The :class:`shade_match.results.ImageInfo` for this image."""
        return ImageInfo(
            width=self.width,
            height=self.height,
            working_width=self.working_width,
            working_height=self.working_height,
            format=self.format,
            colour_profile=self.colour_profile,
            orientation=self.orientation,
        )


# --------------------------------------------------------------------------- helpers


def _register_heif() -> None:
    """Register pillow-heif's opener with Pillow, once, on first use (not at import)."""
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def _describe_first_bytes(head: bytes) -> str:
    shown = head[:16]
    if shown and all(32 <= b < 127 or b in (9, 10, 13) for b in shown):
        return f"text {shown.decode('ascii')!r}"
    return f"bytes {shown.hex(' ')}"


def _sniff_format(head: bytes) -> str | None:
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")):
        if test(mode):
            return kind
    return "special file"


def _is_positive_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _open_source(source, name: str | None) -> tuple[BinaryIO, str, int]:
    """Return a seekable binary stream, the name to use in messages, and the size in bytes.

    A path is opened, not read: Pillow then reads only the header before the
    pixel-limit check, so a huge non-image file is refused without reading it.
    The caller closes the stream.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return io.BytesIO(data), name or "<bytes>", len(data)
    if isinstance(source, (str, os.PathLike)):
        label = name or os.fspath(source)
        try:
            info = os.stat(source)
            if stat.S_ISDIR(info.st_mode):
                raise ImageLoadError(label, "expected an image file, but this is a directory")
            if not stat.S_ISREG(info.st_mode):
                # Reading a named pipe could block for ever; devices never end.
                kind = _file_kind(info.st_mode)
                raise NotAnImageError(label, f"expected a regular image file, but this is a {kind}")
            handle = open(source, "rb")  # noqa: SIM115 - closed by load_image
            return handle, label, os.fstat(handle.fileno()).st_size
        except IsADirectoryError:
            raise ImageLoadError(label, "expected an image file, but this is a directory") from None
        except FileNotFoundError:
            raise ImageLoadError(label, "expected an image file, but no such file exists") from None
        except PermissionError:
            raise ImageLoadError(label, "expected a readable image file, but permission was denied") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                reason = "expected an image file, but the path is a symbolic link loop"
            else:
                reason = f"expected a readable image file, but reading failed: {exc.strerror or exc}"
            raise ImageLoadError(label, reason) from None
    if hasattr(source, "read"):
        label = name or str(getattr(source, "name", "<stream>"))
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise ImageLoadError(
                label, f"expected a binary file object, but read() returned {type(data).__name__}"
            )
        return io.BytesIO(data), label, len(data)
    raise ImageLoadError(
        str(name or "<unknown>"),
        f"expected a path, bytes or a binary file object, but received {type(source).__name__}",
    )


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a stored image upright per its EXIF orientation.

    Orientation values (Exif 2.32 / TIFF 6.0 tag 274 = 0x0112) say how the stored rows
    and columns are to be displayed: 2 mirror, 3 rotate 180°, 4 flip, 5
    transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° anticlockwise.
    OpenCV's flip/rotate/transpose copy several times faster than a contiguous
    copy of a rotated NumPy view (about 4 ms against 34 ms at 1600 × 1200).
    """
    import cv2

    if orientation == 1:
        return array
    if orientation == 2:
        return cv2.flip(array, 1)
    if orientation == 3:
        return cv2.flip(array, -1)
    if orientation == 4:
        return cv2.flip(array, 0)
    if orientation == 5:
        return cv2.transpose(array)
    if orientation == 6:
        return cv2.rotate(array, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.transpose(cv2.flip(array, -1))
    if orientation == 8:
        return cv2.rotate(array, cv2.ROTATE_90_COUNTERCLOCKWISE)
    raise ValueError(f"EXIF orientation must be 1-8, got {orientation}")  # callers validate first


def _working_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resize(array: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Shrink ``array`` to ``target`` = (width, height); a no-op when it already has that size.

    Area averaging (``cv2.INTER_AREA``: the mean of the source pixels under each output
    pixel, the anti-aliased downscale the ``cv2.resize`` documentation recommends for
    shrinking), except for a shrink by less than 2× that is not by a whole factor
    (a reduced JPEG decode of 4032 × 3024 gives 1008 × 756 for a 1000 px working
    image). There OpenCV's area resize takes its general path, 8–11 ms at 1–1.5 MP
    on one core of this machine against ≈ 1 ms for a whole factor, so the image is
    instead blurred with a Gaussian of σ = (s − 1) / 2 input pixels, s = input/output
    size (the anti-aliasing default of scikit-image's ``transform.resize``), and
    resampled bilinearly: 2–4 ms (measured here, ``benchmarks/speed.py`` machine).
    Below a 2× shrink bilinear sampling reads every input pixel, so no 1-px hair
    is skipped.
    """
    height, width = array.shape[:2]
    if target == (width, height):
        return np.ascontiguousarray(array)
    import cv2

    array = np.ascontiguousarray(array)
    factor_x, factor_y = width / target[0], height / target[1]
    if max(factor_x, factor_y) >= 2.0:
        return cv2.resize(array, target, interpolation=cv2.INTER_AREA)
    sigma_x, sigma_y = (max(factor_x, 1.0) - 1.0) / 2.0, (max(factor_y, 1.0) - 1.0) / 2.0
    # Below σ = 0.3 the Gaussian's neighbour weights, exp(−1 / 2σ²), are under 1/256:
    # on 8-bit data the blur would change nothing, so it is skipped.
    if max(sigma_x, sigma_y) >= 0.3:
        array = cv2.GaussianBlur(array, (0, 0), sigmaX=max(sigma_x, 0.01), sigmaY=max(sigma_y, 0.01))
    return cv2.resize(array, target, interpolation=cv2.INTER_LINEAR)


def _to_uint8(values: np.ndarray, maximum: int) -> np.ndarray:
    """Scale integer samples in [0, maximum] to uint8 with rounding (not truncation)."""
    scaled = (values.astype(np.float32) * (255.0 / maximum)) + 0.5
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _composite_over_white(colour: np.ndarray, alpha: np.ndarray, alpha_max: int) -> np.ndarray:
    """Straight (non-premultiplied) alpha over white, in the encoded values: c·a + 255·(1 − a)."""
    a = alpha.astype(np.float32)[..., None] / alpha_max
    out = colour.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _is_16bit(image) -> bool:
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        return True
    for tile in getattr(image, "tile", None) or ():
        rawmode = tile.args[0] if isinstance(tile.args, tuple) else tile.args
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def _decode_16bit(stream: BinaryIO, label: str) -> np.ndarray:
    """Decode a 16-bit PNG/TIFF with OpenCV (Pillow keeps only the high byte of
    16-bit RGB) and return 8-bit RGB, alpha composited over white.

    ``IMREAD_UNCHANGED`` keeps 16 bits and does *not* apply EXIF orientation
    (OpenCV's imread flags), so orientation is applied once, by the caller.
    """
    import cv2

    stream.seek(0)
    decoded = cv2.imdecode(np.frombuffer(stream.read(), np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise TruncatedImageError(
            label, "expected a complete 16-bit image, but its pixel data could not be decoded"
        )
    maximum = 65535 if decoded.dtype == np.uint16 else 255
    if decoded.ndim == 2:
        decoded = decoded[..., None]
    channels = decoded.shape[2]
    if channels == 1:
        return np.repeat(_to_uint8(decoded, maximum), 3, axis=2)
    if channels == 2:
        grey = np.repeat(decoded[..., :1], 3, axis=2)
        return _composite_over_white(_to_uint8(grey, maximum), decoded[..., 1], maximum)
    rgb = decoded[..., 2::-1]  # BGR(A) -> RGB
    if channels == 4:
        return _composite_over_white(_to_uint8(rgb, maximum), decoded[..., 3], maximum)
    return _to_uint8(rgb, maximum)


def _icc_to_srgb(image, icc: bytes, notes: list[str]):
    """Convert a Pillow image with an embedded ICC profile to sRGB. Returns
    ``(rgb_image or None, description)``; ``None`` when the profile cannot be used."""
    from PIL import ImageCms

    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ImageCms.PyCMSError, ValueError, TypeError):
        notes.append("embedded ICC profile is unreadable; colours assumed sRGB")
        return None, "sRGB (assumed, unreadable ICC profile)"
    description = (ImageCms.getProfileDescription(profile) or "").strip() or "unnamed profile"
    space = profile.profile.xcolor_space.strip()
    expected_space = {"RGB": "RGB", "L": "GRAY", "CMYK": "CMYK"}.get(image.mode)
    if space != expected_space:
        notes.append(f"embedded ICC profile describes {space} data but the image is {image.mode}; profile ignored")
        return None, f"sRGB (assumed, mismatched ICC profile '{description}')"
    try:
        converted = ImageCms.profileToProfile(
            image,
            profile,
            ImageCms.createProfile("sRGB"),
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            outputMode="RGB",
        )
    except ImageCms.PyCMSError as exc:
        notes.append(f"embedded ICC profile '{description}' could not be applied ({exc}); colours assumed sRGB")
        return None, "sRGB (assumed, ICC profile could not be applied)"
    return converted, f"{description} → sRGB (ICC)"


def _pixels_of(image, label: str, notes: list[str]) -> tuple[np.ndarray, str]:
    """A decoded 8-bit Pillow image → ``(pixels, mode)``.

    ``mode`` is ``"RGB"`` (``(H, W, 3)``), ``"L"`` (``(H, W)``) or ``"CMYK"``
    (``(H, W, 4)``), all uint8; palette and alpha images come back as RGB with
    alpha composited over white.
    """
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "1":
        image = image.convert("L")
    elif mode in ("RGBa", "La"):  # premultiplied alpha → straight alpha
        image = image.convert("RGBA" if mode == "RGBa" else "LA")
    elif mode == "YCbCr":
        image = image.convert("RGB")
    mode = image.mode

    if mode in ("RGBA", "LA", "PA"):
        if mode == "PA":
            image = image.convert("RGBA")
        array = np.asarray(image)
        colour, alpha = array[..., :-1], array[..., -1]
        if colour.shape[2] == 1:
            colour = np.repeat(colour, 3, axis=2)
        if alpha.min() < 255:
            notes.append("transparent pixels composited over white")
        return _composite_over_white(colour, alpha, 255), "RGB"
    if mode in ("RGB", "L", "CMYK"):
        return np.asarray(image), mode
    raise UnsupportedImageError(
        label,
        f"expected RGB, grey, palette, CMYK or 16-bit integer pixels, but the image has Pillow mode {mode!r}",
    )


def _to_srgb(pixels: np.ndarray, mode: str, icc: bytes | None, notes: list[str]) -> tuple[np.ndarray, str]:
    """Working-size pixels in ``mode`` (RGB, L or CMYK) → ``(uint8 sRGB array, colour_profile text)``."""
    from PIL import Image

    profile_text = "sRGB (assumed, no profile)"
    if icc or mode == "CMYK":
        height, width = pixels.shape[:2]
        image = Image.frombytes(mode, (width, height), np.ascontiguousarray(pixels).tobytes())
        if icc:
            converted, profile_text = _icc_to_srgb(image, icc, notes)
            if converted is not None:
                return np.asarray(converted), profile_text
        if mode == "CMYK":
            # Pillow's device-naive conversion, R = (255 − C)(255 − K)/255, ...
            return np.asarray(image.convert("RGB")), "CMYK → sRGB (naive, no profile)"
    if mode == "L":
        return np.repeat(pixels[..., None], 3, axis=2), profile_text
    return pixels, profile_text


# --------------------------------------------------------------------------- public


def load_image(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    max_side: int | None = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
) -> LoadedImage:
    """Decode an image into the working RGB image.

    Parameters
    ----------
    source : str, path-like, bytes or binary file object
        The image. Formats: JPEG (and MPO), PNG (8/16-bit, palette, grey,
        alpha), TIFF (first page), WebP, HEIC/HEIF, AVIF, BMP, GIF (first frame).
    max_side : int or None, optional
        Longest side of the returned ``rgb``, in pixels; larger images are
        shrunk (JPEGs are decoded at reduced scale first). ``None`` keeps the
        full size. Default :data:`DEFAULT_MAX_SIDE` (1000).
    max_pixels : int, optional
        Refuse images with more pixels than this, checked on the header before
        decoding. Default :data:`DEFAULT_MAX_PIXELS`.
    name : str, optional
        Name to use in messages and in :attr:`LoadedImage.source` (useful for
        bytes, e.g. an uploaded file's name).

    Returns
    -------
    LoadedImage

    Raises
    ------
    EmptyFileError
        The source has zero bytes.
    NotAnImageError
        The bytes are not in a format listed above.
    TruncatedImageError
        The file ends early or its data is corrupt.
    ImageTooLargeError
        More than ``max_pixels`` pixels.
    UnsupportedImageError
        An image of a kind that cannot be turned into RGB (e.g. floating-point).
    ImageLoadError
        The path is missing, a directory, unreadable, or a symbolic-link loop.
    """
    if max_side is not None and not _is_positive_int(max_side):
        raise SettingsError(f"max_side: expected a positive integer or None, but received {max_side!r}")
    if not _is_positive_int(max_pixels):
        raise SettingsError(f"max_pixels: expected a positive integer, but received {max_pixels!r}")

    notes: list[str] = []
    stream, label, size = _open_source(source, name)
    with stream:
        if size == 0:
            raise EmptyFileError(label, "expected image data, but the file is empty (0 bytes)")
        head = stream.read(32)
        stream.seek(0)
        loaded, caught = _open_and_decode(stream, head, size, label, max_side, max_pixels, notes)

    from PIL import Image

    for warning in caught:
        if issubclass(warning.category, Image.DecompressionBombWarning):
            continue  # our own max_pixels check already ran
        notes.append(f"decoder warning: {warning.message}")
    if notes:
        loaded = dataclasses.replace(loaded, notes=tuple(notes))
    return loaded


def _open_and_decode(
    stream: BinaryIO,
    head: bytes,
    size: int,
    label: str,
    max_side: int | None,
    max_pixels: int,
    notes: list[str],
):
    """Open the header, check it, decode; returns ``(LoadedImage, recorded warnings)``."""
    from PIL import Image, UnidentifiedImageError

    sniffed = _sniff_format(head)
    _register_heif()  # once per process, on first use; HEIF brands vary too much to sniff reliably

    with warnings.catch_warnings(record=True) as caught:
        # Recording (not ignoring) keeps Pillow's warnings out of the caller's
        # warning filters while letting us turn the useful ones into notes.
        warnings.simplefilter("always")
        try:
            image = Image.open(stream, formats=SUPPORTED_FORMATS)
        except Image.DecompressionBombError as exc:
            raise ImageTooLargeError(
                label, f"expected at most {max_pixels:,} pixels, but Pillow refused the image as too large ({exc})"
            ) from None
        except UnidentifiedImageError:
            if sniffed is not None:
                raise TruncatedImageError(
                    label, f"expected a readable {sniffed} header, but the header is truncated or corrupt"
                ) from None
            raise NotAnImageError(
                label,
                f"expected one of {', '.join(SUPPORTED_FORMATS)}, but the data starts with "
                f"{_describe_first_bytes(head[:16])} ({size:,} bytes)",
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise TruncatedImageError(
                label, f"expected a readable {sniffed or 'image'} header, but reading it failed: {exc}"
            ) from None
        with image:
            loaded = _decode(image, stream, label, max_side, max_pixels, notes)
    return loaded, caught


def _read_orientation(image, image_format: str, notes: list[str]) -> tuple[int, int]:
    """Return (orientation found in the file, orientation still to apply)."""
    if image_format == "HEIF":
        # libheif already applied the irot/imir transforms; pillow-heif keeps the
        # file's EXIF value here and sets the EXIF tag itself to 1.
        orientation = int(image.info.get("original_orientation") or 1)
        return (orientation if orientation in range(1, 9) else 1), 1
    try:
        orientation = int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # corrupt EXIF must not stop the decode  # noqa: BLE001
        notes.append("EXIF data is corrupt; orientation ignored")
        return 1, 1
    if orientation not in range(1, 9):
        notes.append(f"EXIF orientation {orientation} is not 1–8; ignored")
        return 1, 1
    return orientation, orientation


def _decode(
    image, stream: BinaryIO, label: str, max_side: int | None, max_pixels: int, notes: list[str]
) -> LoadedImage:
    from PIL import Image

    stored_width, stored_height = image.size
    pixel_count = stored_width * stored_height
    if pixel_count > max_pixels:
        raise ImageTooLargeError(
            label,
            f"expected at most {max_pixels:,} pixels, but the image is {stored_width} × {stored_height} "
            f"= {pixel_count:,} pixels; export it at a smaller size",
        )
    image_format = image.format or "unknown"

    frames = getattr(image, "n_frames", 1) or 1
    if frames > 1:
        kind = "page" if image_format == "TIFF" else "frame"
        notes.append(f"first {kind} of {frames} used")

    is_16bit = _is_16bit(image) and image_format in ("PNG", "TIFF")  # tile info is gone after load()

    if image_format in ("JPEG", "MPO") and max_side is not None and max(stored_width, stored_height) > max_side:
        scale = max_side / max(stored_width, stored_height)
        # draft() picks the largest DCT scale (1/2, 1/4, 1/8) that keeps both
        # sides at least this size, so the area resize below only shrinks.
        requested = (max(1, int(np.ceil(stored_width * scale))), max(1, int(np.ceil(stored_height * scale))))
        image.draft(None, requested)

    try:
        image.load()  # decode now, so truncation surfaces here and not in getexif()
        orientation, apply_orientation = _read_orientation(image, image_format, notes)
        if is_16bit:
            pixels, mode = _decode_16bit(stream, label), "RGB"
            notes.append("16-bit samples rounded to 8-bit")
        elif image.mode == "F":
            raise UnsupportedImageError(
                label, "expected integer pixel values, but the image holds floating-point samples"
            )
        elif image.mode == "I" or image.mode.startswith("I;"):
            pixels, mode = _to_uint8(np.asarray(image), 65535), "L"
        else:
            pixels, mode = _pixels_of(image, label, notes)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(
            label, f"expected at most {max_pixels:,} pixels, but Pillow refused a frame as too large ({exc})"
        ) from None
    except (OSError, SyntaxError, EOFError, ValueError, IndexError) as exc:
        raise TruncatedImageError(
            label, f"expected complete {image_format} image data, but decoding failed: {exc}"
        ) from None

    # Resize in the stored orientation (the long side is the same either way),
    # then colour-manage and turn upright at working size: the cheapest order.
    pixels = _resize(pixels, _working_size(stored_width, stored_height, max_side))
    rgb, profile_text = _to_srgb(pixels, mode, image.info.get("icc_profile"), notes)
    working = _orient(rgb, apply_orientation)
    if apply_orientation in (5, 6, 7, 8):
        width, height = stored_height, stored_width
    else:
        width, height = stored_width, stored_height
    if not working.flags.writeable or not working.flags.c_contiguous:
        working = np.array(working, order="C")
    return LoadedImage(
        rgb=working,
        width=int(width),
        height=int(height),
        format=image_format,
        source=label,
        colour_profile=profile_text,
        orientation=orientation,
    )
