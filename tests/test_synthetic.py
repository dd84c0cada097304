"""Tests of the synthetic scalp-photo generator (the project's accuracy yardstick).

The yardstick must itself be right: its colour maths is checked against
colour-science (an independent implementation) and against the published
ColorChecker table in shared/reference; its truth against the pixels it renders.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from shade_match.errors import SettingsError
from shade_match.synthetic import (
    COLORCHECKER_CLASSIC_SRGB8,
    CONDITIONS,
    HAIR_SHADES,
    MONK_SKIN_HEX,
    SceneSpec,
    cct_to_xy,
    clean_spec,
    illuminant_linear_rgb,
    lab_to_linear_srgb,
    linear_srgb_to_lab,
    random_spec,
    render_scalp_photo,
)

colour = pytest.importorskip("colour")
from skimage.color import deltaE_ciede2000  # noqa: E402


def _srgb_decode(rgb8):
    c = np.asarray(rgb8, float) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _srgb_encode8(linear):
    linear = np.clip(linear, 0, 1)
    enc = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.rint(enc * 255)


def _base_spec(**changes) -> SceneSpec:
    spec = SceneSpec(
        hair_lab=(20.0, 4.0, 6.0),
        skin_lab=(66.0, 12.0, 18.0),
        grey_fraction=0.0,
        hair_density=0.8,
        strand_width_px=5.0,
        strand_length_px=60.0,
        scale="strand",
        cct_kelvin=6504.0,
        white_balanced=True,
        exposure=1.0,
        shading=0.0,
        glare=0.0,
        noise_sigma=0.0,
        jpeg_quality=None,
        background=False,
        scar=False,
        reference="none",
        size=(320, 240),
        seed=7,
    )
    return clean_spec(spec, **changes)


# --- colour maths against colour-science ------------------------------------------------

D65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]


def test_lab_conversion_matches_colour_science():
    rng = np.random.default_rng(0)
    rgb = rng.uniform(0, 1, (500, 3))
    expected = colour.XYZ_to_Lab(colour.RGB_to_XYZ(rgb, "sRGB", apply_cctf_decoding=False), D65)
    np.testing.assert_allclose(linear_srgb_to_lab(rgb), expected, atol=2e-3)
    np.testing.assert_allclose(lab_to_linear_srgb(expected), rgb, atol=1e-6)


def test_colorchecker_constant_matches_reference_table(reference_dir):
    path = reference_dir / "srgb_lab_reference.tsv"
    table = np.genfromtxt(path, delimiter="\t", names=True, skip_header=4, dtype=None, encoding="utf8")
    rows = [r for r in table if str(r["id"]).startswith("cc")]
    assert len(rows) == 24
    for row, rgb8 in zip(rows, COLORCHECKER_CLASSIC_SRGB8):
        assert (row["R8"], row["G8"], row["B8"]) == rgb8
        lab = linear_srgb_to_lab(_srgb_decode(rgb8))
        np.testing.assert_allclose(lab, [row["L_D65"], row["a_D65"], row["b_D65"]], atol=2e-3)


@pytest.mark.parametrize("cct", [4000.0, 4500.0, 5003.0, 5500.0, 6504.0, 7000.0, 7500.0, 8000.0, 12000.0])
def test_cct_daylight_locus_matches_colour_science(cct):
    np.testing.assert_allclose(cct_to_xy(cct), colour.temperature.CCT_to_xy_CIE_D(cct), atol=1e-6)


@pytest.mark.parametrize("cct", [1800.0, 2000.0, 2700.0, 3000.0, 3500.0, 3999.0])
def test_cct_planckian_locus_matches_colour_science(cct):
    np.testing.assert_allclose(cct_to_xy(cct), colour.temperature.CCT_to_xy_Kang2002(cct), atol=1e-6)


@pytest.mark.parametrize("cct", [2000.0, 2700.0, 3500.0])
def test_kang_approximation_is_close_to_true_planckian_locus(cct):
    # An independent check of the formula itself: the Planckian radiator's chromaticity
    # from the CIE 1931 colour-matching functions (colour-science's spectral route).
    cmfs = colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"]
    radiance = colour.sd_blackbody(cct, cmfs.shape).values
    xyz = radiance @ cmfs.values  # Σ S(λ)·x̄ȳz̄(λ) on the CMFs' 1 nm grid
    np.testing.assert_allclose(cct_to_xy(cct), xyz[:2] / xyz.sum(), atol=2e-3)


def test_d65_illuminant_is_srgb_white():
    np.testing.assert_allclose(illuminant_linear_rgb(6504.0), [1, 1, 1], atol=3e-3)
    warm, cool = illuminant_linear_rgb(2700.0), illuminant_linear_rgb(8000.0)
    assert warm[0] > warm[1] > warm[2] and cool[2] > cool[1] > cool[0]
    # luminance Y = 1 whatever the colour
    for light in (warm, cool):
        assert light @ [0.2126, 0.7152, 0.0722] == pytest.approx(1.0, abs=1e-3)


def test_cct_out_of_range_raises():
    with pytest.raises(SettingsError, match="1667–25000 K; got 1000"):
        cct_to_xy(1000)


# --- random specs -----------------------------------------------------------------------


def test_random_spec_is_deterministic_by_seed():
    assert random_spec(3, condition="neutral") == random_spec(3, condition="neutral")
    assert random_spec(3, condition="neutral") != random_spec(4, condition="neutral")


def test_render_is_deterministic_by_seed():
    spec = random_spec(11, condition="cast-grey-card", size=(200, 160))
    first, second = render_scalp_photo(spec), render_scalp_photo(spec)
    np.testing.assert_array_equal(first.rgb, second.rgb)
    np.testing.assert_array_equal(first.hair_mask, second.hair_mask)
    other = render_scalp_photo(replace(spec, seed=spec.seed + 1))
    assert not np.array_equal(first.rgb, other.rgb)


@pytest.mark.parametrize("condition", CONDITIONS)
def test_random_spec_ranges(condition):
    specs = [random_spec(i, condition=condition) for i in range(150)]
    for s in specs:
        assert 2700 - 1e-6 <= s.cct_kelvin <= 8000 + 1e-6
        assert 0 <= s.grey_fraction <= 0.8 and 0 <= s.hair_density <= 1
        assert 0 <= s.noise_sigma <= 4 and 0 <= s.shading <= 0.4 and 0 <= s.glare <= 0.6
        assert 0 <= s.mutual_illumination <= 1
        assert s.jpeg_quality is None or 60 <= s.jpeg_quality <= 95
        assert s.white_balanced == (condition == "neutral")
        if s.scale == "region":
            assert s.size == (640, 640) and s.background and 0.35 <= s.strand_width_px <= 1.1
        else:
            assert 2 <= s.strand_width_px <= 8 and 8 <= s.strand_length_px <= 250
        for lab in (s.hair_lab, s.skin_lab, s.grey_lab):
            rgb = lab_to_linear_srgb(lab)
            assert np.all(rgb >= 0.002 - 1e-6) and np.all(rgb <= 0.98 + 1e-6)  # renderable
    expected_reference = {"cast-grey-card": "grey-card", "cast-chart": "chart"}.get(condition, "none")
    assert {s.reference for s in specs} == {expected_reference}
    # Variety: both scales, bald photos, every hair category, light and dark skin.
    assert {s.scale for s in specs} == {"strand", "region"}
    assert any(s.hair_density == 0 for s in specs)
    assert {s.hair_category for s in specs} == {c for _, c, _ in HAIR_SHADES}
    lightness = np.array([s.skin_lab[0] for s in specs])
    assert lightness.min() < 30 and lightness.max() > 85
    ita = np.degrees(np.arctan2([s.skin_lab[0] - 50 for s in specs], [s.skin_lab[2] for s in specs]))
    assert ita.min() < -60 and ita.max() > 70
    ccts = np.array([s.cct_kelvin for s in specs])
    assert (ccts < 3500).any() and (ccts > 7000).any()
    bounce = np.array([s.mutual_illumination for s in specs])
    assert (bounce < 0.2).any() and (bounce > 0.8).any()


def test_random_spec_rejects_unknown_condition():
    with pytest.raises(SettingsError, match="condition must be one of .*got 'daylight'"):
        random_spec(0, condition="daylight")


def test_spec_validation_names_the_field():
    with pytest.raises(SettingsError, match="hair_density must be in \\[0, 1\\]; got 1.5"):
        _base_spec(hair_density=1.5)
    with pytest.raises(SettingsError, match="scale must be one of"):
        _base_spec(scale="macro")


def test_monk_constant_has_ten_tones():
    assert len(MONK_SKIN_HEX) == 10
    lightness = [linear_srgb_to_lab(_srgb_decode([int(h[i : i + 2], 16) for i in (1, 3, 5)]))[0] for h in MONK_SKIN_HEX]
    assert all(a > b for a, b in zip(lightness[2:], lightness[3:]))  # 3…10 get darker


# --- truth against the rendered pixels ---------------------------------------------------


def test_clean_render_has_exactly_the_stated_colours():
    photo = render_scalp_photo(_base_spec())
    rgb = photo.rgb.reshape(-1, 3).astype(float)
    # Pure strand pixels (fully covered) are exactly the hair colour; bare skin exactly skin.
    pure_hair = (photo.hair_alpha >= 0.999).ravel()
    bare_skin = (photo.hair_alpha <= 1e-6).ravel() & photo.skin_mask.ravel()
    assert pure_hair.sum() > 500 and bare_skin.sum() > 500
    expected_hair = _srgb_encode8(lab_to_linear_srgb(photo.true_hair_lab))
    expected_skin = _srgb_encode8(lab_to_linear_srgb(photo.true_skin_lab))
    # Exact up to the last 8-bit rounding step (float32 rendering: ±1 code on < 1 %).
    for pixels, expected in ((rgb[pure_hair], expected_hair), (rgb[bare_skin], expected_skin)):
        assert np.abs(pixels - expected).max() <= 1
        assert np.all(pixels == expected, axis=1).mean() > 0.99
    assert photo.true_grey_fraction == 0.0


def test_masks_are_consistent():
    spec = random_spec(5, condition="cast-grey-card", scale="region")
    photo = render_scalp_photo(replace(spec, scar=True, hair_density=0.7))
    assert photo.rgb.shape == (640, 640, 3) and photo.rgb.dtype == np.uint8
    assert not (photo.hair_mask & photo.skin_mask).any()
    assert not (photo.hair_mask & ~photo.scalp_mask).any()
    assert not (photo.skin_mask & ~photo.scalp_mask).any()
    assert photo.scar_mask is not None and not (photo.scar_mask & (photo.skin_mask | photo.hair_mask)).any()
    x, y, w, h = photo.reference_box
    assert not photo.scalp_mask[y : y + h, x : x + w].any()
    assert photo.true_coverage == pytest.approx(photo.hair_mask.sum() / photo.scalp_mask.sum())
    assert np.all((photo.hair_alpha >= 0) & (photo.hair_alpha <= 1))


def test_mutual_illumination_colours_the_shade_and_leaves_the_lit_skin():
    # A bald, flat-skinned scalp under shading 0.4: with grey shading the shaded skin is
    # a darker copy of the lit skin (same linear-rgb chromaticity); with light bounced
    # off the skin it is redder (the skin's own colour added), and the pixels at or
    # above the median light are the same in both renders.
    spec = _base_spec(hair_density=0.0, shading=0.4)
    grey = render_scalp_photo(spec)
    bounced = render_scalp_photo(replace(spec, mutual_illumination=1.0))
    linear_grey, linear_bounced = _srgb_decode(grey.rgb), _srgb_decode(bounced.rgb)
    luminance = linear_grey @ np.array([0.2126, 0.7152, 0.0722])
    lit = luminance >= 1.01 * np.median(luminance)
    shade = luminance <= np.quantile(luminance, 0.1)
    assert lit.sum() > 1000 and shade.sum() > 1000
    assert np.abs(bounced.rgb[lit].astype(int) - grey.rgb[lit].astype(int)).max() <= 1
    truth = lab_to_linear_srgb(grey.true_skin_lab)
    chromaticity = lambda rgb: rgb / rgb.sum(axis=-1, keepdims=True)  # noqa: E731
    assert np.abs(np.median(chromaticity(linear_grey[shade]), axis=0) - chromaticity(truth)).max() < 0.005
    shaded_red = np.median(chromaticity(linear_bounced[shade]), axis=0)[0]
    assert shaded_red > chromaticity(truth)[0] + 0.02
    assert np.median(linear_bounced[shade].sum(axis=-1)) > np.median(linear_grey[shade].sum(axis=-1))
    assert bounced.true_skin_lab == grey.true_skin_lab  # the truth is the lit skin
    # A grey card held in frame is in its own light: no skin-coloured fill on it.
    carded = replace(spec, reference="grey-card")
    carded_photo = render_scalp_photo(carded)
    x, y, w, h = carded_photo.reference_box
    card_grey = carded_photo.rgb[y : y + h, x : x + w].astype(int)
    card_bounced = render_scalp_photo(replace(carded, mutual_illumination=1.0)).rgb[y : y + h, x : x + w].astype(int)
    assert np.abs(card_bounced - card_grey).max() <= 1


def test_region_scale_heads_are_sometimes_cut_by_the_frame():
    # Real whole-head photos are framed on the crown, and the horseshoe often runs off
    # the frame: so do about half of the region-scale renders.
    touching = []
    for seed in range(40):
        spec = random_spec(seed, condition="neutral")
        if spec.scale != "region":
            continue
        scalp = render_scalp_photo(clean_spec(spec, hair_density=0.0)).scalp_mask
        touching.append(bool(scalp[0].any() or scalp[-1].any() or scalp[:, 0].any() or scalp[:, -1].any()))
        if len(touching) == 10:
            break
    assert len(touching) == 10 and any(touching) and not all(touching)


def test_bald_photo_has_no_hair():
    photo = render_scalp_photo(_base_spec(hair_density=0.0))
    assert not photo.hair_mask.any() and photo.true_coverage == 0.0
    assert photo.true_grey_fraction is None and not photo.has_hair


def test_textured_skin_robust_centre_is_the_truth():
    # The truth is the base reflectance: the per-channel median of the textured skin.
    for seed in range(3):
        spec = _base_spec(hair_density=0.0, skin_texture=1.5, seed=seed, size=(400, 300))
        photo = render_scalp_photo(spec)
        linear = _srgb_decode(photo.rgb[photo.skin_mask])
        centre = linear_srgb_to_lab(np.median(linear, axis=0))
        assert deltaE_ciede2000(centre, photo.true_skin_lab) < 1.0
        # ... and the texture is really there (not a flat fill).
        assert np.std(linear[:, 1]) / np.median(linear[:, 1]) > 0.03


def test_strand_jitter_is_centred_on_the_truth():
    photo = render_scalp_photo(_base_spec(strand_jitter=1.5, hair_density=1.0))
    pure = photo.hair_alpha >= 0.999
    centre = linear_srgb_to_lab(np.median(_srgb_decode(photo.rgb[pure]), axis=0))
    assert deltaE_ciede2000(centre, photo.true_hair_lab) < 1.5
    assert len(np.unique(photo.rgb[pure], axis=0)) >= 5  # strands differ


def test_grey_fraction_truth_follows_the_spec():
    photo = render_scalp_photo(_base_spec(grey_fraction=0.4, hair_density=1.0, size=(400, 300)))
    assert photo.true_grey_fraction == pytest.approx(0.4, abs=0.1)


def test_a_head_of_grey_hair_is_all_grey_in_the_truth():
    """The analysis counts grey/white hair pixels (``HairTone.grey_fraction``): a head
    whose hair colour is itself grey has a grey fraction of 1, not 0 (no grey strands
    are added to it), and the same scene in another category has the strands' share."""
    grey_head = _base_spec(hair_lab=(70.0, 2.0, 5.0), hair_category="grey", hair_density=1.0)
    assert render_scalp_photo(grey_head).true_grey_fraction == 1.0
    brown_head = _base_spec(hair_lab=(70.0, 2.0, 5.0), hair_category="brown", hair_density=1.0)
    assert render_scalp_photo(brown_head).true_grey_fraction == 0.0


