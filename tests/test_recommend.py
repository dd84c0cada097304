"""Tests of shade_match.recommend: the shaved-look model, session plan, warnings, overrides."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

with warnings.catch_warnings():  # colour-science warns at import when matplotlib is absent
    warnings.simplefilter("ignore")
    import colour as colour_science

from shade_match import colour, scales
from shade_match.errors import AnalysisError, SettingsError
from shade_match.palette import Palette, PaletteEntry
from shade_match.recommend import (
    FAIR_MAX_MONK,
    GREY_HAIR_FRACTION,
    LOW_CONFIDENCE,
    REFERENCE_HAIR_HEX,
    SHAVED_HAIR_FRACTION,
    Overrides,
    recommend,
    recommendation_to_dict,
    score_training_pick,
    shaved_look_lab,
)
from shade_match.results import Analysis, CorrectionInfo, HairTone, ImageInfo, SkinTone

# A carbon dilution series in the spirit of R1/R2: neat → 30:1, lighter with more water.
# Colours are an evenly spaced neutral grey ramp (L* 18 … 78), slightly cool as healed
# carbon is (R7); the test needs a monotone series, not real pigment values.
DILUTIONS = (0, 2, 4, 6, 8, 10, 12, 15, 18, 20, 25, 30)


def carbon_series() -> Palette:
    lightness = np.linspace(18.0, 78.0, len(DILUTIONS))
    entries = tuple(
        PaletteEntry(
            id=f"w{d}",
            name=f"{d}:1" if d else "neat",
            lab=(float(L), -0.5, -2.0),
            hex=colour.lab_to_hex((L, -0.5, -2.0)),
            brand="test",
            dilution=float(d),
        )
        for d, L in zip(DILUTIONS, lightness)
    )
    return Palette(name="test-carbon", title="test", kind="pigment", entries=entries)


def hair_tone(lab, grey_fraction=0.0, confidence=0.9) -> HairTone:
    return HairTone(
        lab=tuple(lab),
        hex=colour.lab_to_hex(lab),
        level=scales.hair_level(lab),
        grey_fraction=grey_fraction,
        coverage=0.5,
        confidence=confidence,
    )


def skin_tone(lab, confidence=0.9) -> SkinTone:
    ita = float(colour.ita_deg(np.asarray(lab)))
    return SkinTone(
        lab=tuple(lab),
        hex=colour.lab_to_hex(lab),
        ita_deg=ita,
        ita_class=scales.ita_class(ita),
        monk=scales.nearest_monk(lab),
        fitzpatrick=scales.fitzpatrick_from_ita(ita),
        undertone=scales.undertone(lab),
        confidence=confidence,
    )


def analysis(hair=None, skin=None) -> Analysis:
    return Analysis(
        file="client.jpg",
        image=ImageInfo(640, 640, 640, 640),
        correction=CorrectionInfo("none"),
        hair=hair,
        skin=skin,
    )


BLACK_HAIR = (18.0, 1.0, 2.0)
BROWN_HAIR = (32.0, 5.0, 9.0)
# Skin colours taken from the Monk swatches (research §c): MST 2, MST 6, MST 9.
FAIR_SKIN = tuple(colour.hex_to_lab("#f3e7db"))
MEDIUM_SKIN = tuple(colour.hex_to_lab("#a07e56"))
DARK_SKIN = tuple(colour.hex_to_lab("#3a312a"))


def independent_shaved_look(hair_lab, skin_lab, fraction):
    """The same optical model computed with colour-science (its own sRGB matrices)."""
    def to_linear(lab):
        xyz = colour_science.Lab_to_XYZ(lab, colour_science.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"])
        return colour_science.XYZ_to_RGB(xyz, colour_science.RGB_COLOURSPACES["sRGB"], apply_cctf_encoding=False)

    mixed = fraction * to_linear(np.asarray(hair_lab)) + (1 - fraction) * to_linear(np.asarray(skin_lab))
    xyz = colour_science.RGB_to_XYZ(mixed, colour_science.RGB_COLOURSPACES["sRGB"], apply_cctf_decoding=False)
    return colour_science.XYZ_to_Lab(xyz, colour_science.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"])


# --- the shaved-look model -------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_shaved_look_endpoints_are_skin_and_hair(fraction):
    result = shaved_look_lab(BROWN_HAIR, MEDIUM_SKIN, fraction)
    expected = BROWN_HAIR if fraction == 1.0 else MEDIUM_SKIN
    assert float(colour.delta_e(result, expected)) < 1e-6


@pytest.mark.parametrize("hair, skin", [(BLACK_HAIR, FAIR_SKIN), (BROWN_HAIR, DARK_SKIN), (BLACK_HAIR, MEDIUM_SKIN)])
def test_shaved_look_matches_independent_implementation(hair, skin):
    ours = shaved_look_lab(hair, skin, 0.6)
    theirs = independent_shaved_look(hair, skin, 0.6)
    # colour-science uses the 4-decimal IEC matrix and D65 from xy: ~0.02 L*a*b* apart
    assert float(colour.delta_e(ours, theirs)) < 0.1


def test_shaved_look_lies_between_hair_and_skin_lightness():
    result = shaved_look_lab(BLACK_HAIR, FAIR_SKIN)
    assert BLACK_HAIR[0] < result[0] < FAIR_SKIN[0]


def test_shaved_look_rejects_fraction_outside_unit_interval():
    with pytest.raises(SettingsError, match="hair_fraction"):
        shaved_look_lab(BLACK_HAIR, FAIR_SKIN, 1.5)


# --- target and sessions --------------------------------------------------------------


def test_target_entry_is_the_nearest_to_the_shaved_look():
    palette = carbon_series()
    rec = recommend(analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)), palette)
    target = independent_shaved_look(BROWN_HAIR, MEDIUM_SKIN, SHAVED_HAIR_FRACTION)
    distances = colour_science.delta_E(np.array(palette.labs), target, method="CIE 2000")
    assert rec.target.entry_id == palette.entries[int(np.argmin(distances))].id
    assert rec.basis == "shaved-hair"
    assert rec.target.delta_e == pytest.approx(float(distances.min()), abs=0.05)
    assert rec.target.chosen_by == "shade-match"


def test_session_one_is_lighter_and_sessions_build_to_the_target():
    palette = carbon_series()
    rec = recommend(analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)), palette, sessions=3)
    lightness = [step.lab[0] for step in rec.sessions]
    assert [step.session for step in rec.sessions] == [1, 2, 3]
    assert lightness[0] > rec.target.lab[0]  # R5/R6: start lighter
    assert all(a >= b for a, b in zip(lightness, lightness[1:]))  # never lighter again
    assert rec.sessions[-1].entry_id == rec.target.entry_id
    assert rec.sessions[0].steps_lighter >= 1
    assert all(step.reasoning for step in rec.sessions)


def test_fair_skin_starts_two_steps_lighter_and_medium_skin_one():
    palette = carbon_series()
    fair = recommend(analysis(hair_tone(BLACK_HAIR), skin_tone(FAIR_SKIN)), palette)
    medium = recommend(analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)), palette)
    assert skin_tone(FAIR_SKIN).monk <= FAIR_MAX_MONK
    assert fair.sessions[0].steps_lighter == 2
    assert medium.sessions[0].steps_lighter == 1


def test_darker_skin_gives_darker_target_when_no_hair_in_view():
    palette = carbon_series()
    targets = [
        recommend(analysis(None, skin_tone(skin)), palette).target_lab[0]
        for skin in (FAIR_SKIN, MEDIUM_SKIN, DARK_SKIN)
    ]
    assert targets[0] > targets[1] > targets[2]  # R11: darker skin → darker pigment


def test_no_hair_in_view_says_so_and_asks_for_the_sides():
    rec = recommend(analysis(None, skin_tone(MEDIUM_SKIN)), carbon_series())
    assert rec.basis == "skin-only"
    assert REFERENCE_HAIR_HEX in rec.target_explanation
    assert any("sides or back" in text for text in rec.requests)


def test_hair_without_skin_uses_hair_colour():
    rec = recommend(analysis(hair_tone(BROWN_HAIR), None), carbon_series())
    assert rec.basis == "hair-only"
    assert float(colour.delta_e(rec.target_lab, BROWN_HAIR)) < 1e-6


def test_neither_hair_nor_skin_raises_analysis_error():
    with pytest.raises(AnalysisError, match="neither"):
        recommend(analysis(None, None), carbon_series())


def test_lightest_target_cannot_start_lighter():
    palette = carbon_series()
    white_hair = (92.0, 0.0, 2.0)
    rec = recommend(analysis(hair_tone(white_hair), skin_tone(FAIR_SKIN)), palette)
    lightest = max(palette.entries, key=lambda e: e.lab[0])
    assert rec.target.entry_id == lightest.id
    assert rec.sessions[0].entry_id == lightest.id
    session1 = next(c for c in rec.choices if c.name == "session 1")
    assert "lightest" in session1.reason


@pytest.mark.parametrize("count", [1, 2, 4, 6])
def test_number_of_sessions_is_respected(count):
    rec = recommend(analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)), carbon_series(), sessions=count)
    assert len(rec.sessions) == count


def test_bad_session_count_raises():
    with pytest.raises(SettingsError, match="sessions"):
        recommend(analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)), carbon_series(), sessions=0)
    with pytest.raises(SettingsError, match="sessions"):
        Overrides(sessions=11)


# --- warnings -----------------------------------------------------------------------------


def codes(rec):
    return {w.code for w in rec.warnings}


def test_dark_override_on_fair_skin_warns_of_blue_healing():
    palette = carbon_series()
    rec = recommend(
        analysis(hair_tone(BLACK_HAIR), skin_tone(FAIR_SKIN)),
        palette,
        overrides=Overrides(target_id="w0", reason="client wants a dark look"),
    )
    warning = next(w for w in rec.warnings if w.code == "dark-on-fair")
    assert "R7" in warning.rules and warning.sources
    assert "blue" in warning.message


def test_dark_target_on_dark_skin_does_not_warn_of_blue():
    rec = recommend(
        analysis(hair_tone(BLACK_HAIR), skin_tone(DARK_SKIN)), carbon_series(), overrides=Overrides(target_id="w0")
    )
    assert "dark-on-fair" not in codes(rec)


def test_grey_hair_warning_from_threshold():
    palette = carbon_series()
    skin = skin_tone(MEDIUM_SKIN)
    below = recommend(analysis(hair_tone(BROWN_HAIR, grey_fraction=GREY_HAIR_FRACTION - 0.01), skin), palette)
    above = recommend(analysis(hair_tone(BROWN_HAIR, grey_fraction=GREY_HAIR_FRACTION), skin), palette)
    assert "grey-hair" not in codes(below)
    assert "grey-hair" in codes(above)
    assert "R13" in next(w for w in above.warnings if w.code == "grey-hair").rules


def test_undertone_warning_flags_missing_smp_rule():
    warm_skin = (62.0, 8.0, 26.0)  # hue ≈ 73°, chroma 27: warm by the scales rule
    assert scales.undertone(warm_skin) == "warm"
    rec = recommend(analysis(hair_tone(BROWN_HAIR), skin_tone(warm_skin)), carbon_series())
    warning = next(w for w in rec.warnings if w.code.startswith("undertone"))
    assert "no SMP-specific" in warning.message and "R12" in warning.rules


def test_low_confidence_warns_and_goes_extra_light():
    rec = recommend(
        analysis(hair_tone(BROWN_HAIR, confidence=LOW_CONFIDENCE - 0.1), skin_tone(MEDIUM_SKIN)), carbon_series()
    )
    assert "low-confidence" in codes(rec)
    assert rec.sessions[0].steps_lighter == 2


# --- overrides ------------------------------------------------------------------------------


def test_overrides_are_recorded_with_who_and_why():
    rec = recommend(
        analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)),
        carbon_series(),
        overrides=Overrides(target_id="w6", session1_id="w12", sessions=4, reason="matches eyebrows"),
    )
    by_name = {c.name: c for c in rec.choices}
    assert by_name["target"].value == "w6" and by_name["target"].chosen_by == "practitioner"
    assert by_name["session 1"].value == "w12" and by_name["session 1"].reason == "matches eyebrows"
    assert by_name["sessions"].value == "4" and by_name["sessions"].chosen_by == "practitioner"
    assert [s.entry_id for s in rec.sessions] == ["w12", "w10", "w8", "w6"]
    assert rec.sessions[0].chosen_by == "practitioner" and rec.sessions[1].chosen_by == "shade-match"


def test_unknown_override_id_names_what_was_expected_and_received():
    with pytest.raises(SettingsError, match=r"w99") as info:
        recommend(
            analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)),
            carbon_series(),
            overrides=Overrides(target_id="w99"),
        )
    assert "w0" in str(info.value)  # lists valid ids


def test_recommendation_to_dict_is_json():
    rec = recommend(analysis(hair_tone(BROWN_HAIR, grey_fraction=0.5), skin_tone(FAIR_SKIN)), carbon_series())
    data = json.loads(json.dumps(recommendation_to_dict(rec)))
    assert data["target"]["entry_id"] == rec.target.entry_id
    assert len(data["sessions"]) == len(rec.sessions)
    assert {w["code"] for w in data["warnings"]} == codes(rec)


def test_palette_order_does_not_change_the_plan():
    palette = carbon_series()
    shuffled = Palette(
        name=palette.name, title="", kind="pigment", entries=tuple(reversed(palette.entries))
    )
    a = recommend(analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)), palette)
    b = recommend(analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)), shuffled)
    assert [s.entry_id for s in a.sessions] == [s.entry_id for s in b.sessions]


# --- training ----------------------------------------------------------------------------------


def test_training_best_pick_ranks_first():
    palette = carbon_series()
    measured = analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN))
    best = recommend(measured, palette).target.entry_id
    score = score_training_pick(measured, palette, best)
    assert score.rank == 1 and score.best_id == best
    assert score.picked_delta_e == pytest.approx(score.best_delta_e)
    assert "nearest" in score.explanation


def test_training_rank_matches_independent_sort():
    palette = carbon_series()
    measured = analysis(hair_tone(BLACK_HAIR), skin_tone(MEDIUM_SKIN))
    target = independent_shaved_look(BLACK_HAIR, MEDIUM_SKIN, SHAVED_HAIR_FRACTION)
    distances = colour_science.delta_E(np.array(palette.labs), target, method="CIE 2000")
    order = [palette.entries[i].id for i in np.argsort(distances)]
    score = score_training_pick(measured, palette, "w30")
    assert score.rank == order.index("w30") + 1
    assert score.picked_delta_e == pytest.approx(float(distances[palette.ids.index("w30")]), abs=0.05)
    assert "lighter" in score.explanation


def test_training_unknown_pick_raises():
    with pytest.raises(SettingsError, match="picked_id"):
        score_training_pick(analysis(hair_tone(BROWN_HAIR), skin_tone(MEDIUM_SKIN)), carbon_series(), "nope")
