"""Tests for shade_match.correction on rendered scenes of known colour.

Scenes are rendered here in linear light: a skin-coloured field with dark hair blobs,
optionally a 24-patch ColorChecker (X-Rite 2014 sRGB values) or an 18 % grey card,
then a colour cast is applied as the diagonal gains of a Planckian light relative to
D65 (computed with colour-science, an implementation independent of the module), then
re-encoded to 8-bit sRGB with a little noise. Truth is known, so every correction is
scored in CIEDE2000 with scikit-image.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage.color import deltaE_ciede2000, lab2rgb, rgb2lab

from shade_match import correction
from shade_match.correction import (
    COLORCHECKER_LAB_D65,
    COLORCHECKER_SRGB8,
    CORRECTION_METHODS,
    correct_colours,
    estimate_illuminant,
    find_colour_chart,
    find_grey_card,
    planckian_xy,
)
from shade_match.errors import AnalysisError, SettingsError

with warnings.catch_warnings():  # colour-science warns that matplotlib is absent
    warnings.simplefilter("ignore")
    import colour as colour_science

REFERENCE_TSV = Path(__file__).resolve().parents[2] / "shared" / "reference" / "srgb_lab_reference.tsv"
REAL_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "real_photos" / "hair-loss-train"
#: Five real scalp photos (no chart, no grey card), picked by name.
REAL_PHOTO_NAMES = (
    "12-Back_jpg.rf.231317fbd5448ffdf39ca5aa8a99aa71.jpg",
    "12-Top-Down_jpg.rf.002af0e2d63ed1acccb0f7283a09e7b3.jpg",
    "19-Left_jpg.rf.6ccc496c583ff088255b3bb0b51547e7.jpg",
    "27-Front_jpg.rf.5d7bbe09ed963c7abbd8ed9dd59ac75f.jpg",
    "8-Back_jpg.rf.97151c8c157938af6214d04685f58e9c.jpg",
    # a white wall in the corner above a dark shirt, and a strip of window at the
    # left edge: card-like patches cut off by the frame (a found "card" before)
    "6-Top-Down_jpg.rf.2dd5922a6b23c43bd0930365ee67f6b7.jpg",
    "11-Right_jpg.rf.0bc760f11310dd6860d241e15f82629e.jpg",
)

SKIN_LAB = (62.0, 11.0, 17.0)  # a light-medium skin (ITA ≈ 35°, "intermediate")
HAIR_SRGB8 = (60, 45, 35)  # dark brown
CARD_SRGB8 = (119, 119, 119)  # L* ≈ 50: an 18 % grey card
CARD_RECT = (60, 60, 140, 100)  # x, y, w, h
CHART_ORIGIN = (420, 330)
CHART_PATCH = 40


def srgb_to_linear(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x):
    x = np.clip(np.asarray(x, dtype=np.float64), 0, 1)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)


def cast_gains(cct_k: float | None) -> np.ndarray:
    """Diagonal linear-sRGB gains that turn D65 light into a Planckian light (Kang 2002)."""
    if cct_k is None:
        return np.ones(3)
    to_rgb = colour_science.RGB_COLOURSPACES["sRGB"].matrix_XYZ_to_RGB

    def white(xy):
        return to_rgb @ colour_science.xy_to_XYZ(np.asarray(xy))

    return white(colour_science.temperature.CCT_to_xy_Kang2002(cct_k)) / white([0.3127, 0.3290])


def skin_srgb(skin_lab=SKIN_LAB) -> np.ndarray:
    return lab2rgb(np.array(skin_lab, dtype=np.float64)[None, None])[0, 0]


def render(
    cct_k: float | None = None,
    *,
    chart: bool = False,
    card: bool = False,
    skin_lab=SKIN_LAB,
    size=(600, 800),
    seed: int = 0,
    highlight_headroom: float | None = None,
) -> np.ndarray:
    """A scalp-like scene (uint8 RGB) under a Planckian light.

    With *highlight_headroom*, exposed as a camera that protects its highlights: the
    whole photo scaled so that the 99.5th percentile of its brightest channel is
    0.98 / *highlight_headroom* in linear light (1: at the clip level; > 1: below it).
    """
    rng = np.random.default_rng(seed)
    height, width = size
    scene = np.ones((height, width, 3)) * srgb_to_linear(skin_srgb(skin_lab))
    hair = tuple(srgb_to_linear(np.array(HAIR_SRGB8) / 255).tolist())
    for _ in range(50):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(scene, centre, int(rng.integers(4, 18)), hair, -1)
    if chart:
        gap = CHART_PATCH // 5
        x0, y0 = CHART_ORIGIN
        scene[y0 : y0 + 4 * CHART_PATCH + 5 * gap, x0 : x0 + 6 * CHART_PATCH + 7 * gap] = (
            srgb_to_linear(20 / 255)
        )
        for i, (x, y) in enumerate(_patch_origins()):
            scene[y : y + CHART_PATCH, x : x + CHART_PATCH] = srgb_to_linear(COLORCHECKER_SRGB8[i] / 255)
    if card:
        x, y, w, h = CARD_RECT
        scene[y : y + h, x : x + w] = srgb_to_linear(np.array(CARD_SRGB8) / 255)
    scene = scene * cast_gains(cct_k)
    if highlight_headroom is not None:
        scene *= 0.98 / highlight_headroom / np.percentile(scene.max(axis=2), 99.5)
    noisy = linear_to_srgb(scene) * 255 + rng.normal(0, 1.2, scene.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _patch_origins():
    gap = CHART_PATCH // 5
    x0, y0 = CHART_ORIGIN
    for i in range(24):
        row, col = divmod(i, 6)
        yield x0 + gap + col * (CHART_PATCH + gap), y0 + gap + row * (CHART_PATCH + gap)


def skin_pixels(rgb: np.ndarray, rgb8_source: np.ndarray) -> np.ndarray:
    """Median sRGB of the scene's skin pixels (not hair, card or chart).

    Skin is the most common colour of the rendered scene: the pixels within 6 codes
    of the source's per-channel mode.
    """
    source = rgb8_source[::4, ::4].reshape(-1, 3).astype(int)
    mode = np.array([np.bincount(source[:, c], minlength=256).argmax() for c in range(3)])
    mask = (np.abs(source - mode) <= 6).all(1)
    return np.median(rgb[::4, ::4].reshape(-1, 3)[mask], axis=0)


def delta_e_srgb(rgb_a, rgb_b) -> float:
    lab_a = rgb2lab(np.asarray(rgb_a, dtype=np.float64).reshape(1, 1, 3))
    lab_b = rgb2lab(np.asarray(rgb_b, dtype=np.float64).reshape(1, 1, 3))
    return float(deltaE_ciede2000(lab_a, lab_b)[0, 0])


# --- reference data and small functions ---------------------------------------------


def test_embedded_colorchecker_matches_the_shared_reference_table():
    if not REFERENCE_TSV.exists():
        pytest.skip(f"reference table not found at {REFERENCE_TSV}")
    table = np.genfromtxt(
        REFERENCE_TSV, delimiter="\t", names=True, skip_header=4, dtype=None, encoding="utf8"
    )[:24]
    rgb = np.stack([table["R8"], table["G8"], table["B8"]], -1)
    np.testing.assert_array_equal(COLORCHECKER_SRGB8, rgb)
    lab = np.stack([table["sk_L"], table["sk_a"], table["sk_b"]], -1)
    np.testing.assert_allclose(COLORCHECKER_LAB_D65, lab, atol=1e-4)
    # and the Lab column is what skimage computes from the 8-bit values
    np.testing.assert_allclose(rgb2lab(COLORCHECKER_SRGB8[None] / 255.0)[0], lab, atol=1e-3)


def test_planckian_locus_matches_colour_science_kang_2002():
    temps = np.array([2000.0, 2700.0, 3000.0, 4000.0, 5000.0, 6504.0, 8000.0, 12000.0])
    expected = np.stack([colour_science.temperature.CCT_to_xy_Kang2002(t) for t in temps])
    np.testing.assert_allclose(planckian_xy(temps), expected, atol=1e-9)
    with pytest.raises(SettingsError, match="1667–25000 K"):
        planckian_xy(1000.0)


def test_methods_and_bad_inputs():
    assert CORRECTION_METHODS == ("auto", "none", "grey-card", "chart")
    rgb8 = render()
    with pytest.raises(SettingsError, match="one of auto, none, grey-card, chart; got 'wb'"):
        correct_colours(rgb8, "wb")
    with pytest.raises(SettingsError, match=r"\(H, W, 3\) uint8 RGB array; got shape \(4, 4\)"):
        correct_colours(np.zeros((4, 4), np.uint8), "none")
    with pytest.raises(SettingsError, match="dtype float64"):
        correct_colours(rgb8.astype(np.float64), "none")


def test_none_is_identity():
    rgb8 = render(3000)
    result = correct_colours(rgb8, "none")
    assert result.method == "none"
    assert result.rgb.dtype == np.float32 and result.rgb.shape == rgb8.shape
    np.testing.assert_allclose(result.rgb, rgb8 / 255.0, rtol=0, atol=1e-7)
    assert result.confidence == 1.0 and result.warnings == () and result.reference_mask is None


# --- chart ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warm_chart_scene():
    return render(3000, chart=True)


def test_mcc_reports_rgb_means_in_column_1(warm_chart_scene):
    """The detector's own patch statistics (72×5, RGB rows, column 1 the mean) agree
    with the rendered truth — the ordering the module relies on for its polygons."""
    detector = cv2.mcc.CCheckerDetector_create()
    detector.setColorChartType(cv2.mcc.MCC24)
    assert detector.process(cv2.cvtColor(warm_chart_scene, cv2.COLOR_RGB2BGR), nc=1)
    stats = detector.getBestColorChecker().getChartsRGB()
    assert stats.shape == (72, 5)
    means = stats[:, 1].reshape(24, 3)
    truth = linear_to_srgb(srgb_to_linear(COLORCHECKER_SRGB8 / 255) * cast_gains(3000)) * 255
    np.testing.assert_allclose(means, truth, atol=3.0)


def test_find_colour_chart_locates_the_patches_in_order(warm_chart_scene):
    found = find_colour_chart(warm_chart_scene)
    assert found is not None
    assert found.patch_polygons.shape == (24, 4, 2)
    centres = found.patch_polygons.mean(1)
    expected = np.array([(x + CHART_PATCH / 2, y + CHART_PATCH / 2) for x, y in _patch_origins()])
    np.testing.assert_allclose(centres, expected, atol=4.0)


def test_chart_correction_recovers_the_patches(warm_chart_scene):
    result = correct_colours(warm_chart_scene, "chart")
    assert result.method == "chart"
    details = result.details
    assert details["requested"] == "chart"
    assert len(details["patch_delta_e"]) == 24
    # independent check: sample the corrected image at the known patch centres
    measured = np.array(
        [result.rgb[y + 12 : y + CHART_PATCH - 12, x + 12 : x + CHART_PATCH - 12].reshape(-1, 3).mean(0)
         for x, y in _patch_origins()]
    )  # fmt: skip
    lab = rgb2lab(measured[None])[0]
    delta = deltaE_ciede2000(lab, COLORCHECKER_LAB_D65)
    used = np.array(details["patches_used"]) - 1
    assert 17 not in used  # cyan is out of gamut: never fitted
    assert np.mean(delta[used]) < 1.0, delta
    assert np.max(delta[used]) < 2.5, delta
    # the reported residuals are the same numbers, computed by the module
    reported = np.array([details["patch_delta_e"][i] for i in used])
    np.testing.assert_allclose(reported, delta[used], atol=0.5)
    assert details["mean_delta_e"] == pytest.approx(np.mean(reported), abs=1e-3)
    assert details["loo_mean_delta_e"] >= details["mean_delta_e"] - 1e-6
    # before the correction the chart was far off
    raw_lab = rgb2lab((np.array([warm_chart_scene[y + 20, x + 20] for x, y in _patch_origins()]) / 255.0)[None])[0]
    assert np.mean(deltaE_ciede2000(raw_lab, COLORCHECKER_LAB_D65)[used]) > 8
    # the chart saw a ~3000 K light
    assert 2700 < details["estimated_cct_k"] < 3400
    # the reference mask covers the chart and nothing far from it
    mask = result.reference_mask
    x0, y0 = CHART_ORIGIN
    assert mask.dtype == bool and mask.shape == warm_chart_scene.shape[:2]
    assert mask[y0 + 60, x0 + 100] and mask[y0 + 5, x0 + 5]
    assert not mask[50, 50] and mask.mean() < 0.2
    assert 0.5 <= result.confidence <= 1.0


def test_chart_skin_and_hair_within_issue_targets(warm_chart_scene):
    result = correct_colours(warm_chart_scene, "auto")
    assert result.method == "chart"  # auto prefers a chart
    skin_after = skin_pixels(result.rgb, warm_chart_scene)
    assert delta_e_srgb(skin_after, skin_srgb()) <= 2.0


def test_chart_requested_but_absent_raises():
    with pytest.raises(AnalysisError, match="expected a 24-patch ColorChecker Classic"):
        correct_colours(render(), "chart")


# --- grey card --------------------------------------------------------------------------


@pytest.mark.parametrize("cct_k", [3000.0, 8000.0])
def test_grey_card_rectangle_corrects_skin(cct_k):
    rgb8 = render(cct_k, card=True, seed=3)
    before = delta_e_srgb(skin_pixels(rgb8 / 255.0, rgb8), skin_srgb())
    result = correct_colours(rgb8, "grey-card", grey_card=CARD_RECT)
    assert result.method == "grey-card"
    assert result.details["source"] == "grey-card (given)"
    after = delta_e_srgb(skin_pixels(result.rgb, rgb8), skin_srgb())
    assert before > 5 and after < 1.0, (before, after)
    x, y, w, h = CARD_RECT
    card_lab = rgb2lab(result.rgb[y + 30 : y + h - 30, x + 30 : x + w - 30].reshape(-1, 1, 3).mean(0)[None])[0, 0]
    assert card_lab[0] == pytest.approx(116 * 0.18 ** (1 / 3) - 16, abs=1.0)  # L* 49.5
    assert np.hypot(card_lab[1], card_lab[2]) < 1.0
    assert abs(result.details["estimated_cct_k"] - cct_k) < 0.05 * cct_k
    assert result.reference_mask[y + 10, x + 10] and not result.reference_mask[400, 600]


def _iou(a, b) -> float:
    """Intersection over union of two (x, y, w, h) rectangles."""
    (x, y, w, h), (bx, by, bw, bh) = a, b
    inter = max(0, min(x + w, bx + bw) - max(x, bx)) * max(0, min(y + h, by + bh) - max(y, by))
    return inter / (w * h + bw * bh - inter)


def test_grey_card_is_found_automatically():
    rgb8 = render(3000, card=True, seed=4)
    rect = find_grey_card(rgb8)
    assert rect is not None
    assert _iou(rect, CARD_RECT) > 0.8
    result = correct_colours(rgb8, "auto")
    assert result.method == "grey-card"
    assert result.details["requested"] == "auto" and result.details["source"] == "grey-card (found)"
    assert delta_e_srgb(skin_pixels(result.rgb, rgb8), skin_srgb()) < 1.0
    assert result.warnings == ()


def _card_at(x: int, y: int) -> np.ndarray:
    """The render of test_grey_card_is_found_automatically with its card moved to x, y
    (the card may run off the frame)."""
    rgb8 = render(3000, seed=4)
    with_card = render(3000, card=True, seed=4)
    cx, cy, cw, ch = CARD_RECT
    card = with_card[cy : cy + ch, cx : cx + cw]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + cw, rgb8.shape[1]), min(y + ch, rgb8.shape[0])
    rgb8[y0:y1, x0:x1] = card[y0 - y : y1 - y, x0 - x : x1 - x]
    return rgb8


def test_grey_card_near_the_edge_is_found_but_not_one_cut_off_by_it():
    # 24 px from two edges (12 px of the 400 px search copy, beyond the edge ring's
    # 9 px reach)
    rect = find_grey_card(_card_at(24, 24))
    assert rect is not None and abs(rect[0] - 24) <= 3 and abs(rect[1] - 24) <= 3
    width = render(3000, seed=4).shape[1]
    assert find_grey_card(_card_at(width - CARD_RECT[2] - 24, 24)) is not None
    # the same card running off the corner, or so near the edge (2–4 px, inside the
    # uniformity window's reach) that the frame hides whether it is bounded there: a
    # wall in the corner looks just like it, so it is not taken for a card
    assert find_grey_card(_card_at(-40, -30)) is None
    assert find_grey_card(_card_at(2, 2)) is None
    assert find_grey_card(_card_at(4, 100)) is None
    assert find_grey_card(_card_at(width - CARD_RECT[2] - 4, 200)) is None


@pytest.mark.parametrize("side", [300, 200])
def test_grey_card_is_found_in_a_photo_smaller_than_the_search_copy(side):
    # The search runs on a copy whose long side is 400 px, enlarged when the photo is
    # smaller, so its windows and rings cover the same part of the scene at any size;
    # the card comes back in the photo's own pixels.
    rgb8 = render(3000, card=True, seed=4)
    scale = side / max(rgb8.shape[:2])
    small = cv2.resize(rgb8, (round(rgb8.shape[1] * scale), round(rgb8.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    rect = find_grey_card(small)
    assert rect is not None
    assert _iou(rect, tuple(round(v * scale) for v in CARD_RECT)) > 0.7
    x, y, w, h = rect
    assert x + w <= small.shape[1] and y + h <= small.shape[0]


def test_grey_card_requested_but_absent_raises():
    with pytest.raises(AnalysisError, match="expected a grey card in the photo"):
        correct_colours(render(), "grey-card")


@pytest.mark.parametrize(
    ("rect", "message"),
    [
        ((700, 500, 200, 200), "must lie inside the 800×600 image"),
        ((10, 10, 5, 40), "expected at least 8×8 px"),
        ((-1, 10, 50, 50), "must lie inside"),
        ((300, 250, 60, 60), "not neutral under any plausible light"),  # skin, not a card
        ((300, 400, 60, 60), "not neutral under any plausible light"),  # a blue shirt
        ((10, 10, 60, 60), "clipped white"),
        ((500, 10, 60, 60), "too dark"),
    ],
)
def test_bad_grey_card_rectangles_raise(rect, message):
    rgb8 = render(card=True, seed=5)
    rgb8[10:70, 10:70] = 255  # a blown highlight
    rgb8[10:70, 500:560] = 3  # a black patch
    rgb8[250:310, 300:360] = np.rint(skin_srgb() * 255)  # plain skin
    rgb8[400:460, 300:360] = (40, 60, 140)  # blue
    with pytest.raises(SettingsError, match=message):
        correct_colours(rgb8, "grey-card", grey_card=rect)


# --- auto (estimate) --------------------------------------------------------------------


def test_auto_detects_and_reduces_a_warm_cast():
    rgb8 = render(3000.0, seed=6)
    result = correct_colours(rgb8, "auto")
    assert result.method == "auto"
    assert result.details["source"] == "skin-locus"
    assert any("colour cast" in w for w in result.warnings), result.warnings
    assert result.details["cast_mired"] > 0
    before = delta_e_srgb(skin_pixels(rgb8 / 255.0, rgb8), skin_srgb())
    after = delta_e_srgb(skin_pixels(result.rgb, rgb8), skin_srgb())
    assert after < 0.5 * before, (before, after)
    assert result.confidence < 0.85


def test_a_cool_estimate_beyond_room_lights_is_warned_not_applied():
    """12000 K (−70 mired) reads as a cool cast beyond the room-light range (7500 K).
    Pale, nearly neutral skin reads the same way on white-balanced photos, where such
    corrections cost 7–10 ΔE00 (benchmarks/illuminant.py), so it is warned about and
    trusted less, but the photo keeps the camera's balance."""
    rgb8 = render(12000.0, seed=6)
    estimate = estimate_illuminant(rgb8)
    assert estimate.cast_mired < 1e6 / 7500 - 1e6 / 6504  # the estimate does see a cool light
    result = correct_colours(rgb8, "auto")
    assert result.details["cast_mired"] == 0.0
    np.testing.assert_array_equal(result.rgb, rgb8.astype(np.float32) / np.float32(255))
    assert any("colour cast" in w for w in result.warnings), result.warnings
    assert result.confidence <= 0.7


