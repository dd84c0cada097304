"""Tests for shade_match.io: every format, orientation, colour management and error.

Images are generated on the fly by ``tests/imagegen.py`` into ``tmp_path``. Expected
values come from the generating arrays (lossless formats), from an independent
decoder (OpenCV) or from an independent colour library (colour-science), never
from shade_match itself.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import tracemalloc
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

import imagegen
from shade_match.errors import (
    EmptyFileError,
    ImageLoadError,
    ImageTooLargeError,
    InputError,
    NotAnImageError,
    SettingsError,
    TruncatedImageError,
)
from shade_match.io import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, LoadedImage, load_image
from shade_match.results import ImageInfo

REAL_PHOTOS = Path("/work/shared/real_photos/hair-loss-train")


def _colour():
    """colour-science, imported without its optional-dependency warning (matplotlib)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    return colour


def _small_palette_image(height=24, width=36):
    """A lossless-friendly image: four flat colours in quadrants (GIF-safe)."""
    image = imagegen.uniform_rgb(height, width, (200, 30, 40))
    image[: height // 2, width // 2:] = (20, 180, 60)
    image[height // 2:, : width // 2] = (10, 20, 230)
    image[height // 2:, width // 2:] = (250, 250, 250)
    return image


def _assert_convention(loaded: LoadedImage):
    assert isinstance(loaded, LoadedImage)
    assert loaded.rgb.dtype == np.uint8
    assert loaded.rgb.ndim == 3 and loaded.rgb.shape[2] == 3
    assert loaded.rgb.flags.c_contiguous


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    "maker, expected_format",
    [
        (imagegen.make_png, "PNG"),
        (imagegen.make_webp, "WEBP"),
        (imagegen.make_bmp, "BMP"),
        (lambda p, a: imagegen.make_multipage_tiff(p, [a]), "TIFF"),
        (lambda p, a: imagegen.make_animated_gif(p, [a]), "GIF"),
    ],
    ids=["png", "webp-lossless", "bmp", "tiff", "gif"],
)
def test_lossless_formats_round_trip_exactly(tmp_path, maker, expected_format):
    original = _small_palette_image()
    path = maker(tmp_path / "image", original)
    loaded = load_image(path)
    _assert_convention(loaded)
    np.testing.assert_array_equal(loaded.rgb, original)
    assert loaded.format == expected_format
    assert (loaded.width, loaded.height) == (36, 24)
    assert loaded.colour_profile == "sRGB (assumed, no profile)"
    assert loaded.orientation == 1


def test_jpeg_loads_close_to_source_and_reports_facts(tmp_path):
    original = imagegen.uniform_rgb(48, 64, (180, 120, 90))
    path = imagegen.make_jpeg(tmp_path / "photo.jpg", original, quality=95, subsampling=0)
    loaded = load_image(path)
    _assert_convention(loaded)
    assert np.abs(loaded.rgb.astype(int) - original).max() <= 2  # JPEG rounding only
    assert loaded.format == "JPEG"
    assert loaded.source == str(path)
    info = loaded.image_info()
    assert info == ImageInfo(width=64, height=48, working_width=64, working_height=48, format="JPEG",
                             colour_profile="sRGB (assumed, no profile)", orientation=1)


def test_png16_is_rounded_not_truncated(tmp_path):
    # 257·k + r with r > 128 rounds up to k + 1 but its high byte is k.
    k = np.arange(0, 255, 5, dtype=np.uint32)
    values16 = (257 * k + 200).astype(np.uint16)
    rgb16 = np.stack([values16, values16[::-1], np.full_like(values16, 65535)], axis=-1)[None, :, :]
    rgb16 = np.repeat(rgb16, 3, axis=0)
    path = imagegen.make_png16(tmp_path / "deep.png", rgb16)
    loaded = load_image(path)
    expected = np.round(rgb16.astype(np.float64) * 255 / 65535).astype(np.uint8)
    np.testing.assert_array_equal(loaded.rgb, expected)
    assert not np.array_equal(expected, (rgb16 >> 8).astype(np.uint8))  # truncation would fail
    assert "16-bit samples rounded to 8-bit" in loaded.notes


def test_tiff16_is_rounded_not_truncated(tmp_path):
    values16 = (257 * np.arange(0, 255, 3, dtype=np.uint32) + 180).astype(np.uint16)
    rgb16 = np.repeat(np.stack([values16, values16[::-1], values16], axis=-1)[None], 2, axis=0)
    loaded = load_image(imagegen.make_tiff16(tmp_path / "deep.tif", rgb16))
    assert loaded.format == "TIFF"
    np.testing.assert_array_equal(loaded.rgb, np.round(rgb16.astype(np.float64) * 255 / 65535).astype(np.uint8))


def test_png16_orientation_is_applied_once(tmp_path):
    # The 16-bit path decodes with OpenCV, which must not rotate as well.
    stored = imagegen.corner_marked_rgb(20, 40).astype(np.uint16) * 257
    loaded = load_image(imagegen.make_png16(tmp_path / "o16.png", stored, exif_orientation=6))
    assert loaded.orientation == 6 and loaded.rgb.shape == (40, 20, 3)
    assert _corner_colours(loaded.rgb) == [GREY, RED, GREY, BLUE]


def test_png16_with_display_p3_profile_is_converted(tmp_path):
    p3_rgb = (220, 120, 80)
    rgb16 = imagegen.uniform_rgb(8, 8, p3_rgb).astype(np.uint16) * 257  # exact 16-bit equivalents
    loaded = load_image(imagegen.make_png16(tmp_path / "p3.png", rgb16, icc=imagegen.display_p3_icc_profile()))
    assert loaded.colour_profile == "Display P3 → sRGB (ICC)"
    np.testing.assert_allclose(loaded.rgb[4, 4], _p3_to_srgb_oracle(p3_rgb), atol=1.0)


def test_grey_jpeg_becomes_equal_channels(tmp_path):
    path = tmp_path / "grey.jpg"
    Image.fromarray(np.full((16, 16), 90, np.uint8)).save(path, "JPEG", quality=95)
    loaded = load_image(path)
    assert np.all(loaded.rgb[..., 0] == loaded.rgb[..., 1]) and np.all(loaded.rgb[..., 1] == loaded.rgb[..., 2])
    assert abs(int(loaded.rgb[8, 8, 0]) - 90) <= 1


def test_mpo_uses_first_picture_with_reduced_decode(tmp_path):
    first = imagegen.uniform_rgb(600, 800, (200, 150, 100))
    path = imagegen.make_mpo(tmp_path / "camera.jpg", [first, imagegen.uniform_rgb(600, 800, (0, 0, 0))])
    loaded = load_image(path, max_side=300)
    assert loaded.format == "MPO" and loaded.rgb.shape == (225, 300, 3)
    assert "first frame of 2 used" in loaded.notes
    assert np.abs(loaded.rgb.astype(int) - (200, 150, 100)).max() <= 3


def test_grey16_png_keeps_full_range(tmp_path):
    grey16 = np.array([[0, 1000, 30000, 65535]], dtype=np.uint16).repeat(2, axis=0)
    loaded = load_image(imagegen.make_grey_png(tmp_path / "grey16.png", grey16))
    expected = np.round(grey16.astype(np.float64) * 255 / 65535).astype(np.uint8)
    np.testing.assert_array_equal(loaded.rgb, np.repeat(expected[..., None], 3, axis=2))


def test_rgba16_png_is_composited_over_white(tmp_path):
    rgba16 = np.zeros((2, 2, 4), dtype=np.uint16)
    rgba16[..., 0] = 65535  # red
    rgba16[..., 3] = np.array([[0, 65535], [32768, 65535]])
    loaded = load_image(imagegen.make_png16(tmp_path / "rgba16.png", rgba16))
    a = np.array([[0, 1], [32768 / 65535, 1]])
    expected = np.stack([np.full((2, 2), 255.0), 255 * (1 - a), 255 * (1 - a)], axis=-1)
    np.testing.assert_allclose(loaded.rgb, expected, atol=0.51)


def test_grey_png_becomes_equal_channels(tmp_path):
    grey = np.arange(0, 256, 17, dtype=np.uint8).reshape(4, 4)
    loaded = load_image(imagegen.make_grey_png(tmp_path / "grey.png", grey))
    np.testing.assert_array_equal(loaded.rgb, np.repeat(grey[..., None], 3, axis=2))


def test_palette_png_gives_palette_colours_and_transparent_index_is_white(tmp_path):
    palette = [(255, 0, 0), (0, 255, 0), (1, 2, 3), (40, 50, 60)]
    indices = np.array([[0, 1, 2, 3], [3, 2, 1, 0]])
    plain = load_image(imagegen.make_palette_png(tmp_path / "p.png", indices, palette))
    np.testing.assert_array_equal(plain.rgb, np.array(palette, dtype=np.uint8)[indices])
    transparent = load_image(imagegen.make_palette_png(tmp_path / "pt.png", indices, palette, transparent_index=2))
    expected = np.array(palette, dtype=np.uint8)[indices]
    expected[indices == 2] = 255
    np.testing.assert_array_equal(transparent.rgb, expected)
    assert "transparent pixels composited over white" in transparent.notes


def test_grey_alpha_png_is_composited_over_white(tmp_path):
    grey = np.full((1, 3), 40, np.uint8)
    alpha = np.array([[0, 128, 255]], np.uint8)
    loaded = load_image(imagegen.make_grey_alpha_png(tmp_path / "la.png", grey, alpha))
    a = alpha[0].astype(np.float64) / 255
    expected = 40 * a + 255 * (1 - a)
    np.testing.assert_allclose(loaded.rgb[0, :, 0], expected, atol=0.51)
    assert np.all(loaded.rgb[..., 0] == loaded.rgb[..., 2])


def test_rgba_png_is_composited_over_white(tmp_path):
    rgba = np.zeros((1, 4, 4), np.uint8)
    rgba[0, :, :3] = (20, 100, 200)
    rgba[0, :, 3] = (0, 64, 192, 255)
    loaded = load_image(imagegen.make_rgba_png(tmp_path / "rgba.png", rgba))
    a = rgba[0, :, 3:4] / 255
    expected = rgba[0, :, :3] * a + 255 * (1 - a)
    np.testing.assert_allclose(loaded.rgb[0], expected, atol=0.51)


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    # CMYK → RGB of the process primaries is known without any profile.
    cmyk = np.zeros((16, 64, 4), np.uint8)
    cmyk[:, 16:32] = (0, 255, 255, 0)   # magenta + yellow = red
    cmyk[:, 32:48] = (255, 0, 255, 0)   # cyan + yellow = green
    cmyk[:, 48:64] = (0, 0, 0, 255)     # key = black
    loaded = load_image(imagegen.make_cmyk_jpeg(tmp_path / "cmyk.jpg", cmyk))
    centres = loaded.rgb[8, [8, 24, 40, 56]].astype(int)
    expected = np.array([(255, 255, 255), (255, 0, 0), (0, 255, 0), (0, 0, 0)])
    assert np.abs(centres - expected).max() <= 3
    assert loaded.colour_profile.startswith("CMYK")


def test_heic_loads(tmp_path):
    original = imagegen.uniform_rgb(64, 96, (170, 110, 80))
    loaded = load_image(imagegen.make_heic(tmp_path / "photo.heic", original, quality=95))
    _assert_convention(loaded)
    assert loaded.format == "HEIF"
    assert (loaded.width, loaded.height) == (96, 64)
    # Lossy HEVC with 4:2:0 chroma: a few codes on a flat field.
    assert np.abs(loaded.rgb[16:48, 24:72].astype(int) - original[16:48, 24:72]).max() <= 4


def test_avif_loads(tmp_path):
    original = imagegen.uniform_rgb(32, 48, (170, 110, 80))
    path = tmp_path / "photo.avif"
    Image.fromarray(original).save(path, "AVIF", quality=95)
    loaded = load_image(path)
    assert loaded.format == "AVIF"
    assert np.abs(loaded.rgb[8:24, 8:40].astype(int) - original[8:24, 8:40]).max() <= 4


def test_other_pillow_formats_are_refused(tmp_path):
    path = tmp_path / "photo.ppm"
    Image.fromarray(_small_palette_image()).save(path, "PPM")
    with pytest.raises(NotAnImageError, match="expected one of JPEG, PNG"):
        load_image(path)


def test_heif_opener_is_registered_lazily_not_at_import():
    code = ("import shade_match.io; from PIL import Image; Image.init(); "
            "print('HEIF' in Image.OPEN)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip() == "False"


def test_multipage_tiff_uses_first_page_and_says_so(tmp_path):
    first = _small_palette_image()
    second = first[::-1].copy()
    loaded = load_image(imagegen.make_multipage_tiff(tmp_path / "pages.tif", [first, second, second]))
    np.testing.assert_array_equal(loaded.rgb, first)
    assert "first page of 3 used" in loaded.notes


def test_animated_gif_uses_first_frame(tmp_path):
    first = _small_palette_image()
    loaded = load_image(imagegen.make_animated_gif(tmp_path / "anim.gif", [first, first[:, ::-1].copy()]))
    np.testing.assert_array_equal(loaded.rgb, first)
    assert "first frame of 2 used" in loaded.notes


# --------------------------------------------------------------------------- colour management


P3_TEST_COLOURS = [(220, 120, 80), (90, 160, 200), (180, 140, 120)]


def _p3_to_srgb_oracle(p3_codes):
    """Display P3 codes → sRGB codes (float) with colour-science, the independent oracle."""
    colour = _colour()
    return 255 * colour.RGB_to_RGB(np.asarray(p3_codes, dtype=np.float64) / 255, "Display P3", "sRGB",
                                   apply_cctf_decoding=True, apply_cctf_encoding=True)


@pytest.mark.parametrize("container", ["jpeg", "png"])
@pytest.mark.parametrize("p3_rgb", P3_TEST_COLOURS)
def test_display_p3_profile_is_converted_to_srgb(tmp_path, container, p3_rgb):
    image = imagegen.uniform_rgb(32, 32, p3_rgb)
    if container == "jpeg":
        path = imagegen.make_display_p3_jpeg(tmp_path / "p3.jpg", image)
        # JPEG moves the stored P3 codes by a code or so, and P3 → sRGB can amplify
        # that, so the oracle starts from the P3 codes as OpenCV decodes them
        # (OpenCV ignores ICC profiles): an independent decoder and converter.
        raw = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        stored_p3 = raw[8:24, 8:24].reshape(-1, 3).mean(axis=0)
    else:
        path = imagegen.make_png(tmp_path / "p3.png", image, icc=imagegen.display_p3_icc_profile())
        stored_p3 = np.asarray(p3_rgb, dtype=np.float64)
    expected = _p3_to_srgb_oracle(stored_p3)
    loaded = load_image(path)
    measured = loaded.rgb[8:24, 8:24].reshape(-1, 3).mean(axis=0)
    tolerance = 1.0  # 8-bit LittleCMS transform rounding
    np.testing.assert_allclose(measured, expected, atol=tolerance)
    assert loaded.colour_profile == "Display P3 → sRGB (ICC)"
    # The test can fail: reading the P3 values as sRGB would be off by more than the tolerance.
    assert np.abs(stored_p3 - expected).max() > 3 * tolerance


def test_heic_with_display_p3_profile_is_converted(tmp_path):
    p3_rgb = (220, 120, 80)
    expected = _p3_to_srgb_oracle(p3_rgb)
    path = imagegen.make_heic(tmp_path / "p3.heic", imagegen.uniform_rgb(64, 64, p3_rgb), quality=95,
                              icc=imagegen.display_p3_icc_profile())
    loaded = load_image(path)
    assert loaded.colour_profile == "Display P3 → sRGB (ICC)"
    np.testing.assert_allclose(loaded.rgb[16:48, 16:48].reshape(-1, 3).mean(axis=0), expected, atol=4)


def test_profile_for_wrong_colour_space_is_ignored_with_a_note(tmp_path):
    grey = np.full((8, 8), 100, np.uint8)
    path = tmp_path / "grey_with_rgb_profile.png"
    Image.fromarray(grey).save(path, "PNG", icc_profile=imagegen.display_p3_icc_profile())
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.rgb, np.full((8, 8, 3), 100, np.uint8))
    assert "mismatched" in loaded.colour_profile
    assert any("profile ignored" in note for note in loaded.notes)


# --------------------------------------------------------------------------- orientation


def _corner_colours(rgb):
    """Colours at the four displayed corners: top-left, top-right, bottom-left, bottom-right."""
    return [tuple(int(v) for v in rgb[y, x]) for y, x in ((1, 1), (1, -2), (-2, 1), (-2, -2))]


RED, BLUE, GREY = (255, 0, 0), (0, 0, 255), (128, 128, 128)


@pytest.mark.parametrize(
    "orientation, corners",
    [
        (3, [GREY, GREY, BLUE, RED]),   # rotated 180°: red ends bottom-right
        (6, [GREY, RED, GREY, BLUE]),   # rotate 90° clockwise to view: red top-right, blue bottom-right
        (8, [BLUE, GREY, RED, GREY]),   # rotate 90° anticlockwise: blue top-left, red bottom-left
    ],
)
def test_exif_orientation_turns_marked_corners(tmp_path, orientation, corners):
    stored = imagegen.corner_marked_rgb(40, 80)
    path = imagegen.make_jpeg(tmp_path / "o.jpg", stored, quality=100, exif_orientation=orientation, subsampling=0)
    loaded = load_image(path)
    assert loaded.orientation == orientation
    found = _corner_colours(loaded.rgb)
    for got, want in zip(found, corners):
        assert np.abs(np.subtract(got, want)).max() <= 8, (found, corners)
    if orientation in (6, 8):
        assert (loaded.width, loaded.height) == (40, 80)
        assert loaded.rgb.shape[:2] == (80, 40)


def test_reduced_decode_with_orientation_keeps_size_and_corners(tmp_path):
    # Odd sizes, and big enough for a 1/2-scale JPEG decode at max_side=400.
    stored = imagegen.corner_marked_rgb(801, 1201)
    path = imagegen.make_jpeg(tmp_path / "o.jpg", stored, quality=95, exif_orientation=6, subsampling=0)
    loaded = load_image(path, max_side=400)
    assert (loaded.width, loaded.height) == (801, 1201)
    expected_long, expected_short = 400, round(801 * 400 / 1201)
    assert loaded.rgb.shape == (expected_long, expected_short, 3)
    corners = _corner_colours(loaded.rgb)
    for got, want in zip(corners, [GREY, RED, GREY, BLUE]):
        assert np.abs(np.subtract(got, want)).max() <= 8, corners


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow_exif_transpose(tmp_path, orientation):
    stored = imagegen.corner_marked_rgb(30, 50)
    stored[10:12, 20:30] = (0, 200, 0)  # break any remaining symmetry
    path = imagegen.make_png(tmp_path / "o.png", stored, exif_orientation=orientation)
    with Image.open(path) as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.rgb, expected)
    assert loaded.orientation == orientation
    assert (loaded.height, loaded.width) == expected.shape[:2]


def test_heic_orientation_is_applied_once(tmp_path):
    stored = imagegen.corner_marked_rgb(48, 96)
    loaded = load_image(imagegen.make_heic(tmp_path / "o.heic", stored, quality=95, exif_orientation=6))
    assert loaded.orientation == 6
    assert loaded.rgb.shape[:2] == (96, 48)
    corners = _corner_colours(loaded.rgb)
    assert np.abs(np.subtract(corners[1], RED)).max() <= 12
    assert np.abs(np.subtract(corners[3], BLUE)).max() <= 12


# --------------------------------------------------------------------------- sizes


def test_max_side_shrinks_keeping_aspect_and_never_enlarges(tmp_path):
    path = imagegen.make_png(tmp_path / "wide.png", imagegen.photo_like_rgb(300, 500, n_strands=20))
    small = load_image(path, max_side=100)
    assert small.rgb.shape == (60, 100, 3)
    assert (small.width, small.height) == (500, 300)
    assert (small.working_width, small.working_height) == (100, 60)
    full = load_image(path, max_side=None)
    assert full.rgb.shape == (300, 500, 3)
    assert load_image(path, max_side=5000).rgb.shape == (300, 500, 3)


def test_one_pixel_image_loads(tmp_path):
    loaded = load_image(imagegen.make_png(tmp_path / "dot.png", imagegen.uniform_rgb(1, 1, (9, 8, 7))))
    np.testing.assert_array_equal(loaded.rgb, [[[9, 8, 7]]])


@pytest.mark.parametrize("shape, expected", [((20, 20000), (2, 1600)), ((20000, 20), (1600, 2)),
                                             ((3, 20000), (1, 1600))])
def test_thin_strips_keep_at_least_one_pixel(tmp_path, shape, expected):
    grey = np.full(shape, 77, np.uint8)
    loaded = load_image(imagegen.make_grey_png(tmp_path / "strip.png", grey), max_side=1600)
    assert loaded.rgb.shape[:2] == expected
    assert np.all(loaded.rgb == 77)


@pytest.mark.slow
def test_reduced_jpeg_decode_matches_full_decode_and_area_resize():
    # Smooth fields + noise (no strands), 12 MP, q90: the case the reduced decode is for.
    rgb = imagegen.photo_like_rgb(3000, 4000, seed=3, n_strands=0)
    data = imagegen.jpeg_bytes(rgb, quality=90)
    loaded = load_image(data, max_side=1600)
    assert loaded.rgb.shape == (1200, 1600, 3)
    assert (loaded.width, loaded.height) == (4000, 3000)
    full = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    reference = cv2.resize(full, (1600, 1200), interpolation=cv2.INTER_AREA)
    mean_difference = loaded.rgb.reshape(-1, 3).mean(0) - reference.reshape(-1, 3).mean(0)
    assert np.abs(mean_difference).max() < 1.0
    # Local means (100 × 100 px blocks) agree too, not just the global mean.
    blocks = lambda a: a.reshape(12, 100, 16, 100, 3).mean(axis=(1, 3))  # noqa: E731
    assert np.abs(blocks(loaded.rgb.astype(float)) - blocks(reference.astype(float))).max() < 1.5


def test_default_working_side_decodes_a_12mp_jpeg_at_quarter_scale():
    # 4000 × 3000 at 1/4 DCT scale is exactly the default working size: no resize.
    assert DEFAULT_MAX_SIDE == 1000
    data = imagegen.jpeg_bytes(imagegen.photo_like_rgb(3000, 4000, seed=4, n_strands=0), quality=90)
    loaded = load_image(data)
    assert loaded.rgb.shape == (750, 1000, 3)
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (1000, 750))
        np.testing.assert_array_equal(loaded.rgb, np.asarray(image.convert("RGB")))


