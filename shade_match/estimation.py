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
strand, part skin, and even close-ups have strand edges. The truth an SMP practitioner
needs is the strand colour. :func:`estimate_hair` therefore measures the **purest**
hair pixels (when skin was measured): projected on the skin → hair direction, pure hair
pixels scatter symmetrically about the hair's own position (the half-sample mode) and
mixed ones trail towards the skin; the trail beyond :data:`HAIR_CORE_SIGMAS` is dropped. Its ``lab`` is the hair
cluster's own colour, not the average of the hair *region*; the region's coverage is
reported separately (``Segmentation.coverage``). Grey and white strands are counted by
``grey_fraction`` and, when pigmented strands are also present, left out of the hair
colour (SMP matches the pigmented hair; grey is handled by dilution, research R13).

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
#: Above this many pixels a deterministic subsample is used (speed; the centre's
#: standard error is already far below 0.1 ΔE there).
MAX_PIXELS = 100_000
#: Confidence: pixels-count scale, bootstrap settings, stability and spread scales.
#: Choices: 200 pixels give 63 % of the count factor; ΔE00 = 2 between resampled
#: centres is about two just-noticeable differences (Sharma et al. 2005 [2]_ treat
#: ΔE00 ≈ 1 as a JND); a spread norm of 12 Lab units halves the confidence.
CONFIDENCE_PIXELS_SCALE = 200.0
BOOTSTRAP_ROUNDS = 20
BOOTSTRAP_MAX_PIXELS = 1000
CONFIDENCE_STABILITY_DE = 2.0
CONFIDENCE_SPREAD_SCALE = 12.0
#: Hair core: drop hair pixels more than this many σ (of the pure hair pixels) from the
#: hair's own position towards the skin — see _hair_core. A choice: 2.5σ keeps 99 % of
#: pure pixels while a strand-edge pixel half mixed with skin lies far beyond.
HAIR_CORE_SIGMAS = 2.5
#: Only look for a core when hair and skin medians differ by at least this (ΔE*ab); a
#: choice: below ~3 JND the projection is mostly noise and would bias the centre.
HAIR_CORE_MIN_SEPARATION = 8.0
#: Pigmented hair is measured alone when it is at least this share of the hair pixels.
#: A choice: below it the pigmented strands are too few to be the client's hair colour
#: (the head has gone grey) and the grey/white strands are the hair colour.
PIGMENTED_MIN_FRACTION = 0.2
#: The pigmented (non-grey) hair pixels must differ from the skin by at least this
#: (ΔE*ab) to be the hair colour when grey pixels are also present; otherwise they are
#: edges of grey strands mixed with skin. A choice: ~4 JND.
PIGMENTED_MIN_SEPARATION = 10.0
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
    """The (N, 3) float32 pixels of *rgb* under *mask*; at most *limit* of them, taken at
    an even stride in raster order (the centre of more pixels is no steadier)."""
    rgb = np.asarray(rgb)
    mask = np.asarray(mask, dtype=bool)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or mask.shape != rgb.shape[:2]:
        raise SettingsError(
            f"rgb must be (H, W, 3) and the mask (H, W) of the same size; got rgb {rgb.shape} "
            f"and mask {mask.shape}"
        )
    index = np.flatnonzero(mask)
    if limit is not None and len(index) > limit:
        index = index[:: int(np.ceil(len(index) / limit))]
    return np.ascontiguousarray(rgb.reshape(-1, 3)[index], dtype=np.float32)


def _fast_lab(pixels_rgb: np.ndarray) -> np.ndarray:
    """OpenCV float32 sRGB → CIELAB of an (N, 3) array (for selecting pixels only)."""
    return cv2.cvtColor(pixels_rgb.reshape(-1, 1, 3), cv2.COLOR_RGB2Lab).reshape(-1, 3)


def _subsample(pixels: np.ndarray, limit: int) -> np.ndarray:
    """Every k-th pixel, at most *limit* of them (a centre of more is no steadier)."""
    if len(pixels) <= limit:
        return pixels
    step = len(pixels) / limit
    return pixels[(np.arange(limit) * step).astype(np.int64)]


