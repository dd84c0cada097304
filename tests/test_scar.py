"""Tests of shade_match.scar on synthetic photos with a scar of known colour."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from shade_match import colour, synthetic
from shade_match.errors import AnalysisError, SettingsError
from shade_match.scar import (
    SCAR_BLEND,
    measure_scar,
    scar_camouflage_lab,
    scar_to_dict,
    suggest_scar_mask,
)
from shade_match.segmentation import Segmentation, segment

SEEDS = (0, 1, 2, 3, 4, 5)


def scar_photo(seed: int, *, flat_light: bool = True, scar: bool = True) -> synthetic.SyntheticPhoto:
    """A close-up of a shaved scalp (sparse stubble) with a linear FUT scar.

    Scar camouflage is done on a shaved head, so the stubble is short and sparse.
    ``flat_light`` removes shading and glare so the absolute colour of the scar is the
    true reflectance (noise, texture, blur and JPEG stay).
    """
    spec = synthetic.random_spec(seed, condition="neutral", scale="strand")
    changes = dict(
        scar=scar,
        scar_kind="line",
        exposure=1.0,
        wb_gain_error=(1.0, 1.0, 1.0),
        strand_length_px=10.0,
        hair_density=0.1,
        strand_width_px=min(spec.strand_width_px, 3.0),
    )
    if flat_light:
        changes.update(shading=0.0, glare=0.0)
    return synthetic.render_scalp_photo(replace(spec, **changes))


def truth_segmentation(photo) -> Segmentation:
    """Masks from the renderer's truth: isolates the scar module from the segmenter."""
    empty = np.zeros(photo.rgb.shape[:2], bool)
    return Segmentation(
        scalp=photo.scalp_mask, hair=photo.hair_mask, skin=photo.skin_mask, excluded=empty, reference=empty
    )


def as_float(photo) -> np.ndarray:
    return photo.rgb.astype(np.float32) / np.float32(255.0)


