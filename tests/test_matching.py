"""Tests for shade_match.matching against a brute-force colormath2 ranking, and for
its invariants (palette order, ties, k, several palettes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from colormath2.color_diff import delta_e_cie1976, delta_e_cie1994, delta_e_cie2000
from colormath2.color_objects import LabColor

from shade_match import colour
from shade_match.errors import InputError, PaletteError, SettingsError
from shade_match.matching import nearest_matches, rank_of
from shade_match.palette import Palette, PaletteEntry, load_palette
from shade_match.results import Match

PALETTES_DIR = Path(__file__).resolve().parents[1] / "palettes"
COLORMATH = {"ciede2000": delta_e_cie2000, "cie94": delta_e_cie1994, "cie76": delta_e_cie1976}


def make_palette(labs: np.ndarray, name: str = "random", ids: list[str] | None = None) -> Palette:
    ids = ids or [f"e{index:05d}" for index in range(len(labs))]
    rgb8 = colour.lab_to_srgb8(labs)
    entries = tuple(
        PaletteEntry(
            id=entry_id,
            name=f"Entry {entry_id}",
            lab=(float(lab[0]), float(lab[1]), float(lab[2])),
            hex="#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb)),
        )
        for entry_id, lab, rgb in zip(ids, labs, rgb8)
    )
    return Palette(name=name, title=name, kind="pigment", entries=entries)


def random_labs(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(5, 95, count), rng.uniform(-50, 50, (count, 2))])


@pytest.mark.parametrize("metric", ["ciede2000", "cie94", "cie76"])
def test_agrees_with_brute_force_colormath2_ranking(metric):
    palette = make_palette(random_labs(60, seed=1))
    targets = random_labs(15, seed=2)
    function = COLORMATH[metric]
    for target in targets:
        brute = sorted(
            (function(LabColor(*target), LabColor(*entry.lab)), entry.id) for entry in palette.entries
        )
        matches = nearest_matches(target, palette, k=5, metric=metric)
        # colormath2's ΔE00 can differ by ≤ 1.5e-4 (research §1); the ranking must agree
        # wherever the gap between neighbours is larger than that.
        gaps = np.diff([value for value, _ in brute[:6]])
        if np.all(gaps > 5e-4):
            assert [match.id for match in matches] == [entry_id for _, entry_id in brute[:5]]
        np.testing.assert_allclose([m.delta_e for m in matches], [v for v, _ in brute[:5]], atol=2e-4)
        assert all(match.metric == metric for match in matches)


def test_match_fields():
    palette = load_palette(PALETTES_DIR / "monk-skin-tone.toml")
    target = colour.hex_to_lab("#a07e56")
    best = nearest_matches(target, palette, k=1)
    assert len(best) == 1 and isinstance(best[0], Match)
    match = best[0]
    assert (match.palette, match.id, match.name, match.hex) == ("monk-skin-tone", "6", "Monk 06", "#a07e56")
    assert match.delta_e == pytest.approx(0.0, abs=1e-9) and isinstance(match.delta_e, float)
    assert match.lab == palette.entry("6").lab and match.metric == "ciede2000"


def test_results_are_sorted_and_independent_of_palette_order():
    labs = random_labs(200, seed=3)
    palette = make_palette(labs)
    shuffled_order = np.random.default_rng(4).permutation(len(labs))
    shuffled = Palette(
        name=palette.name, title="x", kind="pigment", entries=tuple(palette.entries[i] for i in shuffled_order)
    )
    for target in random_labs(10, seed=5):
        matches = nearest_matches(target, palette, k=10)
        assert matches == nearest_matches(target, shuffled, k=10)
        values = [m.delta_e for m in matches]
        assert values == sorted(values)


def test_ties_break_by_palette_then_id():
    same = np.array([[50.0, 10.0, 10.0]] * 3)
    first = make_palette(same, name="b-palette", ids=["z", "a", "m"])
    second = make_palette(same[:2], name="a-palette", ids=["y", "x"])
    matches = nearest_matches([50.0, 10.0, 12.0], [first, second], k=4)
    assert [(m.palette, m.id) for m in matches] == [
        ("a-palette", "x"),
        ("a-palette", "y"),
        ("b-palette", "a"),
        ("b-palette", "m"),
    ]
    assert matches == nearest_matches([50.0, 10.0, 12.0], [second, first], k=4)


def test_ties_at_the_k_cut_are_resolved_by_the_same_rule():
    labs = np.array([[50.0, 0.0, 0.0], [60.0, 0.0, 0.0], [60.0, 0.0, 0.0], [60.0, 0.0, 0.0]])
    palette = make_palette(labs, ids=["near", "t3", "t1", "t2"])
    matches = nearest_matches([50.0, 0.0, 0.0], palette, k=2)
    assert [m.id for m in matches] == ["near", "t1"]


def test_several_palettes_are_searched_together():
    monk = load_palette(PALETTES_DIR / "monk-skin-tone.toml")
    hair = load_palette(PALETTES_DIR / "hair-levels.toml")
    target = colour.hex_to_lab("#3b3024")  # hair level 3 exactly
    matches = nearest_matches(target, [monk, hair], k=3)
    assert (matches[0].palette, matches[0].id) == ("hair-levels", "3")
    assert {m.palette for m in nearest_matches(target, [monk, hair], k=20)} == {"monk-skin-tone", "hair-levels"}
    assert len(nearest_matches(target, [monk, hair], k=100)) == 20


def test_ten_thousand_entry_palette_matches_exhaustive_search():
    labs = random_labs(10_000, seed=6)
    palette = make_palette(labs)
    for target in random_labs(5, seed=7):
        matches = nearest_matches(target, palette, k=5)
        exhaustive = np.argsort(colour.delta_e(target, labs), kind="stable")[:5]
        assert [m.id for m in matches] == [palette.entries[i].id for i in exhaustive]


def test_rank_of_agrees_with_nearest_matches():
    palette = make_palette(random_labs(40, seed=8))
    target = random_labs(1, seed=9)[0]
    for position, match in enumerate(nearest_matches(target, palette, k=40), start=1):
        assert rank_of(match.id, target, palette) == position
        assert rank_of(match.id, target, palette, metric="cie76") >= 1


def test_rank_of_with_ties_uses_id_order():
    palette = make_palette(np.array([[50.0, 0, 0]] * 3), ids=["c", "a", "b"])
    assert [rank_of(i, [50.0, 0, 0], palette) for i in ("a", "b", "c")] == [1, 2, 3]


def test_bad_inputs():
    palette = load_palette(PALETTES_DIR / "monk-skin-tone.toml")
    for bad_k in (0, -1, 1.5, True, "3"):
        with pytest.raises(SettingsError, match="k: expected a whole number ≥ 1"):
            nearest_matches([50, 0, 0], palette, k=bad_k)
    with pytest.raises(SettingsError, match="ciede2000, cie94, cie76; received 'euclid'"):
        nearest_matches([50, 0, 0], palette, metric="euclid")
    for bad_target in ([50, 0], [np.nan, 0, 0], "grey", [[50, 0, 0]]):
        with pytest.raises(InputError, match=r"target_lab: expected one finite"):
            nearest_matches(bad_target, palette)
    with pytest.raises(InputError, match="Palette or a sequence of Palette; received str"):
        nearest_matches([50, 0, 0], ["monk-skin-tone"])
    with pytest.raises(InputError, match="distinct palette names"):
        nearest_matches([50, 0, 0], [palette, palette])
    with pytest.raises(PaletteError, match="received 'nope'"):
        rank_of("nope", [50, 0, 0], palette)
    assert nearest_matches([50, 0, 0], []) == ()