def test_small_shrink_matches_area_resize_and_keeps_one_pixel_lines(tmp_path):
    # 1008 × 756 → 1000 × 750 (what a 4032 × 3024 JPEG leaves after its 1/4 decode)
    # takes the blur + bilinear path; an area resize is the independent reference.
    rgb = imagegen.photo_like_rgb(756, 1008, seed=5, n_strands=0)
    rgb[:, 500] = (10, 10, 10)  # a 1-px dark line across the image
    loaded = load_image(imagegen.make_png(tmp_path / "near.png", rgb), max_side=1000)
    assert loaded.rgb.shape == (750, 1000, 3)
    reference = cv2.resize(rgb, (1000, 750), interpolation=cv2.INTER_AREA).astype(float)
    got = loaded.rgb.astype(float)
    blocks = lambda a: a.reshape(15, 50, 20, 50, 3).mean(axis=(1, 3))  # noqa: E731
    assert np.abs(blocks(got) - blocks(reference)).max() < 1.0
    # the line is still there, about as dark as the area resize makes it
    background = np.median(got[:, 480:490], axis=1)
    line = got[:, 494:502].min(axis=1)
    reference_line = reference[:, 494:502].min(axis=1)
    assert np.median(background - line) >= 0.8 * np.median(np.median(reference[:, 480:490], axis=1) - reference_line)


