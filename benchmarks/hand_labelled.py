"""Accuracy on real photos labelled by hand: hair and skin tone against boxes a person drew.

Run from the repository root::

    .venv/bin/python benchmarks/hand_labelled.py                 # the 120 labelled photos, 2 workers
    .venv/bin/python benchmarks/hand_labelled.py --json /tmp/hand.json --overlays /tmp/hand_overlays

The first line printed names the measured code (commit, and any uncommitted changes to
``shade_match/``). It prints numbers and asserts nothing.

What the labels are
-------------------
``benchmarks/hand_labels.json`` holds, for 120 photos of ``/work/shared/real_photos/
hair-loss-train/`` (640×640 phone photos of balding heads, CC BY 4.0; see that folder's
README), boxes ``[x, y, w, h]`` that a person drew by eye, without running the analysis:
inside dense scalp hair ("this is the colour of his hair") and inside bare scalp skin
(not face, ears, neck, glare or deep shadow), or none when there is none to see; and
what the person saw (``hair_kind``, ``skin_kind``). The protocol they followed is in the
file (``protocol``). The photos are a fixed random sample, 24 per view, one copy of each
source photo (the rotated copies are not sampled twice), chosen before any label was
drawn; see ``sample`` in the file. 20 of them were labelled again by someone who saw
neither the first labels nor the analysis (``second_opinion``): the script prints the
spread between the two as the floor under what it measures.

What it measures
----------------
The *truth* of a photo's hair (skin) is the per-channel median CIELAB (D65) of every
pixel in its hair (skin) boxes, converted with :func:`skimage.color.rgb2lab` (an
implementation independent of :mod:`shade_match.colour`). A person reading the photo
sees the photo's own colours, so the truth is taken in the colours the analysis measured:

1. ``--correction none``: the photo's own colours on both sides. This is the
   segmentation's error alone: did the masks find the hair and the skin the person
   marked, and does the robust centre of each agree with what is inside the boxes?
2. ``auto`` (the default a practitioner gets): the boxes are read in the analysis's
   *corrected* image, so the correction's shift counts on neither side; the same
   segmentation question under the default settings.

Each prints, for hair and skin:
- ΔE00 (CIEDE2000, :func:`skimage.color.deltaE_ciede2000`) median / p90 over the photos
  where both the label and the analysis have that tone, and the share within 5 and 10;
- the analysis's median ``confidence`` on the photos within 10 ΔE00 and on those beyond
  (does it tell a failure?);
- presence: the tone reported where the person marked none, and not reported where the
  person marked some;
- whether hair is darker or lighter than skin as the boxes say;
- the median ΔE00 of hair and skin per view named in the file names;
- where the boxes fall in the analysis's masks (:func:`box_placement`): how many photos
  have most of a tone's box outside the scalp, in the hair mask, in the skin mask, or in
  neither, and the median ΔE00 of each group. This tells the segmentation's failures
  (the box outside the scalp or in the other tone's mask) from the estimate's (the box
  inside the right mask, and still a different colour).

The box median is not the analysis's definition of a tone (the purest hair, the skin
near it): a few ΔE00 between the two are expected even for a perfect segmentation, which
is why the share within 10 is printed beside the median. ``--overlays DIR`` writes the
photo with the boxes (hair orange, skin blue) beside the analysis's overlay, for the 12
worst photos.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # real_photos.py, also when imported
from real_photos import VIEWS, _view_of, code_version  # noqa: E402
from shade_match.runtime import THREAD_POOL_VARIABLES as _THREAD_VARIABLES  # noqa: E402

LABELS = REPOSITORY / "benchmarks" / "hand_labels.json"
#: The dataset beside the checkout (as the tests find it), else where the team keeps it.
PHOTOS = next(
    (folder for folder in (REPOSITORY.parent / "shared" / "real_photos" / "hair-loss-train",
                           Path("/work/shared/real_photos/hair-loss-train")) if folder.is_dir()),
    Path("/work/shared/real_photos/hair-loss-train"),
)
#: The correction settings measured (item 1 and 2 of the module docstring).
CORRECTIONS = ("none", "auto")
#: ΔE00 levels whose shares are printed. Choices: 5 is two or three neighbouring shades
#: of the shipped SMP palette (``palettes/smp-carbon-dilution.toml``: neighbours 2.2 ΔE00
#: apart at the median) and under one hair level (``palettes/hair-levels.toml``: 5.7–12.1
#: apart); 10 is more than a hair level.
WITHIN = (5.0, 10.0)
#: How many worst photos get an overlay.
WORST = 12
#: The masks a box's pixels are counted in (:func:`box_placement`), in the order a box
#: is assigned to a group: a box is "in" the first place holding more than half of its
#: pixels (a choice: a majority, so each box has at most one place), else "split".
PLACES = ("outside the scalp", "hair mask", "skin mask", "excluded")


def _box_mask(shape, boxes, scale: float) -> np.ndarray:
    """Union of the boxes (photo pixels) as a mask at the working size (*scale* working
    pixels per photo pixel); boxes are clipped to the frame."""
    mask = np.zeros(shape, dtype=bool)
    for x, y, w, h in boxes:
        x0, y0 = int(round(x * scale)), int(round(y * scale))
        x1, y1 = int(round((x + w) * scale)), int(round((y + h) * scale))
        mask[max(0, y0): max(0, y1), max(0, x0): max(0, x1)] = True
    return mask


def _box_lab(image: np.ndarray, mask: np.ndarray) -> list[float] | None:
    """Per-channel median CIELAB of *image* (sRGB, uint8 or float in [0, 1]) inside *mask*."""
    if not mask.any():
        return None
    pixels = image[mask]
    pixels = pixels.astype(np.float64) / 255.0 if pixels.dtype == np.uint8 else pixels.astype(np.float64)
    lab = rgb2lab(pixels.reshape(-1, 1, 3)).reshape(-1, 3)
    return [float(v) for v in np.median(lab, axis=0)]


def measure_photo(name: str, label: dict) -> dict:
    """Analyse one labelled photo with each of :data:`CORRECTIONS` (runs in a worker)."""
    cv2.setNumThreads(1)
    from shade_match.analysis import AnalysisSettings, inspect_image

    record = {"name": name, "hair_kind": label.get("hair_kind"), "skin_kind": label.get("skin_kind")}
    for method in CORRECTIONS:
        start = time.perf_counter()
        try:
            inspection = inspect_image(PHOTOS / name, settings=AnalysisSettings(correction=method))
        except Exception as error:  # every exception is data here
            record[method] = {"error": f"{type(error).__name__}: {error}"}
            continue
        analysis = inspection.analysis
        image = inspection.rgb if method == "none" else inspection.corrected
        shape = image.shape[:2]
        out = {"seconds": time.perf_counter() - start, "correction": inspection.correction.method}
        for tone in ("hair", "skin"):
            box = _box_mask(shape, label.get(tone) or [], inspection.scale)
            truth = _box_lab(image, box)
            estimate = getattr(analysis, tone)
            out[f"{tone}_true"] = truth
            out[f"{tone}_estimate"] = list(estimate.lab) if estimate is not None else None
            out[f"{tone}_confidence"] = float(estimate.confidence) if estimate is not None else None
            out[f"{tone}_delta_e"] = (
                float(deltaE_ciede2000(np.array(truth), np.array(estimate.lab)))
                if truth is not None and estimate is not None
                else None
            )
            out[f"{tone}_box_in"] = box_placement(box, inspection.segmentation)
        out["warnings"] = list(analysis.warnings)
        record[method] = out
    return record


def box_placement(box: np.ndarray, segmentation) -> dict[str, float] | None:
    """Share of the *box* pixels in each of :data:`PLACES` (None for an empty box).

    The places are exclusive as the segmentation's masks are (hair, skin and excluded
    lie inside the scalp and do not overlap); what is inside the scalp and in none of
    them (the gap kept between hair and skin, unused pixels) is the remainder.
    """
    count = int(np.count_nonzero(box))
    if count == 0:
        return None
    masks = (~segmentation.scalp, segmentation.hair, segmentation.skin, segmentation.excluded)
    return {place: float(np.count_nonzero(box & mask) / count) for place, mask in zip(PLACES, masks)}


def placement_of(shares: dict[str, float]) -> str:
    """The place holding more than half of a box's pixels, else ``"split"``."""
    return next((place for place in PLACES if shares[place] > 0.5), "split")


