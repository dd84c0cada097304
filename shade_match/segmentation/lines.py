"""Steps 1–4 of the segmentation: line detectors (black-/white-hat of L*), strand seeds
(elongated components), polarity resolution, and the texture-energy thresholds and
pooling.

The references ([1]_–[6]_) are those of the package docstring (:mod:`shade_match.segmentation`).
"""

from __future__ import annotations

import cv2
import numpy as np

from .geometry import _as_uint8, _components_in_bounds, _disc, _paint
from .pixels import _sample


# --------------------------------------------------------------------------------------
# Thresholds. Each is a design choice (there is no published value for scalp photos);
# the comment says why, and the tests pin the behaviour it buys.
# --------------------------------------------------------------------------------------

#: Disc diameters (px) of the black-/white-hat at the detector resolution, and at half
#: that resolution (for strands up to ~16 px wide). A strand is found when it is
#: narrower than the disc; 3–17 px covers 640 px whole-head photos (hairs ≈ 1 px) to
#: close-ups (hairs several px wide, e.g. the dermoscopy photos).
LINE_DISCS_FULL = (3, 5, 9)
LINE_DISCS_HALF = (9, 17)

#: A dark line is a hair seed when it is at least this many L* units darker than its
#: closing: about 2.5 just-noticeable differences (ΔE*ab ≈ 2.3, Mahy et al. 1994 [4])
#: and above the 8-bit/JPEG noise of phone photos (≈ 1–2 L*).
DARK_LINE_MIN_CONTRAST = 6.0
#: Light (grey/white/blond) lines need more contrast: skin sheen and sebum give
#: thin bright specks of 3–6 L* on bald scalps (seen on the dataset photos).
LIGHT_LINE_MIN_CONTRAST = 8.0

#: A component of line pixels counts as strand-like when (bounding-box extent)² / area
#: is at least this (a straight line of length ℓ and width w gives ℓ/w along an axis and
#: ℓ/(2w) on the diagonal; a disc gives 1.27). 3 keeps lines ≥ ~6× longer than wide.
STRAND_ELONGATION_MIN = 3.0
#: ... and spans at least this many pixels (shorter specks are noise or pores).
STRAND_EXTENT_MIN_PX = 5
#: A component spanning at least this fraction of the image's long side is a network of
#: crossing strands (dense hair), kept whatever its elongation: no pore, freckle or
#: noise speck is that large, and a glare blob gives no line response inside.
STRAND_NETWORK_FRACTION = 0.1

#: Gaussian sigma (in px at SCALP_MASK_SIDE) of the texture-energy pooling window. A
#: choice: ~1 % of the image, so a hair region is a region and a single strand is not.
TEXTURE_SIGMA_SMALL_PX = 2.5

#: Texture energy (mean line contrast, L* units) above which a region is hair-textured.
#: Read off texture maps of three dataset photos (a bald crown, an afro, grey hair):
#: smooth bald scalp gives about 1.5–3, hair regions about 5–15.
TEXTURE_HAIR_MIN = 4.0

#: Both dark and light line seeds covering at least this share of the scalp means one of
#: them is skin between dense strands (see _resolve_polarity). A choice: isolated light
#: specks or strands on a scalp stay well below it.
POLARITY_CONFLICT_FRACTION = 0.12
#: Grey/white hair: chroma below and lightness above these. A choice consistent with the
#: named grey/white hair colours of [6] in research/domain-and-peers.md (Dark Gray
#: #71635A: L* 43, C* 7; Medium Gray #B7A69E: L* 70, C* 8; white blondes C* < 12),
#: and with skin being more chromatic (C* ≳ 10, [3]_).
GREY_HAIR_MAX_CHROMA = 12.0
GREY_HAIR_MIN_L = 45.0
#: Grey/white light lines this much lighter (L*) than the skin between dark strands are
#: grey hair whatever the skin's chroma (low-chroma dark skin cannot be told from grey by
#: the chroma ratio). A choice: 20 L* is far beyond skin sheen and shading between
#: strands (≤ ~10 L* on the dataset photos).
GREY_ABOVE_SKIN_L_CLEAR = 20.0
#: Dense strands form one network, the skin between them islands: the polarity whose
#: largest connected component holds a larger share of its pixels, by at least this, is
#: the hair. A choice; below the margin the colour rule decides.
POLARITY_NETWORK_MARGIN = 0.2
#: Skin between white strands must be at least this much more chromatic (C*) than the
#: strands for the light lines to be taken as the hair. A choice: ~2 JND of chroma.
POLARITY_CHROMA_MARGIN = 4.0
#: Width constancy, the first polarity test (see :func:`_ridge_widths`): a strand is
#: about as wide all along, the skin between strands is not (from nothing where
#: strands cross to a whole gap). The polarity whose seeds' half-widths on their
#: medial ridge vary less — coefficient of variation lower by at least this margin —
#: is the hair. Choices, read off the conflicting polarities of 400 rendered neutral
#: photos (evaluate seeds 0 and 1000, 219 with a lightness difference ≥ 8 L*): margins
#: of 0.12–0.15 with the width gate below changed 10–11 decisions, all of them wrong
#: ones put right (the network rule had chosen the skin's polarity for sparse strands,
#: whose skin is the connected background); 0.08 also broke 2–4 right ones. Held out
#: (seed 2000, all four conditions, with the side check of :func:`_on_its_side`): the
#: polarity of strand-scale conflicts with |ΔL*| ≥ 8 was right on 302 of 313 photos
#: instead of 282; at region scale 91 of 106 either way.
POLARITY_WIDTH_CV_MARGIN = 0.15
#: ... applied only when both polarities' median ridge half-width is at least this
#: (px at the working size): below ~2 px (structures narrower than ~4 px, region-scale
#: hair) the distance transform takes only a few values and its variation means
#: nothing. On the same photos the cue without this gate broke 4–15 region-scale
#: decisions.
POLARITY_RIDGE_MIN_HALF_WIDTH_PX = 2.0


