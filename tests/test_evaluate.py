"""Tests of the evaluation script: it runs the real analysis on a handful of small
synthetic photos and reports finite numbers in the agreed structure.

No accuracy targets are asserted here (``python -m shade_match.evaluate`` prints them);
the one exception is a loose sanity bound on an easy photo, which fails only when the
pipeline is broken.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from skimage.color import deltaE_ciede2000

from shade_match.analysis import AnalysisSettings, analyze_image
from shade_match.evaluate import (
    CASES,
    TARGETS,
    PhotoResult,
    evaluate_photo,
    format_table,
    main,
    run_evaluation,
    summarise,
)
from shade_match.synthetic import CONDITIONS, SceneSpec, render_scalp_photo

SMALL = (320, 240)


@pytest.fixture(scope="module")
def small_run() -> list[PhotoResult]:
    # 2 photos per condition (8 photos, 10 analyses: the grey card is analysed twice).
    return run_evaluation(2, seed=1, size=SMALL)


@pytest.mark.slow
def test_every_case_is_evaluated_without_failures(small_run):
    assert len(small_run) == 2 * len(CASES)
    assert {r.case for r in small_run} == {case for case, *_ in CASES}
    failures = [r.failed for r in small_run if r.failed]
    assert failures == []


def test_reported_numbers_are_finite_and_in_range(small_run):
    for r in small_run:
        for value in (r.hair_delta_e, r.skin_delta_e, r.mixing_delta_e):
            assert value is None or (math.isfinite(value) and value >= 0)
        for value in (r.grey_fraction_error, r.coverage_error):
            assert value is None or -1.0 <= value <= 1.0
        assert r.monk_true is not None and 1 <= r.monk_true <= 10
        assert r.monk_measured is None or 1 <= r.monk_measured <= 10
        assert r.correction_method in ("none", "auto", "grey-card", "chart")
        assert isinstance(r.cast_warned, bool)
        assert 2700 <= r.cct_kelvin <= 8000
    # The given-rectangle case really used the grey card.
    assert {r.correction_method for r in small_run if r.case == "cast-grey-card/given"} == {"grey-card"}


def test_summary_structure_and_table(small_run):
    summary = summarise(small_run)
    assert list(summary) == [case for case, *_ in CASES]
    for case, s in summary.items():
        assert s["photos"] == 2 and s["failed"] == 0
        assert s["targets"] == TARGETS[case]
        for part in ("skin", "hair"):
            stats = s[part]
            assert stats["n"] <= 2
            for key in ("median", "p90"):
                assert stats[key] is None or math.isfinite(stats[key])
        for rate in ("hair_found", "false_hair", "monk_within_1", "cast_warned_strong"):
            value = s[rate]["rate"]
            assert value is None or 0.0 <= value <= 1.0
    table = format_table(summary)
    for case, *_ in CASES:
        assert case in table
    assert "≤2.5/≤5" in table and "≤3/≤6" in table and "(≥90%)" in table  # targets shown
    json.dumps(summary)  # plain JSON-able


def test_summary_counts_failures_as_data():
    ok = PhotoResult(
        case="neutral", condition="neutral", index=0, scale="strand", hair_category="black",
        cct_kelvin=6504.0, grey_fraction=0.0, has_hair=True, is_bald=False, has_skin=True, hair_found=True,
        skin_found=True, hair_delta_e=2.0, skin_delta_e=1.0, monk_true=5, monk_measured=7,
        cast_warned=False,
    )  # fmt: skip
    failed = PhotoResult(
        case="neutral", condition="neutral", index=1, scale="strand", hair_category="black",
        cct_kelvin=6504.0, grey_fraction=0.0, has_hair=True, is_bald=False, has_skin=True,
        failed="AnalysisError: no scalp",
    )  # fmt: skip
    s = summarise([ok, failed])["neutral"]
    assert s["photos"] == 2 and s["failed"] == 1
    assert s["hair"] == {"n": 1, "median": 2.0, "p90": 2.0}
    assert s["monk_within_1"]["rate"] == 0.0  # 5 vs 7 is two steps
    assert s["failures"] == ["AnalysisError: no scalp"]


def test_region_results_are_split_by_whether_the_head_runs_off_the_frame(small_run):
    # Whole heads cut by the frame lose their horseshoe from the scalp mask more often
    # (README, accuracy): the summary and the table show them apart.
    assert all((r.head_cut_by_frame is None) == (r.scale == "strand") for r in small_run if not r.failed)

    def region(index, cut, hair_de):
        return PhotoResult(
            case="neutral", condition="neutral", index=index, scale="region", hair_category="black",
            cct_kelvin=6504.0, grey_fraction=0.0, has_hair=True, is_bald=False, has_skin=True, hair_found=True,
            skin_found=True, hair_delta_e=hair_de, skin_delta_e=1.0, monk_true=5, monk_measured=5,
            cast_warned=False, head_cut_by_frame=cut,
        )  # fmt: skip

    summary = summarise([region(0, True, 12.0), region(1, True, 14.0), region(2, False, 3.0)])
    by_scale = summary["neutral"]["by_scale"]
    assert by_scale["region"]["hair"]["n"] == 3
    assert by_scale["region_cut_by_frame"]["hair"] == {"n": 2, "median": 13.0, "p90": pytest.approx(13.8)}
    assert by_scale["region_whole_head"]["hair"] == {"n": 1, "median": 3.0, "p90": 3.0}
    table = format_table(summary)
    assert "region, head cut by the frame: skin 1.00 (n=2), hair 13.00 (n=2)" in table
    assert "region, whole head in frame: skin 1.00 (n=1), hair 3.00 (n=1)" in table


@pytest.mark.slow
def test_results_do_not_depend_on_worker_count():
    one = run_evaluation(1, seed=3, conditions=["neutral"], size=SMALL)
    two = run_evaluation(1, seed=3, conditions=["neutral"], size=SMALL, workers=2)
    strip = [
        {k: v for k, v in vars(r).items() if k != "seconds"} for r in one
    ]  # timing differs, nothing else may
    assert strip == [{k: v for k, v in vars(r).items() if k != "seconds"} for r in two]


def test_main_writes_json(tmp_path, capsys):
    out = tmp_path / "eval.json"
    code = main(["--n", "1", "--seed", "2", "--size", "320", "240", "--conditions", "neutral", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "neutral" in printed and "ΔE00" in printed
    data = json.loads(out.read_text(encoding="utf8"))
    assert data["n"] == 1 and set(data["summary"]) == {"neutral"}
    assert len(data["photos"]) == 1 and data["photos"][0]["case"] == "neutral"


def test_main_rejects_bad_arguments():
    with pytest.raises(SystemExit) as raised:
        main(["--n", "0"])
    assert raised.value.code == 2


def test_easy_photo_is_measured_roughly_right():
    # Loose sanity bound, not a target: dense black stubble on light skin, white balanced,
    # flat light. A working pipeline lands within a few ΔE00; a broken one does not.
    spec = SceneSpec(
        hair_lab=(18.0, 2.0, 3.0), skin_lab=(70.0, 10.0, 16.0), grey_fraction=0.0,
        hair_density=0.9, strand_width_px=5.0, strand_length_px=40.0, scale="strand",
        cct_kelvin=6504.0, white_balanced=True, exposure=1.0, shading=0.1, glare=0.0,
        noise_sigma=1.0, jpeg_quality=90, background=False, scar=False, reference="none",
        size=(640, 480), seed=5,
    )  # fmt: skip
    photo = render_scalp_photo(spec)
    analysis = analyze_image(photo.rgb, settings=AnalysisSettings())
    assert analysis.hair is not None and analysis.skin is not None
    assert deltaE_ciede2000(np.array(analysis.hair.lab), np.array(photo.true_hair_lab)) < 10.0


def test_evaluate_photo_is_deterministic():
    first = evaluate_photo(CONDITIONS[3], 0, seed=9, size=SMALL)
    second = evaluate_photo(CONDITIONS[3], 0, seed=9, size=SMALL)
    assert [r.hair_delta_e for r in first] == [r.hair_delta_e for r in second]
    assert [r.skin_delta_e for r in first] == [r.skin_delta_e for r in second]