def _stats(values: list[float]) -> str:
    if not values:
        return "–"
    within = " ".join(f"≤{level:g}: {np.mean(np.array(values) <= level):.0%}" for level in WITHIN)
    return f"{np.median(values):5.2f} / {np.percentile(values, 90):5.2f}  (n={len(values)}, {within})"


def summarise(records: list[dict], labels: dict) -> None:
    for method in CORRECTIONS:
        rows = [r[method] | {"name": r["name"]} for r in records if "error" not in r[method]]
        failed = len(records) - len(rows)
        print(f"\ncorrection {method!r}: {len(rows)} photos analysed, {failed} failed")
        for tone in ("hair", "skin"):
            scored = [(r[f"{tone}_delta_e"], r[f"{tone}_confidence"]) for r in rows if r[f"{tone}_delta_e"] is not None]
            marked = [r for r in rows if labels[r["name"]].get(tone)]
            unmarked = [r for r in rows if not labels[r["name"]].get(tone)]
            missed = sum(r[f"{tone}_estimate"] is None for r in marked)
            spurious = sum(r[f"{tone}_estimate"] is not None for r in unmarked)
            print(f"  {tone}: ΔE00 median / p90 {_stats([d for d, _ in scored])}")
            close = [c for d, c in scored if d <= WITHIN[-1]]
            far = [c for d, c in scored if d > WITHIN[-1]]
            if close and far:
                print(f"        confidence (median): {np.median(close):.2f} within {WITHIN[-1]:g} ΔE00 "
                      f"(n={len(close)}), {np.median(far):.2f} beyond (n={len(far)})")
            print(f"        marked on {len(marked)}, not reported on {missed}; "
                  f"marked none on {len(unmarked)}, reported anyway on {spurious}")
        by_view = []
        for view in VIEWS:
            in_view = [r for r in rows if _view_of(r["name"]) == view]
            medians = []
            for tone in ("hair", "skin"):
                values = [r[f"{tone}_delta_e"] for r in in_view if r[f"{tone}_delta_e"] is not None]
                medians.append(f"{np.median(values):.1f}" if values else "–")
            by_view.append(f"{view} {medians[0]} / {medians[1]}")
        print(f"  median ΔE00 hair / skin by view: {'; '.join(by_view)}")
        for tone in ("hair", "skin"):
            groups = {}
            for r in rows:
                if r.get(f"{tone}_box_in") is not None:
                    groups.setdefault(placement_of(r[f"{tone}_box_in"]), []).append(r[f"{tone}_delta_e"])
            parts = []
            for place in (*PLACES, "split"):
                if place in groups:
                    scored = [d for d in groups[place] if d is not None]
                    median = f", ΔE00 median {np.median(scored):.1f}" if scored else ""
                    parts.append(f"{place} {len(groups[place])}{median}")
            print(f"  {tone} boxes mostly in: {'; '.join(parts)}")
        both = [r for r in rows if r["hair_true"] and r["skin_true"] and r["hair_estimate"] and r["skin_estimate"]]
        order = sum((r["hair_true"][0] < r["skin_true"][0]) == (r["hair_estimate"][0] < r["skin_estimate"][0]) for r in both)
        print(f"  hair darker or lighter than skin as the boxes say: {order} of {len(both)}")