@pytest.mark.parametrize("size, target", [((1428, 1071), (1000, 750)), ((1156, 868), (1000, 751))])
def test_shrinks_by_less_than_two_preserve_local_means(tmp_path, size, target):
    width, height = size
    rgb = imagegen.photo_like_rgb(height, width, seed=6, n_strands=40)
    loaded = load_image(imagegen.make_png(tmp_path / "shrink.png", rgb), max_side=1000)
    assert loaded.rgb.shape[1::-1] == target
    reference = cv2.resize(rgb, target, interpolation=cv2.INTER_AREA).astype(float)
    got = loaded.rgb.astype(float)
    assert np.abs(got.mean((0, 1)) - reference.mean((0, 1))).max() < 0.5
    assert np.abs(cv2.blur(got, (25, 25)) - cv2.blur(reference, (25, 25))).max() < 3.0


# --------------------------------------------------------------------------- inputs


def test_real_photo_loads_and_bytes_path_and_stream_agree():
    photos = sorted(REAL_PHOTOS.glob("*.jpg"))
    if not photos:
        pytest.skip(f"no real photos in {REAL_PHOTOS}")
    path = photos[0]
    from_path = load_image(path)
    from_bytes = load_image(path.read_bytes())
    with open(path, "rb") as handle:
        from_stream = load_image(handle)
    assert (from_path.width, from_path.height) == (640, 640)
    assert from_path.rgb.shape == (640, 640, 3)
    np.testing.assert_array_equal(from_path.rgb, from_bytes.rgb)
    np.testing.assert_array_equal(from_path.rgb, from_stream.rgb)
    assert from_bytes.source == "<bytes>"
    assert from_stream.source == str(path)
    # Independent decoder: OpenCV's libjpeg-turbo gives the same pixels within IDCT rounding.
    reference = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert np.abs(from_path.rgb.astype(int) - reference).mean() < 1.0


