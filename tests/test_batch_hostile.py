"""A hostile corpus through one batch run: every file analyses or fails clearly, once.

The corpus is generated in ``tmp_path`` (no binaries in the repository). Each case is
``name → generator → expected``: ``OK`` (analysed; for most, the recorded image size is
checked against the size the generator wrote) or the ``error_type`` the record must
carry. All cases go through a single :func:`shade_match.batch.run_batch` call with two
worker processes, so one file's failure cannot hide behind another's, and the run must
record every file exactly once with valid JSON.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

import imagegen as gen
from shade_match.batch import run_batch

OK = "ok"
#: A photo with nothing to measure (no scalp, hair or skin in it) may be reported either
#: way: analysed with warnings and no tones, or as an AnalysisError ("read but cannot be
#: measured", shade_match/errors.py). Either is a clear answer.
NOTHING_TO_MEASURE = (OK, "AnalysisError")


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], Path]  # writes the case into a folder, returns its path
    expected: str | tuple[str, ...]  # OK or an error_type, or several accepted outcomes
    size: tuple[int, int] | None = None  # (width, height) the record must report, after EXIF orientation


def photo(height: int = 240, width: int = 320, seed: int = 0) -> np.ndarray:
    return gen.photo_like_rgb(height, width, seed=seed, n_strands=60)


# --------------------------------------------------------------------------- makers not in imagegen


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def make_png_bad_crc(path: Path) -> Path:
    """A valid PNG whose IHDR checksum is wrong (one flipped bit of the CRC)."""
    data = bytearray(io.BytesIO(_png_bytes(photo(64, 64))).getvalue())
    crc_at = 8 + 4 + 4 + 13  # signature, IHDR length, type, 13 data bytes
    data[crc_at] ^= 0x01
    path.write_bytes(bytes(data))
    return path


def make_png_zero_size(path: Path) -> Path:
    """A PNG whose IHDR declares 0 × 0 pixels (invalid per PNG §11.2.2: width, height ≥ 1)."""
    ihdr = struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"")) + _png_chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


def _png_bytes(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def make_huge_exif_jpeg(path: Path) -> Path:
    """A JPEG with a ~64 KB EXIF block (the APP1 maximum) full of a long description."""
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription
    buffer = io.BytesIO()
    Image.fromarray(photo()).save(buffer, "JPEG", exif=exif.tobytes())
    path.write_bytes(buffer.getvalue())
    return path


def make_jpeg_with_trailing_garbage(path: Path) -> Path:
    path.write_bytes(gen.jpeg_bytes(photo()) + os.urandom(4096))
    return path


def make_header_only_jpeg(path: Path) -> Path:
    path.write_bytes(gen.jpeg_bytes(photo())[:20])
    return path


def make_float_tiff(path: Path) -> Path:
    """A 32-bit floating-point greyscale TIFF (mode ``F``): an image, but not one we analyse."""
    Image.fromarray(np.random.default_rng(0).random((32, 32), dtype=np.float32)).save(path, "TIFF")
    return path


def make_random_blob(path: Path, size: int = 64 * 2**20) -> Path:
    with open(path, "wb") as handle:
        handle.write(np.random.default_rng(1).bytes(size))
    return path


def make_sparse_giant(path: Path) -> Path:
    """A 600 MB file (sparse: no disk used) with a JPEG name: refused before reading."""
    with open(path, "wb") as handle:
        handle.truncate(600 * 2**20)
    return path


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def make_unreadable(path: Path) -> Path:
    gen.make_jpeg(path, photo())
    path.chmod(0)
    return path


def make_symlink_loop(path: Path) -> Path:
    path.symlink_to(path)
    return path


def make_dangling_symlink(path: Path) -> Path:
    path.symlink_to(path.parent / "does-not-exist.jpg")
    return path


def make_directory(path: Path) -> Path:
    path.mkdir()
    return path


def _exif_rotated(path: Path) -> Path:
    return gen.make_jpeg(path, photo(240, 320), exif_orientation=6)


def _save(rgb_maker, writer):
    def make(path: Path) -> Path:
        return writer(path, rgb_maker())
    return make


CASES = [
    Case("empty.jpg", lambda p: (p.write_bytes(b""), p)[1], "EmptyFileError"),
    Case("text_renamed.jpg", gen.make_text_file, "NotAnImageError"),
    Case("html_renamed.png", lambda p: (p.write_text("<!DOCTYPE html><html></html>"), p)[1], "NotAnImageError"),
    Case("truncated.jpg", lambda p: gen.make_truncated_jpeg(p, photo()), "TruncatedImageError"),
    Case("header_only.jpg", make_header_only_jpeg, "TruncatedImageError"),
    Case("corrupt_huffman.jpg", lambda p: gen.make_corrupt_huffman_jpeg(p, photo()), "TruncatedImageError"),
    Case("png_bomb.png", gen.make_png_bomb, "ImageTooLargeError"),
    Case("bad_crc.png", make_png_bad_crc, "TruncatedImageError"),
    Case("zero_size.png", make_png_zero_size, "TruncatedImageError"),
    Case("float.tiff", make_float_tiff, "UnsupportedImageError"),
    Case("random_64MB.jpg", make_random_blob, "NotAnImageError"),
    Case("sparse_600MB.jpg", make_sparse_giant, "ImageTooLargeError"),
    Case("png16.png", lambda p: gen.make_png16(p, (photo().astype(np.uint16) * 257)), OK, (320, 240)),
    Case("palette.png", lambda p: gen.make_palette_png(
        p, np.random.default_rng(2).integers(0, 4, (240, 320)), [(40, 30, 20), (200, 160, 140), (90, 60, 40), (230, 200, 180)]),
        OK, (320, 240)),
    Case("grey.png", lambda p: gen.make_grey_png(p, photo()[..., 1]), OK, (320, 240)),
    Case("grey_alpha.png", lambda p: gen.make_grey_alpha_png(p, photo()[..., 1], np.full((240, 320), 200, np.uint8)),
         OK, (320, 240)),
    Case("rgba.png", lambda p: gen.make_rgba_png(p, np.dstack([photo(), np.full((240, 320), 128, np.uint8)])),
         OK, (320, 240)),
    Case("cmyk.jpg", lambda p: gen.make_cmyk_jpeg(p, np.dstack([255 - photo(), np.zeros((240, 320), np.uint8)])),
         OK, (320, 240)),
    Case("exif_rotated.jpg", _exif_rotated, OK, (240, 320)),
    Case("photo.heic", lambda p: gen.make_heic(p, photo()), OK, (320, 240)),
    Case("animated.gif", lambda p: gen.make_animated_gif(p, [photo(seed=s) // 64 * 64 for s in range(3)]), OK, (320, 240)),
    Case("pages.tiff", lambda p: gen.make_multipage_tiff(p, [photo(seed=s) for s in range(3)]), OK, (320, 240)),
    Case("photo.webp", lambda p: gen.make_webp(p, photo()), OK, (320, 240)),
    Case("photo.bmp", lambda p: gen.make_bmp(p, photo()), OK, (320, 240)),
    Case("really_a_png.jpg", lambda p: gen.make_png(p, photo()), OK, (320, 240)),
    Case("huge_exif.jpg", make_huge_exif_jpeg, OK, (320, 240)),
    Case("trailing_garbage.jpg", make_jpeg_with_trailing_garbage, OK, (320, 240)),
    Case("display_p3.jpg", lambda p: gen.make_display_p3_jpeg(p, photo()), OK, (320, 240)),
    # Too small to measure: a clear "cannot analyse this image" (UnsupportedImageError,
    # per the error tree in shade_match/errors.py), naming the size. The strip is
    # 20000×20 but 1600×2 at the working size.
    Case("one_pixel.png", lambda p: gen.make_png(p, gen.uniform_rgb(1, 1, (120, 90, 70))), "UnsupportedImageError"),
    Case("strip_20000x20.png", lambda p: gen.make_png(p, photo(20, 20000)), "UnsupportedImageError"),
    Case("strip_2000x40.png", lambda p: gen.make_png(p, photo(40, 2000)), NOTHING_TO_MEASURE, (2000, 40)),
    Case("all_black.png", lambda p: gen.make_png(p, gen.uniform_rgb(240, 320, (0, 0, 0))), NOTHING_TO_MEASURE, (320, 240)),
    Case("all_white.jpg", lambda p: gen.make_jpeg(p, gen.uniform_rgb(240, 320, (255, 255, 255))), NOTHING_TO_MEASURE,
         (320, 240)),
    Case("photo ünïcødé 写真 with spaces.jpg", lambda p: gen.make_jpeg(p, photo()), OK, (320, 240)),
    Case("<img src=x onerror=alert(1)>&amp;\"q\".jpg", lambda p: gen.make_jpeg(p, photo()), OK, (320, 240)),
    Case("new\nline.jpg", lambda p: gen.make_jpeg(p, photo()), OK, (320, 240)),
    Case(os.fsdecode(b"latin1_\xe9t\xe9.jpg"), lambda p: gen.make_jpeg(p, photo()), OK, (320, 240)),
    Case("x.jpg", make_directory, "IsADirectoryError"),
    Case("loop.jpg", make_symlink_loop, "OSError"),
    Case("dangling.jpg", make_dangling_symlink, "FileNotFoundError"),
    Case("pipe.jpg", make_fifo, "NotAnImageError"),
    Case("unreadable.jpg", make_unreadable, "PermissionError"),
    # Last in name order: deleted by the progress callback after the first record, so
    # it is gone by the time a worker reaches it.
    Case("zzz_vanishes.jpg", lambda p: gen.make_jpeg(p, photo()), "FileNotFoundError"),
]

RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    made = {}
    for case in CASES:
        made[case.name] = case.make(folder / case.name)
    vanish = made["zzz_vanishes.jpg"]

    def on_progress(done, total, record):
        if done == 1 and vanish.exists():
            vanish.unlink()

    out = folder.parent / (folder.name + "-results.jsonl")
    summary = run_batch([folder], out=out, workers=2, progress=on_progress)
    raw = out.read_bytes()
    records = [json.loads(line) for line in raw.splitlines()]
    return folder, summary, records, raw


def test_corpus_has_at_least_30_cases():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


def test_every_file_recorded_exactly_once_as_valid_utf8_json(hostile_run):
    folder, summary, records, raw = hostile_run
    raw.decode("utf-8")  # strict: the output is valid UTF-8 even for non-UTF-8 names
    assert raw.endswith(b"\n")
    names = [Path(r["file"]).name for r in records]
    assert sorted(names) == sorted(c.name for c in CASES)
    assert summary.total == len(CASES) == summary.analysed
    assert summary.succeeded + summary.failed == len(CASES)
    assert summary.exit_code == 1


@pytest.mark.parametrize("case", CASES, ids=[repr(c.name)[1:-1] for c in CASES])
def test_outcome(hostile_run, case):
    if case.name == "unreadable.jpg" and RUNNING_AS_ROOT:
        pytest.skip("running as root: chmod 000 does not stop root from reading the file")
    folder, summary, records, raw = hostile_run
    record = next(r for r in records if r["file"] == str(folder / case.name))
    accepted = case.expected if isinstance(case.expected, tuple) else (case.expected,)
    outcome = OK if record["ok"] else record["error_type"]
    assert outcome in accepted, f"{record['error_type']}: {record['error']}"
    if record["ok"]:
        assert record["error"] is None and record["error_type"] is None
        assert len(record["sha256"]) == 64
        if case.size is not None:
            assert (record["image"]["width"], record["image"]["height"]) == case.size
            working_long_side = max(record["image"]["working_width"], record["image"]["working_height"])
            assert working_long_side <= 1600
    else:
        assert record["error"], "a failure must say why"
        assert record["hair"] is None and record["skin"] is None and record["matches"] == []
