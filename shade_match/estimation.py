"""Robust tone centres of the hair and skin pixels: colour, spread, confidence.

How a centre is computed (:func:`estimate_tone`)
------------------------------------------------
1. The pixels' CIELAB (OpenCV float32, within ~0.2 ΔE00 of exact — fine for *choosing*
   pixels) gives a per-channel **median** and a robust spread, the scaled median
   absolute deviation ``1.4826·MAD`` (a consistent estimator of σ for normal data;
   Rousseeuw & Croux 1993 [1]_).
2. **Inliers** are the pixels within :data:`INLIER_RADIUS` robust standard deviations of
   the median (a normalised distance over L*, a*, b*). This drops what the masks let
   through by mistake: pores, specks of glare, the odd strand edge.
3. The centre is the **mean of the inliers in linear-light sRGB**, converted exactly to
   CIELAB D65 with :mod:`shade_match.colour`. Averaging in linear light is what
   light does: a patch of mixed pixels seen from a distance, or through the eye's
   own blur, reaches the eye as the average of their *radiances*, not of their L*
   values. So the reported colour is the colour a person sees over that area, once the
   outliers are removed.

Hair is a mixture (the subtle part)
-----------------------------------
The hair mask at region scale (a whole head at 640 px) holds pixels that are part
strand, part skin, and even close-ups have strand edges; salt-and-pepper hair mixes
pigmented and grey strands in one pixel. The truth an SMP practitioner needs is the
colour of the *pigmented* strands (grey is handled by dilution, research R13), so
:func:`estimate_hair` unmixes (when skin was measured):

1. **Endmembers** (:func:`_hair_endmembers`): the hair pixels farthest from the skin,
   and those farthest from the line through skin and that first extreme. Two distinct
   hair materials with the lighter one grey/white are *grey* and *pigmented* hair;
   otherwise one hair colour. This is the pure-pixel idea of linear spectral
   unmixing (N-FINDR, Winter 1999 [4]_) reduced to at most three materials.
2. **Shares**: each pixel's share α of pigmented hair (and γ of grey) is solved by
   least squares in *linear* light, where partial coverage mixes colours linearly.
   ``grey_fraction`` is the share of hair pixels with γ > α.
3. **Purest peak** (:func:`_purest`): pure strands scatter symmetrically around their
   own α (the half-sample mode) while mixed pixels trail towards the skin and the
   grey; the trail beyond :data:`HAIR_CORE_SIGMAS` is dropped. With sub-pixel strands
   (no peak of pure pixels) the more pigmented half (:data:`PURE_EXTREME_SHARE`) is used.

Its ``lab`` is the hair's own colour, not the average of the hair *region*; the
region's coverage is reported separately (``Segmentation.coverage``). A head gone
entirely grey/white has that as its hair colour (``grey_fraction`` 1).

Confidence (a documented number, not "100 − ΔE")
-----------------------------------------------
``confidence = count_factor × stability × homogeneity``, each in [0, 1]:

* ``count_factor = 1 − exp(−n / CONFIDENCE_PIXELS_SCALE)`` — a handful of pixels
  cannot be trusted whatever they say;
* ``stability = 1 − clip(p90 ΔE00 of bootstrap centres / CONFIDENCE_STABILITY_DE, 0, 1)``
  — :data:`BOOTSTRAP_ROUNDS` resamples (with replacement) of up to
  :data:`BOOTSTRAP_MAX_PIXELS` pixels; the 90th percentile of their ΔE00 to the centre;
* ``homogeneity = 1 / (1 + (s / CONFIDENCE_SPREAD_SCALE)²)`` with ``s`` the Euclidean
  norm of the robust spread (L*, a*, b*): a bimodal or smeared set of pixels (two
  colours mixed by the mask) has a large spread and a low confidence even when many
  pixels make its centre statistically stable.

References
----------
.. [1] P. J. Rousseeuw, C. Croux, "Alternatives to the median absolute deviation",
   J. Am. Stat. Assoc. 88(424):1273–1283, 1993.
.. [2] G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula",
   Color Res. Appl. 30(1):21–30, 2005.
.. [3] D. R. Bickel, R. Frühwirth, "On a fast, robust estimator of the mode",
   Computational Statistics & Data Analysis 50(12):3500–3530, 2006.
.. [4] M. E. Winter, "N-FINDR: an algorithm for fast autonomous spectral end-member
   determination in hyperspectral data", Proc. SPIE 3753:266–275, 1999.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import colour
from .errors import SettingsError
from .segmentation import GREY_HAIR_MAX_CHROMA, GREY_HAIR_MIN_L, Segmentation

__all__ = [
    "ToneEstimate",
    "estimate_tone",
    "estimate_hair",
    "estimate_skin",
    "grey_hair_mask",
]

#: 1.4826 · MAD estimates σ of normally distributed data (Rousseeuw & Croux 1993).
MAD_TO_SIGMA = 1.4826
#: Inliers lie within this many robust σ of the median (normalised Lab distance). A
#: choice: 2.5σ keeps ~96 % of a 3-D normal cloud and drops gross outliers.
INLIER_RADIUS = 2.5
#: Robust σ is floored at this (Lab units) so that a very flat, noise-free region does
#: not reject its own pixels for differences below 8-bit quantisation (~0.4 L*).
SPREAD_FLOOR = 0.75
#: Fewer pixels than this: no estimate (None). A choice: below ~50 pixels a mask of a
#: 640 px photo is a speck, and its median moves by whole ΔE units.
MIN_PIXELS = 50
#: Above this many pixels a deterministic subsample is used (speed). The centre's
#: standard error is already far below 0.1 ΔE there: on the 12 MP benchmark photo the
#: hair centre moves 0.13 ΔE00 and the skin's not at all against 100 000 pixels.
MAX_PIXELS = 20_000
#: Confidence: pixels-count scale, bootstrap settings, stability and spread scales.
#: Choices: 200 pixels give 63 % of the count factor; ΔE00 = 2 between resampled
#: centres is about two just-noticeable differences (Sharma et al. 2005 [2]_ treat
#: ΔE00 ≈ 1 as a JND); a spread norm of 12 Lab units halves the confidence.
CONFIDENCE_PIXELS_SCALE = 200.0
BOOTSTRAP_ROUNDS = 20
BOOTSTRAP_MAX_PIXELS = 1000
CONFIDENCE_STABILITY_DE = 2.0
CONFIDENCE_SPREAD_SCALE = 12.0
#: Hair core: keep pigmented-hair pixels within this many σ (of the pure pixels' share
#: α) below the purest peak — see _purest. A choice: 2.5σ keeps 99 % of pure pixels
#: while a strand-edge pixel half mixed with skin lies far beyond.
HAIR_CORE_SIGMAS = 2.5
#: Only unmix when hair and skin medians differ by at least this (ΔE*ab); a choice:
#: below ~3 JND the mixing geometry is mostly noise and would bias the centre.
HAIR_CORE_MIN_SEPARATION = 8.0
#: Endmembers are the medians of this share of the hair pixels at an extreme (farthest
#: from the skin; farthest from the skin–first-endmember line). A choice: 5 % is
#: enough pixels for a stable median (≥ 10 are required) and few enough to stay at
#: the extreme where pixels are least mixed.
ENDMEMBER_EXTREME_SHARE = 0.05
#: A second hair material (grey strands beside pigmented ones) must lie at least this
#: far (ΔE*ab) off the skin–first-endmember line. A choice: ~4 JND, more than the
#: per-strand colour jitter of one hair colour.
ENDMEMBER_MIN_SEPARATION = 10.0
#: The purest peak must hold this share of the hair pixels to be trusted; otherwise
#: the top PURE_EXTREME_SHARE by pigmented share are used. Choices: with resolved
#: strands most hair pixels are pure (the peak holds > 30 %); with sub-pixel strands
#: almost none are, and no pixel shows the strand's own colour.
#:
#: PURE_EXTREME_SHARE is then the more pigmented half (α at or above its median), a
#: choice made on measurements (README, "Measured", 2026-12-02 evening). It was the
#: most pigmented tenth. On real photos that tail is the hair's shadows, not purer
#: strands: α measures darkness along the skin-to-hair line, and hair shades other
#: hair. This path is taken mostly where a grey endmember was found and no peak.
#:
#: Measured on 120 hand-labelled dataset photos (``benchmarks/hand_labelled.py``,
#: ``auto``):
#:
#: * 17 take this path; hair better by > 3 ΔE00 on 11 of them, worse on 4;
#: * hair median 8.48 → 7.54 ΔE00 against the box medians;
#: * a tenth → a quarter → a half → three quarters → all gave 8.48 → 8.44 → 7.54 →
#:   7.04 → 6.78: the boxes are dense hair as seen, lit and shaded.
#:
#: Rotated copies of the dataset within ΔE00 1 for hair: 63.6 → 64.6 % (p90 7.8 → 6.0).
#: On the renders, whose truth is the strand's pigment, 69 and 66 of 1,000 analyses
#: take this path. Hair better / worse by > 3 ΔE00: 26 / 23 (seed 0) and 16 / 29 (seed
#: 1000); no median moved by more than 0.15. The better ones mostly have few or no
#: grey strands (true grey < 0.3: 24 of 26 and 14 of 16), so their grey endmember was
#: false, as on the real photos. The worse ones are mostly salt-and-pepper (grey ≥ 0.3:
#: 18 of 23 and 18 of 29), where the half takes in grey and skin (seed 0 neutral 19:
#: 26.6 → 40.2). All pixels made the renders' p90 worse (grey
#: card 25.9 → 31.2), so a half, not more.
PURE_PEAK_MIN_SHARE = 0.1
PURE_EXTREME_SHARE = 0.5
#: Histogram of α: bin width, and the least height (share of the tallest peak) of the
#: peak taken as the pure strands. Choices: 0.02 resolves peaks a tenth of the
#: skin-to-hair distance apart; a quarter of the tallest ignores noise wiggles
#: while a pure-strand peak beside a larger mixture peak still counts.
PURITY_BIN = 0.02
PURE_PEAK_MIN_HEIGHT = 0.25
#: Half-width (α units) of the window in which the histogram's peak is refined by the
#: half-sample mode. A choice: three bins, the histogram's own smoothing reach.
PEAK_REFINE_WINDOW = 0.06
#: ... and it must stand out: a choice, half its height above the valley below it
#: (a gently rising histogram is a continuum of mixtures, not a population).
PURE_PEAK_MIN_PROMINENCE = 0.5
#: Floor of the pure peak's σ of α (share units), so that a noise-free render keeps
#: its own pure pixels. A choice: 1 % of the skin-to-hair distance.
PURITY_SIGMA_FLOOR = 0.01
#: Grey strands are lighter than the skin by at least this (L*). A choice: ~2 JND.
GREY_ABOVE_SKIN_L = 5.0
#: Seed of the bootstrap's random generator: the confidence is reproducible.
BOOTSTRAP_SEED = 20240617


@dataclass(frozen=True)
class ToneEstimate:
    """Robust colour of one set of pixels.

    Attributes
    ----------
    lab : (L, a, b)
        Robust centre, CIELAB D65 / 2° (exact conversion, see the module docstring).
    spread : (L, a, b)
        Robust spread (1.4826·MAD) of L*, a*, b* over the pixels used.
    pixel_count : int
        Number of pixels the centre stands for: the inliers (of a sample of at most
        :data:`MAX_PIXELS`, scaled back by the sampling stride).
    confidence : float
        0–1, ``count_factor × stability × homogeneity`` (module docstring).
    grey_fraction : float
        For hair: share of hair pixels that are grey/white (C* < 12 and L* > 45,
        see :func:`grey_hair_mask`); 0 for skin.
    """

    lab: tuple[float, float, float]
    spread: tuple[float, float, float]
    pixel_count: int
    confidence: float
    grey_fraction: float = 0.0


def _pixels_of(rgb: np.ndarray, mask: np.ndarray, limit: int | None = None) -> np.ndarray:
    """The (N, 3) float32 pixels of *rgb* under *mask*; about *limit* of them at most,
    taken on a lattice symmetric under 90° rotations (the centre of more pixels is no
    steadier, and a rotated photo is measured on the same pixels)."""
    rgb = np.asarray(rgb)
    mask = np.asarray(mask, dtype=bool)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or mask.shape != rgb.shape[:2]:
        raise SettingsError(
            f"rgb must be (H, W, 3) and the mask (H, W) of the same size; got rgb {rgb.shape} "
            f"and mask {mask.shape}"
        )
    count = int(np.count_nonzero(mask))
    if limit is not None and count > limit:
        sampled = mask & _symmetric_lattice(mask.shape, int(np.ceil(np.sqrt(count / limit))))
        if np.count_nonzero(sampled) >= MIN_PIXELS:
            mask = sampled
    index = np.flatnonzero(mask)
    return np.ascontiguousarray(np.take(rgb.reshape(-1, 3), index, axis=0), dtype=np.float32)


def _symmetric_lattice(shape, step: int) -> np.ndarray:
    """Pixels whose distances to the nearest left/right and top/bottom edges are both
    multiples of *step*: a subsample that 90° rotations and flips map onto itself, so a
    rotated photo is measured on the same pixels."""
    height, width = shape
    columns = np.minimum(np.arange(width), width - 1 - np.arange(width)) % step == 0
    rows = np.minimum(np.arange(height), height - 1 - np.arange(height)) % step == 0
    return rows[:, None] & columns[None, :]


def _fast_lab(pixels_rgb: np.ndarray) -> np.ndarray:
    """OpenCV float32 sRGB → CIELAB of an (N, 3) array (for selecting pixels only)."""
    return cv2.cvtColor(pixels_rgb.reshape(-1, 1, 3), cv2.COLOR_RGB2Lab).reshape(-1, 3)


def _subsample(pixels: np.ndarray, limit: int) -> np.ndarray:
    """Every k-th pixel, at most *limit* of them (a centre of more is no steadier)."""
    if len(pixels) <= limit:
        return pixels
    step = len(pixels) / limit
    return pixels[(np.arange(limit) * step).astype(np.int64)]


def _inliers(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inliers of CIELAB pixels ``lab`` (rounds, n, 3), per round: within INLIER_RADIUS
    robust standard deviations (MAD about the median, floored at SPREAD_FLOOR) of the
    median, or the nearer half when fewer than a tenth (≥ 10) are. Returns the inlier
    mask (rounds, n) and the per-channel spread (rounds, 3)."""
    median = np.median(lab, axis=1, keepdims=True)
    spread = MAD_TO_SIGMA * np.median(np.abs(lab - median), axis=1, keepdims=True)
    scale = np.maximum(spread, SPREAD_FLOOR)
    distance = np.sqrt((((lab - median) / scale) ** 2).sum(axis=2))  # (rounds, n)
    inliers = distance <= INLIER_RADIUS
    too_few = inliers.sum(axis=1) < max(10, lab.shape[1] // 10)
    if too_few.any():
        halves = np.quantile(distance[too_few], 0.5, axis=1, keepdims=True)
        inliers[too_few] = distance[too_few] <= halves
    return inliers, spread[:, 0, :]


def _robust_centre(pixels_rgb: np.ndarray, pixels_lab: np.ndarray):
    inliers, spread = _inliers(pixels_lab[None])
    inliers, spread = inliers[0], spread[0]
    linear = colour.srgb_to_linear(pixels_rgb[inliers].astype(np.float64))
    return linear.mean(axis=0), inliers, spread


def _robust_centres_batch(linear: np.ndarray, lab: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """:func:`_robust_centre` of every resample ``picks[k]`` at once (the same
    :func:`_inliers`): linear-light means of the inliers, shape (rounds, 3)."""
    inliers, _ = _inliers(lab[picks])
    weights = inliers.astype(np.float64)
    return np.einsum("kn,knc->kc", weights, linear[picks]) / weights.sum(axis=1, keepdims=True)


def _linear_to_lab(linear_rgb: np.ndarray) -> np.ndarray:
    return colour.xyz_to_lab(colour.linear_srgb_to_xyz(np.asarray(linear_rgb, dtype=np.float64)))


def _confidence(pixels_lab: np.ndarray, pixels_rgb: np.ndarray, centre_lab, spread, n_used: int) -> float:
    count_factor = 1.0 - np.exp(-n_used / CONFIDENCE_PIXELS_SCALE)
    sample_rgb = _subsample(pixels_rgb, BOOTSTRAP_MAX_PIXELS)
    sample_lab = _fast_lab(sample_rgb)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = np.stack([rng.integers(0, len(sample_rgb), len(sample_rgb)) for _ in range(BOOTSTRAP_ROUNDS)])
    centres = _robust_centres_batch(colour.srgb_to_linear(sample_rgb.astype(np.float64)), sample_lab, picks)
    boot_lab = _linear_to_lab(centres)
    boot_de = colour.delta_e(boot_lab, np.broadcast_to(np.asarray(centre_lab), boot_lab.shape))
    # The bootstrap ran on at most BOOTSTRAP_MAX_PIXELS pixels; scale its spread to
    # the full count (standard error ∝ 1/√n).
    shrink = np.sqrt(len(sample_rgb) / max(n_used, len(sample_rgb)))
    stability = 1.0 - np.clip(np.quantile(boot_de, 0.9) * shrink / CONFIDENCE_STABILITY_DE, 0.0, 1.0)
    homogeneity = 1.0 / (1.0 + (float(np.linalg.norm(spread)) / CONFIDENCE_SPREAD_SCALE) ** 2)
    return float(np.clip(count_factor * stability * homogeneity, 0.0, 1.0))


def estimate_tone(rgb: np.ndarray, mask: np.ndarray, *, grey_fraction: float = 0.0) -> ToneEstimate | None:
    """Robust CIELAB centre, spread and confidence of the pixels under *mask*.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), float
        sRGB-encoded image in [0, 1].
    mask : ndarray of bool, shape (H, W)
        Pixels to measure.
    grey_fraction : float, optional
        Stored as is in the result (hair only).

    Returns
    -------
    ToneEstimate or None
        None when fewer than :data:`MIN_PIXELS` pixels are selected.
    """
    pixels_rgb = _pixels_of(rgb, mask, MAX_PIXELS)
    if len(pixels_rgb) < MIN_PIXELS:
        return None
    sampling = np.count_nonzero(mask) / len(pixels_rgb)
    return _tone_of_pixels(pixels_rgb, _fast_lab(pixels_rgb), grey_fraction, sampling)


def _tone_of_pixels(pixels_rgb, pixels_lab, grey_fraction: float, sampling: float = 1.0) -> ToneEstimate | None:
    if len(pixels_rgb) < MIN_PIXELS:
        return None
    linear, inliers, spread = _robust_centre(pixels_rgb, pixels_lab)
    centre_lab = _linear_to_lab(linear)
    # Pixels represented: the inliers of the sample times the sampling stride.
    n_used = int(round(np.count_nonzero(inliers) * sampling))
    confidence = _confidence(pixels_lab, pixels_rgb, centre_lab, spread, n_used)
    return ToneEstimate(
        lab=tuple(float(v) for v in centre_lab),
        spread=tuple(float(v) for v in spread),
        pixel_count=n_used,
        confidence=confidence,
        grey_fraction=float(grey_fraction),
    )


def grey_hair_mask(pixels_lab: np.ndarray, skin_lab=None) -> np.ndarray:
    """Which of the (N, 3) CIELAB hair pixels are grey/white.

    Grey/white: C* < 12 and L* > 45 (see
    :data:`~shade_match.segmentation.GREY_HAIR_MAX_CHROMA`) and, when the skin colour
    *skin_lab* is known, lighter than the skin by :data:`GREY_ABOVE_SKIN_L` — a pixel
    mixing dark hair with skin is also greyish but *darker* than the skin.
    """
    pixels_lab = np.asarray(pixels_lab)
    chroma = np.hypot(pixels_lab[:, 1], pixels_lab[:, 2])
    grey = (chroma < GREY_HAIR_MAX_CHROMA) & (pixels_lab[:, 0] > GREY_HAIR_MIN_L)
    if skin_lab is not None:
        grey &= pixels_lab[:, 0] > float(skin_lab[0]) + GREY_ABOVE_SKIN_L
    return grey


def _half_sample_mode(values: np.ndarray) -> float:
    """Half-sample mode of 1-D data (Bickel & Frühwirth 2006 [3]_): repeatedly keep
    the densest half (the shortest interval holding half the points)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    while len(x) > 3:
        half = (len(x) + 1) // 2
        widths = x[half - 1 :] - x[: len(x) - half + 1]
        start = int(np.argmin(widths))
        x = x[start : start + half]
    return float(np.median(x))


def _is_grey_lab(lab) -> bool:
    """One CIELAB colour is grey/white hair by the rule of :func:`grey_hair_mask`."""
    return bool(np.hypot(lab[1], lab[2]) < GREY_HAIR_MAX_CHROMA and lab[0] > GREY_HAIR_MIN_L)


def _extreme_index(score: np.ndarray) -> np.ndarray:
    """Indices of the :data:`ENDMEMBER_EXTREME_SHARE` highest scores (at least 10)."""
    k = min(len(score), max(10, int(len(score) * ENDMEMBER_EXTREME_SHARE)))
    return np.argpartition(-score, k - 1)[:k]


@dataclass(frozen=True)
class _Endmembers:
    """Linear-sRGB colours of the pure materials the hair pixels mix (module docstring)."""

    skin: np.ndarray
    pigmented: np.ndarray
    grey: np.ndarray | None  # None: no grey strands beside pigmented ones


def _hair_endmembers(hair_lab, hair_linear, skin_lab, skin_linear) -> _Endmembers:
    """Skin, pigmented-hair and (if present) grey-hair endmembers of the hair pixels.

    The first extreme is the set of hair pixels farthest (CIELAB) from the skin; the
    second the set farthest from the line through the skin and the first. When the
    second lies at least :data:`ENDMEMBER_MIN_SEPARATION` off that line and exactly one
    of the two is grey/white, the hair holds two materials: that one is the grey hair
    and the other the pigmented hair (grey strands may be lighter or darker than a
    light blond). Otherwise the two are shades of one hair colour and the farthest from
    the skin stands for it.
    """
    relative = hair_lab - skin_lab
    first = _extreme_index(np.linalg.norm(relative, axis=1))
    first_lab = np.median(hair_lab[first], axis=0)
    first_linear = np.median(hair_linear[first], axis=0)
    axis = first_lab - skin_lab
    axis /= max(float(np.linalg.norm(axis)), 1e-6)
    off_line = relative - np.outer(relative @ axis, axis)
    second = _extreme_index(np.linalg.norm(off_line, axis=1))
    second_lab = np.median(hair_lab[second], axis=0)
    second_offset = second_lab - skin_lab
    if np.linalg.norm(second_offset - (second_offset @ axis) * axis) >= ENDMEMBER_MIN_SEPARATION:
        second_linear = np.median(hair_linear[second], axis=0)
        first_grey, second_grey = _is_grey_lab(first_lab), _is_grey_lab(second_lab)
        if first_grey and not second_grey:
            return _Endmembers(skin_linear, second_linear, first_linear)
        if second_grey and not first_grey:
            return _Endmembers(skin_linear, first_linear, second_linear)
    return _Endmembers(skin_linear, first_linear, None)


def _mixing_coefficients(linear: np.ndarray, ends: _Endmembers) -> np.ndarray:
    """Least-squares shares of the pigmented (column 0) and grey (column 1) endmembers
    in each pixel, from ``pixel = skin + α (pigmented − skin) + γ (grey − skin)`` in
    linear light (where coverage mixes colours linearly)."""
    columns = [ends.pigmented - ends.skin]
    if ends.grey is not None:
        columns.append(ends.grey - ends.skin)
    basis = np.stack(columns, axis=1)
    # The pseudo-inverse with lstsq's default cut-off (eps · max(M, N)): the same
    # least-squares solution, one small matrix product instead of an SVD per call.
    solve = np.linalg.pinv(basis, rcond=np.finfo(np.float64).eps * max(basis.shape))
    coefficients = solve @ (linear - ends.skin).T
    if ends.grey is None:
        coefficients = np.vstack([coefficients, np.zeros_like(coefficients)])
    return coefficients.T


def _purest_peak(alpha: np.ndarray) -> float | None:
    """Position of the most pigmented peak of the α histogram.

    A histogram of α (bins of :data:`PURITY_BIN`, smoothed by a Gaussian of two bins)
    has a peak for every population of pixels: pure strands, grey strands, a common
    mixture. Of the peaks at α ≥ 0.5 (pixels mostly pigmented hair), the one at the
    highest α whose height is at least :data:`PURE_PEAK_MIN_HEIGHT` of the tallest of
    them is the pure pigmented strands, when it rises at least
    :data:`PURE_PEAK_MIN_PROMINENCE` of its height above the lowest point between it
    and α = 0.5; None when there is no such peak.
    """
    edges = np.arange(-0.5, 1.5 + PURITY_BIN, PURITY_BIN)
    counts, _ = np.histogram(alpha, bins=edges)
    smooth = cv2.GaussianBlur(counts.astype(np.float64).reshape(1, -1), (0, 0), 2.0).ravel()
    inner = smooth[1:-1]
    peaks = np.flatnonzero((inner >= smooth[:-2]) & (inner > smooth[2:])) + 1
    centres = 0.5 * (edges[:-1] + edges[1:])
    peaks = peaks[centres[peaks] >= 0.5]
    if len(peaks) == 0:
        return None
    peaks = peaks[smooth[peaks] >= PURE_PEAK_MIN_HEIGHT * smooth[peaks].max()]
    peak = int(peaks.max())
    valley = float(smooth[np.searchsorted(centres, 0.5) : peak + 1].min())
    if valley > (1.0 - PURE_PEAK_MIN_PROMINENCE) * smooth[peak]:
        return None  # a continuum of mixtures, no population of pure strands
    return float(centres[peak])


def _purest(alpha: np.ndarray, with_grey: bool) -> np.ndarray:
    """The pixels of the purest pigmented-hair peak (module docstring).

    The pure strands' position is the most pigmented peak of α (:func:`_purest_peak`);
    its spread σ is read from the far side of the peak (where no mixture lies) and
    pixels within :data:`HAIR_CORE_SIGMAS` σ below it are kept. Without a distinct
    peak, one hair colour mixed with skin only (*with_grey* False) takes the
    half-sample mode of α ≥ 0.5 as the peak (pure pixels of a varied hair colour
    spread out but stay the densest); with grey strands, or when the core holds fewer
    than :data:`PURE_PEAK_MIN_SHARE` of the hair pixels (sub-pixel strands or dense
    salt-and-pepper hair: nearly every pixel is a mixture), the top
    :data:`PURE_EXTREME_SHARE` by α (the more pigmented half) stand for the strand
    colour instead.
    """
    peak = _purest_peak(alpha)
    if peak is None and with_grey:
        return alpha >= np.quantile(alpha, 1.0 - PURE_EXTREME_SHARE)
    if peak is None:
        mostly = alpha >= 0.5
        peak = _half_sample_mode(alpha[mostly] if np.count_nonzero(mostly) >= MIN_PIXELS else alpha)
    else:
        # The histogram locates the peak to a bin or two; its half-sample mode within
        # ± PEAK_REFINE_WINDOW places it exactly (pure dark hair on light skin is a
        # peak far narrower than a bin, and a bin of mixtures beside it costs L*).
        near = np.abs(alpha - peak) <= PEAK_REFINE_WINDOW
        if np.count_nonzero(near) >= MIN_PIXELS:
            peak = _half_sample_mode(alpha[near])
    far_side = alpha[alpha >= peak] - peak
    # The far side is half-normal about the peak: its median is 0.6745 σ = σ / 1.4826.
    sigma = max(MAD_TO_SIGMA * float(np.median(far_side)) if len(far_side) else 0.0, PURITY_SIGMA_FLOOR)
    core = alpha >= peak - HAIR_CORE_SIGMAS * sigma
    if np.count_nonzero(core) < max(MIN_PIXELS, PURE_PEAK_MIN_SHARE * len(alpha)):
        core = alpha >= np.quantile(alpha, 1.0 - PURE_EXTREME_SHARE)
    return core


def _check_segmentation(rgb, seg) -> None:
    if not isinstance(seg, Segmentation):
        raise SettingsError(f"seg must be a Segmentation; got {type(seg).__name__}")
    if np.asarray(rgb).shape[:2] != seg.hair.shape:
        raise SettingsError(
            f"rgb {np.asarray(rgb).shape[:2]} and the segmentation {seg.hair.shape} differ in size"
        )


def estimate_skin(rgb: np.ndarray, seg: Segmentation) -> ToneEstimate | None:
    """Robust skin tone over ``seg.skin`` (None when fewer than MIN_PIXELS pixels)."""
    _check_segmentation(rgb, seg)
    return estimate_tone(rgb, seg.skin)


def estimate_hair(rgb: np.ndarray, seg: Segmentation) -> ToneEstimate | None:
    """Robust colour of the purest pigmented hair in ``seg.hair``; None when there is no hair.

    With skin measured, the hair pixels are unmixed (module docstring, "Hair is a
    mixture"): endmembers skin / pigmented / grey are found, every pixel's share of
    each is solved in linear light, ``grey_fraction`` is the share of hair pixels that
    are more grey than pigmented, and the centre is that of the purest pigmented pixels.
    When only grey/white hair is seen, it is the hair colour and ``grey_fraction`` is
    the share of grey/white pixels. Without a skin measurement the robust centre of all
    hair pixels is returned.
    """
    _check_segmentation(rgb, seg)
    hair_rgb = _pixels_of(rgb, seg.hair, MAX_PIXELS)
    if len(hair_rgb) < MIN_PIXELS:
        return None
    sampling = np.count_nonzero(seg.hair) / len(hair_rgb)
    hair_lab = _fast_lab(hair_rgb)
    skin_rgb = _pixels_of(rgb, seg.skin, 20_000)
    if len(skin_rgb) < MIN_PIXELS:
        grey_fraction = float(np.count_nonzero(grey_hair_mask(hair_lab)) / len(hair_lab))
        return _tone_of_pixels(hair_rgb, hair_lab, grey_fraction, sampling)
    skin_lab = np.median(_fast_lab(skin_rgb), axis=0)
    if np.linalg.norm(np.median(hair_lab, axis=0) - skin_lab) < HAIR_CORE_MIN_SEPARATION:
        # Hair of the skin's own colour: nothing to unmix against.
        grey_fraction = float(np.count_nonzero(grey_hair_mask(hair_lab, skin_lab)) / len(hair_lab))
        return _tone_of_pixels(hair_rgb, hair_lab, grey_fraction, sampling)
    hair_linear = colour.srgb_to_linear(hair_rgb.astype(np.float64))
    skin_linear = np.median(colour.srgb_to_linear(skin_rgb.astype(np.float64)), axis=0)
    ends = _hair_endmembers(hair_lab, hair_linear, skin_lab, skin_linear)
    shares = _mixing_coefficients(hair_linear, ends)
    if ends.grey is not None:
        grey_fraction = float(np.mean(shares[:, 1] > shares[:, 0]))
    elif _is_grey_lab(_linear_to_lab(ends.pigmented)):
        grey_fraction = 1.0  # the hair has gone grey/white: it is the hair colour
    else:
        grey_fraction = float(np.count_nonzero(grey_hair_mask(hair_lab, skin_lab)) / len(hair_lab))
    core = _purest(shares[:, 0], with_grey=ends.grey is not None)
    if np.count_nonzero(core) < MIN_PIXELS:
        core = np.ones(len(hair_lab), bool)
    return _tone_of_pixels(hair_rgb[core], hair_lab[core], grey_fraction, sampling)
