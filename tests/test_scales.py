"""Tests for shade_match.scales: published boundaries on both sides, the Monk and
hair-level references mapping back to themselves, monotonicity, undertone on
colours of constructed hue."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from shade_match import colour, scales
from shade_match.errors import InputError
from shade_match.palette import load_palette

PALETTES_DIR = Path(__file__).resolve().parents[1] / "palettes"
EPS = 1e-9

# Del Bino et al. (2006) / derm_ita: boundaries and the classes on each side.
DEL_BINO_BOUNDARIES = [
    (55.0, "very light", "light"),
    (41.0, "light", "intermediate"),
    (28.0, "intermediate", "tan"),
    (10.0, "tan", "brown"),
    (-30.0, "brown", "dark"),
]
# Kinyanjui → Fitzpatrick as in Groh et al. (2021).
FITZPATRICK_BOUNDARIES = [
    (55.0, "I", "II"),
    (41.0, "II", "III"),
    (28.0, "III", "IV"),
    (19.0, "IV", "V"),
    (10.0, "V", "VI"),
]


@pytest.mark.parametrize(("boundary", "above", "at_or_below"), DEL_BINO_BOUNDARIES)
def test_ita_class_on_both_sides_of_each_boundary(boundary, above, at_or_below):
    assert scales.ita_class(boundary + EPS) == above
    assert scales.ita_class(boundary) == at_or_below
    assert scales.ita_class(boundary - EPS) == at_or_below


@pytest.mark.parametrize(("boundary", "above", "at_or_below"), FITZPATRICK_BOUNDARIES)
def test_fitzpatrick_on_both_sides_of_each_boundary(boundary, above, at_or_below):
    assert scales.fitzpatrick_from_ita(boundary + EPS) == above
    assert scales.fitzpatrick_from_ita(boundary) == at_or_below
    assert scales.fitzpatrick_from_ita(boundary - EPS) == at_or_below


def test_ita_scales_are_total_and_monotone():
    # derm_ita leaves ITA = -30 unclassified; every value here gets exactly one class.
    names = [name for name, _ in scales.ITA_CLASSES]
    types = [name for name, _ in scales.FITZPATRICK_TYPES]
    previous_class, previous_type = 0, 0
    for ita in np.linspace(179.9, -179.9, 3601):
        class_rank = names.index(scales.ita_class(ita))
        type_rank = types.index(scales.fitzpatrick_from_ita(ita))
        assert class_rank >= previous_class and type_rank >= previous_type
        previous_class, previous_type = class_rank, type_rank
    assert previous_class == len(names) - 1 and previous_type == len(types) - 1
    assert scales.ita_class(-30.0) == "dark"


@pytest.mark.parametrize("bad", [math.nan, math.inf, "light", None])
def test_scales_reject_non_finite_ita(bad):
    with pytest.raises(InputError, match="finite number"):
        scales.ita_class(bad)
    with pytest.raises(InputError, match="finite number"):
        scales.fitzpatrick_from_ita(bad)


def test_monk_tones_map_back_to_themselves():
    for tone, code in enumerate(scales.MONK_SKIN_TONE_HEX, start=1):
        assert scales.nearest_monk(colour.hex_to_lab(code)) == tone


def test_monk_constant_matches_the_shipped_palette():
    palette = load_palette(PALETTES_DIR / "monk-skin-tone.toml")
    assert tuple(entry.hex for entry in palette.entries) == scales.MONK_SKIN_TONE_HEX
    assert [entry.id for entry in palette.entries] == [str(i) for i in range(1, 11)]


def test_monk_tones_get_darker_and_nearest_monk_follows_lightness():
    lightness = [colour.hex_to_lab(code)[0] for code in scales.MONK_SKIN_TONE_HEX]
    # Tone 3 (#f7ead0) is lighter than tone 2 but yellower; from 3 on, each is darker.
    assert lightness[0] > lightness[1]
    assert all(a > b for a, b in zip(lightness[2:], lightness[3:]))
    # Walking a neutral-warm skin line from light to dark never goes back up the scale.
    tones = [scales.nearest_monk([lightness_value, 5.0, 18.0]) for lightness_value in np.linspace(98, 10, 200)]
    assert tones == sorted(tones) and tones[0] <= 3 and tones[-1] == 10


def test_hair_levels_map_back_to_themselves_and_match_the_palette():
    for level, code in enumerate(scales.HAIR_LEVEL_HEX, start=1):
        assert scales.hair_level(colour.hex_to_lab(code)) == level
    palette = load_palette(PALETTES_DIR / "hair-levels.toml")
    assert tuple(entry.hex for entry in palette.entries) == scales.HAIR_LEVEL_HEX
    assert palette.illustrative


def test_hair_level_references_increase_in_lightness():
    lightness = [colour.hex_to_lab(code)[0] for code in scales.HAIR_LEVEL_HEX]
    assert all(a < b for a, b in zip(lightness, lightness[1:]))
    assert scales.hair_level([1.0, 0.0, 0.0]) == 1
    assert scales.hair_level([99.0, 0.0, 8.0]) == 10


def lab_with_hue(hue_deg: float, chroma: float = 20.0, lightness: float = 60.0) -> np.ndarray:
    return colour.lch_to_lab([lightness, chroma, hue_deg])


@pytest.mark.parametrize(
    ("hue", "expected"),
    [
        (30.0, "cool"),
        (49.9, "cool"),
        (50.1, "neutral"),
        (55.0, "neutral"),
        (59.9, "neutral"),
        (60.1, "warm"),
        (75.0, "warm"),
        (350.0, "cool"),
    ],
)
def test_undertone_from_constructed_hue(hue, expected):
    assert scales.undertone(lab_with_hue(hue)) == expected


def test_undertone_is_neutral_for_near_grey():
    assert scales.undertone(lab_with_hue(80.0, chroma=1.9)) == "neutral"
    assert scales.undertone(lab_with_hue(80.0, chroma=2.1)) == "warm"
    assert scales.undertone([50.0, 0.0, 0.0]) == "neutral"


@pytest.mark.parametrize("bad", [[50, 0], [50, np.nan, 0], "pale"])
def test_colour_classifiers_reject_bad_lab(bad):
    for function in (scales.nearest_monk, scales.undertone, scales.hair_level):
        with pytest.raises(InputError, match=r"expected one finite \(L\*, a\*, b\*\) triple"):
            function(bad)


@pytest.mark.parametrize(
    ("value", "reading"),
    [
        (0.0, "imperceptible"),
        (0.99, "imperceptible"),
        (1.0, "barely distinguishable"),
        (1.99, "barely distinguishable"),
        (2.0, "noticeable on close inspection"),
        (3.49, "noticeable on close inspection"),
        (3.5, "clearly different"),
        (4.99, "clearly different"),
        (5.0, "very different"),
        (40.0, "very different"),
    ],
)
def test_delta_e_reading_bands(value, reading):
    assert scales.delta_e_reading(value) == reading


def test_delta_e_reading_rejects_negative_and_nan():
    with pytest.raises(InputError, match="≥ 0"):
        scales.delta_e_reading(-0.1)
    with pytest.raises(InputError, match="finite"):
        scales.delta_e_reading(math.nan)
