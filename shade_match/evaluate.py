"""Accuracy of the analysis by condition, on synthetic photos of known colour.

Run ``python -m shade_match.evaluate [--n 200] [--seed 0] [--workers 2] [--json out.json]``.

For each condition of :data:`shade_match.synthetic.CONDITIONS` it renders ``n``
random photos (:func:`shade_match.synthetic.random_spec`), analyses each with
:func:`shade_match.analysis.analyze_image` and compares the reported hair and skin
CIELAB with the truth under D65 by CIEDE2000. The grey-card condition is analysed
twice: with the card found automatically (``correction="auto"``) and with the card's
rectangle given (``correction="grey-card"``).

What is counted (definitions)
-----------------------------
- **skin ΔE00**: ``analysis.skin.lab`` vs ``photo.true_skin_lab``, over photos whose
  truth shows at least :data:`MIN_SKIN_PIXELS` bare skin pixels and where the analysis
  reported a skin tone. Median and 90th percentile.
- **hair ΔE00**: ``analysis.hair.lab`` vs ``photo.true_hair_lab`` (the pigmented strand
  colour), over photos with hair (truth coverage ≥ :data:`MIN_HAIR_COVERAGE`) where
  hair was reported.
- **hair found**: share of photos with hair where ``analysis.hair`` is not None;
  **false hair**: share of bald photos (no strand at all) where it is not None.
- **Monk ±1**: share of skin measurements whose Monk tone is within one step of the
  Monk tone of the true colour (both by :func:`shade_match.scales.nearest_monk`).
- **cast warned**: share of photos whose light is more than :data:`CAST_WARN_KELVIN`
  away from D65 (6504 K) with a warning containing "colour cast" (cast conditions);
  for the white-balanced neutral condition, the share of photos warned at all
  ("false": there is no cast to warn about).
- **grey fraction / coverage error**: reported ``hair.grey_fraction`` minus the true
  grey share of the strands, and reported ``hair.coverage`` (0 when no hair) minus
  the true hair area / scalp area; medians of the absolute values.
- **hair/skin confused**: share of reported hair tones nearer (ΔE00) the true skin
  colour than the true hair colour.
- **failed**: analyses that raised; they are counted, never fatal.

Targets (issue 3) are printed beside the numbers, never asserted here.

The ΔE00 is :func:`skimage.color.deltaE_ciede2000` — an implementation independent of
the package's own :mod:`shade_match.colour`, so the yardstick does not share code with
what it measures.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from .errors import SettingsError
from .runtime import reuse_freed_memory
from .synthetic import (
    CONDITIONS,
    D65_CCT_KELVIN,
    HAIR_PRESENT_COVERAGE,
    random_spec,
    render_scalp_photo,
)

__all__ = [
    "CASES",
    "TARGETS",
    "PhotoResult",
    "evaluate_photo",
    "run_evaluation",
    "summarise",
    "format_table",
    "main",
]

#: Evaluated cases: (name, condition, correction, give the grey-card rectangle).
CASES = (
    ("neutral", "neutral", "auto", False),
    ("cast-grey-card/auto", "cast-grey-card", "auto", False),
    ("cast-grey-card/given", "cast-grey-card", "grey-card", True),
    ("cast-chart/auto", "cast-chart", "auto", False),
    ("cast-no-reference", "cast-no-reference", "auto", False),
)

#: Issue 3 targets per case: ΔE00 (median, p90) for skin and hair, share warned, Monk ±1.
TARGETS = {
    "neutral": {"skin": (2.5, 5.0), "hair": (3.5, 7.0), "monk": 0.95},
    "cast-grey-card/auto": {"skin": (2.0, 4.0), "hair": (3.0, 6.0), "monk": 0.95},
    "cast-grey-card/given": {"skin": (2.0, 4.0), "hair": (3.0, 6.0), "monk": 0.95},
    "cast-chart/auto": {"skin": (2.0, 4.0), "hair": (3.0, 6.0), "monk": 0.95},
    "cast-no-reference": {"skin": (6.0, None), "hair": (7.0, None), "warn": 0.90, "monk": 0.95},
}

#: A cast counts as "strong" beyond this distance from D65 (issue 3).
CAST_WARN_KELVIN = 1000.0
#: Truth has hair when strands cover ≥ 2 % of the scalp (see
#: :data:`shade_match.synthetic.HAIR_PRESENT_COVERAGE`).
MIN_HAIR_COVERAGE = HAIR_PRESENT_COVERAGE
#: Truth has measurable skin with ≥ 200 bare-skin pixels (a design choice: ~14×14 px).
MIN_SKIN_PIXELS = 200
#: Hair results are also split at this true grey fraction (salt-and-pepper hair is a
#: harder case: the truth is the pigmented strands' colour, not the grey mixture). Heads
#: whose hair colour is itself grey or white (true grey fraction 1,
#: ``synthetic.GREY_HEAD_CATEGORIES``) are counted apart: their truth is that grey.
GREY_SPLIT = 0.10
#: The wording agreed for the cast warning (any warning containing it, any case).
CAST_WARNING_TEXT = "colour cast"
#: The part of it that says the light could not be checked at all (no bare skin to
#: estimate it from), as opposed to a cast that was estimated. Counted apart so the
#: report shows how much of the warning rate is "could not check".
UNCHECKED_LIGHT_TEXT = "cannot be ruled out"


@dataclass(frozen=True)
class PhotoResult:
    """One analysed synthetic photo (plain values, JSON-able)."""

    case: str
    condition: str
    index: int
    scale: str
    hair_category: str
    cct_kelvin: float
    grey_fraction: float
    has_hair: bool
    is_bald: bool
    has_skin: bool
    hair_found: bool | None = None
    skin_found: bool | None = None
    hair_delta_e: float | None = None
    skin_delta_e: float | None = None
    skin_delta_l: float | None = None
    skin_delta_e_at_true_l: float | None = None
    mixing_delta_e: float | None = None
    hair_nearer_skin: bool | None = None
    grey_fraction_error: float | None = None
    coverage_error: float | None = None
    monk_true: int | None = None
    monk_measured: int | None = None
    cast_warned: bool | None = None
    light_unchecked: bool | None = None
    correction_method: str | None = None
    seconds: float | None = None
    failed: str | None = None
    #: Region scale: whether the head runs off the frame (its true scalp mask touches
    #: an edge), as in most whole-head photos of shared/real_photos; None at strand scale.
    head_cut_by_frame: bool | None = None


def _tone_stats(results) -> dict:
    """ΔE00 statistics of the skin and hair of *results* (where measured)."""
    return {
        "skin": _stats([r.skin_delta_e for r in results if r.skin_delta_e is not None]),
        "hair": _stats([r.hair_delta_e for r in results if r.hair_delta_e is not None]),
    }


def _touches_frame(mask: np.ndarray) -> bool:
    """Whether *mask* reaches any edge of the frame."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _delta_e(lab1, lab2) -> float:
    from skimage.color import deltaE_ciede2000

    return float(deltaE_ciede2000(np.asarray(lab1, float), np.asarray(lab2, float)))