def test_estimate_is_near_the_true_light_under_3000_k():
    # 3000 K is +180 mired; skin alone pins the light to an interval (the in-vivo
    # skin region is ≈ 60–80 mired wide along the locus): within 30 mired, and warned
    rgb8 = render(3000.0, seed=6)
    estimate = estimate_illuminant(rgb8)
    assert abs(estimate.cast_mired - (1e6 / 3000 - 1e6 / 6504)) < 30, estimate
    assert estimate.balanced_probability < 0.05
    result = correct_colours(rgb8, "auto")
    assert any("colour cast" in w for w in result.warnings)
    assert result.confidence <= 0.5  # a strong estimated cast lowers confidence


FAIR_SKIN_LAB = (80.0, 8.0, 15.0)  # fair skin: its red channel clips first under a warm light


def protected_render(cct_k: float, *, headroom: float = 1.0) -> np.ndarray:
    """Fair skin under *cct_k* exposed for its highlights (:func:`render`); the true skin
    is :data:`FAIR_SKIN_LAB` at exposure 1."""
    return render(cct_k, skin_lab=FAIR_SKIN_LAB, seed=6, highlight_headroom=headroom)


def skin_lightness(rgb: np.ndarray, rgb8_source: np.ndarray) -> float:
    return float(rgb2lab(skin_pixels(rgb, rgb8_source).reshape(1, 1, 3))[0, 0, 0])