def test_name_overrides_source_for_bytes(tmp_path):
    data = imagegen.make_png(tmp_path / "a.png", imagegen.uniform_rgb(2, 2, (1, 2, 3))).read_bytes()
    assert load_image(data, name="upload.png").source == "upload.png"


def test_loaded_image_pickles(tmp_path):
    loaded = load_image(imagegen.make_png(tmp_path / "a.png", _small_palette_image()))
    again = pickle.loads(pickle.dumps(loaded))
    np.testing.assert_array_equal(again.rgb, loaded.rgb)
    assert again.image_info() == loaded.image_info()


# --------------------------------------------------------------------------- errors


def test_empty_file_and_empty_bytes(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(EmptyFileError, match="empty.jpg.*0 bytes"):
        load_image(path)
    with pytest.raises(EmptyFileError, match="<bytes>"):
        load_image(b"")


def test_text_file_renamed_jpg_is_not_an_image(tmp_path):
    path = imagegen.make_text_file(tmp_path / "notes.jpg")
    with pytest.raises(NotAnImageError) as caught:
        load_image(path)
    message = str(caught.value)
    assert "notes.jpg" in message and "JPEG" in message and "HEIF" in message
    assert "This is not an" in message  # what the first bytes looked like
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, InputError)


def test_truncated_jpeg(tmp_path):
    path = imagegen.make_truncated_jpeg(tmp_path / "cut.jpg", imagegen.photo_like_rgb(200, 300, n_strands=50))
    with pytest.raises(TruncatedImageError, match="cut.jpg.*JPEG"):
        load_image(path)


