"""Scar mode: measure a scar against the skin around it and place a camouflage colour.

SMP camouflages scars (FUT strip scars, FUE dot scars) by placing dots inside the
scar and slightly beyond its edges, with "tones … chosen and diluted to sit between
your hair and skin colour" [R14]_. This module

1. takes the scar region drawn by the practitioner (a mask or a rectangle) or
   suggests one (:func:`suggest_scar_mask`),
2. measures the scar and a ring of skin just around it (:func:`measure_scar`): the
   colour difference (CIEDE2000), lighter or darker, and whether it reads as
   hypo- or hyperpigmented, and
3. places the camouflage target between hair and surrounding skin
   (:func:`scar_camouflage_lab`, blend point :data:`SCAR_BLEND`).

Scar tissue "may not take pigment well, so more sessions may be needed"; scars should
be healed 9–12 months and flat first [R14]_; the measurement says so in its caveats.

References
----------
.. [R14] Research notes §b R14: https://www.smpblends.com/scars-and-transplants ;
   https://www.looknaturalatl.com/services/scar-camouflage/ ;
   https://www.americascalp.com/scarring-fut-fue-hair-transplate/ ;
   https://www.fynessbeauty.com/smp/scarring/
.. [S1] G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula",
   Color Res. Appl. 30(1), 2005 (a JND of about ΔE00 1–2 for surface colours is the
   common reading; see also :data:`shade_match.scales.DELTA_E_READINGS`).
.. [S2] T. S. Huang, G. J. Yang, G. Y. Tang, "A fast two-dimensional median
   filtering algorithm", IEEE Trans. ASSP 27(1), 1979 (median filtering, here via
   ``cv2.medianBlur``, removes structures narrower than half the window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import cv2
import numpy as np

from . import colour
from .errors import AnalysisError, SettingsError
from .results import Lab
from .segmentation import rect_mask

__all__ = [
    "SCAR_BLEND",
    "SIMILAR_DELTA_E",
    "SUGGEST_DELTA_E",
    "RING_GAP_PX",
    "STRAND_FILTER_FRACTION",
    "ScarMeasurement",
    "suggest_scar_mask",
    "measure_scar",
    "scar_camouflage_lab",
    "scar_to_dict",
]

#: Where the camouflage colour sits on the way from surrounding skin (0) to hair (1),
#: interpolated in CIELAB. R14 says only "between your hair and skin colour"; the
#: perceptual midpoint (CIELAB is roughly perceptually uniform) is our **design
#: choice**, the plain reading of "between" with no side favoured.
SCAR_BLEND = 0.5

#: A scar within this ΔE00 of the surrounding skin is called "similar". Design choice
#: at the upper end of the JND range (ΔE00 ≈ 1–2, [S1]_): below it a practitioner
#: would not see the scar's colour, only its texture.
SIMILAR_DELTA_E = 2.0

#: ΔE00 from the local skin above which :func:`suggest_scar_mask` flags a pixel. A
#: design choice: twice :data:`SIMILAR_DELTA_E`, so skin texture and noise (spread of
#: a few ΔE00 on phone photos) rarely pass, while the scars SMP is asked to cover
#: (visibly lighter or darker, R14 "hypo- or hyperpigmented") do.
SUGGEST_DELTA_E = 4.0

#: Gap between the scar edge and the ring of surrounding skin, in pixels: optical blur
#: and JPEG ringing mix the two colours over 1–2 px. Design choice.
RING_GAP_PX = 3

#: Ring width: this many times the scar's thickness, at least :data:`RING_MIN_WIDTH_PX`.
#: Design choice: wide enough to average skin texture, narrow enough that the lighting
#: is the scar's.
RING_WIDTH_PER_THICKNESS = 2.0
RING_MIN_WIDTH_PX = 8

#: Fewest ring pixels accepted before the ring is widened (design choice).
RING_MIN_PIXELS = 200

#: Suggested scars must be at least this elongated (major/minor axis of the
#: component's second moments). FUT strip scars are long thin bands [R14]_
#: (hairlinepros.com: "FUT leaves a linear strip scar"); FUE dot scars must be drawn.
SUGGEST_MIN_ELONGATION = 3.0

#: Window of the median filter that removes hair strands before any colour is
#: taken, as a fraction of the image's short side (odd, at least 3 px). A median
#: removes structures thinner than half its window where they cover less than half
#: of it, and keeps wider bands, so stubble disappears and a scar band stays.
#: Design choice: 1.5 % is 9 px at 640 px, several hair widths at whole-head scale
#: (about 1 px per hair, shared/real_photos/README) and at close-up stubble scale
#: (2–8 px), and narrower than a FUT strip scar (several mm). The segmenter's hair
#: labels are not used for the scar: it can take a scar band for a strand, or a
#: stubble field for a hair region.
STRAND_FILTER_FRACTION = 0.015

#: Smallest suggested scar, as a fraction of the scalp area (design choice: below it
#: a band is a hair parting or a shadow line more often than a scar).
SUGGEST_MIN_AREA_FRACTION = 0.002

#: Half-width of the local skin median's window, as a fraction of the image's short
#: side. Design choice: much wider than a scar band so the scar stays a minority of
#: the window, small enough to follow lighting fall-off across the head.
LOCAL_SKIN_WINDOW_FRACTION = 0.08

CAVEATS = (
    "Scar tissue takes pigment unevenly and may need more sessions than the rest of the "
    "scalp (R14).",
    "The scar should be healed 9–12 months and flat; raised (keloid or hypertrophic) scars "
    "must be flattened first because pigment migrates in them (R14).",
    "Place dots inside the scar and slightly beyond its edges so it blends (R14).",
)


@dataclass(frozen=True)
class ScarMeasurement:
    """A scar measured against the skin around it.

    Attributes
    ----------
    scar_lab, surrounding_lab : Lab
        Robust centre (per-channel median in linear light, on the strand-free image)
        of the scar's inner pixels and of the ring of skin around it, CIELAB D65.
    delta_e : float
        CIEDE2000 between the two.
    lightness_difference : float
        Scar L* − surrounding L* (positive: the scar is lighter).
    appearance : {"lighter", "darker", "similar", "different hue"}
    pigmentation : str
        Practitioner wording: ``"hypopigmented (lighter than the surrounding skin)"``,
        ``"hyperpigmented (darker than the surrounding skin)"``, …
    camouflage_lab : Lab or None
        The camouflage colour between hair and surrounding skin (:data:`SCAR_BLEND`);
        ``None`` when no hair colour was given.
    source : {"mask", "rectangle", "suggested"}
        How the scar region was obtained.
    pixel_count, ring_pixel_count : int
    caveats : tuple of str
    mask : ndarray of bool, shape (H, W)
        The scar region (drawn, found inside the drawn rectangle, or suggested), for
        overlays; not serialised.
    """

    scar_lab: Lab
    scar_hex: str
    surrounding_lab: Lab
    surrounding_hex: str
    delta_e: float
    lightness_difference: float
    appearance: str
    pigmentation: str
    camouflage_lab: Lab | None
    camouflage_hex: str | None
    camouflage_explanation: str
    source: str
    pixel_count: int
    ring_pixel_count: int
    caveats: tuple[str, ...] = CAVEATS
    mask: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]


# --- helpers ---------------------------------------------------------------------------------


def _check_image(rgb: np.ndarray) -> np.ndarray:
    array = np.asarray(rgb)
    if array.ndim != 3 or array.shape[2] != 3:
        raise SettingsError(f"rgb must be an (H, W, 3) image; got shape {array.shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255.0)
    if array.dtype.kind != "f":
        raise SettingsError(f"rgb must be float32 sRGB in [0, 1] or uint8; got dtype {array.dtype}")
    return np.clip(array, 0.0, 1.0).astype(np.float32, copy=False)


def _check_mask(mask, shape, name: str) -> np.ndarray:
    array = np.asarray(mask)
    if array.shape != tuple(shape):
        raise SettingsError(f"{name} must have shape {tuple(shape)} (the image's); got {array.shape}")
    if array.dtype != bool:
        raise SettingsError(f"{name} must be a bool mask; got dtype {array.dtype}")
    return array


def _usable(seg) -> np.ndarray:
    """Pixels a colour may be measured on: not excluded (glare, shadow) nor reference."""
    usable = ~np.asarray(seg.excluded, bool)
    reference = getattr(seg, "reference", None)
    if reference is not None:
        usable &= ~np.asarray(reference, bool)
    return usable


def _strand_free(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """The image median-filtered with a :data:`STRAND_FILTER_FRACTION` window, and the window."""
    window = max(3, int(round(STRAND_FILTER_FRACTION * min(rgb.shape[:2]))) | 1)
    rgb8 = np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
    filtered = cv2.medianBlur(rgb8, window)
    return filtered.astype(np.float32) / np.float32(255.0), window


def _median_lab(rgb: np.ndarray, mask: np.ndarray) -> Lab:
    """Per-channel median in linear light over ``mask``, converted exactly to CIELAB."""
    linear = colour.srgb_to_linear(rgb[mask].astype(np.float64))
    centre = np.median(linear, axis=0)
    lab = colour.srgb_to_lab(colour.linear_to_srgb(centre))
    return tuple(float(v) for v in lab)  # type: ignore[return-value]


def _thickness_px(mask: np.ndarray) -> float:
    """Typical scar thickness: twice the 90th percentile of the inside distance to the edge."""
    padded = np.pad(mask.astype(np.uint8), 1)
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    inside = distance[mask]
    return float(2.0 * np.percentile(inside, 90)) if inside.size else 0.0


def scar_camouflage_lab(
    hair_lab: Sequence[float], skin_lab: Sequence[float], blend: float = SCAR_BLEND
) -> Lab:
    """The scar camouflage colour: ``skin + blend · (hair − skin)`` in CIELAB.

    Parameters
    ----------
    hair_lab, skin_lab : sequence of 3 floats
        Hair colour (or the plan's shaved-look target) and the skin around the scar.
    blend : float in [0, 1]
        0 = skin, 1 = hair; default :data:`SCAR_BLEND` (R14 "between your hair and skin").

    Returns
    -------
    Lab
    """
    if not 0.0 <= blend <= 1.0:
        raise SettingsError(f"blend must be within [0, 1]; got {blend!r}")
    hair = np.asarray(hair_lab, float).reshape(3)
    skin = np.asarray(skin_lab, float).reshape(3)
    return tuple(float(v) for v in skin + blend * (hair - skin))  # type: ignore[return-value]


# --- suggestion --------------------------------------------------------------------------------


#: Short side at which the local skin median is computed (speed; the median is smooth).
_REFERENCE_SIDE = 160


def _local_skin_median(strand_free: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Local skin colour: a wide median [S2]_ of the strand-free image over the candidates.

    Pixels outside ``candidates`` are first set to the candidates' overall median
    (so the background does not bleed in at the scalp's edge); the window is
    ``2 · LOCAL_SKIN_WINDOW_FRACTION`` of the short side, run at ``_REFERENCE_SIDE``
    px for speed. A median ignores a scar band and leftover hair that cover less than
    half of its window, where a mean would be pulled by them.
    """
    shape = candidates.shape
    rgb8 = np.clip(np.rint(strand_free * 255.0), 0, 255).astype(np.uint8)
    fill = np.median(rgb8[candidates], axis=0).astype(np.uint8)
    filled = np.where(candidates[..., None], rgb8, fill)
    factor = min(1.0, _REFERENCE_SIDE / min(shape))
    small_size = (max(1, round(shape[1] * factor)), max(1, round(shape[0] * factor)))
    small = cv2.resize(filled, small_size, interpolation=cv2.INTER_AREA)
    window = max(3, int(round(2 * LOCAL_SKIN_WINDOW_FRACTION * min(small.shape[:2]))) | 1)
    reference = cv2.medianBlur(small, window)
    reference = cv2.resize(reference, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return reference.astype(np.float32) / np.float32(255.0)


def _difference_from_local_skin(strand_free: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Candidate pixels whose ΔE00 to the local skin median exceeds :data:`SUGGEST_DELTA_E`.

    Computed at a short side of at most ``_FLAG_SIDE`` px (speed: CIEDE2000 per pixel is
    the costly step) and brought back to full size; a scar band stays several pixels
    wide there.
    """
    shape = candidates.shape
    factor = min(1.0, _FLAG_SIDE / min(shape))
    if factor < 1.0:
        size = (max(1, round(shape[1] * factor)), max(1, round(shape[0] * factor)))
        small_rgb = cv2.resize(strand_free, size, interpolation=cv2.INTER_AREA)
        small_candidates = cv2.resize(candidates.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    else:
        small_rgb, small_candidates = strand_free, candidates
    if not small_candidates.any():
        return np.zeros(shape, bool)
    reference = _local_skin_median(small_rgb, small_candidates)
    lab = colour.image_to_lab_fast(small_rgb)
    reference_lab = colour.image_to_lab_fast(reference)
    difference = np.zeros(small_candidates.shape, np.float32)
    difference[small_candidates] = colour.delta_e(
        lab[small_candidates], reference_lab[small_candidates]
    ).astype(np.float32)
    flagged = (difference > SUGGEST_DELTA_E).astype(np.uint8)
    if factor < 1.0:
        flagged = cv2.resize(flagged, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return candidates & flagged.astype(bool)


#: Short side at which pixels are compared with the local skin (speed; design choice).
_FLAG_SIDE = 360


def suggest_scar_mask(rgb: np.ndarray, seg) -> np.ndarray:
    """Suggest a linear scar: an elongated band of scalp that differs from the local skin.

    1. Remove hair strands with a median filter (:data:`STRAND_FILTER_FRACTION`):
       strands are thinner than a scar band.
    2. Flag scalp pixels (not glare/shadow/reference) whose ΔE00 to the local skin
       (a wide median of the surrounding scalp, window 2 × :data:`LOCAL_SKIN_WINDOW_FRACTION`
       of the short side) exceeds :data:`SUGGEST_DELTA_E`.
    3. Keep the largest connected component (after an opening by a disc as wide as
       the strand filter, which removes leftover hair clumps) that is at least
       :data:`SUGGEST_MIN_ELONGATION` elongated and :data:`SUGGEST_MIN_AREA_FRACTION`
       of the scalp.

    FUE dot scars are not elongated and are not suggested: draw them. Under dense
    hair (strands over more than half the skin) the median keeps the hair and
    nothing is suggested. The result is a suggestion to accept or redraw.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), float32 sRGB in [0, 1] (or uint8)
    seg : Segmentation

    Returns
    -------
    ndarray of bool, shape (H, W)
        Empty when nothing scar-like was found.
    """
    rgb_f = _check_image(rgb)
    shape = rgb_f.shape[:2]
    scalp = _check_mask(seg.scalp, shape, "seg.scalp")
    candidates = scalp & _usable(seg)
    empty = np.zeros(shape, bool)
    if np.count_nonzero(candidates) < 100:
        return empty
    strand_free, window = _strand_free(rgb_f)
    flagged = _difference_from_local_skin(strand_free, candidates)
    # Opening by a disc as wide as the strand filter: hair clumps the median kept are
    # narrower than that, a scar band is wider.
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (window, window))
    cleaned = cv2.morphologyEx(flagged.astype(np.uint8), cv2.MORPH_OPEN, disc)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cleaned, connectivity=8)
    min_area = SUGGEST_MIN_AREA_FRACTION * int(np.count_nonzero(scalp))
    best, best_area = 0, 0
    for index in range(1, count):
        area = int(stats[index, cv2.CC_STAT_AREA])
        if area < min_area or area <= best_area:
            continue
        ys, xs = np.nonzero(labels == index)
        covariance = np.cov(np.stack([xs, ys]).astype(np.float64))
        eigen = np.sort(np.linalg.eigvalsh(covariance))
        elongation = float(np.sqrt(eigen[1] / max(eigen[0], 1e-6)))
        if elongation >= SUGGEST_MIN_ELONGATION:
            best, best_area = index, area
    return labels == best if best else empty


# --- measurement --------------------------------------------------------------------------------


def measure_scar(
    rgb: np.ndarray,
    seg,
    scar_mask: np.ndarray | tuple[int, int, int, int] | None = None,
    *,
    hair_lab: Sequence[float] | None = None,
) -> ScarMeasurement:
    """Measure a scar against a ring of skin around it.

    Colours are taken from the strand-free (median-filtered, see
    :data:`STRAND_FILTER_FRACTION`) image, so stubble crossing the scar or the ring
    does not bias them; glare, deep shadow and reference pixels are left out.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), float32 sRGB in [0, 1] (or uint8)
        The colour-corrected working image.
    seg : Segmentation
        Its masks (``scalp``, ``excluded``, ``reference`` are used).
    scar_mask : bool ndarray (H, W), or (x, y, w, h), or None
        The scar drawn by the practitioner: a mask, or a rectangle around it (then
        the scar is the part of the rectangle that differs from the local skin by more
        than :data:`SUGGEST_DELTA_E`, or the whole rectangle if under a tenth of it
        does). ``None``: :func:`suggest_scar_mask`.
    hair_lab : sequence of 3 floats, optional
        Hair colour (or the plan's shaved-look target) for the camouflage colour.

    Returns
    -------
    ScarMeasurement

    Raises
    ------
    SettingsError
        A mask of the wrong shape/type or a rectangle outside the image.
    AnalysisError
        No scar found (suggestion) or no measurable scar / skin pixels.
    """
    rgb_f = _check_image(rgb)
    shape = rgb_f.shape[:2]
    scalp = _check_mask(seg.scalp, shape, "seg.scalp")
    usable = _usable(seg)
    strand_free, window = _strand_free(rgb_f)
    if scar_mask is None:
        region = suggest_scar_mask(rgb_f, seg)
        source = "suggested"
        if not region.any():
            raise AnalysisError(
                "no scar found: expected a hairless band that differs from the surrounding skin "
                f"by more than ΔE00 {SUGGEST_DELTA_E:g}; draw the scar (mask or rectangle) instead"
            )
    elif isinstance(scar_mask, np.ndarray) and scar_mask.ndim == 2:
        region = _check_mask(scar_mask, shape, "scar_mask")
        source = "mask"
    else:
        rectangle = rect_mask(shape, scar_mask, "scar rectangle")
        source = "rectangle"
        flagged = _difference_from_local_skin(strand_free, scalp & usable)
        inside = rectangle & flagged
        region = inside if np.count_nonzero(inside) >= 0.1 * np.count_nonzero(rectangle) else rectangle

    scar_pixels = region & usable
    # Leave out the scar's edge, where the median window and blur mix scar and skin.
    inner = cv2.erode(scar_pixels.astype(np.uint8), np.ones((window, window), np.uint8)).astype(bool)
    if np.count_nonzero(inner) >= 10:
        scar_pixels = inner
    if np.count_nonzero(scar_pixels) < 10:
        raise AnalysisError(
            f"scar region has {int(np.count_nonzero(scar_pixels))} usable pixels (not glare, "
            "shadow or reference); at least 10 are needed — draw the scar larger"
        )
    thickness = _thickness_px(region)
    outside = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 5)
    gap = RING_GAP_PX + window // 2 + 1
    skin_like = scalp & usable & ~region
    width = max(RING_MIN_WIDTH_PX, RING_WIDTH_PER_THICKNESS * thickness)
    ring = np.zeros(shape, bool)
    for _ in range(4):  # widen until enough skin is found
        ring = skin_like & (outside > gap) & (outside <= gap + width)
        if np.count_nonzero(ring) >= RING_MIN_PIXELS:
            break
        width *= 2
    if np.count_nonzero(ring) < 10:
        raise AnalysisError(
            "no skin found around the scar: expected scalp within "
            f"{gap + width:.0f} px of it; got {int(np.count_nonzero(ring))} pixels"
        )

    scar_lab = _median_lab(strand_free, scar_pixels)
    surrounding_lab = _median_lab(strand_free, ring)
    delta = float(colour.delta_e(scar_lab, surrounding_lab))
    lightness_difference = scar_lab[0] - surrounding_lab[0]
    appearance, pigmentation = _describe(delta, lightness_difference, scar_lab, surrounding_lab)

    camouflage = None
    explanation = (
        "No hair colour given: the camouflage colour needs one (it sits between hair and skin, R14)."
    )
    if hair_lab is not None:
        camouflage = scar_camouflage_lab(hair_lab, surrounding_lab)
        explanation = (
            f"Camouflage colour halfway (in CIELAB, blend {SCAR_BLEND:g}) between the hair colour "
            "and the skin around the scar: R14 'tones chosen and diluted to sit between your hair "
            "and skin colour'. The halfway point is shade-match's choice."
        )
    return ScarMeasurement(
        scar_lab=scar_lab,
        scar_hex=colour.lab_to_hex(scar_lab),
        surrounding_lab=surrounding_lab,
        surrounding_hex=colour.lab_to_hex(surrounding_lab),
        delta_e=delta,
        lightness_difference=float(lightness_difference),
        appearance=appearance,
        pigmentation=pigmentation,
        camouflage_lab=camouflage,
        camouflage_hex=colour.lab_to_hex(camouflage) if camouflage is not None else None,
        camouflage_explanation=explanation,
        source=source,
        pixel_count=int(np.count_nonzero(scar_pixels)),
        ring_pixel_count=int(np.count_nonzero(ring)),
        mask=region,
    )


def _describe(delta: float, lightness_difference: float, scar_lab: Lab, skin_lab: Lab) -> tuple[str, str]:
    """Wording. Lighter/darker needs |ΔL*| ≥ 1 (design choice: ~half a JND of lightness)."""
    if delta < SIMILAR_DELTA_E:
        return "similar", "similar to the surrounding skin"
    if lightness_difference >= 1.0:
        return "lighter", "hypopigmented (lighter than the surrounding skin)"
    if lightness_difference <= -1.0:
        return "darker", "hyperpigmented (darker than the surrounding skin)"
    redder = scar_lab[1] - skin_lab[1]
    hue = "redder/pinker" if redder > 0 else "less red"
    return "different hue", f"same lightness as the surrounding skin but {hue}"


def scar_to_dict(scar: ScarMeasurement) -> dict[str, Any]:
    """JSON-able dict of a :class:`ScarMeasurement` (without the mask)."""
    data: dict[str, Any] = {}
    for name in ScarMeasurement.__dataclass_fields__:
        if name == "mask":
            continue
        value = getattr(scar, name)
        if isinstance(value, tuple):
            value = [round(v, 4) if isinstance(v, float) else v for v in value]
        elif isinstance(value, float):
            value = round(value, 4)
        data[name] = value
    return data