def _photo_seed(seed: int, condition: str, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), CONDITIONS.index(condition), int(index)])


def evaluate_photo(condition: str, index: int, seed: int = 0, *, size=None) -> list[PhotoResult]:
    """Render photo ``index`` of ``condition`` and analyse it for every case of that condition.

    Parameters
    ----------
    condition : str
        One of :data:`~shade_match.synthetic.CONDITIONS`.
    index : int
        Photo number within the condition (with ``seed``, fixes the scene).
    seed : int
        Base seed of the whole evaluation.
    size : (width, height) or None
        Force the photo size (tests use small photos).

    Returns
    -------
    list of PhotoResult
        One per case in :data:`CASES` with this condition. An analysis that raised is
        a result with ``failed`` set to ``"ErrorType: message"``.
    """
    from .scales import nearest_monk

    rng = np.random.default_rng(_photo_seed(seed, condition, index))
    spec = random_spec(rng, condition=condition, size=size)
    photo = render_scalp_photo(spec)
    has_hair = photo.true_coverage >= MIN_HAIR_COVERAGE
    has_skin = int(photo.skin_mask.sum()) >= MIN_SKIN_PIXELS
    mixing = (
        _delta_e(photo.mixed_hair_lab, photo.true_hair_lab)
        if photo.mixed_hair_lab is not None and has_hair
        else None
    )
    results = []
    for case, case_condition, correction, give_box in CASES:
        if case_condition != condition:
            continue
        base = dict(
            case=case,
            condition=condition,
            index=index,
            scale=spec.scale,
            hair_category=spec.hair_category,
            cct_kelvin=spec.cct_kelvin,
            grey_fraction=float(photo.true_grey_fraction or 0.0),
            has_hair=has_hair,
            is_bald=spec.hair_density == 0.0,
            has_skin=has_skin,
            mixing_delta_e=mixing,
            monk_true=nearest_monk(photo.true_skin_lab),
            head_cut_by_frame=_touches_frame(photo.scalp_mask) if spec.scale == "region" else None,
        )
        start = time.perf_counter()
        try:
            from .analysis import AnalysisSettings, analyze_image

            settings = AnalysisSettings(
                correction=correction, grey_card=photo.reference_box if give_box else None
            )
            analysis = analyze_image(photo.rgb, settings=settings)
        except Exception as error:  # noqa: BLE001 — a failure is data here, never fatal
            results.append(PhotoResult(**base, failed=f"{type(error).__name__}: {error}"))
            continue
        seconds = time.perf_counter() - start
        hair, skin = analysis.hair, analysis.skin
        results.append(
            PhotoResult(
                **base,
                hair_found=hair is not None,
                skin_found=skin is not None,
                hair_delta_e=_delta_e(hair.lab, photo.true_hair_lab) if hair and has_hair else None,
                skin_delta_e=_delta_e(skin.lab, photo.true_skin_lab) if skin and has_skin else None,
                skin_delta_l=float(skin.lab[0] - photo.true_skin_lab[0]) if skin and has_skin else None,
                skin_delta_e_at_true_l=(
                    _delta_e((photo.true_skin_lab[0], *skin.lab[1:]), photo.true_skin_lab) if skin and has_skin else None
                ),
                grey_fraction_error=(
                    hair.grey_fraction - float(photo.true_grey_fraction or 0.0) if hair and has_hair else None
                ),
                coverage_error=(hair.coverage if hair else 0.0) - photo.true_coverage,
                hair_nearer_skin=(
                    _delta_e(hair.lab, photo.true_skin_lab) < _delta_e(hair.lab, photo.true_hair_lab)
                    if hair and has_hair
                    else None
                ),
                monk_measured=skin.monk if skin else None,
                cast_warned=any(CAST_WARNING_TEXT in w.lower() for w in analysis.warnings),
                light_unchecked=any(UNCHECKED_LIGHT_TEXT in w.lower() for w in analysis.warnings),
                correction_method=analysis.correction.method,
                seconds=seconds,
            )
        )
    return results