def test_truncated_png(tmp_path):
    data = imagegen.make_png(tmp_path / "a.png", imagegen.photo_like_rgb(200, 300, n_strands=50)).read_bytes()
    with pytest.raises(TruncatedImageError):
        load_image(data[: len(data) // 2])


def test_header_only_fragment_of_a_jpeg_is_truncated_not_unknown(tmp_path):
    data = imagegen.jpeg_bytes(imagegen.uniform_rgb(8, 8, (1, 2, 3)))
    with pytest.raises(TruncatedImageError, match="JPEG header"):
        load_image(data[:12])


def test_corrupt_huffman_table(tmp_path):
    path = imagegen.make_corrupt_huffman_jpeg(tmp_path / "bad.jpg", imagegen.photo_like_rgb(64, 64, n_strands=5))
    with pytest.raises(TruncatedImageError, match="bad.jpg"):
        load_image(path)


def test_png_bomb_is_refused_before_decoding(tmp_path):
    path = imagegen.make_png_bomb(tmp_path / "bomb.png", 50_000, 50_000)
    assert path.stat().st_size < 1000
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError, match="bomb.png"):
            load_image(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # a decode would need 2.5 GB


def test_pixel_limit_is_checked_on_the_header(tmp_path):
    # 5000 × 5000 declared, only 4 rows of data: if the header check were missing,
    # the loader would get as far as decoding instead of naming the size.
    path = imagegen.make_png_bomb(tmp_path / "big.png", 5000, 5000)
    with pytest.raises(ImageTooLargeError, match="5000 × 5000 = 25,000,000 pixels") as caught:
        load_image(path, max_pixels=1_000_000)
    assert "1,000,000" in str(caught.value)


def test_pillow_bomb_limits_neither_warn_nor_override_ours(tmp_path, monkeypatch):
    path = imagegen.make_png(tmp_path / "a.png", imagegen.uniform_rgb(40, 50, (5, 6, 7)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1500)  # 2000 px > limit: Pillow would warn
    loaded = load_image(path)  # pytest turns any leaked warning into an error
    assert loaded.rgb.shape == (40, 50, 3)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # 2000 px > 2 × limit: Pillow refuses
    with pytest.raises(ImageTooLargeError, match="a.png"):
        load_image(path)


def test_corrupt_exif_loads_upright_and_warning_becomes_a_note():
    import struct

    data = imagegen.jpeg_bytes(imagegen.uniform_rgb(16, 16, (10, 20, 30)))
    payload = b"Exif\x00\x00" + b"MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12"  # IFD cut short
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    loaded = load_image(data[:2] + app1 + data[2:])  # a leaked warning would fail under pytest
    assert loaded.orientation == 1
    assert any("Corrupt EXIF" in note for note in loaded.notes)


def test_default_pixel_limit_matches_pillow_hard_limit():
    assert DEFAULT_MAX_PIXELS == 2 * Image.MAX_IMAGE_PIXELS


def test_directory(tmp_path):
    with pytest.raises(ImageLoadError, match="is a directory"):
        load_image(tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="missing.jpg: .*no such file"):
        load_image(tmp_path / "missing.jpg")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any file")
def test_permission_denied(tmp_path):
    path = imagegen.make_png(tmp_path / "secret.png", imagegen.uniform_rgb(2, 2, (1, 2, 3)))
    path.chmod(0)
    try:
        with pytest.raises(ImageLoadError, match="permission"):
            load_image(path)
    finally:
        path.chmod(0o600)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_symlink_loop(tmp_path):
    (tmp_path / "a.jpg").symlink_to(tmp_path / "b.jpg")
    (tmp_path / "b.jpg").symlink_to(tmp_path / "a.jpg")
    with pytest.raises(ImageLoadError, match="symbolic link loop"):
        load_image(tmp_path / "a.jpg")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_named_pipe_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)  # opening it for reading would wait for a writer for ever
    with pytest.raises(NotAnImageError, match="named pipe"):
        load_image(path)


def test_big_non_image_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "sparse.jpg"
    with open(path, "wb") as handle:
        handle.truncate(600 * 2**20)  # 600 MB of zeros, sparse on disk
    tracemalloc.start()
    try:
        with pytest.raises(NotAnImageError, match="629,145,600 bytes"):
            load_image(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # reading the file into memory would take 600 MB


def test_unsupported_source_type():
    with pytest.raises(ImageLoadError, match="expected a path, bytes or a binary file object.*int"):
        load_image(42)


@pytest.mark.parametrize("kwargs", [{"max_side": 0}, {"max_side": -5}, {"max_side": 2.5}, {"max_pixels": 0}])
def test_bad_settings(kwargs):
    with pytest.raises(SettingsError, match="expected a positive integer"):
        load_image(b"unused", **kwargs)


def test_errors_pickle_with_their_source(tmp_path):
    with pytest.raises(EmptyFileError) as caught:
        load_image(b"", name="up.jpg")
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is EmptyFileError and again.source == "up.jpg" and str(again) == str(caught.value)


def test_stream_input_from_bytesio(tmp_path):
    original = _small_palette_image()
    data = imagegen.make_png(tmp_path / "a.png", original).read_bytes()
    np.testing.assert_array_equal(load_image(io.BytesIO(data)).rgb, original)