def label_agreement(document: dict) -> None:
    """ΔE00 between two labellers' box medians on the photos both labelled (the
    file's ``second_opinion``), in the photo's own colours: the floor under any error."""
    second = (document.get("second_opinion") or {}).get("photos") or {}
    if not second:
        return
    first = document["photos"]
    values = {"hair": [], "skin": []}
    presence = {"hair": 0, "skin": 0}
    for name, other in second.items():
        image = cv2.imread(str(PHOTOS / name), cv2.IMREAD_COLOR)[..., ::-1]
        for tone in values:
            a = _box_lab(image, _box_mask(image.shape[:2], first[name].get(tone) or [], 1.0))
            b = _box_lab(image, _box_mask(image.shape[:2], other.get(tone) or [], 1.0))
            presence[tone] += (a is None) == (b is None)
            if a is not None and b is not None:
                values[tone].append(float(deltaE_ciede2000(np.array(a), np.array(b))))
    print(f"labels' own spread ({len(second)} photos labelled twice, photo colours):")
    for tone in values:
        print(f"  {tone}: ΔE00 median / p90 {_stats(values[tone])}; "
              f"both or neither marked it on {presence[tone]} of {len(second)}")


def worst(records: list[dict], method: str, count: int) -> list[dict]:
    def badness(r):
        m = r[method]
        if "error" in m:
            return 1e9
        return max(m.get("hair_delta_e") or 0.0, m.get("skin_delta_e") or 0.0)
    return sorted(records, key=badness, reverse=True)[:count]


