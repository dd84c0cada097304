"""Generate small test image files on the fly (no binary fixtures in the repository).

Every ``make_*`` function writes one file to ``path`` (a ``pathlib.Path`` or str,
normally under pytest's ``tmp_path``) and returns it as a :class:`pathlib.Path`.
Pixel inputs follow the project's image convention: ``(H, W, 3)`` ``uint8`` RGB
(16-bit makers take ``uint16``). Use ``path.read_bytes()`` to test byte input.

The files are built with the real encoders (Pillow, OpenCV, pillow-heif) or, where
a file must be *broken* in a specific way, by editing real encoder output:

- :func:`make_png_bomb` writes a valid PNG header that declares a huge size followed
  by a tiny compressed stream, so the file is a few hundred bytes and is made in
  microseconds; a loader that trusted the header would try to allocate
  ``width * height`` pixels.
- :func:`make_corrupt_huffman_jpeg` breaks the Huffman table (DHT segment) so libjpeg
  reports "bogus Huffman table definition" (a fatal libjpeg error).
- :func:`display_p3_icc_profile` writes an ICC v2 matrix/TRC profile byte by byte
  (ICC.1 v2 layout) from the Display P3 primaries; colour-science is *not*
  used, so tests can use colour-science as an independent oracle.

Nothing here registers plug-ins with Pillow (pillow-heif is used through its own
API), so tests of :mod:`shade_match.io` see the loader's own registration.
"""

from __future__ import annotations

import io
import struct
import zlib
from os import PathLike
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

__all__ = [
    "EXIF_ORIENTATION_TAG",
    "photo_like_rgb",
    "uniform_rgb",
    "corner_marked_rgb",
    "rgb_icc_profile",
    "display_p3_icc_profile",
    "make_jpeg",
    "make_png",
    "make_png16",
    "make_tiff16",
    "make_mpo",
    "make_grey_png",
    "make_grey_alpha_png",
    "make_palette_png",
    "make_rgba_png",
    "make_cmyk_jpeg",
    "make_heic",
    "make_webp",
    "make_bmp",
    "make_multipage_tiff",
    "make_animated_gif",
    "make_png_bomb",
    "make_truncated_jpeg",
    "make_corrupt_huffman_jpeg",
    "make_text_file",
    "make_display_p3_jpeg",
    "jpeg_bytes",
]

EXIF_ORIENTATION_TAG = 0x0112  # TIFF/Exif tag 274, "Orientation"

PathArg = str | PathLike[str]


# --------------------------------------------------------------------------- pixels


def photo_like_rgb(height: int, width: int, *, seed: int = 0, n_strands: int | None = None) -> np.ndarray:
    """A photo-like test image: smooth colour fields, dark hair-like strands, noise.

    The recipe of the decode benchmark in ``research/colour-science.md`` §6: smooth
    low-frequency fields, anti-aliased dark strands 1–3 px wide and 80–400 px long
    (4,000 of them at 12 MP, scaled with area otherwise) and Gaussian noise σ = 4.

    Returns
    -------
    (height, width, 3) uint8 RGB.
    """
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(60, 200, size=(6, 8, 3)).astype(np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)  # uint8, saturating
    if n_strands is None:
        n_strands = int(round(4000 * (height * width) / 12e6))
    for _ in range(n_strands):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        length, angle = rng.uniform(80, 400), rng.uniform(0, np.pi)
        x1, y1 = int(x0 + length * np.cos(angle)), int(y0 + length * np.sin(angle))
        shade = int(rng.integers(15, 70))
        cv2.line(image, (x0, y0), (x1, y1), (shade, max(shade - 5, 0), max(shade - 10, 0)),
                 int(rng.integers(1, 4)), cv2.LINE_AA)
    # OpenCV's generator is several times faster than NumPy's at 36 M samples;
    # seeding it keeps the image reproducible.
    cv2.setRNGSeed(seed)
    noise = np.empty(image.shape, np.int16)
    cv2.randn(noise, 0.0, 4.0)
    return cv2.add(image, noise, dtype=cv2.CV_8U)  # saturating add


def uniform_rgb(height: int, width: int, rgb: tuple[int, int, int]) -> np.ndarray:
    """A ``(height, width, 3)`` uint8 image filled with one colour."""
    return np.broadcast_to(np.asarray(rgb, dtype=np.uint8), (height, width, 3)).copy()