def _evaluate_task(task) -> list[PhotoResult]:
    reuse_freed_memory()  # as the CLI and batch workers run (speed only; results identical)
    condition, index, seed, size = task
    try:
        return evaluate_photo(condition, index, seed, size=size)
    except Exception as error:  # noqa: BLE001 — rendering bugs are reported, not fatal
        return [
            PhotoResult(
                case=case, condition=condition, index=index, scale="?", hair_category="?",
                cct_kelvin=float("nan"), grey_fraction=0.0, has_hair=False, is_bald=False, has_skin=False,
                failed=f"{type(error).__name__}: {error}",
            )  # fmt: skip
            for case, c, _, _ in CASES
            if c == condition
        ]


def run_evaluation(
    n: int = 200,
    seed: int = 0,
    *,
    workers: int = 1,
    conditions: Sequence[str] = CONDITIONS,
    size=None,
    progress=None,
) -> list[PhotoResult]:
    """Render and analyse ``n`` photos per condition.

    Parameters
    ----------
    n : int
        Photos per condition.
    seed : int
        Base seed; photo *i* of a condition is the same whatever ``workers`` is.
    workers : int
        Processes (1 = in this process).
    conditions : sequence of str
    size : (width, height) or None
        Force the photo size.
    progress : callable or None
        Called with the number of photos done after each photo.

    Returns
    -------
    list of PhotoResult
    """
    if n < 1:
        raise SettingsError(f"n must be ≥ 1; got {n!r}")
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise SettingsError(f"conditions must be among {CONDITIONS}; got {unknown}")
    tasks = [(c, i, seed, size) for c in conditions for i in range(n)]
    results: list[PhotoResult] = []
    if workers <= 1:
        for done, task in enumerate(tasks, 1):
            results.extend(_evaluate_task(task))
            if progress:
                progress(done)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done, batch in enumerate(pool.map(_evaluate_task, tasks, chunksize=2), 1):
                results.extend(batch)
                if progress:
                    progress(done)
    return results


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "median": None, "p90": None}
    arr = np.asarray(values, float)
    return {"n": int(arr.size), "median": float(np.median(arr)), "p90": float(np.percentile(arr, 90))}