def _elongated_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the connected components of *mask* that look like strands (see constants).

    Returns ``(strands, areas)``: the kept pixels and the pixel count of each kept
    component (the 8-connected components of *strands* are exactly those, so
    :func:`_largest_component_share` of *strands* is ``areas.max() / areas.sum()``).
    """
    if not mask.any():
        return mask, np.zeros(0, np.int64)
    window, (labels, stats) = _components_in_bounds(mask, with_stats=True)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float64)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    keep = (extent >= STRAND_EXTENT_MIN_PX) & (
        (extent * extent >= STRAND_ELONGATION_MIN * area)
        | (extent >= STRAND_NETWORK_FRACTION * max(mask.shape))
    )
    keep[0] = False
    return _paint(mask.shape, window, np.take(keep, labels)), stats[keep, cv2.CC_STAT_AREA].astype(np.int64)


#: 8-bit codes per L* unit of the lightness image the line detectors work on.
_CODES_PER_L = 2.55


def _line_contrast(lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dark- and light-line contrast of *lightness*, max over scales, in 8-bit codes
    (:data:`_CODES_PER_L` per L* unit; :func:`_contrast_l` converts).

    Returns uint8 arrays at the shape of *lightness*.
    """
    l8 = np.clip(lightness * _CODES_PER_L + 0.5, 0, 255).astype(np.uint8)
    dark = np.zeros_like(l8)
    light = np.zeros_like(l8)
    for diameter in LINE_DISCS_FULL:
        se = _disc(diameter)
        np.maximum(dark, cv2.morphologyEx(l8, cv2.MORPH_BLACKHAT, se), out=dark)
        np.maximum(light, cv2.morphologyEx(l8, cv2.MORPH_TOPHAT, se), out=light)
    height, width = l8.shape
    if min(height, width) >= 64 and LINE_DISCS_HALF:
        half = cv2.resize(l8, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)
        dark_half = np.zeros_like(half)
        light_half = np.zeros_like(half)
        for diameter in LINE_DISCS_HALF:
            se = _disc(diameter)
            np.maximum(dark_half, cv2.morphologyEx(half, cv2.MORPH_BLACKHAT, se), out=dark_half)
            np.maximum(light_half, cv2.morphologyEx(half, cv2.MORPH_TOPHAT, se), out=light_half)
        size = (width, height)
        np.maximum(dark, cv2.resize(dark_half, size, interpolation=cv2.INTER_LINEAR), out=dark)
        np.maximum(light, cv2.resize(light_half, size, interpolation=cv2.INTER_LINEAR), out=light)
    return dark, light


def _contrast_l(codes: np.ndarray) -> np.ndarray:
    """Line contrast codes (from :func:`_line_contrast`) in L* units, float32."""
    return codes.astype(np.float32) / _CODES_PER_L


def _contrast_at_least(codes: np.ndarray, contrast_l: float) -> np.ndarray:
    """``_contrast_l(codes) >= contrast_l``, compared on the codes: the conversion is
    monotonic, so this is ``codes >=`` the smallest code that reaches *contrast_l*."""
    reaches = np.flatnonzero(_contrast_l(np.arange(256, dtype=np.uint8)) >= contrast_l)
    return codes >= reaches[0] if len(reaches) else np.zeros(codes.shape, dtype=bool)


