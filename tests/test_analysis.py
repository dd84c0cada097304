"""The front door: settings, determinism, inputs, and the warnings it adds."""

import numpy as np
import pytest

from shade_match.analysis import AnalysisSettings, analyze_image, inspect_image
from shade_match.errors import SettingsError, UnsupportedImageError
from shade_match.synthetic import SceneSpec, random_spec, render_scalp_photo


@pytest.mark.parametrize(
    "kwargs",
    [
        {"correction": "magic"},
        {"metric": "euclid"},
        {"top_k": 0},
        {"working_side": 10},
        {"grey_card": (0, 0, 0, 5)},
        {"hair_region": (1, 2, 3)},
        {"skin_region": (-1, 0, 5, 5)},
    ],
)
def test_bad_settings_say_what_was_expected(kwargs):
    with pytest.raises(SettingsError) as info:
        AnalysisSettings(**kwargs)
    assert "got" in str(info.value)


def _photo(seed=3, condition="neutral"):
    return render_scalp_photo(random_spec(seed, condition=condition))


def test_same_photo_same_numbers_every_time():
    photo = _photo()
    first = analyze_image(photo.rgb)
    second = analyze_image(photo.rgb.copy())
    assert first == second


def test_array_path_and_bytes_agree(tmp_path):
    import cv2

    photo = _photo(seed=5)
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), cv2.cvtColor(photo.rgb, cv2.COLOR_RGB2BGR))
    from_array = analyze_image(photo.rgb, name=str(path))
    from_path = analyze_image(path)
    from_bytes = analyze_image(path.read_bytes(), name=str(path))
    assert from_array.hair == from_path.hair == from_bytes.hair
    assert from_array.skin == from_path.skin == from_bytes.skin


def test_bad_array_is_refused():
    with pytest.raises(SettingsError):
        analyze_image(np.zeros((10, 10), np.uint8))


def test_too_small_is_a_clear_unsupported_image():
    with pytest.raises(UnsupportedImageError) as info:
        analyze_image(np.full((8, 8, 3), 128, np.uint8))
    assert "8×8" in str(info.value)


def test_matches_are_sorted_and_recommendation_present():
    result = analyze_image(_photo(seed=7).rgb)
    assert result.hair is not None
    deltas = [m.delta_e for m in result.matches]
    assert deltas == sorted(deltas) and len(deltas) == 3
    assert result.recommendation is not None
    assert result.recommendation["palette"] == "smp-carbon-dilution"


def test_inspection_masks_match_the_working_image():
    inspection = inspect_image(_photo(seed=9).rgb)
    h, w = inspection.rgb.shape[:2]
    for mask in (inspection.segmentation.hair, inspection.segmentation.skin):
        assert mask.shape == (h, w) and mask.dtype == bool
    assert not (inspection.segmentation.hair & inspection.segmentation.skin).any()
    assert inspection.corrected.dtype == np.float32


def test_hair_region_override_measures_only_there():
    photo = _photo(seed=11)
    h, w = photo.rgb.shape[:2]
    inspection = inspect_image(photo.rgb, settings=AnalysisSettings(hair_region=(0, 0, w // 2, h // 2)))
    assert not inspection.segmentation.hair[h // 2 + 1 :, :].any()
    assert not inspection.segmentation.hair[:, w // 2 + 1 :].any()


@pytest.mark.parametrize("condition", ["neutral", "cast-no-reference"])
def test_quarter_turns_of_a_photo_give_the_same_tones(condition):
    """Correction, segmentation and estimation all work in a canonical orientation or on
    rotation-symmetric samples, so a photo turned by 90° gives the same numbers (the
    dataset's rotated copies differ from each other only by JPEG re-encoding)."""
    photo = render_scalp_photo(random_spec(21, condition=condition, scale="region"))
    base = analyze_image(photo.rgb)
    for turns in (1, 2, 3):
        turned = analyze_image(np.ascontiguousarray(np.rot90(photo.rgb, turns)))
        assert (turned.hair is None) == (base.hair is None)
        if base.hair is not None:
            np.testing.assert_allclose(turned.hair.lab, base.hair.lab, atol=1e-6)
        np.testing.assert_allclose(turned.skin.lab, base.skin.lab, atol=1e-6)
        assert turned.warnings == base.warnings


def test_hair_and_skin_that_read_alike_are_flagged_and_trusted_less():
    """Low-contrast hair (black-brown strands on dark skin, 7.7 ΔE00 apart, measured
    closer still) gets a warning that names the ΔE00 and lower confidences; clear
    contrast gets neither."""
    from dataclasses import replace as with_

    base = SceneSpec(
        hair_lab=(18.0, 3.0, 3.0), skin_lab=(27.0, 6.0, 7.0), grey_fraction=0.0, hair_density=0.5,
        strand_width_px=5.0, strand_length_px=120.0, scale="strand", cct_kelvin=6504.0,
        white_balanced=True, exposure=1.0, shading=0.0, glare=0.0, noise_sigma=1.0, jpeg_quality=None,
        background=False, scar=False, reference="none", size=(640, 480), seed=4,
    )  # fmt: skip
    low = analyze_image(render_scalp_photo(base).rgb, settings=AnalysisSettings(correction="none"))
    clear = analyze_image(
        render_scalp_photo(with_(base, skin_lab=(62.0, 12.0, 17.0))).rgb, settings=AnalysisSettings(correction="none")
    )
    assert low.hair is not None and low.skin is not None
    flagged = [w for w in low.warnings if "read almost alike" in w]
    assert flagged and "ΔE00" in flagged[0]
    assert not any("read almost alike" in w for w in clear.warnings)
    assert low.skin.confidence < clear.skin.confidence


def test_without_a_reference_the_light_is_estimated_again_from_the_segmented_skin():
    """The analysis re-estimates a no-reference light from the skin mask it found
    (shade_match.correction.refine_light_with_skin) and measures the tones in the
    colours of that estimate; a photo with a grey card keeps the card's correction."""
    from shade_match.correction import correct_colours, refine_light_with_skin

    photo = render_scalp_photo(random_spec(3, condition="cast-no-reference"))
    inspection = inspect_image(photo.rgb)
    seg = inspection.segmentation
    expected = refine_light_with_skin(correct_colours(inspection.rgb, "auto"), inspection.rgb, seg.skin, seg.scalp)
    assert inspection.correction.details["skin_source"] == "segmentation"
    assert inspection.analysis.correction.details == expected.details
    np.testing.assert_array_equal(inspection.corrected, expected.rgb)
    carded = inspect_image(render_scalp_photo(random_spec(3, condition="cast-grey-card")).rgb)
    assert carded.correction.method == "grey-card"
    assert "skin_source" not in carded.correction.details