def test_white_balanced_camera_removes_the_cast_and_fixed_camera_keeps_it():
    spec = _base_spec(hair_density=0.0, cct_kelvin=2700.0, exposure=0.7)
    balanced = render_scalp_photo(spec)
    fixed = render_scalp_photo(replace(spec, white_balanced=False))
    lab_balanced = linear_srgb_to_lab(_srgb_decode(balanced.rgb[balanced.skin_mask]).mean(0) / 0.7)
    lab_fixed = linear_srgb_to_lab(_srgb_decode(fixed.rgb[fixed.skin_mask]).mean(0) / 0.7)
    assert deltaE_ciede2000(lab_balanced, balanced.true_skin_lab) < 1.0
    assert deltaE_ciede2000(lab_fixed, fixed.true_skin_lab) > 8.0
    assert lab_fixed[2] > balanced.true_skin_lab[2] + 10  # tungsten: yellower


def test_grey_card_is_neutral_18_percent_under_d65():
    spec = _base_spec(reference="grey-card", hair_density=0.0)
    photo = render_scalp_photo(spec)
    x, y, w, h = photo.reference_box
    card = _srgb_decode(photo.rgb[y + 2 : y + h - 2, x + 2 : x + w - 2].reshape(-1, 3))
    lab = linear_srgb_to_lab(card.mean(0) / np.median(card.mean(0)) * 0.18)
    np.testing.assert_allclose(card.mean(0), card.mean(0)[1], rtol=0.01)  # neutral
    assert abs(card.mean() - 0.18) < 0.18 * 0.06  # 18 % within the card's tilt (±5 %)
    assert lab[0] == pytest.approx(49.5, abs=0.2)


