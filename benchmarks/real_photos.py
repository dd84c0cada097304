"""Behaviour on the real photos: crashes, rotation stability, hair found, hair vs skin.

Run from the repository root::

    .venv/bin/python benchmarks/real_photos.py                       # all 1,294 JPEGs, 2 workers
    .venv/bin/python benchmarks/real_photos.py --limit 100 --workers 1
    .venv/bin/python benchmarks/real_photos.py --json /tmp/real_photos.json \\
        --overlays /tmp/real_overlays --pairs-cache /tmp/real_pairs.json

The first line printed names the measured code (commit, and any uncommitted changes to
``shade_match/``). The workers import the package once, when they start, and the
overlays re-run the analysis at the end; while others edit the package, run the script
from a clean clone (``git clone /work/main /tmp/snapshot``, copy this script in, run it
there with the same interpreter) so every number comes from one version.

The photos are those described in ``/work/shared/real_photos/README.md``: 640×640 phone
photos of balding heads (``hair-loss-train/``, CC BY 4.0) and three dermoscopy close-ups
(``dermoscopy/``, MIT). No colour truth comes with them, so this script measures
*behaviour*. It prints numbers and asserts nothing; the issue's requirement is printed
beside each number.

What it measures
----------------
1. **Crashes.** Every photo goes through :func:`shade_match.analysis.inspect_image` with
   default settings, in worker processes (``spawn`` context, chunks of photos). Any
   exception is kept as data (type and message); a refusal on purpose
   (:class:`~shade_match.errors.ShadeMatchError`) is counted apart from anything else.
   *Requirement: no crash on any photo.* "Hair found" and "skin found" are the shares of
   photos whose analysis reports a hair (skin) tone. Time per photo is the wall-clock
   time of the ``inspect_image`` call in its worker (decode included).
2. **Rotated copies.** The dataset holds each source photo up to three times, each with
   a random 90° rotation, re-encoded. Copies are found by content, not by file name
   (the number in a name is not a person id): each photo becomes a 32×32 grey thumbnail
   (area average); the mean absolute difference (MAD, 8-bit codes) between thumbnail
   *a* and ``rot90(b, k)`` is computed for every pair and k = 0…3 in NumPy. A pair is
   accepted when its best MAD is at most :data:`PAIR_MAX_MAD` and the second-best
   rotation is at least :data:`PAIR_MIN_RATIO` times worse. k = 0 pairs turn out to be
   byte-identical files (the augmentation drew the same rotation twice): they test
   determinism, not rotation, and are reported apart.
3. **Agreement of the copies.** For each rotated pair, ΔE00 (CIEDE2000 [1]_, via
   :func:`skimage.color.deltaE_ciede2000`) between the two copies' hair Lab and between
   their skin Lab. A pair where one copy has hair (skin) and the other has not is a
   presence disagreement. *Requirement: hair and skin within ΔE00 1.0 of each other.*
   The worst pairs are ranked by the larger of the two ΔE00 values, a presence
   disagreement ranking above any ΔE00, and only the worst pair of each source photo
   is listed (one odd copy out of three spoils two pairs). The pairs whose two copies
   were *corrected* differently (another method, e.g. a "card" found in one copy only,
   or gains :data:`CORRECTION_GAIN_TOLERANCE` apart, e.g. a no-reference estimate
   applied in one copy and not the other) are counted apart, with their agreement
   beside that of the others: the two causes need different cures. Of the others, the
   pairs whose hair disagrees are split by whether the skin moved too
   (:data:`SKIN_MOVED_DELTA_E`, or skin found in one copy only): then the skin mask
   moved; otherwise the skin held and the hair mask or its unmixing moved (README
   "tried and not kept").
4. **Hair darker than skin.** The share of photos with both tones where hair L* < skin
   L*, overall and per view in the file name (Top-Down, Front, Back, Left, Right), with
   hair found % per view. *Requirement: hair reported where a person sees hair (the
   sides and back of a head nearly always show hair), and darker than skin where a
   person sees dark hair.* No per-photo human label exists, so the per-view numbers
   are the proxy; the overlays are for looking.
5. **Close-ups.** The three dermoscopy photos: hair and skin Lab, hair coverage (hair
   area / scalp area) and the analysis warnings.
6. **Resized copies.** Every photo is also analysed shrunk to each of
   :data:`RESIZE_SCALES` of its size: the pixels :func:`shade_match.io.load_image`
   decodes (those the full-size analysis used), area-averaged (``cv2.INTER_AREA``, as
   a phone or a messaging app downsizes), analysed as an array with default settings.
   ΔE00 between the resized copy's hair (skin) and the full-size photo's, and presence
   disagreements, as for the rotated copies. *Requirement* (the brief: "stable under
   rotation and resize"): none is given in numbers; the rotated copies' ΔE00 1.0 is
   printed as the yardstick. ``--resize-every N`` measures every N-th photo only.
7. ``--overlays DIR`` writes, for the 10 worst rotated pairs, one PNG each: a row per
   copy of photo | :func:`shade_match.overlay.render_overlay` of the corrected image
   (hair orange, skin sky blue, excluded purple, scalp outline yellow). The second copy
   is rotated back onto the first so the rows line up.

References
----------
.. [1] G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula:
   implementation notes, supplementary test data, and mathematical observations",
   Color Research & Application 30(1):21–30, 2005.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))
# Thread pools inside a worker (set before the worker imports NumPy): one thread each,
# so ``--workers`` processes use ``--workers`` cores.
from shade_match.runtime import THREAD_POOL_VARIABLES as _THREAD_VARIABLES  # noqa: E402

REAL_PHOTOS = Path("/work/shared/real_photos")
HAIR_LOSS = REAL_PHOTOS / "hair-loss-train"
DERMOSCOPY = REAL_PHOTOS / "dermoscopy"

#: The views named in the dataset's file names (``12-Top-Down_jpg…``, ``31Front_jpg…``).
VIEWS = ("Top-Down", "Front", "Back", "Left", "Right")
_VIEW_PATTERN = re.compile("|".join(re.escape(view) for view in VIEWS))

#: Side of the grey thumbnails compared to find rotated copies. A choice: 32 px keeps
#: the head's outline and the hairline (enough to tell photos apart) and makes the
#: all-pairs comparison 1,294² × 4 × 1,024 differences, seconds in NumPy.
THUMBNAIL_SIDE = 32
#: Accept a pair when its best thumbnail MAD is at most this many 8-bit codes. Measured
#: on this dataset: rotated copies give 0–2.1 (JPEG re-encoding), distinct photos ≥ 15,
#: nothing in between; 6 sits in the gap.
PAIR_MAX_MAD = 6.0
#: …and the second-best rotation is at least this many times worse (measured: ≥ 16×
#: for every accepted pair), so a near-symmetric head cannot pass at the wrong k.
PAIR_MIN_RATIO = 3.0
#: The issue's requirement for rotated copies, in ΔE00.
DELTA_E_REQUIREMENT = 1.0
#: Two copies count as corrected differently when their correction methods differ or
#: a channel's gain differs by more than this factor. A choice: a 2 % gain moves a skin
#: colour by 0.3–0.8 ΔE00 (three skins, L* 40–80, through shade_match.colour and
#: CIEDE2000), so 4 % is about the requirement's 1 ΔE00 on its own.
CORRECTION_GAIN_TOLERANCE = 1.04
#: Of the pairs corrected alike whose hair disagrees, those whose skin is more than this
#: (ΔE00) apart too are counted apart: their masks moved, not only the hair estimate. A
#: choice: twice the requirement, four times the median skin ΔE00 of all rotated pairs
#: (0.49 on 2026-12-02); below it a skin change could be the light estimate alone.
SKIN_MOVED_DELTA_E = 2.0
#: Scales of the resized copies (item 6). A choice: 0.75 and 0.5 of the dataset's
#: 640 px are 480 and 320 px, the sizes a phone's "medium" and "small" sharing presets
#: and messaging apps make of a photo; below ~300 px a head's hair is no longer
#: resolved even as a texture.
RESIZE_SCALES = (0.75, 0.5)
#: How many worst pairs to list and draw.
WORST_PAIRS = 10
#: Photos handed to a worker at a time: large enough to amortise the inter-process
#: traffic, small enough that both workers stay busy to the end.
CHUNK_SIZE = 8


# --------------------------------------------------------------------------------------
# Per-photo analysis (runs in the workers)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhotoResult:
    """What one analysis gave, as plain values (the ``--json`` records).

    Attributes
    ----------
    name : str
        File name (no folder).
    dataset : {"hair-loss", "dermoscopy"}
    view : str
        One of :data:`VIEWS` from the file name, ``""`` when none is named.
    seconds : float
        Wall-clock time of the ``inspect_image`` call.
    error_type, error_message : str
        The exception's class name and message; ``""`` when the analysis succeeded.
    error_on_purpose : bool
        The exception is a :class:`~shade_match.errors.ShadeMatchError` (a refusal).
    hair_lab, skin_lab : (L*, a*, b*) or None
        The reported tones (``None``: not found or the analysis failed).
    coverage : float or None
        Hair area / scalp area from the segmentation.
    scalp_fraction : float or None
        Scalp area / frame area.
    hair_grey_fraction : float or None
    warnings : tuple of str
    correction_method : str or None
        What the colour correction applied (``"auto"``, ``"grey-card"``, ...).
    correction_gains : (r, g, b) or None
        Its per-channel linear gains (all 1 when the auto estimate kept the camera's
        balance); ``None`` for a correction without diagonal gains (a chart's matrix).
    """

    name: str
    dataset: str
    view: str
    seconds: float
    error_type: str = ""
    error_message: str = ""
    error_on_purpose: bool = False
    hair_lab: tuple[float, float, float] | None = None
    skin_lab: tuple[float, float, float] | None = None
    coverage: float | None = None
    scalp_fraction: float | None = None
    hair_grey_fraction: float | None = None
    warnings: tuple[str, ...] = ()
    correction_method: str | None = None
    correction_gains: tuple[float, float, float] | None = None

    @property
    def failed(self) -> bool:
        return bool(self.error_type)


def _view_of(name: str) -> str:
    match = _VIEW_PATTERN.search(name)
    return match.group(0) if match else ""


def _worker_init() -> None:
    cv2.setNumThreads(1)


def analyse_photo(path: str, pixels: np.ndarray | None = None) -> PhotoResult:
    """Run ``inspect_image`` on one photo (on *pixels* instead of the file when given)
    and keep the outcome, whatever it is."""
    from shade_match.analysis import inspect_image
    from shade_match.errors import ShadeMatchError

    photo = Path(path)
    common = dict(
        name=photo.name,
        dataset="dermoscopy" if photo.parent == DERMOSCOPY else "hair-loss",
        view=_view_of(photo.name),
    )
    start = time.perf_counter()
    try:
        inspection = inspect_image(photo if pixels is None else pixels)
    except Exception as error:  # every exception is data here
        return PhotoResult(
            **common,
            seconds=time.perf_counter() - start,
            error_type=type(error).__name__,
            error_message=str(error),
            error_on_purpose=isinstance(error, ShadeMatchError),
        )
    seconds = time.perf_counter() - start
    analysis, seg = inspection.analysis, inspection.segmentation
    return PhotoResult(
        **common,
        seconds=seconds,
        hair_lab=tuple(analysis.hair.lab) if analysis.hair else None,
        skin_lab=tuple(analysis.skin.lab) if analysis.skin else None,
        coverage=float(seg.coverage),
        scalp_fraction=float(np.mean(seg.scalp)),
        hair_grey_fraction=float(analysis.hair.grey_fraction) if analysis.hair else None,
        warnings=tuple(analysis.warnings),
        correction_method=inspection.correction.method,
        correction_gains=_gains_of(inspection.correction.details),
    )


def analyse_resized(path: str, scale: float) -> PhotoResult:
    """:func:`analyse_photo` of the photo shrunk to *scale* of its size (item 6).

    The name of the result is ``"<file name>@<scale>"``; its time includes the decode
    and the resize."""
    from shade_match.io import load_image

    start = time.perf_counter()
    rgb = load_image(path).rgb
    height, width = rgb.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    result = analyse_photo(path, pixels=resized)
    return PhotoResult(**{**asdict(result), "name": f"{Path(path).name}@{scale:g}",
                          "seconds": time.perf_counter() - start})  # fmt: skip


def _gains_of(details) -> tuple[float, float, float] | None:
    gains = details.get("gains")
    if gains is None or len(gains) != 3:
        return None
    return tuple(float(g) for g in gains)


def _in_workers(function, arguments: list[tuple], workers: int) -> list[PhotoResult]:
    """``function(*a)`` for every tuple *a* of *arguments*, in *workers* spawned
    processes; results in the order of *arguments*."""
    if not arguments:
        return []
    for variable in _THREAD_VARIABLES:  # inherited by the spawned workers
        os.environ.setdefault(variable, "1")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
        return list(pool.map(function, *zip(*arguments), chunksize=CHUNK_SIZE))


def analyse_all(paths: list[Path], workers: int) -> list[PhotoResult]:
    """Analyse *paths* in *workers* spawned processes; results in the order of *paths*."""
    return _in_workers(analyse_photo, [(str(p),) for p in paths], workers)


def analyse_resized_all(paths: list[Path], scales, workers: int) -> list[PhotoResult]:
    """:func:`analyse_resized` of every path at every scale (path-major order)."""
    return _in_workers(analyse_resized, [(str(p), scale) for p in paths for scale in scales], workers)


# --------------------------------------------------------------------------------------
# Rotated copies
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyPair:
    """Two copies of one source photo: ``rot90(second, k)`` ≈ ``first``.

    ``mad`` is the thumbnails' mean absolute difference at that k (8-bit codes);
    ``next_mad`` the same at the second-best k.
    """

    first: str
    second: str
    k: int
    mad: float
    next_mad: float


def grey_thumbnails(paths: list[Path]) -> np.ndarray:
    """Grey thumbnails, shape ``(N, THUMBNAIL_SIDE, THUMBNAIL_SIDE)``, float32 in [0, 255]."""
    size = (THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    thumbnails = [
        # JPEG's own 1/4-scale decode, then an area average down to the thumbnail
        cv2.resize(cv2.imread(str(p), cv2.IMREAD_REDUCED_GRAYSCALE_4), size, interpolation=cv2.INTER_AREA)
        for p in paths
    ]
    return np.stack(thumbnails).astype(np.float32)


def rotation_differences(thumbnails: np.ndarray, block: int = 32) -> np.ndarray:
    """Mean |a − rot90(b, k)| for all thumbnails a, b and k = 0…3.

    Parameters
    ----------
    thumbnails : ndarray, shape (N, S, S)
    block : int
        Rows of *a* compared at once (bounds the memory to ``block × N × S²`` floats).

    Returns
    -------
    ndarray, shape (4, N, N), float32
        ``[k, i, j]`` compares thumbnail *i* with ``rot90(thumbnail j, k)``; the
        diagonal (a photo with itself) is ``inf``.
    """
    count = len(thumbnails)
    flat = thumbnails.reshape(count, -1)
    differences = np.empty((4, count, count), np.float32)
    for k in range(4):
        rotated = np.rot90(thumbnails, k, axes=(1, 2)).reshape(count, -1)
        for start in range(0, count, block):
            rows = flat[start : start + block, None, :]
            differences[k, start : start + block] = np.abs(rows - rotated[None]).mean(axis=2)
    diagonal = np.arange(count)
    differences[:, diagonal, diagonal] = np.inf
    return differences


def find_copy_pairs(paths: list[Path]) -> list[CopyPair]:
    """All pairs of copies among *paths*, each once (``first`` sorts before ``second``)."""
    differences = rotation_differences(grey_thumbnails(paths))
    ordered = np.sort(differences, axis=0)
    best, next_best = ordered[0], ordered[1]
    best_k = np.argmin(differences, axis=0)
    accepted = (best <= PAIR_MAX_MAD) & (next_best >= PAIR_MIN_RATIO * best)
    first, second = np.nonzero(np.triu(accepted, 1))
    return [
        CopyPair(paths[i].name, paths[j].name, int(best_k[i, j]), float(best[i, j]), float(next_best[i, j]))
        for i, j in zip(first, second)
    ]


def load_or_find_pairs(paths: list[Path], cache: Path | None) -> list[CopyPair]:
    """:func:`find_copy_pairs`, read from / written to *cache* (JSON) for the same file list."""
    names = [p.name for p in paths]
    if cache is not None and cache.exists():
        stored = json.loads(cache.read_text())
        if stored.get("files") == names:
            return [CopyPair(**pair) for pair in stored["pairs"]]
    pairs = find_copy_pairs(paths)
    if cache is not None:
        cache.write_text(json.dumps({"files": names, "pairs": [asdict(p) for p in pairs]}))
    return pairs


def hand_listed_pairs_found(pairs: list[CopyPair]) -> tuple[int, int] | None:
    """How many of ``tests/test_real_photos.py``'s hand-listed pairs were found (or None)."""
    try:
        from tests.test_real_photos import ROTATED_PAIRS
    except ImportError:
        return None
    found = {frozenset((p.first, p.second)) for p in pairs}
    return sum(frozenset(pair) in found for pair in ROTATED_PAIRS), len(ROTATED_PAIRS)


# --------------------------------------------------------------------------------------
# Agreement of the copies
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairAgreement:
    """ΔE00 between two copies' tones; ``None`` where either copy lacks that tone."""

    pair: CopyPair
    hair_delta_e: float | None
    skin_delta_e: float | None
    hair_presence_differs: bool
    skin_presence_differs: bool
    correction_differs: bool = False

    @property
    def badness(self) -> float:
        """The ranking key: the larger ΔE00; ``inf`` for a presence disagreement."""
        if self.hair_presence_differs or self.skin_presence_differs:
            return float("inf")
        return max(self.hair_delta_e or 0.0, self.skin_delta_e or 0.0)


def _delta_e(lab_a, lab_b) -> float | None:
    if lab_a is None or lab_b is None:
        return None
    return float(deltaE_ciede2000(np.asarray(lab_a, float), np.asarray(lab_b, float)))


def compare_pairs(pairs: list[CopyPair], results: dict[str, PhotoResult]) -> list[PairAgreement]:
    """ΔE00 of hair and skin for every pair whose two copies were both analysed."""
    agreements = []
    for pair in pairs:
        a, b = results[pair.first], results[pair.second]
        if a.failed or b.failed:
            continue
        agreements.append(PairAgreement(pair=pair, **_tone_comparison(a, b)))
    return agreements


def _tone_comparison(a: PhotoResult, b: PhotoResult) -> dict:
    """The fields two analyses of one scene are compared by (rotated or resized copies)."""
    return dict(
        hair_delta_e=_delta_e(a.hair_lab, b.hair_lab),
        skin_delta_e=_delta_e(a.skin_lab, b.skin_lab),
        hair_presence_differs=(a.hair_lab is None) != (b.hair_lab is None),
        skin_presence_differs=(a.skin_lab is None) != (b.skin_lab is None),
        correction_differs=corrected_differently(a, b),
    )


@dataclass(frozen=True)
class ResizeAgreement:
    """ΔE00 between a resized copy's tones and the full-size photo's (item 6)."""

    name: str
    scale: float
    hair_delta_e: float | None
    skin_delta_e: float | None
    hair_presence_differs: bool
    skin_presence_differs: bool
    correction_differs: bool


def compare_resized(resized: list[PhotoResult], results: dict[str, PhotoResult]) -> list[ResizeAgreement]:
    """One :class:`ResizeAgreement` per resized copy whose photo and copy were both analysed."""
    agreements = []
    for copy in resized:
        name, _, scale = copy.name.rpartition("@")
        full = results.get(name)
        if full is None or full.failed or copy.failed:
            continue
        agreements.append(ResizeAgreement(name=name, scale=float(scale), **_tone_comparison(full, copy)))
    return agreements


def corrected_differently(a: PhotoResult, b: PhotoResult) -> bool:
    """Whether two copies' colour corrections differ (see CORRECTION_GAIN_TOLERANCE)."""
    if a.correction_method != b.correction_method:
        return True
    if a.correction_gains is None or b.correction_gains is None:
        return False
    ratio = np.asarray(a.correction_gains, float) / np.asarray(b.correction_gains, float)
    return bool(np.any(np.maximum(ratio, 1.0 / ratio) > CORRECTION_GAIN_TOLERANCE))


# --------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f} %" if whole else "    – "


def _lab_text(lab) -> str:
    return "–" if lab is None else "({:5.1f}, {:5.1f}, {:5.1f})".format(*lab)


def print_crashes(results: list[PhotoResult], wall_seconds: float, workers: int) -> None:
    failed = [r for r in results if r.failed]
    unexpected = [r for r in failed if not r.error_on_purpose]
    print(f"Photos analysed:  {len(results)}   ({wall_seconds:.0f} s wall clock, {workers} workers)")
    print(f"Crashes:          {len(unexpected)} unexpected exceptions, "
          f"{len(failed) - len(unexpected)} refusals on purpose (ShadeMatchError)"
          "   requirement: none")  # fmt: skip
    for error_type, count in Counter(r.error_type for r in failed).most_common():
        example = next(r for r in failed if r.error_type == error_type)
        print(f"  {error_type} × {count}, e.g. {example.name}: {example.error_message[:200]}")
    hair = sum(r.hair_lab is not None for r in results)
    skin = sum(r.skin_lab is not None for r in results)
    print(f"Hair found:       {_percent(hair, len(results))}  ({hair})")
    print(f"Skin found:       {_percent(skin, len(results))}  ({skin})")
    print(f"Analysis time:    median {statistics.median(r.seconds for r in results):.3f} s per photo")


def _tone_agreement_line(label: str, values: list[float | None], presence_differs: int) -> str:
    measured = np.array([v for v in values if v is not None])
    if not len(measured):
        return f"{label}: no pair with both tones"
    within = int(np.count_nonzero(measured <= DELTA_E_REQUIREMENT))
    return (
        f"{label}: both found {len(measured)}; ΔE00 ≤ {DELTA_E_REQUIREMENT:g}: "
        f"{_percent(within, len(measured))}; median {np.median(measured):.2f}, "
        f"p90 {np.percentile(measured, 90):.2f}, max {measured.max():.2f}; "
        f"presence disagreements {presence_differs}"
    )


def print_pairs(pairs: list[CopyPair], agreements: list[PairAgreement], hand_check, seconds: float) -> None:
    rotated = [p for p in pairs if p.k != 0]
    print(f"\nCopy pairs found by content in {seconds:.1f} s: {len(pairs)} "
          f"({len(rotated)} rotated: k=1 {sum(p.k == 1 for p in pairs)}, k=2 {sum(p.k == 2 for p in pairs)}, "
          f"k=3 {sum(p.k == 3 for p in pairs)}; {len(pairs) - len(rotated)} identical files, k=0)")  # fmt: skip
    if pairs:
        print(f"  thumbnail MAD of accepted pairs ≤ {max(p.mad for p in pairs):.2f} codes; "
              f"their next-best rotation ≥ {min(p.next_mad for p in pairs):.2f}")  # fmt: skip
    if hand_check is not None:
        print(f"  hand-listed pairs of tests/test_real_photos.py found: {hand_check[0]}/{hand_check[1]}")
    for title, subset in (
        ("Rotated copies (k = 1, 2, 3)", [a for a in agreements if a.pair.k != 0]),
        ("Identical files (k = 0; determinism)", [a for a in agreements if a.pair.k == 0]),
    ):
        print(f"{title}: {len(subset)} pairs analysed on both sides"
              f"   requirement: hair and skin ΔE00 ≤ {DELTA_E_REQUIREMENT:g}")  # fmt: skip
        _print_agreement(subset, "  ", "pairs")


def _print_agreement(subset, indent: str, unit: str) -> None:
    """Hair and skin agreement lines, and the split by correction, of *subset*
    (:class:`PairAgreement` or :class:`ResizeAgreement` records)."""
    print(indent + _tone_agreement_line("hair", [a.hair_delta_e for a in subset],
                                        sum(a.hair_presence_differs for a in subset)))  # fmt: skip
    print(indent + _tone_agreement_line("skin", [a.skin_delta_e for a in subset],
                                        sum(a.skin_presence_differs for a in subset)))  # fmt: skip
    differ = [a for a in subset if a.correction_differs]
    same = [a for a in subset if not a.correction_differs]
    if subset:
        print(f"{indent}corrected differently (method, or a gain > {CORRECTION_GAIN_TOLERANCE - 1:.0%} apart): "
              f"{len(differ)} {unit}; within ΔE00 {DELTA_E_REQUIREMENT:g} for hair / skin: "
              f"{_share_within(differ, 'hair_delta_e')} / {_share_within(differ, 'skin_delta_e')} of those, "
              f"{_share_within(same, 'hair_delta_e')} / {_share_within(same, 'skin_delta_e')} of the others")  # fmt: skip
    hair_apart = [a for a in same if a.hair_delta_e is not None and a.hair_delta_e > DELTA_E_REQUIREMENT]
    if hair_apart:
        skin_moved = sum(a.skin_presence_differs or (a.skin_delta_e or 0.0) > SKIN_MOVED_DELTA_E for a in hair_apart)
        print(f"{indent}of the others, hair more than ΔE00 {DELTA_E_REQUIREMENT:g} apart: {len(hair_apart)} {unit}; "
              f"the skin moved too (ΔE00 > {SKIN_MOVED_DELTA_E:g}, or found in one only) in {skin_moved} of them")  # fmt: skip


def print_resized(resized: list[PhotoResult], agreements: list[ResizeAgreement], scales) -> None:
    failed = [r for r in resized if r.failed and not r.error_on_purpose]
    print(f"\nResized copies (area average to {', '.join(f'{s:g}' for s in scales)} of the size), "
          f"against the full-size photo   requirement: stable under resize "
          f"(yardstick: ΔE00 ≤ {DELTA_E_REQUIREMENT:g}, as for rotated copies)")  # fmt: skip
    print(f"  copies analysed: {len(resized)}; unexpected exceptions: {len(failed)}")
    for error_type, count in Counter(r.error_type for r in failed).most_common():
        example = next(r for r in failed if r.error_type == error_type)
        print(f"    {error_type} × {count}, e.g. {example.name}: {example.error_message[:200]}")
    for scale in scales:
        subset = [a for a in agreements if a.scale == scale]
        print(f"  scale {scale:g}: {len(subset)} photos")
        _print_agreement(subset, "    ", "photos")


def _share_within(agreements, field: str) -> str:
    values = [getattr(a, field) for a in agreements if getattr(a, field) is not None]
    return _percent(sum(v <= DELTA_E_REQUIREMENT for v in values), len(values)).strip() if values else "–"


def _delta_e_text(value: float | None, differs: bool) -> str:
    if differs:
        return "presence differs"
    return "–" if value is None else f"{value:.2f}"


def _copy_groups(pairs: list[CopyPair]) -> dict[str, str]:
    """File name → a representative name of its group of copies (connected pairs)."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for pair in pairs:
        parent[root(pair.first)] = root(pair.second)
    return {name: root(name) for name in parent}


def worst_rotated(agreements: list[PairAgreement]) -> list[PairAgreement]:
    """The :data:`WORST_PAIRS` worst rotated pairs, at most one per group of copies.

    A group of three copies has three pairs and one odd copy out spoils two of them;
    keeping the group's worst pair only makes each listed case a different photo.
    """
    groups = _copy_groups([a.pair for a in agreements])
    worst, seen = [], set()
    for a in sorted((a for a in agreements if a.pair.k != 0), key=lambda a: a.badness, reverse=True):
        if groups[a.pair.first] not in seen:
            seen.add(groups[a.pair.first])
            worst.append(a)
    return worst[:WORST_PAIRS]


def print_worst(worst: list[PairAgreement], results: dict[str, PhotoResult]) -> None:
    print(f"\n{len(worst)} worst rotated pairs, one per source photo "
          "(larger ΔE00 of hair and skin; presence disagreements first):")
    for rank, a in enumerate(worst, 1):
        first, second = results[a.pair.first], results[a.pair.second]
        print(f"{rank:3d}. {a.pair.first}  ~  rot90({a.pair.second}, {a.pair.k})")
        print(f"     hair ΔE00 {_delta_e_text(a.hair_delta_e, a.hair_presence_differs)}: "
              f"{_lab_text(first.hair_lab)} vs {_lab_text(second.hair_lab)}; "
              f"skin ΔE00 {_delta_e_text(a.skin_delta_e, a.skin_presence_differs)}: "
              f"{_lab_text(first.skin_lab)} vs {_lab_text(second.skin_lab)}")  # fmt: skip


def print_hair_vs_skin(results: list[PhotoResult]) -> None:
    print("\nHair darker than skin (hair L* < skin L*, photos with both tones)"
          "   requirement: hair found where visible (sides/back nearly always); dark hair darker than skin")  # fmt: skip
    groups = [("all", results)] + [(view, [r for r in results if r.view == view]) for view in VIEWS]
    print(f"  {'view':9s} {'photos':>6s} {'hair found':>10s} {'both tones':>10s} {'hair darker':>11s} {'median L* gap':>13s}")
    for view, group in groups:
        both = [r for r in group if r.hair_lab is not None and r.skin_lab is not None]
        darker = sum(r.hair_lab[0] < r.skin_lab[0] for r in both)
        gap = f"{statistics.median(r.skin_lab[0] - r.hair_lab[0] for r in both):13.1f}" if both else f"{'–':>13s}"
        hair = sum(r.hair_lab is not None for r in group)
        print(f"  {view:9s} {len(group):6d} {_percent(hair, len(group)):>10s} {len(both):10d} "
              f"{_percent(darker, len(both)):>11s} {gap}")  # fmt: skip


def print_close_ups(results: list[PhotoResult]) -> None:
    print("\nDermoscopy close-ups   requirement: strands found, darker than skin")
    for r in results:
        if r.failed:
            print(f"  {r.name}: {r.error_type}: {r.error_message}")
            continue
        print(f"  {r.name}: hair {_lab_text(r.hair_lab)}, skin {_lab_text(r.skin_lab)}, "
              f"coverage {r.coverage:.1%}, {r.seconds:.2f} s")  # fmt: skip
        for warning in r.warnings:
            print(f"      warning: {warning}")


# --------------------------------------------------------------------------------------
# Overlays
# --------------------------------------------------------------------------------------


def _labelled(image: np.ndarray, text: str) -> np.ndarray:
    """*image* with *text* in white on a black band at the top."""
    image = np.ascontiguousarray(image).copy()
    image[:30] = 0
    cv2.putText(image, text, (6, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def _photo_row(path: Path, k: int) -> np.ndarray:
    """Photo | overlay of one copy, rotated by rot90(·, k) to line up with its pair."""
    from shade_match.analysis import inspect_image
    from shade_match.overlay import render_overlay

    inspection = inspect_image(path)
    overlay = render_overlay(inspection.corrected, inspection.segmentation)
    analysis = inspection.analysis
    turn = "as is" if k == 0 else f"rotated back, rot90 k={k}"
    photo = _labelled(np.rot90(inspection.rgb, k), f"{path.name[:40]}... ({turn})")
    hair_lab = analysis.hair.lab if analysis.hair else None
    skin_lab = analysis.skin.lab if analysis.skin else None
    text = f"hair {_lab_text(hair_lab)} skin {_lab_text(skin_lab)}"
    return np.hstack([photo, _labelled(np.rot90(overlay, k), text)])


def write_overlays(worst: list[PairAgreement], folder: Path) -> None:
    """One PNG per pair: a row per copy, photo | overlay (second copy rotated back)."""
    folder.mkdir(parents=True, exist_ok=True)
    for rank, agreement in enumerate(worst, 1):
        pair = agreement.pair
        rows = [_photo_row(HAIR_LOSS / pair.first, 0), _photo_row(HAIR_LOSS / pair.second, pair.k)]
        out = folder / f"{rank:02d}_{pair.first.split('.rf.')[0]}.png"
        cv2.imwrite(str(out), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    print(f"\nOverlays of the {len(worst)} worst pairs written to {folder}")


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def code_version() -> str:
    """The commit of the measured ``shade_match`` and any uncommitted changes to it.

    Other people may edit the package while a long run goes on; this names what the
    workers imported when they started.
    """
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD").strip()
    if not commit:
        return f"{REPOSITORY / 'shade_match'} (not a git checkout)"
    changed = git("status", "--porcelain", "--", "shade_match").splitlines()
    changed_files = ", ".join(line[3:] for line in changed)  # porcelain: "XY path"
    changes = f" + uncommitted changes to {changed_files}" if changed else ", clean"
    return f"shade_match at {commit}{changes} ({REPOSITORY})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring for the definitions of every number printed.",
    )  # fmt: skip
    parser.add_argument("--limit", type=int, metavar="N", help="analyse only the first N photos (file-name order)")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="worker processes (default 2)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write per-photo and per-pair results here")
    parser.add_argument("--pairs-cache", type=Path, metavar="PATH", help="read/write the found copy pairs here")
    parser.add_argument("--overlays", type=Path, metavar="DIR", help="write overlay PNGs of the worst pairs here")
    parser.add_argument("--resize-every", type=int, default=1, metavar="N",
                        help="analyse resized copies of every N-th photo only (default 1: all; 0: none)")  # fmt: skip
    return parser


def _write_json(path: Path, results: list[PhotoResult], agreements: list[PairAgreement],
                resized: list[PhotoResult], resize_agreements: list[ResizeAgreement]) -> None:  # fmt: skip
    payload = {
        "photos": [asdict(r) for r in results], "pairs": [asdict(a) for a in agreements],
        "resized": [asdict(r) for r in resized], "resize_agreements": [asdict(a) for a in resize_agreements],
    }  # fmt: skip
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.workers < 1:
        _parser().error(f"--workers must be ≥ 1; got {args.workers}")
    if args.resize_every < 0:
        _parser().error(f"--resize-every must be ≥ 0; got {args.resize_every}")
    started = time.perf_counter()
    paths = sorted(HAIR_LOSS.glob("*.jpg"))[: args.limit]
    close_ups = sorted(DERMOSCOPY.glob("*.jpg"))
    if not paths:
        print(f"No photos found in {HAIR_LOSS}", file=sys.stderr)
        return 1

    version = code_version()
    all_results = analyse_all(paths + close_ups, args.workers)
    wall = time.perf_counter() - started
    results, close_up_results = all_results[: len(paths)], all_results[len(paths) :]
    by_name = {r.name: r for r in results}

    pairs_started = time.perf_counter()
    pairs = load_or_find_pairs(paths, args.pairs_cache)
    pairs_seconds = time.perf_counter() - pairs_started
    agreements = compare_pairs(pairs, by_name)
    worst = worst_rotated(agreements)
    resize_paths = paths[:: args.resize_every] if args.resize_every else []
    resized = analyse_resized_all(resize_paths, RESIZE_SCALES, args.workers)
    resize_agreements = compare_resized(resized, by_name)

    print(f"Code measured:    {version}")
    print_crashes(results, wall, args.workers)
    print_pairs(pairs, agreements, hand_listed_pairs_found(pairs), pairs_seconds)
    print_worst(worst, by_name)
    print_hair_vs_skin(results)
    print_close_ups(close_up_results)
    if resize_paths:
        print_resized(resized, resize_agreements, RESIZE_SCALES)
    if args.json:
        _write_json(args.json, all_results, agreements, resized, resize_agreements)
        print(f"\nPer-photo results written to {args.json}")
    if args.overlays:
        write_overlays(worst, args.overlays)
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