def write_overlays(records: list[dict], labels: dict, folder: Path) -> None:
    from shade_match.analysis import inspect_image
    from shade_match.overlay import OVERLAY_COLOURS, render_overlay

    folder.mkdir(parents=True, exist_ok=True)
    for rank, record in enumerate(worst(records, "auto", WORST), 1):
        inspection = inspect_image(PHOTOS / record["name"])
        photo = inspection.rgb.copy()
        label = labels[record["name"]]
        for tone in ("hair", "skin"):
            colour = OVERLAY_COLOURS[tone][1]  # the overlay's own colours beside it
            for x, y, w, h in label.get(tone) or []:
                s = inspection.scale
                cv2.rectangle(photo, (round(x * s), round(y * s)), (round((x + w) * s), round((y + h) * s)), colour, 2)
        overlay = render_overlay(inspection.corrected, inspection.segmentation)
        if overlay.dtype != np.uint8:
            overlay = np.clip(overlay * 255 + 0.5, 0, 255).astype(np.uint8)
        out = folder / f"{rank:02d}_{Path(record['name']).stem[:40]}.png"
        cv2.imwrite(str(out), np.hstack([photo, overlay])[..., ::-1])
    print(f"\noverlays of the {WORST} worst photos (auto): {folder}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--labels", type=Path, default=LABELS, help=f"labels file (default {LABELS.name})")
    parser.add_argument("--limit", type=int, metavar="N", help="measure only the first N labelled photos (name order)")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="worker processes (default 2)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the per-photo records here")
    parser.add_argument("--overlays", type=Path, metavar="DIR", help="write overlays of the worst photos here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    document = json.loads(args.labels.read_text(encoding="utf-8"))
    labels = document["photos"]
    missing = [name for name in labels if not (PHOTOS / name).is_file()]
    if missing:
        print(f"expected the labelled photos in {PHOTOS}; {len(missing)} missing, e.g. {missing[0]}", file=sys.stderr)
        return 2
    print(f"code: {code_version()}; labels: {args.labels.name}, {len(labels)} photos")
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = "1"
    start = time.perf_counter()
    names = sorted(labels)[: args.limit]
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        records = list(pool.map(measure_photo, names, [labels[n] for n in names]))
    print(f"{len(records)} photos × {len(CORRECTIONS)} corrections in {time.perf_counter() - start:.0f} s\n")
    label_agreement(document)
    summarise(records, labels)
    print("\nworst photos (auto; ΔE00 hair, skin; box truth → estimate):")
    for record in worst(records, "auto", WORST):
        m = record["auto"]
        if "error" in m:
            print(f"  {record['name'][:30]:30s} error {m['error']}")
            continue
        def text(tone):
            t, e = m[f"{tone}_true"], m[f"{tone}_estimate"]
            fmt = lambda v: "none" if v is None else "(" + ", ".join(f"{x:.0f}" for x in v) + ")"
            d = m[f"{tone}_delta_e"]
            return f"{tone} {'–' if d is None else f'{d:5.1f}'} {fmt(t)} → {fmt(e)}"
        print(f"  {record['name'][:30]:30s} {text('hair')}; {text('skin')}")
    if args.json:
        args.json.write_text(json.dumps({"records": records}, indent=1), encoding="utf-8")
    if args.overlays:
        write_overlays(records, labels, args.overlays)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