def corner_marked_rgb(height: int, width: int) -> np.ndarray:
    """A mid-grey image with a red block in the stored top-left corner and a blue
    block in the stored top-right corner (each 1/4 × 1/4 of the image), so an
    orientation can be identified from where the two blocks end up."""
    image = uniform_rgb(height, width, (128, 128, 128))
    bh, bw = max(1, height // 4), max(1, width // 4)
    image[:bh, :bw] = (255, 0, 0)
    image[:bh, -bw:] = (0, 0, 255)
    return image


# --------------------------------------------------------------------------- ICC


def _s15f16(value: float) -> bytes:
    return struct.pack(">i", int(round(value * 65536)))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15f16(v) for v in xyz)


def _xy_to_xyz(x: float, y: float) -> np.ndarray:
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def rgb_icc_profile(
    primaries_xy: tuple[tuple[float, float], tuple[float, float], tuple[float, float]],
    white_xy: tuple[float, float],
    description: str,
) -> bytes:
    """Build an ICC v2.1 RGB display profile (matrix/TRC) with the sRGB tone curve.

    The colorants are the RGB→XYZ matrix of the primaries (SMPTE RP 177 method),
    adapted from ``white_xy`` to the ICC PCS white D50 with the Bradford transform
    (the chromatic adaptation ICC v4 recommends for display profiles). The tone curve is the sRGB
    piecewise curve (IEC 61966-2-1) as a ``parametricCurveType`` function 3.

    Returns
    -------
    bytes
        The profile, ready for ``Image.save(..., icc_profile=...)``.
    """
    white = _xy_to_xyz(*white_xy)
    primaries = np.stack([_xy_to_xyz(*xy) for xy in primaries_xy], axis=1)
    scale = np.linalg.solve(primaries, white)
    rgb_to_xyz = primaries * scale  # columns: X, Y, Z of R, G, B at full drive
    bradford = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
    d50 = np.array([0.9642, 1.0, 0.8249])  # ICC profile connection space illuminant (D50)
    cone_gain = (bradford @ d50) / (bradford @ white)
    adapt = np.linalg.inv(bradford) @ np.diag(cone_gain) @ bradford
    colorants = adapt @ rgb_to_xyz

    ascii_text = description.encode("ascii") + b"\0"
    desc = (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)
    cprt = b"text" + b"\0" * 4 + b"No copyright, test profile\0"
    # sRGB curve: Y = (aX + b)^g for X >= d, else cX
    para = b"para" + b"\0" * 4 + struct.pack(">HH", 3, 0) + b"".join(
        _s15f16(v) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
    tags = [
        (b"desc", desc), (b"cprt", cprt), (b"wtpt", _xyz_tag(d50)),
        (b"rXYZ", _xyz_tag(colorants[:, 0])), (b"gXYZ", _xyz_tag(colorants[:, 1])),
        (b"bXYZ", _xyz_tag(colorants[:, 2])),
        (b"rTRC", para), (b"gTRC", para), (b"bTRC", para),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)  # tags start on 4-byte boundaries
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24
              + struct.pack(">I", 0) + b"".join(_s15f16(v) for v in d50) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def display_p3_icc_profile() -> bytes:
    """Display P3 (DCI-P3 primaries, D65 white, sRGB tone curve), as Apple defines it."""
    return rgb_icc_profile(((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), (0.3127, 0.3290), "Display P3")


# --------------------------------------------------------------------------- writers


def _exif_bytes(orientation: int | None) -> bytes | None:
    if orientation is None:
        return None
    exif = Image.Exif()
    exif[EXIF_ORIENTATION_TAG] = orientation
    return exif.tobytes()


def jpeg_bytes(rgb: np.ndarray, *, quality: int = 90, subsampling: int = 2,
               exif_orientation: int | None = None, icc: bytes | None = None) -> bytes:
    """Encode ``rgb`` as a JPEG with Pillow and return the bytes (``subsampling``:
    0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0)."""
    buffer = io.BytesIO()
    kwargs = {"quality": quality, "subsampling": subsampling}
    if exif_orientation is not None:
        kwargs["exif"] = _exif_bytes(exif_orientation)
    if icc is not None:
        kwargs["icc_profile"] = icc
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, "JPEG", **kwargs)
    return buffer.getvalue()


def make_jpeg(path: PathArg, rgb: np.ndarray, quality: int = 90, exif_orientation: int | None = None,
              icc: bytes | None = None, *, subsampling: int = 2) -> Path:
    """Write ``rgb`` as a JPEG, optionally with an EXIF orientation tag and an ICC profile."""
    path = Path(path)
    path.write_bytes(jpeg_bytes(rgb, quality=quality, subsampling=subsampling,
                                exif_orientation=exif_orientation, icc=icc))
    return path


def make_display_p3_jpeg(path: PathArg, rgb_p3: np.ndarray, quality: int = 95) -> Path:
    """Write ``rgb_p3`` (Display P3-encoded values) as a 4:4:4 JPEG tagged with a Display P3 profile."""
    return make_jpeg(path, rgb_p3, quality=quality, icc=display_p3_icc_profile(), subsampling=0)


def make_png(path: PathArg, rgb: np.ndarray, *, icc: bytes | None = None,
             exif_orientation: int | None = None) -> Path:
    """Write an 8-bit RGB PNG (optionally with an iCCP chunk and an eXIf chunk)."""
    path = Path(path)
    kwargs = {}
    if icc is not None:
        kwargs["icc_profile"] = icc
    if exif_orientation is not None:
        kwargs["exif"] = _exif_bytes(exif_orientation)
    Image.fromarray(np.ascontiguousarray(rgb)).save(path, "PNG", **kwargs)
    return path


def _encode16(extension: str, rgb16: np.ndarray) -> bytes:
    rgb16 = np.asarray(rgb16)
    if rgb16.dtype != np.uint16:
        raise TypeError(f"16-bit writers expect uint16, got {rgb16.dtype}")
    if rgb16.ndim == 3:
        code = cv2.COLOR_RGB2BGR if rgb16.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        rgb16 = cv2.cvtColor(rgb16, code)
    ok, encoded = cv2.imencode(extension, rgb16)
    assert ok
    return encoded.tobytes()


def _png_with_chunks(png: bytes, chunks: list[tuple[bytes, bytes]]) -> bytes:
    """Insert ancillary chunks right after IHDR (before any IDAT)."""
    ihdr_end = 8 + 4 + 4 + 13 + 4  # signature, length, type, IHDR data, CRC
    return png[:ihdr_end] + b"".join(_png_chunk(kind, data) for kind, data in chunks) + png[ihdr_end:]


def make_png16(path: PathArg, rgb16: np.ndarray, *, exif_orientation: int | None = None,
               icc: bytes | None = None) -> Path:
    """Write a 16-bit PNG from ``(H, W, 3)`` or ``(H, W, 4)`` uint16 RGB(A) or ``(H, W)`` grey
    (OpenCV encoder), optionally with an eXIf chunk (orientation) and an iCCP chunk."""
    path = Path(path)
    chunks = []
    if icc is not None:
        chunks.append((b"iCCP", b"icc\0\0" + zlib.compress(icc)))  # name, NUL, method 0, zlib data
    if exif_orientation is not None:
        chunks.append((b"eXIf", _exif_bytes(exif_orientation).removeprefix(b"Exif\0\0")))  # PNG: bare TIFF header
    path.write_bytes(_png_with_chunks(_encode16(".png", rgb16), chunks))
    return path


def make_tiff16(path: PathArg, rgb16: np.ndarray) -> Path:
    """Write a 16-bit TIFF (OpenCV encoder) from uint16 RGB(A) or grey."""
    path = Path(path)
    path.write_bytes(_encode16(".tiff", rgb16))
    return path


def make_mpo(path: PathArg, frames: list[np.ndarray], quality: int = 95) -> Path:
    """Write a multi-picture JPEG (MPO, as some cameras write) with Pillow."""
    path = Path(path)
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    images[0].save(path, "MPO", save_all=True, append_images=images[1:], quality=quality)
    return path


def make_grey_png(path: PathArg, grey: np.ndarray) -> Path:
    """Write a greyscale PNG from ``(H, W)`` uint8 (8-bit) or uint16 (16-bit)."""
    grey = np.asarray(grey)
    if grey.dtype == np.uint16:
        return make_png16(path, grey)
    path = Path(path)
    Image.fromarray(grey.astype(np.uint8), mode=None).save(path, "PNG")
    return path


def make_grey_alpha_png(path: PathArg, grey: np.ndarray, alpha: np.ndarray) -> Path:
    """Write an 8-bit grey + alpha (mode ``LA``) PNG."""
    path = Path(path)
    Image.fromarray(np.dstack([grey, alpha]).astype(np.uint8), mode="LA").save(path, "PNG")
    return path


def make_rgba_png(path: PathArg, rgba: np.ndarray) -> Path:
    """Write an 8-bit RGBA PNG from ``(H, W, 4)`` uint8."""
    path = Path(path)
    Image.fromarray(np.ascontiguousarray(rgba, dtype=np.uint8), mode="RGBA").save(path, "PNG")
    return path


def make_palette_png(path: PathArg, indices: np.ndarray, palette: list[tuple[int, int, int]],
                     transparent_index: int | None = None) -> Path:
    """Write a palette (mode ``P``) PNG: ``indices`` ``(H, W)`` into ``palette`` (RGB triples)."""
    path = Path(path)
    image = Image.fromarray(np.asarray(indices, dtype=np.uint8), mode="L").convert("P")
    flat = [c for rgb in palette for c in rgb]
    image.putpalette(flat + [0] * (768 - len(flat)))
    kwargs = {} if transparent_index is None else {"transparency": transparent_index}
    image.save(path, "PNG", **kwargs)
    return path


def make_cmyk_jpeg(path: PathArg, cmyk: np.ndarray, quality: int = 95) -> Path:
    """Write a CMYK JPEG (Pillow writes Adobe-style inverted CMYK) from ``(H, W, 4)`` uint8."""
    path = Path(path)
    Image.fromarray(np.ascontiguousarray(cmyk, dtype=np.uint8), mode="CMYK").save(
        path, "JPEG", quality=quality, subsampling=0)
    return path


def make_heic(path: PathArg, rgb: np.ndarray, quality: int = 95, icc: bytes | None = None,
              exif_orientation: int | None = None) -> Path:
    """Write a HEIC (HEVC in HEIF) with pillow-heif, without registering its Pillow plug-in."""
    import pillow_heif

    path = Path(path)
    image = Image.fromarray(np.ascontiguousarray(rgb))
    if icc is not None:
        image.info["icc_profile"] = icc
    heif = pillow_heif.from_pillow(image)
    kwargs = {"quality": quality}
    if exif_orientation is not None:
        kwargs["exif"] = _exif_bytes(exif_orientation)
    heif.save(path, **kwargs)
    return path


def make_webp(path: PathArg, rgb: np.ndarray, lossless: bool = True) -> Path:
    """Write a WebP (lossless by default, so pixel values survive exactly)."""
    path = Path(path)
    Image.fromarray(np.ascontiguousarray(rgb)).save(path, "WEBP", lossless=lossless, quality=100)
    return path


def make_bmp(path: PathArg, rgb: np.ndarray) -> Path:
    """Write a 24-bit BMP."""
    path = Path(path)
    Image.fromarray(np.ascontiguousarray(rgb)).save(path, "BMP")
    return path


def make_multipage_tiff(path: PathArg, pages: list[np.ndarray]) -> Path:
    """Write a multi-page TIFF, one uint8 RGB page per array."""
    path = Path(path)
    images = [Image.fromarray(np.ascontiguousarray(p)) for p in pages]
    images[0].save(path, "TIFF", save_all=True, append_images=images[1:])
    return path


def make_animated_gif(path: PathArg, frames: list[np.ndarray], duration_ms: int = 100) -> Path:
    """Write an animated GIF, one uint8 RGB frame per array (use few colours: GIF is paletted)."""
    path = Path(path)
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    images[0].save(path, "GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def make_png_bomb(path: PathArg, width: int = 50_000, height: int = 50_000) -> Path:
    """A tiny PNG whose header declares ``width × height`` 1-bit grey pixels.

    The IHDR is valid; the IDAT holds the compressed first rows only, so the file
    is a few hundred bytes and takes microseconds to make. Decoding it fully would
    need ``width * height`` bytes in Pillow's 8-bit ``1``/``L`` storage.
    """
    path = Path(path)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    row = b"\0" + b"\0" * ((width + 7) // 8)  # filter byte 0 + packed bits
    idat = zlib.compress(row * 4, 9)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


def make_truncated_jpeg(path: PathArg, rgb: np.ndarray, keep_fraction: float = 0.5) -> Path:
    """A valid JPEG cut off after ``keep_fraction`` of its bytes (a half-finished download)."""
    path = Path(path)
    data = jpeg_bytes(rgb)
    path.write_bytes(data[: max(4, int(len(data) * keep_fraction))])
    return path


def make_corrupt_huffman_jpeg(path: PathArg, rgb: np.ndarray) -> Path:
    """A JPEG whose first Huffman table (DHT segment) claims more than 256 codes.

    libjpeg rejects it with JERR_BAD_HUFF_TABLE ("Bogus Huffman table definition"),
    a fatal error, when the scan is decoded (the header itself still parses).
    """
    path = Path(path)
    data = bytearray(jpeg_bytes(rgb))
    dht = data.find(b"\xff\xc4")
    if dht < 0:
        raise RuntimeError("encoder wrote no DHT segment")
    # segment: FFC4, length(2), Tc/Th(1), 16 code-length counts
    counts = dht + 5
    for i in range(16):
        data[counts + i] = 0xFF
    path.write_bytes(bytes(data))
    return path


def make_text_file(path: PathArg, text: str = "This is not an image, just text saved as .jpg\n") -> Path:
    """A plain text file (usually given an image extension by the test)."""
    path = Path(path)
    path.write_text(text, encoding="utf8")
    return path