def test_a_warm_cast_at_the_clip_level_gets_its_exposure_back(monkeypatch):
    """Under 2700 K the red channel of fair skin reaches the clip level at a lower
    exposure than the skin needs; a camera that protects its highlights darkens the
    whole photo (here by ≈ 0.5 stop). Luminance-preserving gains leave that in place;
    the headroom rule gives it back, up to ½ stop."""
    rgb8 = protected_render(2700.0)
    true_l = FAIR_SKIN_LAB[0]
    result = correct_colours(rgb8, "auto")
    assert result.details["correction_applied"]
    restored = result.details["exposure_restored"]
    assert 1.2 < restored <= 2**0.5 + 1e-6, restored
    with_rule = skin_lightness(result.rgb, rgb8)
    monkeypatch.setattr(correction, "_CLIP_LEVEL_PEAK", 2.0)  # the rule off
    without = correct_colours(rgb8, "auto")
    assert without.details["exposure_restored"] == 1.0
    without_rule = skin_lightness(without.rgb, rgb8)
    assert without_rule < true_l - 6, without_rule  # what the protection cost
    assert abs(with_rule - true_l) < abs(without_rule - true_l) - 4, (with_rule, without_rule)
    np.testing.assert_allclose(
        np.array(result.details["gains"]), restored * np.array(without.details["gains"]), rtol=1e-3
    )