def _share(flags: list[bool]) -> dict:
    return {"n": len(flags), "rate": (float(np.mean(flags)) if flags else None)}


def summarise(results: Sequence[PhotoResult]) -> dict:
    """Per-case statistics (plain JSON-able dict keyed by case name)."""
    summary = {}
    for case, _, _, _ in CASES:
        rows = [r for r in results if r.case == case]
        if not rows:
            continue
        ok = [r for r in rows if r.failed is None]
        strong = [r for r in ok if abs(r.cct_kelvin - D65_CCT_KELVIN) > CAST_WARN_KELVIN]
        mild = [r for r in ok if abs(r.cct_kelvin - D65_CCT_KELVIN) <= CAST_WARN_KELVIN]
        monk = [abs(r.monk_measured - r.monk_true) <= 1 for r in ok if r.has_skin and r.monk_measured]
        groups = {
            "strand": lambda r: r.scale == "strand",
            "region": lambda r: r.scale == "region",
            "region_cut_by_frame": lambda r: r.scale == "region" and r.head_cut_by_frame is True,
            "region_whole_head": lambda r: r.scale == "region" and r.head_cut_by_frame is False,
        }
        by_scale = {key: _tone_stats([r for r in ok if belongs(r)]) for key, belongs in groups.items()}
        by_grey = {
            label: _stats([r.hair_delta_e for r in ok if r.hair_delta_e is not None and test(r.grey_fraction)])
            for label, test in (
                ("grey<=10%", lambda g: g <= GREY_SPLIT),
                ("grey>10%", lambda g: GREY_SPLIT < g < 1.0),
                ("all grey", lambda g: g >= 1.0),
            )
        }
        summary[case] = {
            "photos": len(rows),
            "failed": len(rows) - len(ok),
            "skin": _stats([r.skin_delta_e for r in ok if r.skin_delta_e is not None]),
            "hair": _stats([r.hair_delta_e for r in ok if r.hair_delta_e is not None]),
            "skin_found": _share([bool(r.skin_found) for r in ok if r.has_skin]),
            "hair_found": _share([bool(r.hair_found) for r in ok if r.has_hair]),
            "false_hair": _share([bool(r.hair_found) for r in ok if r.is_bald]),
            "grey_fraction_abs_error": _stats(
                [abs(r.grey_fraction_error) for r in ok if r.grey_fraction_error is not None]
            ),
            "coverage_abs_error": _stats([abs(r.coverage_error) for r in ok if r.coverage_error is not None]),
            "hair_nearer_skin": _share([r.hair_nearer_skin for r in ok if r.hair_nearer_skin is not None]),
            "monk_within_1": _share(monk),
            "cast_warned_strong": _share([bool(r.cast_warned) for r in strong]),
            "cast_warned_mild": _share([bool(r.cast_warned) for r in mild]),
            "cast_warned_all": _share([bool(r.cast_warned) for r in ok]),
            "light_unchecked_strong": _share([bool(r.light_unchecked) for r in strong]),
            "light_unchecked_all": _share([bool(r.light_unchecked) for r in ok]),
            "correction_methods": {
                m: sum(1 for r in ok if r.correction_method == m)
                for m in sorted({r.correction_method for r in ok if r.correction_method})
            },
            "mixing_delta_e": _stats([r.mixing_delta_e for r in ok if r.mixing_delta_e is not None]),
            "skin_abs_delta_l": _stats([abs(r.skin_delta_l) for r in ok if r.skin_delta_l is not None]),
            "skin_delta_e_at_true_l": _stats([r.skin_delta_e_at_true_l for r in ok if r.skin_delta_e_at_true_l is not None]),
            "by_scale": by_scale,
            "hair_by_grey_fraction": by_grey,
            "seconds_median": _stats([r.seconds for r in ok if r.seconds is not None])["median"],
            "targets": TARGETS.get(case, {}),
            "failures": sorted({r.failed for r in rows if r.failed})[:5],
        }
    return summary


