"""Tests of shade_match.overlay: shape, colours per class, PNG round trip."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.color import deltaE_ciede2000, rgb2lab

from shade_match.errors import SettingsError
from shade_match.overlay import OVERLAY_COLOURS, SCALP_OUTLINE_COLOUR, render_overlay, save_overlay
from shade_match.segmentation import Segmentation

SHAPE = (60, 80)


def _quadrant_segmentation() -> Segmentation:
    """Hair, skin, excluded and reference each in one quadrant of a scalp."""
    masks = {name: np.zeros(SHAPE, bool) for name in ("hair", "skin", "excluded", "reference")}
    masks["hair"][5:25, 5:35] = True
    masks["skin"][5:25, 45:75] = True
    masks["excluded"][35:55, 5:35] = True
    masks["reference"][35:55, 45:75] = True
    scalp = np.zeros(SHAPE, bool)
    scalp[2:58, 2:42] = True
    return Segmentation(scalp=scalp, **masks)


def test_overlay_shape_dtype_and_class_tints():
    grey = np.full(SHAPE + (3,), 128, np.uint8)
    seg = _quadrant_segmentation()
    overlay = render_overlay(grey, seg, alpha=0.5)
    assert overlay.shape == grey.shape and overlay.dtype == np.uint8
    for name, (_, colour_rgb) in OVERLAY_COLOURS.items():
        mask = getattr(seg, name)
        inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        expected = np.round(0.5 * 128 + 0.5 * np.asarray(colour_rgb))
        np.testing.assert_allclose(overlay[inner & ~_outline(seg)].mean(axis=0), expected, atol=1.0)
    # Pixels in no class and off the outline are untouched.
    untouched = ~(seg.hair | seg.skin | seg.excluded | seg.reference | _outline(seg))
    assert (overlay[untouched] == 128).all()


def _outline(seg: Segmentation) -> np.ndarray:
    return cv2.dilate(
        (cv2.morphologyEx(seg.scalp.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0).astype(np.uint8),
        np.ones((3, 3), np.uint8),
    ).astype(bool)


def test_scalp_outline_is_drawn():
    overlay = render_overlay(np.zeros(SHAPE + (3,), np.float32), _quadrant_segmentation())
    assert (overlay == np.asarray(SCALP_OUTLINE_COLOUR, np.uint8)).all(axis=2).sum() > 50


def test_class_colours_are_distinct_and_named():
    names = [legend for legend, _ in OVERLAY_COLOURS.values()]
    assert len(set(names)) == len(names) == 4
    colours = [np.asarray(c, float) / 255 for _, c in OVERLAY_COLOURS.values()] + [np.asarray(SCALP_OUTLINE_COLOUR, float) / 255]
    labs = [rgb2lab(c.reshape(1, 1, 3)).reshape(3) for c in colours]
    for i in range(len(labs)):
        for j in range(i + 1, len(labs)):
            assert float(deltaE_ciede2000(labs[i], labs[j])) > 15.0


def test_png_is_written_and_reads_back(tmp_path):
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, SHAPE + (3,), dtype=np.uint8)
    seg = _quadrant_segmentation()
    path = tmp_path / "overlay.png"
    save_overlay(path, photo, seg)
    read_back = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(read_back, render_overlay(photo, seg))


def test_bad_arguments_raise(tmp_path):
    seg = _quadrant_segmentation()
    with pytest.raises(SettingsError, match="differ in size"):
        render_overlay(np.zeros((10, 10, 3), np.uint8), seg)
    with pytest.raises(SettingsError, match="alpha"):
        render_overlay(np.zeros(SHAPE + (3,), np.uint8), seg, alpha=1.5)
    with pytest.raises(SettingsError, match=r"\.png"):
        save_overlay(tmp_path / "overlay.jpg", np.zeros(SHAPE + (3,), np.uint8), seg)
    with pytest.raises(SettingsError, match="Segmentation"):
        render_overlay(np.zeros(SHAPE + (3,), np.uint8), object())