def test_a_cast_photo_exposed_below_the_clip_level_keeps_luminance_preserving_gains():
    rgb8 = protected_render(2700.0, headroom=1.6)  # brightest channel at 0.61 linear
    result = correct_colours(rgb8, "auto")
    assert result.details["correction_applied"]
    assert result.details["exposure_restored"] == 1.0


def test_the_headroom_never_darkens_and_is_at_most_half_a_stop():
    thumbnail = np.full((64, 64, 3), (250, 200, 150), np.uint8)  # red channel at the clip level
    assert correction._highlight_headroom(thumbnail, np.array([1.2, 1.0, 1.0])) == 1.0  # gains raise it
    assert correction._highlight_headroom(thumbnail, np.array([0.9, 1.0, 1.0])) == pytest.approx(1 / 0.9, rel=1e-4)
    assert correction._highlight_headroom(thumbnail, np.array([0.3, 1.0, 1.0])) == pytest.approx(2**0.5)
    dim = np.full((64, 64, 3), (200, 160, 120), np.uint8)  # 0.58 linear: not at the clip level
    assert correction._highlight_headroom(dim, np.array([0.5, 1.0, 1.0])) == 1.0


def highlight_scene(cct_k: float | None, seed: int = 3) -> np.ndarray:
    """Plain skin with one soft specular highlight (the light's own colour, added)."""
    rng = np.random.default_rng(seed)
    height, width = 600, 800
    scene = np.ones((height, width, 3)) * srgb_to_linear(skin_srgb())
    blob = np.zeros((height, width), np.float32)
    cv2.ellipse(blob, (300, 250), (40, 25), 30, 0, 360, 1.0, -1)
    blob = cv2.GaussianBlur(blob, (0, 0), 6)
    scene = (scene + 0.15 * blob[..., None]) * cast_gains(cct_k) * 0.8
    noisy = linear_to_srgb(scene) * 255 + rng.normal(0, 1.2, scene.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def test_a_highlight_pins_a_moderate_cast_that_skin_alone_leaves_open():
    # 4500 K (+68 mired) on this skin is inside the skin-only interval that contains
    # D65 (kept as balanced); the highlight's colour resolves it
    true_mired = 1e6 / 4500 - 1e6 / 6504
    without = estimate_illuminant(render(4500.0, seed=6))
    with_highlight = estimate_illuminant(highlight_scene(4500.0))
    assert with_highlight.source == "skin-locus+highlight"
    assert with_highlight.mired_sigma < without.mired_sigma
    assert with_highlight.balanced_probability < 0.5
    assert abs(with_highlight.cast_mired - true_mired) < 15, with_highlight
    neutral = correct_colours(highlight_scene(None), "auto")
    assert neutral.details["source"] == "skin-locus+highlight"
    assert not neutral.details["correction_applied"]
    assert not any("colour cast" in w for w in neutral.warnings)


def test_a_highlight_somewhat_off_the_light_still_counts():
    # On rendered photos a highlight's excess lies a median 0.17 (log-chroma) from the
    # true light (the body under it is only estimated); a glare 15 % greener than the
    # 4500 K light is such a highlight and must still make D65 improbable
    rng = np.random.default_rng(3)
    scene = np.ones((600, 800, 3)) * srgb_to_linear(skin_srgb())
    blob = np.zeros((600, 800), np.float32)
    cv2.ellipse(blob, (300, 250), (40, 25), 30, 0, 360, 1.0, -1)
    blob = cv2.GaussianBlur(blob, (0, 0), 6)
    scene = (scene + 0.15 * blob[..., None] * np.array([1.0, 1.15, 1.0])) * cast_gains(4500.0) * 0.8
    rgb8 = np.clip(np.rint(linear_to_srgb(scene) * 255 + rng.normal(0, 1.2, scene.shape)), 0, 255).astype(np.uint8)
    estimate = estimate_illuminant(rgb8)
    assert estimate.source == "skin-locus+highlight"
    assert estimate.balanced_probability < 0.15, estimate
    assert abs(estimate.cast_mired - (1e6 / 4500 - 1e6 / 6504)) < 15, estimate


def test_skin_between_dark_hairs_is_not_a_highlight():
    # bright skin gaps between dark hair blobs are compact bright regions, but their
    # excess over the surroundings has the skin's colour, not a light's
    small, _ = correction._shrink(render(3000.0, seed=6), correction._ESTIMATE_SIDE)
    skin_chroma = correction._log_chroma(srgb_to_linear(skin_srgb()) * cast_gains(3000.0))
    assert correction._highlight_chroma(small, correction._linear_image(small), skin_chroma) is None


def test_auto_leaves_a_neutral_photo_alone():
    rgb8 = render(None, seed=7)
    result = correct_colours(rgb8, "auto")
    assert result.method == "auto"
    assert not result.details["correction_applied"]
    assert result.details["balanced_probability"] >= 0.5
    assert not any("colour cast" in w for w in result.warnings)
    lab_before = rgb2lab(rgb8[::3, ::3] / 255.0)
    lab_after = rgb2lab(result.rgb[::3, ::3].astype(np.float64))
    assert deltaE_ciede2000(lab_before, lab_after).mean() < 1.0


def test_estimate_without_skin_falls_back_to_shades_of_grey():
    # a mosaic of green, blue and magenta tiles: nothing is skin under any light
    rng = np.random.default_rng(8)
    tiles = rng.permutation(np.array([[0.05, 0.30, 0.05], [0.05, 0.05, 0.30], [0.30, 0.05, 0.30]] * 64))
    scene = tiles.reshape(12, 16, 3).repeat(25, 0).repeat(25, 1)
    neutral = correct_colours(_encode(scene), "auto")
    cool = estimate_illuminant(_encode(scene * cast_gains(8000)))
    assert neutral.details["source"] == cool.source == "shades-of-grey"
    assert any("No skin found" in w for w in neutral.warnings)
    # Nothing to check the light against: the warning says a cast is possible (the
    # evaluation counts it as a cast warning) rather than implying the light is fine.
    assert any("colour cast cannot be ruled out" in w for w in neutral.warnings)
    assert neutral.confidence <= 0.6
    assert cool.cast_mired < neutral.details["cast_mired"] - 20


def _encode(linear_scene) -> np.ndarray:
    return np.clip(np.rint(linear_to_srgb(linear_scene) * 255), 0, 255).astype(np.uint8)


# --- real photos: no false chart or card ------------------------------------------------


@pytest.mark.parametrize("name", REAL_PHOTO_NAMES)
def test_no_false_reference_on_real_scalp_photos(name):
    path = REAL_PHOTOS / name
    if not path.exists():
        pytest.skip(f"real photo not available: {path}")
    rgb8 = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    assert find_colour_chart(rgb8) is None
    assert find_grey_card(rgb8) is None
    result = correct_colours(rgb8, "auto")
    assert result.method == "auto"
    assert result.reference_mask is None
    assert 0.0 < result.confidence <= 1.0


def test_module_constants_are_read_only():
    with pytest.raises(ValueError):
        correction.COLORCHECKER_SRGB8[0, 0] = 1


# --- hair and near-neutral probes, possible-cast warning -----------------------------------


def strand_scene(cct_k: float | None, hair_srgb8, seed: int = 4) -> np.ndarray:
    """Skin with 400 thin straight strands (3–5 px) of one colour, under a light."""
    rng = np.random.default_rng(seed)
    height, width = 600, 800
    scene = np.ones((height, width, 3)) * srgb_to_linear(skin_srgb())
    hair = tuple(srgb_to_linear(np.array(hair_srgb8) / 255).tolist())
    for _ in range(400):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        angle, length = rng.uniform(0, np.pi), int(rng.integers(20, 60))
        end = (int(x + length * np.cos(angle)), int(y + length * np.sin(angle)))
        cv2.line(scene, (x, y), end, hair, int(rng.integers(3, 6)))
    scene = scene * cast_gains(cct_k)
    noisy = linear_to_srgb(scene) * 255 + rng.normal(0, 1.2, scene.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _probes(rgb8):
    small, _ = correction._shrink(rgb8, correction._ESTIMATE_SIDE)
    linear_image = correction._linear_image(small)
    flat = linear_image.reshape(-1, 3).astype(np.float64)
    usable = (small.reshape(-1, 3).max(1) < correction._CLIP_CODE) & (flat @ correction._LUMA >= correction._MIN_LUMINANCE)
    skin_chroma = correction._log_chroma(srgb_to_linear(skin_srgb()) * cast_gains(None))
    member = np.linalg.norm(correction._log_chroma(flat) - skin_chroma, axis=1) <= 0.15
    return correction._probe_colours(linear_image, usable, member & usable, int(usable.sum()))


def test_dark_strands_are_the_hair_probe_and_grey_strands_a_neutral_probe():
    hair, neutrals = _probes(strand_scene(None, (40, 35, 32)))
    assert hair is not None and not neutrals
    # the probe is the strand colour (the darkest quarter: little skin mixed in)
    assert delta_e_srgb(linear_to_srgb(hair)[None], np.array([40, 35, 32]) / 255) < 6
    hair, neutrals = _probes(strand_scene(None, (190, 188, 185)))
    assert len(neutrals) == 1
    assert correction._neutral_distance_plane()[correction._plane_index(correction._log_chroma(neutrals[0][0]))] < 0.03


def test_hair_cost_rejects_lights_that_make_dark_hair_orange_or_blue():
    # dark brown hair (L* ≈ 21, C* ≈ 7) photographed under 3000 K: under D65 it would
    # be far too chromatic for its lightness; under 12000 K the D65 reading is bluish
    grid = correction._illuminant_grid()
    d65 = np.argmin(np.abs(grid.mired - 1e6 / 6504) + np.abs(grid.duv - correction._d65_duv()) * 1e4)
    dark_brown = srgb_to_linear(np.array([59, 48, 40]) / 255)
    warm = correction._hair_cost(dark_brown * cast_gains(3000.0))
    assert warm[d65] >= 4.0  # ≥ 2σ outside the hair region at D65
    assert warm.min() == 0.0
    cool = correction._hair_cost(srgb_to_linear(np.array([40, 40, 40]) / 255) * cast_gains(12000.0))
    assert cool[d65] > 0.0
    # robust: a green shirt is never hair, and costs at most the outlier cap everywhere
    assert correction._hair_cost(srgb_to_linear(np.array([79, 107, 69]) / 255)).max() <= correction._OUTLIER_COST


def test_grey_strands_move_the_estimate_toward_the_true_light(monkeypatch):
    # 4500 K on this skin is inside the skin-only interval that contains D65; grey
    # strands (a weak near-neutral cue) make the balanced hypothesis less likely
    # and do not disturb a neutral photo
    rgb8 = strand_scene(4500.0, (190, 188, 185))
    with_grey = estimate_illuminant(rgb8)
    assert "neutral" in with_grey.source
    with monkeypatch.context() as patch:
        patch.setattr(correction, "_probe_colours", lambda *args: (None, []))
        skin_only = estimate_illuminant(rgb8)
    assert with_grey.balanced_probability < skin_only.balanced_probability
    neutral = correct_colours(strand_scene(None, (190, 188, 185)), "auto")
    assert not neutral.details["correction_applied"]
    assert not any("colour cast" in w for w in neutral.warnings)


def test_a_wooden_wall_does_not_drag_a_neutral_photo():
    # a smooth orange surface is, in chromaticity, a grey under ≈ 2800 K: the cue is
    # weak and gated by the skin, so the camera's balance is kept
    rgb8 = render(None, seed=7)
    rgb8[:, :300] = (164, 119, 79)  # wooden door #A4774F
    result = correct_colours(rgb8, "auto")
    assert not result.details["correction_applied"]
    assert not any("colour cast" in w for w in result.warnings)


def _correction_from(rgb8, estimate):
    """The auto correction (apply rule, warnings, confidence) of a given light estimate."""
    thumbnail, _ = correction._shrink(rgb8, correction._ESTIMATE_SIDE)
    evidence = correction._LightEvidence(thumbnail, None)
    return correction._estimated_correction(rgb8, estimate, evidence, skin_source="thumbnail")


def test_possible_cast_is_warned_and_lowers_confidence():
    # force an estimate with P(strong cast) above the threshold but no correction applied
    rgb8 = render(None, seed=7)
    estimate = correction.IlluminantEstimate(
        cct_k=5000.0, duv=0.0, xy=(0.345, 0.352), white_rgb=(1.1, 1.0, 0.8), cast_mired=46.0,
        source="skin-locus", evidence_fraction=0.8, balanced_probability=0.55,
        mired_sigma=30.0, strong_cast_probability=0.4,
    )  # fmt: skip
    result = _correction_from(rgb8, estimate)
    assert not result.details["correction_applied"]
    assert any("Possible colour cast" in w for w in result.warnings), result.warnings
    assert result.confidence <= correction._CAST_WARNED_CONFIDENCE


@pytest.mark.parametrize(("p_strong", "warned"), [(0.2, True), (0.15, True), (0.14, False)])
def test_possible_cast_threshold_is_fifteen_percent(p_strong, warned):
    # P(strong cast) from 0.15 up: the evidence cannot rule out a strong cast, so it is
    # warned about (a miss costs ≈ 5.7× a needless warning); below 0.15 it is not
    rgb8 = render(None, seed=7)
    estimate = correction.IlluminantEstimate(
        cct_k=5600.0, duv=0.003, xy=(0.33, 0.34), white_rgb=(1.05, 1.0, 0.9), cast_mired=25.0,
        source="skin-locus", evidence_fraction=0.8, balanced_probability=0.75,
        mired_sigma=30.0, strong_cast_probability=p_strong,
    )  # fmt: skip
    result = _correction_from(rgb8, estimate)
    assert not result.details["correction_applied"]
    assert any("Possible colour cast" in w for w in result.warnings) == warned, result.warnings


def test_auto_on_a_photo_with_nothing_usable_says_a_cast_cannot_be_ruled_out():
    # Every pixel is too dark to carry colour: the light cannot be checked at all.
    result = correct_colours(np.full((64, 64, 3), 2, np.uint8), "auto")
    assert result.details["source"] == "none"
    assert any("Could not check the light" in w and "colour cast cannot be ruled out" in w for w in result.warnings)
    assert result.confidence <= 0.6


def test_fair_skin_in_neutral_light_is_used_to_check_the_light():
    # Very fair skin (Monk 2–3) is nearly neutral: outside the middle of the frame such
    # pixels are kept out as possible walls, but the head fills the middle.
    rgb8 = render(None, skin_lab=(88.0, 3.0, 14.0), seed=3)
    result = correct_colours(rgb8, "auto")
    assert result.details["source"].startswith("skin-locus"), result.details["source"]
    assert not any("cannot be ruled out" in w for w in result.warnings)
    assert not result.details["correction_applied"]


def test_the_skin_is_the_cluster_in_the_middle_not_the_larger_background():
    # A whole-head photo: the head (22 % of the frame) in the middle of a larger tan
    # wall (Lab 65, 15, 40: skin-coloured under a ≈ 4000 K light). The largest
    # plausible cluster is the wall; taken for skin it reads as a strong warm cast.
    rng = np.random.default_rng(5)
    height, width = 600, 800
    scene = np.ones((height, width, 3)) * srgb_to_linear(skin_srgb((65.0, 15.0, 40.0)))
    head = np.zeros((height, width), np.uint8)
    cv2.ellipse(head, (400, 300), (200, 170), 0, 0, 360, 1, -1)
    scene[head > 0] = srgb_to_linear(skin_srgb())
    noisy = linear_to_srgb(scene) * 255 + rng.normal(0, 1.2, scene.shape)
    rgb8 = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    result = correct_colours(rgb8, "auto")
    assert result.details["source"].startswith("skin-locus")
    assert not result.details["correction_applied"]
    assert abs(result.details["posterior_cast_mired"]) < 20, result.details
    assert not any("colour cast" in w for w in result.warnings), result.warnings


# --- the light estimated again from the segmentation's skin -------------------------


def _dense_brown_hair_scene(cct_k: float = 3000.0):
    """Skin with a dense brown-hair region (Lab 38, 10, 16: a dark skin colour under
    D65) filling the middle, under *cct_k*; returns the image and the skin mask."""
    rng = np.random.default_rng(3)
    height, width = 600, 800
    scene = np.ones((height, width, 3)) * srgb_to_linear(skin_srgb())
    hair = np.zeros((height, width), np.uint8)
    cv2.ellipse(hair, (400, 300), (260, 200), 0, 0, 360, 1, -1)
    scene[hair > 0] = srgb_to_linear(skin_srgb((38.0, 10.0, 16.0)))
    scene = scene * cast_gains(cct_k)
    noisy = linear_to_srgb(scene) * 255 + rng.normal(0, 1.2, scene.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8), hair == 0


def test_the_light_is_estimated_again_from_the_segmentation_skin():
    # The thumbnail estimate has to guess which colour is skin, and the brown middle
    # pulls it 30 mired short of the light; the skin mask gives the skin itself.
    rgb8, skin = _dense_brown_hair_scene(3000.0)
    true_mired = 1e6 / 3000.0 - 1e6 / 6504.0
    first = correct_colours(rgb8, "auto")
    refined = correction.refine_light_with_skin(first, rgb8, skin)
    first_error = abs(first.details["posterior_cast_mired"] - true_mired)
    refined_error = abs(refined.details["posterior_cast_mired"] - true_mired)
    assert first.details["skin_source"] == "thumbnail"
    assert refined.details["skin_source"] == "segmentation"
    assert first_error > 25, first.details  # the scene does mislead the first estimate
    assert refined_error < 20 and refined_error < first_error, (first_error, refined_error)
    assert refined.details["correction_applied"]
    after = delta_e_srgb(np.median(refined.rgb[skin][::7], axis=0), skin_srgb())
    before = delta_e_srgb(np.median(first.rgb[skin][::7], axis=0), skin_srgb())
    assert after < before, (before, after)


def test_refining_keeps_a_reference_correction_and_a_too_small_or_unskinlike_mask():
    rgb8, skin = _dense_brown_hair_scene(3000.0)
    for method in ("none", "grey-card"):
        kwargs = {"grey_card": CARD_RECT} if method == "grey-card" else {}
        scene = render(3000.0, card=True) if method == "grey-card" else rgb8
        result = correct_colours(scene, method, **kwargs)
        assert correction.refine_light_with_skin(result, scene, np.ones(scene.shape[:2], bool)) is result
    first = correct_colours(rgb8, "auto")
    few = np.zeros_like(skin)
    few[:10, :10] = True  # 100 px < REFINE_MIN_SKIN_PIXELS
    assert correction.refine_light_with_skin(first, rgb8, few) is first
    blue = rgb8.copy()
    blue[:100, :100] = (40, 60, 200)  # no skin under any light of the grid
    patch = np.zeros_like(skin)
    patch[:100, :100] = True
    first_blue = correct_colours(blue, "auto")
    assert correction.refine_light_with_skin(first_blue, blue, patch) is first_blue
    with pytest.raises(SettingsError, match="skin_mask must have the image's shape"):
        correction.refine_light_with_skin(first, rgb8, skin[:-1])


def test_the_light_is_judged_from_the_lit_skin_not_the_shade_bounced_light_colours():
    # The skin mask's darker half is shaded skin filled by light bounced off the skin
    # (redder than the room's light gives): the estimate must be that of the lit half
    # alone, not the whole mask's.
    rgb8, skin = _dense_brown_hair_scene(3000.0)
    first = correct_colours(rgb8, "auto")
    lit_only = correction.refine_light_with_skin(first, rgb8, skin)
    shaded = rgb8.copy()
    rows = np.zeros_like(skin)
    rows[320:] = True  # the lower part of the frame (under half the skin) is in the shade
    shade = skin & rows
    tinted = srgb_to_linear(rgb8[shade] / 255.0) * np.array([0.55, 0.42, 0.36])  # dimmer, redder
    shaded[shade] = np.clip(np.rint(linear_to_srgb(tinted) * 255), 0, 255).astype(np.uint8)
    lit_part = correction._lit_part(shaded, skin)
    assert not (lit_part & rows).any()  # no shaded pixel judges the light
    assert np.count_nonzero(lit_part) == pytest.approx(0.5 * np.count_nonzero(skin), rel=0.01)  # the brighter half
    refined = correction.refine_light_with_skin(first, shaded, skin)
    assert refined.details["posterior_cast_mired"] == pytest.approx(lit_only.details["posterior_cast_mired"], abs=1.0)
    everything = correction._median_codes(shaded, skin)  # what the whole mask would say
    lit = correction._median_codes(shaded, lit_part)
    assert abs(everything[0] / everything[2] - lit[0] / lit[2]) > 0.05


def test_refining_keeps_the_warnings_of_the_steps_before_the_estimate():
    rgb8, skin = _dense_brown_hair_scene(3000.0)
    first = correction._with_warnings(correct_colours(rgb8, "auto"), ["A colour chart was detected but not used: x"])
    refined = correction.refine_light_with_skin(first, rgb8, skin)
    assert refined is not first
    assert refined.warnings[0] == "A colour chart was detected but not used: x"


def test_gain_table_gives_the_same_values_as_decode_multiply_encode():
    rng = np.random.default_rng(0)
    rgb8 = rng.integers(0, 256, (97, 131, 3), dtype=np.uint8)
    for gains in ([1.0, 1.0, 1.0], [0.62, 1.04, 1.93], [1.4, 0.9, 0.55]):
        expected = correction._encode_image(correction._apply_gains(correction._linear_image(rgb8), gains))
        np.testing.assert_array_equal(correction._gain_image(rgb8, gains), expected)


def test_median_codes_are_the_median_and_the_same_for_a_rotated_photo():
    rng = np.random.default_rng(1)
    rgb8 = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    mask = rng.random((120, 90)) < 0.3
    medians = correction._median_codes(rgb8, mask)
    np.testing.assert_allclose(medians, np.median(rgb8[mask].astype(float), axis=0), atol=0.5)
    np.testing.assert_allclose(correction._median_codes(np.rot90(rgb8).copy(), np.rot90(mask).copy()), medians)


def test_refining_needs_the_skin_to_be_a_fair_share_of_the_scalp():
    # 1 % of a head of hair is an ear or the neck, not the scalp skin
    rgb8, skin = _dense_brown_hair_scene(3000.0)
    first = correct_colours(rgb8, "auto")
    scalp = np.ones_like(skin)
    little = np.zeros_like(skin)
    little[:48, :100] = True  # 4,800 px: 1 % of the 480,000 px scalp
    assert correction.refine_light_with_skin(first, rgb8, little, scalp) is first
    assert correction.refine_light_with_skin(first, rgb8, little) is not first  # no scalp: the pixel floor only


def test_refining_finds_the_cues_itself_when_the_first_estimate_had_no_skin():
    # A blue-green wall (skin under no light) with a skin patch in a corner (15 % of the
    # frame, below the 20 % a thumbnail cluster needs): the first estimate has no skin,
    # so it looked for no highlight, hair or neutral cues; the refined one measures the
    # patch and looks for them itself.
    rng = np.random.default_rng(2)
    scene = np.ones((600, 800, 3)) * srgb_to_linear(np.array([0.3, 0.5, 0.6]))
    patch = np.zeros((600, 800), bool)
    patch[:232, :310] = True
    scene[patch] = srgb_to_linear(skin_srgb())
    noisy = linear_to_srgb(scene) * 255 + rng.normal(0, 1.2, scene.shape)
    rgb8 = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    first = correct_colours(rgb8, "auto")
    assert first.details["source"] == "none" and first.light_evidence.cues is None
    refined = correction.refine_light_with_skin(first, rgb8, patch)
    assert refined.details["skin_source"] == "segmentation"
    assert refined.details["source"].startswith("skin-locus")
    assert refined.light_evidence.cues is not None