def _robust_centre(pixels_rgb: np.ndarray, pixels_lab: np.ndarray):
    median = np.median(pixels_lab, axis=0)
    spread = MAD_TO_SIGMA * np.median(np.abs(pixels_lab - median), axis=0)
    scale = np.maximum(spread, SPREAD_FLOOR)
    distance = np.sqrt((((pixels_lab - median) / scale) ** 2).sum(axis=1))
    inliers = distance <= INLIER_RADIUS
    if np.count_nonzero(inliers) < max(10, len(pixels_lab) // 10):
        inliers = distance <= np.quantile(distance, 0.5)
    linear = colour.srgb_to_linear(pixels_rgb[inliers].astype(np.float64))
    return linear.mean(axis=0), inliers, spread


def _linear_to_lab(linear_rgb: np.ndarray) -> np.ndarray:
    return colour.xyz_to_lab(colour.linear_srgb_to_xyz(np.asarray(linear_rgb, dtype=np.float64)))


def _confidence(pixels_lab: np.ndarray, pixels_rgb: np.ndarray, centre_lab, spread, n_used: int) -> float:
    count_factor = 1.0 - np.exp(-n_used / CONFIDENCE_PIXELS_SCALE)
    sample_rgb = _subsample(pixels_rgb, BOOTSTRAP_MAX_PIXELS)
    sample_lab = _fast_lab(sample_rgb)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    centres = []
    for _ in range(BOOTSTRAP_ROUNDS):
        pick = rng.integers(0, len(sample_rgb), len(sample_rgb))
        linear, _, _ = _robust_centre(sample_rgb[pick], sample_lab[pick])
        centres.append(linear)
    boot_lab = _linear_to_lab(np.asarray(centres))
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


def _hair_core(hair_lab: np.ndarray, skin_lab: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The hair pixels that are not mixed with skin (module docstring).

    Each pixel is projected on the skin → hair direction. Pure hair pixels scatter
    symmetrically around the hair's own position (the half-sample mode of the
    projections); pixels mixed with skin trail off towards the skin. The spread of the
    pure pixels is read from the far side of the mode only (where no mixture lies),
    and pixels more than HAIR_CORE_SIGMAS of it on the skin side are dropped. With no
    mixture nothing (beyond noise tails) is dropped, so the centre is not biased.
    """
    projection = (hair_lab - skin_lab) @ direction
    mode = _half_sample_mode(projection)
    far_side = projection[projection >= mode] - mode
    # The far side is half-normal about the mode: its median is 0.6745 σ = σ / 1.4826.
    sigma = MAD_TO_SIGMA * float(np.median(far_side)) if len(far_side) else 0.0
    sigma = max(sigma, SPREAD_FLOOR)
    return projection >= mode - HAIR_CORE_SIGMAS * sigma


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
    """Robust hair tone over the purest pixels of ``seg.hair``; None when there is no hair.

    ``grey_fraction`` is the share of *all* hair pixels that are grey/white. When the
    pigmented pixels are at least :data:`PIGMENTED_MIN_FRACTION` of the hair, the centre
    is theirs alone; otherwise (the hair has gone grey) it is the grey pixels'. Then the
    hair core is kept (module docstring) before the robust centre.
    """
    _check_segmentation(rgb, seg)
    hair_rgb = _pixels_of(rgb, seg.hair, MAX_PIXELS)
    if len(hair_rgb) < MIN_PIXELS:
        return None
    sampling = np.count_nonzero(seg.hair) / len(hair_rgb)
    hair_lab = _fast_lab(hair_rgb)
    skin_rgb = _pixels_of(rgb, seg.skin, 20_000)
    skin_median = np.median(_fast_lab(skin_rgb), axis=0) if len(skin_rgb) >= MIN_PIXELS else None
    grey = grey_hair_mask(hair_lab, skin_lab=skin_median)
    grey_fraction = float(np.count_nonzero(grey) / len(hair_lab))

    pigmented = ~grey
    use_pigmented = np.count_nonzero(pigmented) >= max(MIN_PIXELS, PIGMENTED_MIN_FRACTION * len(hair_lab))
    if use_pigmented and skin_median is not None and np.count_nonzero(grey) >= MIN_PIXELS:
        # Grey/white strands on skin leave strand-edge pixels that are neither grey
        # nor hair: a "pigmented" set that is really skin is not the hair colour.
        pigmented_median = np.median(hair_lab[pigmented], axis=0)
        if np.linalg.norm(pigmented_median - skin_median) < PIGMENTED_MIN_SEPARATION:
            use_pigmented = False
    if use_pigmented:
        hair_rgb, hair_lab = hair_rgb[pigmented], hair_lab[pigmented]
    elif np.count_nonzero(grey) >= MIN_PIXELS:
        hair_rgb, hair_lab = hair_rgb[grey], hair_lab[grey]

    if skin_median is not None:
        hair_median = np.median(hair_lab, axis=0)
        axis = hair_median - skin_median
        separation = float(np.linalg.norm(axis))
        if separation >= HAIR_CORE_MIN_SEPARATION:
            core = _hair_core(hair_lab, skin_median, axis / separation)
            if np.count_nonzero(core) >= MIN_PIXELS:
                hair_rgb, hair_lab = hair_rgb[core], hair_lab[core]
    return _tone_of_pixels(hair_rgb, hair_lab, grey_fraction, sampling)