@pytest.fixture(scope="module")
def photos():
    return [scar_photo(seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def measured_with_segmenter(photos):
    results = []
    for photo in photos:
        rgb = as_float(photo)
        seg = segment(rgb, colour.image_to_lab_fast(rgb))
        results.append(measure_scar(rgb, seg, photo.scar_mask, hair_lab=photo.true_hair_lab))
    return results


def test_drawn_scar_colour_matches_truth(photos, measured_with_segmenter):
    errors = [
        float(colour.delta_e(m.scar_lab, p.true_scar_lab)) for p, m in zip(photos, measured_with_segmenter)
    ]
    assert np.median(errors) <= 3.0, errors


def test_surrounding_skin_matches_truth(photos, measured_with_segmenter):
    errors = [
        float(colour.delta_e(m.surrounding_lab, p.true_skin_lab))
        for p, m in zip(photos, measured_with_segmenter)
    ]
    assert np.median(errors) <= 3.0, errors


def test_hypo_or_hyper_wording_follows_true_lightness(photos, measured_with_segmenter):
    delta_errors = []
    for photo, m in zip(photos, measured_with_segmenter):
        true_lighter = photo.true_scar_lab[0] > photo.true_skin_lab[0]
        true_delta = float(colour.delta_e(photo.true_scar_lab, photo.true_skin_lab))
        assert true_delta > 4  # the renderer draws visible scars (5–15 L* apart)
        expected = "hypopigmented" if true_lighter else "hyperpigmented"
        assert m.pigmentation.startswith(expected)
        assert m.appearance == ("lighter" if true_lighter else "darker")
        delta_errors.append(abs(m.delta_e - true_delta))
    assert np.median(delta_errors) <= 3.0, delta_errors


def test_lighter_or_darker_survives_uneven_light():
    for seed in SEEDS[:3]:
        photo = scar_photo(seed, flat_light=False)
        m = measure_scar(as_float(photo), truth_segmentation(photo), photo.scar_mask)
        assert (m.lightness_difference > 0) == (photo.true_scar_lab[0] > photo.true_skin_lab[0])


def test_rectangle_around_the_scar_measures_the_scar(photos):
    errors = []
    for photo in photos:
        ys, xs = np.nonzero(photo.scar_mask)
        rect = (int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
        m = measure_scar(as_float(photo), truth_segmentation(photo), rect)
        assert m.source == "rectangle"
        errors.append(float(colour.delta_e(m.scar_lab, photo.true_scar_lab)))
    assert np.median(errors) <= 3.0, errors


def test_suggested_scar_lies_on_the_scar(photos):
    precisions = []
    for photo in photos:
        suggestion = suggest_scar_mask(as_float(photo), truth_segmentation(photo))
        near_scar = np.zeros_like(photo.scar_mask)
        ys, xs = np.nonzero(photo.scar_mask)
        near_scar[max(ys.min() - 10, 0) : ys.max() + 10, max(xs.min() - 10, 0) : xs.max() + 10] = True
        precisions.append(np.count_nonzero(suggestion & near_scar) / max(np.count_nonzero(suggestion), 1))
    assert np.median(precisions) >= 0.8, precisions


def test_suggested_scar_measurement_matches_truth(photos):
    errors = []
    for photo in photos:
        try:
            m = measure_scar(as_float(photo), truth_segmentation(photo))
        except AnalysisError:
            errors.append(np.inf)
            continue
        assert m.source == "suggested"
        errors.append(float(colour.delta_e(m.scar_lab, photo.true_scar_lab)))
    assert np.median(errors) <= 3.0, errors


def test_no_scar_is_suggested_on_plain_skin():
    # No stubble and no scar: textured skin only.
    photo = synthetic.render_scalp_photo(replace(synthetic.random_spec(3, condition="neutral", scale="strand"),
                                                 scar=False, hair_density=0.0, shading=0.0, glare=0.0))  # fmt: skip
    seg = truth_segmentation(photo)
    assert not suggest_scar_mask(as_float(photo), seg).any()
    with pytest.raises(AnalysisError, match="no scar found"):
        measure_scar(as_float(photo), seg)


def test_camouflage_sits_between_hair_and_skin():
    hair, skin = (20.0, 2.0, 3.0), (70.0, 10.0, 18.0)
    assert scar_camouflage_lab(hair, skin, 0.0) == pytest.approx(skin)
    assert scar_camouflage_lab(hair, skin, 1.0) == pytest.approx(hair)
    middle = scar_camouflage_lab(hair, skin)
    assert middle == pytest.approx(tuple(s + SCAR_BLEND * (h - s) for h, s in zip(hair, skin)))
    assert hair[0] < middle[0] < skin[0]
    with pytest.raises(SettingsError, match="blend"):
        scar_camouflage_lab(hair, skin, -0.1)


def test_measurement_carries_camouflage_and_caveats(photos, measured_with_segmenter):
    m = measured_with_segmenter[0]
    expected = scar_camouflage_lab(photos[0].true_hair_lab, m.surrounding_lab)
    assert m.camouflage_lab == pytest.approx(expected)
    assert any("more sessions" in text for text in m.caveats)
    data = json.loads(json.dumps(scar_to_dict(m)))
    assert "mask" not in data and data["pigmentation"] == m.pigmentation


def test_bad_inputs_raise_settings_errors(photos):
    photo = photos[0]
    seg = truth_segmentation(photo)
    with pytest.raises(SettingsError, match="shape"):
        measure_scar(as_float(photo), seg, np.zeros((5, 5), bool))
    with pytest.raises(SettingsError, match="bool"):
        measure_scar(as_float(photo), seg, photo.scar_mask.astype(np.uint8))
    with pytest.raises(SettingsError, match="inside"):
        measure_scar(as_float(photo), seg, (10_000, 0, 5, 5))
    with pytest.raises(SettingsError, match=r"\(H, W, 3\)"):
        measure_scar(as_float(photo)[..., 0], seg, photo.scar_mask)


def test_scar_adds_warning_and_target_to_plan(measured_with_segmenter):
    from shade_match.palette import Palette, PaletteEntry
    from shade_match.recommend import recommend
    from shade_match.results import Analysis, CorrectionInfo, HairTone, ImageInfo

    entries = tuple(
        PaletteEntry(id=f"g{int(L)}", name=f"L{int(L)}", lab=(L, 0.0, 0.0), hex=colour.lab_to_hex((L, 0, 0)))
        for L in np.linspace(15, 75, 9)
    )
    palette = Palette(name="greys", title="", kind="pigment", entries=entries)
    m = measured_with_segmenter[0]
    hair = HairTone(lab=(25.0, 2.0, 3.0), hex="#000000", level=2, grey_fraction=0.0, coverage=0.1, confidence=0.9)
    analysis = Analysis("x", ImageInfo(1, 1, 1, 1), CorrectionInfo("none"), hair, None)
    rec = recommend(analysis, palette, scar=m)
    assert "scar" in {w.code for w in rec.warnings}
    distances = [float(colour.delta_e(e.lab, m.camouflage_lab)) for e in entries]
    assert rec.scar_target_id == entries[int(np.argmin(distances))].id
