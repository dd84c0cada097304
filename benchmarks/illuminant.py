"""Accuracy of the no-reference illuminant estimate.

    python benchmarks/illuminant.py [--n 60] [--seeds 0 1000] [--cache DIR] [--real 0] [--refined]

By default the first estimate alone (segmentation-independent); with ``--refined`` the
estimate the analysis uses: the photo corrected by the first estimate is segmented and
the light estimated again from the segmented skin
(``correction.refine_light_with_skin``), and the times include that segmentation.

For each seed and for the ``cast-no-reference`` and ``neutral`` conditions it renders
``n`` photos with :func:`shade_match.synthetic.random_spec` (seeded exactly as
``shade_match/evaluate.py``'s ``_photo_seed``, so seed 0 is the evaluation's photo set
and any other seed is a disjoint set), runs the auto estimate
(``correction._estimate_correction``, the code ``correct_colours(..., "auto")`` runs
when no chart or card is in frame) and prints:

- the error of the estimate in mired (estimated − true, ``1e6 / K``): median |error|,
  mean |error| and the bias (mean signed error; positive = estimated warmer);
- skin ΔE00 (scikit-image CIEDE2000) of the corrected photo over the TRUE skin mask
  (per-channel median of the pixels → CIELAB vs ``photo.true_skin_lab``), beside the
  uncorrected photo and an oracle that divides by the true light (what a perfect
  luminance-preserving white balance would give; the estimate can beat it on photos
  exposed for a clipping channel, whose exposure ``correction._highlight_headroom``
  gives back);
- cast-no-reference: warn recall (a warning containing "colour cast") on photos whose
  light is more than 1000 K from D65, and the warn rate on the others;
- neutral: the false-warning rate and the share of photos the estimate changed.

``--real N`` also runs the estimate on the first N real phone photos of
``shared/real_photos/hair-loss-train`` (no truth: camera-balanced photos, so it reports
how often they would be warned about or corrected).

``--sweep`` also prints the warning trade-off: for a few prior weights of "the camera
balanced it" (``correction._BALANCED_WEIGHT``) and thresholds on P(strong cast)
(``correction._POSSIBLE_CAST_PROBABILITY``), the warn recall on casts > 1000 K off D65
and the false-warning rate on neutral photos, from the same evidence costs
(``correction._evidence_cost``) and the same apply/warn rules as the auto correction.

``--cache DIR`` keeps the rendered photos (npz) so repeated runs skip rendering.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skimage.color import deltaE_ciede2000, rgb2lab  # noqa: E402

from shade_match import colour, correction  # noqa: E402
from shade_match.segmentation import segment  # noqa: E402
from shade_match.synthetic import (  # noqa: E402
    CONDITIONS,
    D65_CCT_KELVIN,
    illuminant_linear_rgb,
    random_spec,
    render_scalp_photo,
)

CAST_WARN_KELVIN = 1000.0  # issue 3: a "strong" cast
REAL_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "real_photos" / "hair-loss-train"


def photo_seed(seed: int, condition: str, index: int) -> np.random.SeedSequence:
    """The seeding of ``shade_match.evaluate._photo_seed`` (copied so it cannot drift silently)."""
    return np.random.SeedSequence([int(seed), CONDITIONS.index(condition), int(index)])


def load_photo(condition: str, index: int, seed: int, cache: Path | None) -> dict:
    path = cache / f"{condition}-{seed}-{index}.npz" if cache else None
    if path is not None and path.exists():
        data = np.load(path)
        return {k: data[k] for k in data.files}
    spec = random_spec(np.random.default_rng(photo_seed(seed, condition, index)), condition=condition)
    photo = render_scalp_photo(spec)
    record = {
        "rgb": photo.rgb,
        "skin_mask": photo.skin_mask,
        "true_skin_lab": np.asarray(photo.true_skin_lab, float),
        "cct_kelvin": np.float64(spec.cct_kelvin),
        "exposure": np.float64(spec.exposure),
        "white_balanced": np.bool_(spec.white_balanced),
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **record)
    return record


def _srgb_decode(x):
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _srgb_encode(x):
    x = np.clip(x, 0, 1)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)


def skin_delta_e(rgb01: np.ndarray, mask: np.ndarray, true_lab) -> float | None:
    if mask.sum() < 50:
        return None
    median = np.median(rgb01[mask].astype(np.float64), axis=0)
    lab = rgb2lab(median[None, None])[0, 0]
    return float(deltaE_ciede2000(lab, np.asarray(true_lab, float)))


def _auto_estimate(rgb8: np.ndarray, refined: bool = False):
    """What ``correct_colours(rgb8, "auto")`` runs when no chart or card is in frame,
    timed as a whole; with *refined*, also what the analysis runs next: segmentation
    of the corrected photo and ``refine_light_with_skin`` with its skin mask. Returns
    the correction used, the first one, and the (skin, scalp) masks (None without
    *refined*)."""
    thumbnail, _ = correction._shrink(rgb8, correction._ESTIMATE_SIDE)
    first = correction._estimate_correction(rgb8, thumbnail)
    if not refined:
        return first, first, None
    seg = segment(first.rgb, colour.image_to_lab_fast(first.rgb), reference_mask=first.reference_mask)
    return correction.refine_light_with_skin(first, rgb8, seg.skin, seg.scalp), first, (seg.skin, seg.scalp)


SWEEP_WEIGHTS = (0.5, 0.4, 0.3)
SWEEP_THRESHOLDS = (1 / 3, 0.25, 0.2, 0.15, 0.1)


def sweep_warnings(rgb8: np.ndarray, first: correction.CorrectionResult | None = None, masks=None) -> dict:
    """Warned or not, per (prior weight, threshold) of the sweep. With the first
    correction and the segmentation's (skin, scalp) masks, from the evidence of the
    refined estimate when the analysis would refine (else of the first estimate)."""
    refined = None if masks is None else correction._refined_evidence(first, rgb8, *masks)
    # the first estimate's costs are not kept in its result: computed again here
    evidence = correction._evidence_cost(rgb8) if refined is None else refined[:3]
    out = {}
    for weight in SWEEP_WEIGHTS:
        estimate = correction._posterior_estimate(*evidence, balanced_weight=weight)
        applied = correction._correction_applied(estimate)
        for threshold in SWEEP_THRESHOLDS:
            out[(weight, threshold)] = correction._cast_warned(estimate, applied, threshold)
    return out


def sweep_report(seed: int, rows_by_condition: dict[str, list[dict]]) -> str:
    strong = [
        r for r in rows_by_condition.get("cast-no-reference", []) if abs(r["cct"] - D65_CCT_KELVIN) > CAST_WARN_KELVIN
    ]
    neutral = rows_by_condition.get("neutral", [])
    lines = [f"warning trade-off, seed {seed} (recall on {len(strong)} strong casts / false on {len(neutral)} neutral):"]
    for weight in SWEEP_WEIGHTS:
        cells = []
        for threshold in SWEEP_THRESHOLDS:
            recall = np.mean([r["sweep"][(weight, threshold)] for r in strong]) if strong else float("nan")
            false = np.mean([r["sweep"][(weight, threshold)] for r in neutral]) if neutral else float("nan")
            cells.append(f"P≥{threshold:.2f}: {recall:4.0%}/{false:4.0%}")
        lines.append(f"  balanced weight {weight:.1f}  " + "  ".join(cells))
    return "\n".join(lines)


def evaluate(record: dict, sweep: bool = False, refined: bool = False) -> dict:
    rgb8 = record["rgb"]
    start = time.perf_counter()
    result, first, masks = _auto_estimate(rgb8, refined)
    seconds = time.perf_counter() - start
    cct = float(record["cct_kelvin"])
    true_mired = 1e6 / cct - 1e6 / D65_CCT_KELVIN
    # a white-balanced camera removed the light: the truth is (close to) D65
    truth = 0.0 if bool(record["white_balanced"]) else true_mired
    est = float(result.details["cast_mired"])
    mask = record["skin_mask"]
    oracle = None
    if not bool(record["white_balanced"]):
        gains = illuminant_linear_rgb(D65_CCT_KELVIN) / illuminant_linear_rgb(cct)
        oracle_rgb = _srgb_encode(_srgb_decode(rgb8 / 255.0) * gains)
        oracle = skin_delta_e(oracle_rgb, mask, record["true_skin_lab"])
    return {
        "cct": cct,
        "truth_mired": truth,
        "error_mired": est - truth,
        "warned": any("colour cast" in w.lower() for w in result.warnings),
        "applied": bool(result.details["correction_applied"]),
        "confidence": result.confidence,
        "skin_before": skin_delta_e(rgb8 / 255.0, mask, record["true_skin_lab"]),
        "skin_after": skin_delta_e(result.rgb, mask, record["true_skin_lab"]),
        "skin_oracle": oracle,
        "source": result.details["source"],
        "seconds": seconds,
        "sweep": sweep_warnings(rgb8, first, masks) if sweep else None,
    }


def _med(values):
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else float("nan")


def _p90(values):
    values = [v for v in values if v is not None]
    return float(np.percentile(values, 90)) if values else float("nan")


def report(condition: str, seed: int, rows: list[dict]) -> str:
    err = np.array([r["error_mired"] for r in rows])
    lines = [
        f"{condition:<18} seed {seed:<5} n={len(rows)}  "
        f"|err| median {np.median(np.abs(err)):5.1f} mean {np.mean(np.abs(err)):5.1f} mired, "
        f"bias {np.mean(err):+5.1f}, p90 |err| {np.percentile(np.abs(err), 90):5.1f}",
        f"{'':<18} skin ΔE00 median/p90: before {_med([r['skin_before'] for r in rows]):5.2f}/"
        f"{_p90([r['skin_before'] for r in rows]):5.2f}  after {_med([r['skin_after'] for r in rows]):5.2f}/"
        f"{_p90([r['skin_after'] for r in rows]):5.2f}"
        + (
            f"  oracle {_med([r['skin_oracle'] for r in rows]):5.2f}/{_p90([r['skin_oracle'] for r in rows]):5.2f}"
            if condition != "neutral"
            else ""
        ),
    ]
    if condition == "neutral":
        lines.append(
            f"{'':<18} false cast warnings {np.mean([r['warned'] for r in rows]):4.0%}, "
            f"corrected {np.mean([r['applied'] for r in rows]):4.0%}, "
            f"confidence median {np.median([r['confidence'] for r in rows]):.2f}"
        )
    else:
        strong = [r for r in rows if abs(r["cct"] - D65_CCT_KELVIN) > CAST_WARN_KELVIN]
        mild = [r for r in rows if abs(r["cct"] - D65_CCT_KELVIN) <= CAST_WARN_KELVIN]
        warm = [r for r in strong if r["cct"] < D65_CCT_KELVIN]
        cool = [r for r in strong if r["cct"] > D65_CCT_KELVIN]
        lines.append(
            f"{'':<18} warn recall (>1000 K off D65) {np.mean([r['warned'] for r in strong]):4.0%} "
            f"(n={len(strong)}; warm {np.mean([r['warned'] for r in warm]) if warm else float('nan'):4.0%}, "
            f"cool {np.mean([r['warned'] for r in cool]) if cool else float('nan'):4.0%}), "
            f"warned on mild casts {np.mean([r['warned'] for r in mild]) if mild else float('nan'):4.0%} "
            f"(n={len(mild)}); confidence median strong {np.median([r['confidence'] for r in strong]):.2f}"
        )
    lines.append(
        f"{'':<18} sources: "
        + ", ".join(f"{s} {sum(r['source'] == s for r in rows)}" for s in sorted({r["source"] for r in rows}))
        + f"; estimate time median {1000 * np.median([r['seconds'] for r in rows]):.1f} ms"
    )
    return "\n".join(lines)


def real_photos(n: int, refined: bool = False) -> str:
    import cv2

    paths = sorted(REAL_PHOTOS.glob("*.jpg"))[:n]
    casts, warned, applied = [], [], []
    for path in paths:
        rgb8 = np.ascontiguousarray(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))
        result, _, _ = _auto_estimate(rgb8, refined)
        casts.append(result.details["cast_mired"])
        warned.append(any("colour cast" in w.lower() for w in result.warnings))
        applied.append(bool(result.details["correction_applied"]))
    casts = np.array(casts)
    return (
        f"real photos n={len(paths)}: cast mired median {np.median(casts):+.0f}, "
        f"p10/p90 {np.percentile(casts, 10):+.0f}/{np.percentile(casts, 90):+.0f}; "
        f"warned {np.mean(warned):.0%}, corrected {np.mean(applied):.0%}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Accuracy of the no-reference illuminant estimate.")
    parser.add_argument("--n", type=int, default=60, help="photos per condition and seed (default 60)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1000])
    parser.add_argument("--conditions", nargs="+", default=["cast-no-reference", "neutral"])
    parser.add_argument("--cache", type=Path, default=None, help="keep rendered photos here")
    parser.add_argument("--real", type=int, default=0, help="also run on this many real photos")
    parser.add_argument("--worst", type=int, default=0, help="list the worst photos")
    parser.add_argument("--sweep", action="store_true", help="print the warning trade-off")
    parser.add_argument(
        "--refined", action="store_true", help="the analysis' estimate: re-estimated from the segmented skin"
    )
    args = parser.parse_args(argv)
    for seed in args.seeds:
        by_condition = {}
        for condition in args.conditions:
            rows = []
            by_condition[condition] = rows
            for index in range(args.n):
                row = evaluate(load_photo(condition, index, seed, args.cache), sweep=args.sweep, refined=args.refined)
                row["index"] = index
                rows.append(row)
            print(report(condition, seed, rows), flush=True)
            for r in sorted(rows, key=lambda r: -abs(r["error_mired"]))[: args.worst]:
                print(
                    f"    #{r['index']:<3} {r['cct']:6.0f} K truth {r['truth_mired']:+6.1f} "
                    f"err {r['error_mired']:+6.1f} skin {r['skin_before'] or 0:5.2f}→{r['skin_after'] or 0:5.2f} "
                    f"{r['source']}"
                )
        if args.sweep:
            print(sweep_report(seed, by_condition), flush=True)
    if args.real:
        print(real_photos(args.real, args.refined))
    return 0


if __name__ == "__main__":
    sys.exit(main())