def _area_share(mask: np.ndarray, small_shape) -> np.ndarray:
    """Share of *mask* (0–1) in each cell of *small_shape* (area resize, float32).

    ``share > 0.5`` is ``cv2.resize(mask as uint8, INTER_AREA) > 0``: OpenCV sums the
    same weights in float for both types and rounds the 8-bit result half to even
    (checked equal on 300 random masks at this module's sizes)."""
    return cv2.resize(mask.astype(np.float32), (small_shape[1], small_shape[0]), interpolation=cv2.INTER_AREA)


def _pooled(mask: np.ndarray, small_shape, share: np.ndarray | None = None) -> np.ndarray:
    """Local density of *mask* (0–1) at *small_shape*, Gaussian pooling window
    (*share*: its :func:`_area_share`, when already computed)."""
    share = _area_share(mask, small_shape) if share is None else share
    return cv2.GaussianBlur(share, (0, 0), TEXTURE_SIGMA_SMALL_PX)


def _largest_component_share(mask: np.ndarray, superset_areas: np.ndarray | None = None) -> float:
    """Share of *mask*'s pixels in its largest 8-connected component (0 if empty).

    *superset_areas*, optional: the pixel counts of the 8-connected components of a
    mask that contains *mask* (from :func:`_elongated_components`). When *mask* holds
    as many pixels as they do, it is that mask, and its components are not labelled
    again (a saving of ~5 ms per 1000 px photo; same result).
    """
    count = int(np.count_nonzero(mask))
    if count == 0:
        return 0.0
    if superset_areas is not None and int(superset_areas.sum()) == count:
        return float(superset_areas.max() / count)
    _, (labels, _) = _components_in_bounds(mask, with_stats=False)
    areas = np.bincount(labels.ravel())[1:]
    return float(areas.max() / areas.sum())


def _ridge_widths(mask: np.ndarray) -> tuple[float, float]:
    """Median and coefficient of variation of *mask*'s half-widths on its medial ridge.

    The half-width at a pixel is its Euclidean distance to the nearest pixel outside
    the mask (``cv2.distanceTransform``, 3×3 mask); the ridge is the pixels at least
    as far from the outside as their 8 neighbours (and > 0.5 px). Returns (0, 0) when
    the mask has no ridge. Rotating the mask by 90° leaves both numbers unchanged.
    """
    distance = cv2.distanceTransform(_as_uint8(mask), cv2.DIST_L2, 3)
    ridge = cv2.compare(distance, cv2.dilate(distance, np.ones((3, 3), np.uint8)), cv2.CMP_GE)
    ridge = cv2.bitwise_and(ridge, cv2.compare(distance, 0.5, cv2.CMP_GT))  # 255 on the ridge
    if not cv2.countNonZero(ridge):
        return 0.0, 0.0
    mean, std = cv2.meanStdDev(distance, mask=ridge)
    median = float(np.median(distance[ridge.view(np.bool_)]))
    return median, float(std[0, 0] / mean[0, 0])


def _clear_of(mask: np.ndarray, half_width: float, within: np.ndarray) -> np.ndarray:
    """The pixels of *within* farther than *half_width* px (rounded up) from *mask*:
    clear of every line. The pixels merely off the line masks are mostly their fringes
    (or the scalp's edge) when the lines cover most of the scalp, and can be of any
    colour: on two renders of short strands, comparing with them vetoed right decisions."""
    return within & ~cv2.dilate(_as_uint8(mask), _disc(2 * int(np.ceil(half_width)) + 1)).astype(bool)


def _on_its_side(lightness, clear, seed_lab, light: bool) -> bool:
    """Whether seeds of median colour *seed_lab* are lighter (*light*) or darker than
    the scalp pixels clear of every line (*clear*, from :func:`_clear_of`): light
    strands are lighter than the skin between them, dark strands darker. Light "lines"
    darker than that are skin islands inside a hair region beside a bald crown (a
    region-scale render where the width test alone took the crown for the hair). True
    when fewer than 50 pixels are clear of the lines (nothing to compare with; 50 px,
    as the package's other floors for a median, is a choice)."""
    if np.count_nonzero(clear) < 50:
        return True
    rest_l = float(np.median(_sample(lightness, clear)))
    return seed_lab[0] >= rest_l if light else seed_lab[0] <= rest_l