def test_chart_is_found_by_opencv_mcc():
    spec = random_spec(2, condition="cast-chart", scale="strand", size=(640, 480))
    photo = render_scalp_photo(clean_spec(spec, skin_texture=1.0, strand_jitter=1.0))
    detector = cv2.mcc.CCheckerDetector_create()
    detector.setColorChartType(cv2.mcc.MCC24)
    assert detector.process(np.ascontiguousarray(photo.rgb[..., ::-1]), nc=1)
    checker = detector.getBestColorChecker()
    measured = checker.getChartsRGB()[:, 1].reshape(24, 3)  # RGB means per patch
    # Clean, white-balanced render: the patches are the reference 8-bit sRGB values up to
    # the card's tilt factor (±5 % in linear light).
    linear = _srgb_decode(measured)
    reference = _srgb_decode(COLORCHECKER_CLASSIC_SRGB8)
    gain = np.median(linear[18:23] / reference[18:23])
    assert 0.93 < gain < 1.07
    lab_measured = linear_srgb_to_lab(linear / gain)
    lab_reference = linear_srgb_to_lab(reference)
    assert np.median(deltaE_ciede2000(lab_measured, lab_reference)) < 2.0
    x, y, w, h = photo.reference_box
    box = checker.getBox()
    assert x - 3 <= box[:, 0].min() and box[:, 0].max() <= x + w + 3
    assert y - 3 <= box[:, 1].min() and box[:, 1].max() <= y + h + 3