def _fmt(value, spec="{:.2f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return spec.format(value)


def _target(pair) -> str:
    if not pair:
        return ""
    med, p90 = pair
    return f"≤{med:g}" + (f"/≤{p90:g}" if p90 is not None else "")


def format_table(summary: dict) -> str:
    """The evaluation table as text (ΔE00 median/p90 with the target beside it)."""
    lines = [
        f"{'case':<22} {'n':>4} {'fail':>4}  {'skin ΔE00 med/p90':<22} {'hair ΔE00 med/p90':<22} "
        f"{'hair found':>10} {'false hair':>10} {'Monk±1':>12} {'cast warned':>14}",
    ]
    for case, s in summary.items():
        t = s["targets"]
        skin = f"{_fmt(s['skin']['median'])}/{_fmt(s['skin']['p90'])} ({_target(t.get('skin'))})"
        hair = f"{_fmt(s['hair']['median'])}/{_fmt(s['hair']['p90'])} ({_target(t.get('hair'))})"
        monk = f"{_fmt(s['monk_within_1']['rate'], '{:.0%}')} (≥{t.get('monk', 0):.0%})"
        if "warn" in t:
            warn = f"{_fmt(s['cast_warned_strong']['rate'], '{:.0%}')} (≥{t['warn']:.0%})"
        elif case == "neutral":  # white balanced: every cast warning is a false alarm
            warn = f"false {_fmt(s['cast_warned_all']['rate'], '{:.0%}')}"
        else:
            warn = _fmt(s["cast_warned_strong"]["rate"], "{:.0%}")
        lines.append(
            f"{case:<22} {s['photos']:>4} {s['failed']:>4}  {skin:<22} {hair:<22} "
            f"{_fmt(s['hair_found']['rate'], '{:.0%}'):>10} {_fmt(s['false_hair']['rate'], '{:.0%}'):>10} "
            f"{monk:>12} {warn:>14}"
        )
    lines.append("")
    lines.append("by scale (ΔE00 median, n):")
    for case, s in summary.items():
        parts = []
        for scale, st in s["by_scale"].items():
            name = {"region_cut_by_frame": "region, head cut by the frame",
                    "region_whole_head": "region, whole head in frame"}.get(scale, scale)  # fmt: skip
            parts.append(
                f"{name}: skin {_fmt(st['skin']['median'])} (n={st['skin']['n']}), "
                f"hair {_fmt(st['hair']['median'])} (n={st['hair']['n']})"
            )
        grey = s["hair_by_grey_fraction"]
        parts.append(
            "hair with grey ≤10%: " + _fmt(grey["grey<=10%"]["median"]) + f" (n={grey['grey<=10%']['n']}), "
            "grey strands >10%: " + _fmt(grey["grey>10%"]["median"]) + f" (n={grey['grey>10%']['n']}), "
            "grey or white head: " + _fmt(grey["all grey"]["median"]) + f" (n={grey['all grey']['n']})"
        )
        lines.append(f"  {case:<22} " + "; ".join(parts))
    lines.append("")
    lines.append(
        "hair truth = pigmented strand colour; 'mixing' = ΔE00 between it and the mean of "
        "the true hair pixels (what a perfect segmenter averaging would see):"
    )
    for case, s in summary.items():
        m = s["mixing_delta_e"]
        lines.append(
            f"  {case:<22} mixing median {_fmt(m['median'])}, p90 {_fmt(m['p90'])}; "
            f"warned on casts ≤{CAST_WARN_KELVIN:.0f} K off D65: "
            f"{_fmt(s['cast_warned_mild']['rate'], '{:.0%}')}; analysis s/photo {_fmt(s['seconds_median'], '{:.3f}')}"
        )
        lines.append(
            f"    light not checkable (no usable skin colour; warned 'cannot be ruled out'): "
            f"{_fmt(s['light_unchecked_all']['rate'], '{:.0%}')} of photos, "
            f"{_fmt(s['light_unchecked_strong']['rate'], '{:.0%}')} of strong casts"
        )
        methods = ", ".join(f"{m} {k}" for m, k in s["correction_methods"].items())
        swapped = _fmt(s["hair_nearer_skin"]["rate"], "{:.0%}")
        lines.append(
            f"    correction applied: {methods or '–'}; reported hair nearer the true skin "
            f"than the true hair (hair/skin confused): {swapped}"
        )
        lines.append(
            f"    skin lightness vs the rest: |ΔL*| median {_fmt(s['skin_abs_delta_l']['median'])}; "
            f"ΔE00 with L* set to the truth median {_fmt(s['skin_delta_e_at_true_l']['median'])}, "
            f"p90 {_fmt(s['skin_delta_e_at_true_l']['p90'])} (the hue and chroma part of the skin error)"
        )
        lines.append(
            f"    |grey fraction error| median {_fmt(s['grey_fraction_abs_error']['median'])} "
            f"(p90 {_fmt(s['grey_fraction_abs_error']['p90'])}), "
            f"|coverage error| median {_fmt(s['coverage_abs_error']['median'])} (fractions 0–1)"
        )
        for failure in s["failures"]:
            lines.append(f"    failure: {failure[:160]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m shade_match.evaluate``. Returns an exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m shade_match.evaluate",
        description="Accuracy of shade-match on synthetic photos of known colour, by condition.",
    )
    parser.add_argument("--n", type=int, default=200, help="photos per condition (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--json", metavar="PATH", help="write the summary and per-photo results here")
    parser.add_argument(
        "--conditions", nargs="+", choices=CONDITIONS, default=list(CONDITIONS),
        help="conditions to run (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--size", type=int, nargs=2, metavar=("WIDTH", "HEIGHT"),
        help="force the photo size (default: drawn per scale)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.n < 1 or args.workers < 1:
        parser.error(f"--n and --workers must be ≥ 1; got {args.n} and {args.workers}")
    start = time.perf_counter()
    total = args.n * len(args.conditions)
    step = max(1, total // 20)

    def progress(done: int) -> None:  # to stderr, so stdout stays the table
        if done % step == 0 or done == total:
            print(f"{done}/{total} photos, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    results = run_evaluation(
        args.n, args.seed, workers=args.workers, conditions=args.conditions,
        size=tuple(args.size) if args.size else None, progress=progress,
    )  # fmt: skip
    summary = summarise(results)
    print(format_table(summary))
    print(f"\n{len(results)} analyses in {time.perf_counter() - start:.1f} s (seed {args.seed}).")
    if args.json:
        with open(args.json, "w", encoding="utf8") as handle:
            json.dump(
                {"n": args.n, "seed": args.seed, "summary": summary, "photos": [asdict(r) for r in results]},
                handle,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