def _resolve_polarity(lab, lightness, chroma, scalp, dark_seed, light_seed, dark_areas=None, light_areas=None):
    """Drop the line pixels that are skin seen *between* strands of the other polarity.

    Between dense dark strands the skin gaps are light lines, and between dense white
    strands they are dark lines: both detectors fire and one of them is finding skin.
    When both kinds of seed are dense, the polarity whose widths are constant is the
    hair (when both are wide enough to measure, :func:`_ridge_widths`), else the one
    that forms a connected network; when neither test decides, the light seeds are the
    hair only if they look grey/white (low chroma, light) — skin is chromatic (hue
    angle 30–80°, C* ≳ 10 [3]_); otherwise the dark seeds are the hair. The seeds of
    the skin polarity are kept only where they differ clearly from the skin they mostly
    are: white strands among dark ones (salt-and-pepper), or dark strands among white
    ones.

    *lightness* and *chroma* are L* and C* of *lab* as contiguous planes. *dark_areas*,
    *light_areas* (optional): component areas of the seed masks before the scalp cut
    them (see :func:`_largest_component_share`).
    """
    scalp_px = max(1, int(np.count_nonzero(scalp)))
    dark_px = int(np.count_nonzero(dark_seed))
    light_px = int(np.count_nonzero(light_seed))
    if min(dark_px, light_px) < POLARITY_CONFLICT_FRACTION * scalp_px:
        return dark_seed, light_seed
    light_lab = np.median(_sample(lab, light_seed), axis=0)
    dark_lab = np.median(_sample(lab, dark_seed), axis=0)
    light_chroma = float(np.hypot(light_lab[1], light_lab[2]))
    dark_chroma = float(np.hypot(dark_lab[1], dark_lab[2]))
    # Geometry first. Strands keep their width, the skin between them does not; and
    # dense strands form one connected network while the skin between them falls
    # apart into islands (for sparse strands the skin is the connected background,
    # which is why width constancy is asked first when it can be measured).
    dark_width, dark_variation = _ridge_widths(dark_seed)
    # (the light seeds' distance transform, ~7 ms, only when the dark ones pass the gate)
    light_width, light_variation = (
        _ridge_widths(light_seed) if dark_width >= POLARITY_RIDGE_MIN_HALF_WIDTH_PX else (0.0, 0.0)
    )
    width_says_light = light_variation < dark_variation
    if (
        min(dark_width, light_width) >= POLARITY_RIDGE_MIN_HALF_WIDTH_PX
        and abs(dark_variation - light_variation) >= POLARITY_WIDTH_CV_MARGIN
        and _on_its_side(
            lightness, _clear_of(dark_seed | light_seed, max(dark_width, light_width), scalp),
            light_lab if width_says_light else dark_lab, width_says_light,
        )  # fmt: skip
    ):
        light_is_hair = width_says_light
    else:  # (the components are labelled only when the width test did not decide)
        dark_network = _largest_component_share(dark_seed, dark_areas)
        light_network = _largest_component_share(light_seed, light_areas)
        if abs(dark_network - light_network) >= POLARITY_NETWORK_MARGIN:
            light_is_hair = light_network > dark_network
        else:
            # Colour next. Very fair skin is nearly neutral too (Monk 1 #f6ede4: L* 94,
            # C* 6), so grey light lines are hair only when the dark lines are clearly
            # more chromatic (skin).
            light_is_grey = light_chroma < GREY_HAIR_MAX_CHROMA and light_lab[0] > GREY_HAIR_MIN_L
            light_is_hair = light_is_grey and dark_chroma >= light_chroma + POLARITY_CHROMA_MARGIN
    if light_is_hair:
        # White/grey hair on darker skin: dark "lines" are skin, unless far darker.
        keep_dark = dark_seed & (lightness <= dark_lab[0] - DARK_LINE_MIN_CONTRAST - 4.0)
        return keep_dark, light_seed
    # Darker hair on lighter skin: light "lines" are skin, unless grey/white. The skin's
    # colour is that of the light lines that do not look grey/white (when grey strands
    # are many, they would otherwise make the light lines' median grey itself).
    grey_like = light_seed & (chroma < GREY_HAIR_MAX_CHROMA) & (lightness > GREY_HAIR_MIN_L)
    skin_like = light_seed & ~grey_like
    skin_ref = np.median(_sample(lab, skin_like), axis=0) if np.count_nonzero(skin_like) >= 50 else light_lab
    skin_chroma = float(np.hypot(skin_ref[1], skin_ref[2]))
    keep_light = (
        grey_like
        & (lightness >= skin_ref[0] + LIGHT_LINE_MIN_CONTRAST)
        & (
            (chroma <= 0.5 * skin_chroma)
            | (lightness >= skin_ref[0] + GREY_ABOVE_SKIN_L_CLEAR)
        )
    )
    return dark_seed, keep_light