def test_full_pipeline_render_is_a_valid_image():
    for condition in CONDITIONS:
        spec = random_spec(21, condition=condition, size=(240, 180))
        photo = render_scalp_photo(replace(spec, glare=0.5, noise_sigma=3.0, jpeg_quality=75))
        assert photo.rgb.shape == (180, 240, 3) and photo.rgb.flags.c_contiguous
        assert photo.scalp_mask.shape == (180, 240)
        assert 0 <= photo.true_coverage <= 1


def test_truth_is_recoverable_from_the_pixels_with_the_grey_card():
    # The yardstick is fair: an oracle that knows the true masks and divides by the
    # grey card (a perfect von Kries correction) recovers skin and hair colour well
    # within the targets, despite cast, shading, glare, noise and JPEG.
    skin_errors, hair_errors = [], []
    for seed in range(10):
        spec = random_spec(seed, condition="cast-grey-card", scale="strand", size=(320, 240))
        photo = render_scalp_photo(replace(spec, grey_fraction=0.0))
        x, y, w, h = photo.reference_box
        linear = _srgb_decode(photo.rgb)
        card = np.median(linear[y + 2 : y + h - 2, x + 2 : x + w - 2].reshape(-1, 3), axis=0)
        corrected = linear / card * 0.18
        if photo.skin_mask.sum() >= 200:
            lab = linear_srgb_to_lab(np.median(corrected[photo.skin_mask], axis=0))
            skin_errors.append(deltaE_ciede2000(lab, photo.true_skin_lab))
        pure_hair = photo.hair_mask & (photo.hair_alpha > 0.98)
        if pure_hair.sum() >= 50:
            lab = linear_srgb_to_lab(np.median(corrected[pure_hair], axis=0))
            hair_errors.append(deltaE_ciede2000(lab, photo.true_hair_lab))
    assert len(skin_errors) >= 6 and len(hair_errors) >= 5
    assert np.median(skin_errors) < 2.0 and np.median(hair_errors) < 3.0
