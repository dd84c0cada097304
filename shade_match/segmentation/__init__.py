"""Scalp, hair, skin and excluded-pixel masks of one (colour-corrected) photo.

The problem has two scales, and one pipeline serves both:

* **strand scale** (a close-up of a shaved or thinning scalp): single hairs are a few
  pixels wide, thin dark (or light) lines on skin;
* **region scale** (a whole head at ~640 px): one hair is about a pixel wide, so hair
  shows as a *textured* region, darker (or greyer) than the bald skin beside it.

Pipeline (every step is isotropic, so a 90° rotation of the photo rotates the masks and
leaves the measured tones unchanged — there is no orientation-dependent kernel and no
position prior other than the rotation-symmetric centre prior of the scalp mask).
Images larger than :data:`SEGMENT_MAX_SIDE` are segmented at that size and the masks
scaled back (speed).

1. **Line detectors** (:mod:`.lines`). Morphological black-hat (dark lines) and white-hat (light lines)
   of L* with elliptical (disc) structuring elements at several sizes [2]_, the
   classical hair detector of dermoscopy (DullRazor, Lee et al. 1997 [1]_ uses closings
   of the same kind). The maximum response over scales is the *line contrast* in L*.
2. **Strand seeds** (:mod:`.lines`). Pixels whose line contrast exceeds a threshold, kept only in
   connected components that are *elongated* (hairs are lines; pores, freckles and
   noise specks are blobs), judged by the squared bounding-box extent over the area —
   a measure unchanged by 90° rotations — or that span a tenth of the image (a network
   of crossing strands).
3. **Polarity** (:mod:`.lines`). Between dense dark strands the skin gaps are light lines (and the
   reverse for white hair): when both kinds of seed are dense, the polarity whose seeds
   keep a constant width is the hair (strands do, the skin between them does not),
   when both are wide enough to measure; else the polarity whose seeds form one
   connected network is the hair, the one broken into islands is skin.
4. **Texture energy** (:mod:`.lines`). The local mean of the line contrast (pooled at ≤ 256 px).
5. **Scalp** (:mod:`.scalp`). GrabCut [5]_ at ≤ 128 px seeded with a rotation-symmetric centre prior:
   the colours of a central disc are the head's, border pixels of other colours are
   background, and so are smooth border pixels that hair texture or a colour step cuts
   off from the central skin (a wall of the head's colours); a close-up with no such
   border fills the frame.
6. **Excluded** (:mod:`.exclusion`). Clipped pixels, glare (far lighter and less chromatic than the skin,
   not near a light strand, and adding light less saturated than its surround — the
   dichromatic model [6]_; and compact bright neutral blobs of "hair" — speckled
   highlights) and deep shadow (far darker than the skin, smooth, not hair).
7. **Hair** (:mod:`.classes`). Class centres in CIELAB — skin, main hair polarity, and the other polarity
   when it holds enough seeds or looks grey — start from the seeds and the pixels away
   from them, and are refined by a few k-means (Lloyd) steps. Seeds nearest a hair
   centre are hair; other pixels in strand-dense, textured or very dark areas are hair
   when clearly nearer a hair centre than the skin's (region scale: unresolved hair).
   Too little hair (or a hair class of the skin's own colour) means a bald scalp: no
   hair at all — pores, freckles and wrinkles must not become hair; nor the speckle
   of a highlight: hair found only around a glare spot is none; nor a green class
   (a plant or an aquarium in frame: hair is never green).
8. **Skin** (this module). Scalp pixels that are not hair, not excluded, not next to
   hair and not inside a hair region; preferably those within a band around the hair, because
   illumination varies over the dome and SMP pigment sits next to the remaining hair.
   When the hair and skin masks come out as one colour (dense hair smooth enough to be
   taken for skin), a clumped second material left out of both is the skin or the hair
   by line polarity (:func:`.classes._second_material`), and a warning says so.

Modules
-------
The steps run in :func:`_segment_canonical` (this module), which also holds the skin
step, the overrides and the warnings; each submodule holds one step's helpers and the
constants they read (a constant used by several steps lives in the lowest module that
needs it, and every name is re-exported here; a test or benchmark that patches a
constant must patch the module that defines it, since the steps read their own):

* :mod:`.geometry` — shapes, resizing, discs, rectangles, connected components, and
  the canonical orientation (``canonical_turns``, ``quarter_turns``, ``_rotate_rect``);
* :mod:`.pixels` — strided pixel samples for medians, rgb chromaticity;
* :mod:`.lines` — steps 1–4: line detectors, strand seeds, polarity, texture pooling;
* :mod:`.scalp` — step 5: the GrabCut scalp mask and its colour and structure evidence;
* :mod:`.exclusion` — step 6: clipped pixels, dichromatic glare, compact glare blobs;
* :mod:`.classes` — step 7: hair/skin class centres, k-means refinement, distance
  maps, unresolved hair, the second material.

Known limits (seen on the dataset photos): the face, ears, beard and neck folds are
part of the "head" and can be taken as skin or hair; on top-down photos whose hair is
only a ring at the frame's edge the ring can be cut out of the scalp as background.

References
----------
.. [1] T. Lee, V. Ng, R. Gallagher, A. Coldman, D. McLean, "DullRazor: a software
   approach to hair removal from images", Computers in Biology and Medicine 27(6),
   533–543, 1997 (morphological closing to find dark hairs on skin).
.. [2] R. C. Gonzalez, R. E. Woods, *Digital Image Processing*, 4th ed., 2018,
   §9.6 (top-hat and bottom-hat transforms for thin bright/dark structures).
.. [3] A. Chardon, I. Cretois, C. Hourseau, "Skin colour typology and suntanning
   pathways", Int. J. Cosmet. Sci. 13:191–208, 1991; S. Del Bino, F. Bernerd, Br. J.
   Dermatol. 169 (Suppl. 3):33–40, 2013 — in-vivo skin spans L* ≈ 25–75 and
   b* ≈ 5–30 with a* ≈ 5–20, i.e. hue angle h_ab ≈ 30–80°.
.. [5] C. Rother, V. Kolmogorov, A. Blake, "GrabCut: interactive foreground
   extraction using iterated graph cuts", ACM Trans. Graphics 23(3):309–314, 2004.
.. [6] S. A. Shafer, "Using color to separate reflection components", Color Res.
   Appl. 10(4):210–218, 1985 (dichromatic reflection: a highlight adds the light's
   colour to the body colour).
.. [4] G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula",
   Color Res. Appl. 30(1):21–30, 2005; ΔE*ab ≈ 2.3 is a just-noticeable difference
   (M. Mahy, L. Van Eycken, A. Oosterlinck, Color Res. Appl. 19(2):105–121, 1994).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..colour import srgb_to_linear  # noqa: F401 (re-exported)
from ..colour import hex_to_lab
from ..errors import SettingsError
from ..scales import MONK_SKIN_TONE_HEX
from .geometry import (
    _dilated_at_small_size, _disc, _resize_to_side, _rotate_rect, _shape_at_side, _upsample_float,
    _upsample_mask, canonical_turns, quarter_turns, rect_mask,
)
from .geometry import (  # noqa: F401 (re-exported)
    _CV2_TURNS, _centre_disc, _components_in_bounds, _fill_holes, _paint,
)
from .pixels import _sample
from .pixels import MEDIAN_MAX_PIXELS, _chromaticity  # noqa: F401 (re-exported)
from .lines import (
    DARK_LINE_MIN_CONTRAST, LIGHT_LINE_MIN_CONTRAST, TEXTURE_HAIR_MIN,
    TEXTURE_SIGMA_SMALL_PX, _area_share, _contrast_at_least, _contrast_l,
    _elongated_components, _line_contrast, _pooled, _resolve_polarity,
)
from .lines import (  # noqa: F401 (re-exported)
    _CODES_PER_L, GREY_ABOVE_SKIN_L_CLEAR, GREY_HAIR_MAX_CHROMA, GREY_HAIR_MIN_L,
    LINE_DISCS_FULL, LINE_DISCS_HALF, POLARITY_CHROMA_MARGIN, POLARITY_CONFLICT_FRACTION,
    POLARITY_NETWORK_MARGIN, STRAND_ELONGATION_MIN, STRAND_EXTENT_MIN_PX,
    STRAND_NETWORK_FRACTION, _largest_component_share,
)
from .scalp import SCALP_GRABCUT_SIDE, _scalp_small
from .scalp import (  # noqa: F401 (re-exported)
    _LAB_BIN, _LAB_GRID_SHAPE, GRABCUT_RNG_SEED, SCALP_BORDER_FRACTION,
    SCALP_CENTRE_COLOUR_FRACTION, SCALP_CENTRE_COLOUR_MASS, SCALP_COLOUR_REACH,
    SCALP_GRABCUT_ITERATIONS, SCALP_MIN_BACKGROUND_FRACTION, SCALP_STEP_MIN_DE,
    SCALP_STEP_SKIN_RATIO, SCALP_STRUCTURE_MIN_CHROMATICITY, SCALP_STRUCTURE_MIN_DE,
    SCALP_STRUCTURE_MIN_DE_ANY, SCALP_STRUCTURE_MIN_EXTENT, SCALP_SURE_DISC_FRACTION,
    _colour_set, _lab_bins, _lab_step, _most_populated, _structure_evidence,
)
from .exclusion import GLARE_BLOB_MAX_SCALP_FRACTION, _clipped, _compact_blobs, _dichromatic_glare
from .exclusion import (  # noqa: F401 (re-exported)
    CLIPPED_HIGH, CLIPPED_LOW, GLARE_BLOB_MAX_ELONGATION, GLARE_NEUTRAL_EXCESS,
    GLARE_RING_FRACTION, GLARE_SMOOTH_SHARE, _chromaticity_distance,
)
from .classes import (
    CLASS_MIN_SEPARATION, HAIR_MIN_A_STAR, MIN_HAIR_SEED_FRACTION, MIN_HAIR_SEED_PX, REFINE_MAX_PIXELS,
    REGION_HAIR_DISTANCE_RATIO, _distance_maps, _initial_centres, _refine_centres,
    _second_material, _unresolved_hair,
)
from .classes import (  # noqa: F401 (re-exported)
    MAIN_CLASS_MIN_OFFSET_L, REFINE_ITERATIONS, SECOND_MATERIAL_MIN_CLUSTERING,
    SECOND_MATERIAL_MIN_FRACTION, SECOND_MATERIAL_SEPARATION,
    SECOND_MATERIAL_WINDOW_FRACTION, SECONDARY_MIN_SHARE, SKIN_INIT_MARGIN_L,
    SKIN_SPLIT_MIN_CHROMATICITY, SKIN_SPLIT_MIN_SHARE, _columns, _squared_distance,
)


__all__ = ["Segmentation", "segment"]


# --------------------------------------------------------------------------------------
# Thresholds. Each is a design choice (there is no published value for scalp photos);
# the comment says why, and the tests pin the behaviour it buys.
# --------------------------------------------------------------------------------------

#: Longest side of the image the scalp mask and texture energy are computed on. A speed
#: choice: the head outline needs no more, and it keeps these steps under ~10 ms.
SCALP_MASK_SIDE = 256

#: Longest side the segmentation runs at; larger images are area-downsampled first and
#: the masks scaled back (nearest neighbour). A speed choice: the work grows with the
#: pixel count, and at 1000 px a 12 MP close-up still shows hairs ≥ 0.3 mm as lines.
#: Measured on a 1600×1200 photo on the shared 2-core machine under load: 1.33 s at
#: full size, 0.59 s with this reduction.
SEGMENT_MAX_SIDE = 1000

#: Longest side at which line detectors run (≥ SEGMENT_MAX_SIDE: no extra reduction).
LINE_DETECTOR_SIDE = 1600

#: Margin around the grey card / chart the correction step found, as a fraction of the
#: square root of its area. A choice: the ColorChecker's dark frame shows as a ring a
#: few per cent of the chart's size outside the outline cv2.mcc returns (seen on the
#: rendered charts); 6 % covers it without eating into a scalp beside a grey card
#: (10 % cost skin pixels next to small cards).
REFERENCE_MARGIN_FRACTION = 0.06

#: Glare: L* at least this far above the skin's median and chroma below this fraction
#: of the skin's (dichromatic reflection: highlights add the light's colour and wash
#: out the body colour; Shafer 1985). Choices, checked on the dataset photos.
GLARE_L_ABOVE_SKIN = 15.0
GLARE_CHROMA_FRACTION = 0.6

#: Deep shadow: L* below this fraction of the skin's median, smooth and not hair.
SHADOW_L_FRACTION = 0.45

#: L* of the darkest Monk Skin Tone, #292420 (:data:`shade_match.scales.MONK_SKIN_TONE_HEX`,
#: Monk 2019/2023; sRGB → CIELAB D65): 14.6.
MONK_DARKEST_L = float(hex_to_lab(MONK_SKIN_TONE_HEX[-1])[0])
#: A skin mask whose median L* is below this is not skin, and is dropped (no skin is
#: measured, with a warning): half the luminance of the darkest Monk tone (Y 0.0185 →
#: 0.0092, L* 8.3, rounded down). Darker than that is the shadows of dense hair, or a
#: photo a stop too dark to measure. Seen on the dataset photos: back views of full dark
#: hair read their "skin" at L* 3–5 (8 of 1,294 photos, 4 source photos). No render of
#: shade_match.evaluate (seeds 0 and 1000) is changed by it; the darkest skin reading on
#: 400 neutral renders is L* 10, for true skin of L* 14–20.
SKIN_MIN_L = 8.0

#: Radius (fraction of the long side) around light strands where bright pixels are
#: white hair, not glare, and around any strand where textured-or-not pixels of a hair
#: colour join the hair region. A choice: ~2 % reaches across the gaps of a hair region.
SEED_NEIGHBOURHOOD_FRACTION = 0.02

#: Radius (fraction of the long side) around clipped and glare pixels within which
#: "hair" may be the highlight's own speckle: when no hair is found beyond it, the
#: scalp has none. A choice: on the bald renders of the evaluation (seed 0) that
#: reported hair, the speckle reached 2–4 % of the long side from the excluded
#: highlight (twice SEED_NEIGHBOURHOOD_FRACTION). The cost, on the same evaluation:
#: four photos with hair whose detected hair (1–6 % of the scalp, hair ΔE00 9–37
#: before) lay all near a highlight now report none.
GLARE_HALO_FRACTION = 0.04

#: Local density of strand seeds (pooled like the texture energy) from which the
#: non-seed pixels nearest a hair colour centre are hair too (region scale: strands too
#: faint or too dense to resolve one by one); textured pixels qualify whatever the
#: density. A choice: 3 % of the window keeps bare skin far from any strand out.
REGION_SEED_DENSITY_MIN = 0.03

#: A scalp with strand seeds whose usable area is smooth (texture below
#: TEXTURE_HAIR_MIN) on less than this share shows no bare skin: full hair coverage,
#: and the textured pixels are hair even when no separate skin colour exists to
#: contrast them with. A choice: a tenth leaves room for a parting or a glint-free
#: patch inside a full head of hair while a thinning or bald scalp (mostly smooth
#: skin) never qualifies.
FULL_COVER_MAX_SMOOTH_SHARE = 0.1

#: Skin pixels must be at least this far (px, at the working size, scaled by the image
#: size / 1000) from hair: strand edges are mixed pixels.
SKIN_HAIR_GAP_PX = 2
#: Dense-hair density (fraction of hair pixels in the pooling window) above which a
#: non-hair pixel is a gap between hairs, not bare skin.
DENSE_HAIR_DENSITY = 0.35
#: Skin is taken outside regions whose strand-seed density is at least this, when at
#: least SKIN_MIN_FRACTION of the scalp remains (close-ups of dense strands keep the
#: skin between them). Choices: 10 % seeds is a hair region in the dataset photos.
SKIN_MAX_SEED_DENSITY = 0.10
SKIN_MIN_FRACTION = 0.02
#: Skin "near the hair": within this fraction of the short side of a hair pixel. Used
#: when at least NEAR_SKIN_MIN_FRACTION of the skin pixels (and ≥ 200 px) are there.
NEAR_HAIR_FRACTION = 0.12
NEAR_SKIN_MIN_FRACTION = 0.2

#: Warn when excluded pixels exceed this share of the scalp (a choice: 10 % is where
#: the estimate starts to lean on what is left).
EXCLUDED_WARNING_FRACTION = 0.10


@dataclass(frozen=True)
class Segmentation:
    """The masks of one photo, all ``bool`` of shape ``(H, W)`` at the working size.

    Attributes
    ----------
    scalp : ndarray
        The head's scalp region (hair + bare skin), not background nor reference.
    hair : ndarray
        Hair pixels: dark and light/grey/white strands, and hair-textured regions.
    skin : ndarray
        Bare or sparse scalp skin used for the skin estimate (near the hair when
        possible).
    excluded : ndarray
        Glare, deep shadow, clipped pixels. Never in ``hair`` or ``skin``.
    reference : ndarray
        Grey card / colour chart pixels (from the correction step); excluded from
        everything else.
    warnings : tuple of str
        Plain-language notes on what was excluded or could not be found.
    """

    scalp: np.ndarray
    hair: np.ndarray
    skin: np.ndarray
    excluded: np.ndarray
    reference: np.ndarray
    warnings: tuple[str, ...] = ()

    @property
    def coverage(self) -> float:
        """Hair area / scalp area, in [0, 1] (0 when the scalp is empty)."""
        scalp_px = int(np.count_nonzero(self.scalp))
        if scalp_px == 0:
            return 0.0
        return float(min(1.0, np.count_nonzero(self.hair & self.scalp) / scalp_px))


def _with_card_margin(reference: np.ndarray) -> np.ndarray:
    """The reference mask grown by :data:`REFERENCE_MARGIN_FRACTION` of its own size: a
    chart's dark frame and a card's edge are lines and would otherwise become "hair"."""
    area = int(np.count_nonzero(reference))
    if area == 0:
        return reference
    margin = max(1, round(REFERENCE_MARGIN_FRACTION * np.sqrt(area)))
    return cv2.dilate(reference.astype(np.uint8), _disc(2 * margin + 1)).astype(bool)


def _check_inputs(rgb, lab, reference_mask):
    rgb = np.asarray(rgb)
    lab = np.asarray(lab)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise SettingsError(f"rgb must be an (H, W, 3) array; got shape {rgb.shape}")
    if lab.shape != rgb.shape:
        raise SettingsError(f"lab must have the shape of rgb {rgb.shape}; got {lab.shape}")
    if min(rgb.shape[:2]) < 8:
        raise SettingsError(f"the image must be at least 8×8 px; got {rgb.shape[1]}×{rgb.shape[0]}")
    if not np.issubdtype(rgb.dtype, np.floating):
        raise SettingsError(f"rgb must be float sRGB in [0, 1]; got dtype {rgb.dtype}")
    if reference_mask is None:
        reference = np.zeros(rgb.shape[:2], dtype=bool)
    else:
        reference = np.asarray(reference_mask)
        if reference.shape != rgb.shape[:2]:
            raise SettingsError(
                f"reference_mask must have shape {rgb.shape[:2]}; got {reference.shape}"
            )
        reference = reference.astype(bool)
    return (
        np.ascontiguousarray(rgb, dtype=np.float32),
        np.ascontiguousarray(lab, dtype=np.float32),
        reference,
    )


def _segment_reduced(rgb, lab, reference, hair_region, skin_region) -> Segmentation:
    """Segment an area-downsampled copy (≤ SEGMENT_MAX_SIDE) and scale the masks back."""
    height, width = rgb.shape[:2]
    factor = SEGMENT_MAX_SIDE / max(height, width)
    size = (max(8, round(width * factor)), max(8, round(height * factor)))
    rgb_small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    lab_small = cv2.resize(lab, size, interpolation=cv2.INTER_AREA)
    reference_small = cv2.resize(reference.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)

    def scaled(rect, name):
        if rect is None:
            return None
        rect_mask((height, width), rect, name)  # validate against the full size
        x, y, w, h = (int(v) for v in rect)
        x0 = min(size[0] - 1, int(x * size[0] / width))
        y0 = min(size[1] - 1, int(y * size[1] / height))
        x1 = max(x0 + 1, min(size[0], int(np.ceil((x + w) * size[0] / width))))
        y1 = max(y0 + 1, min(size[1], int(np.ceil((y + h) * size[1] / height))))
        return (x0, y0, x1 - x0, y1 - y0)

    small = _segment_canonical(
        rgb_small,
        lab_small,
        reference_small,
        scaled(hair_region, "hair_region"),
        scaled(skin_region, "skin_region"),
    )

    def up(mask):
        return cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST).astype(bool) & ~reference

    excluded = up(small.excluded)
    hair = up(small.hair) & ~excluded
    skin = up(small.skin) & ~excluded & ~hair
    if hair_region is not None:
        hair &= rect_mask((height, width), hair_region, "hair_region")
    if skin_region is not None:
        skin &= rect_mask((height, width), skin_region, "skin_region")
    return Segmentation(
        scalp=up(small.scalp),
        hair=hair,
        skin=skin,
        excluded=excluded,
        reference=reference,
        warnings=small.warnings,
    )


def segment(
    rgb: np.ndarray,
    lab: np.ndarray,
    *,
    reference_mask: np.ndarray | None = None,
    hair_region: tuple[int, int, int, int] | None = None,
    skin_region: tuple[int, int, int, int] | None = None,
) -> Segmentation:
    """Find the scalp, hair, skin and excluded pixels of a colour-corrected photo.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), float32
        sRGB-encoded image in [0, 1] (already colour-corrected).
    lab : ndarray, shape (H, W, 3), float32
        CIELAB of *rgb* (``cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)``; L* in 0–100).
    reference_mask : ndarray of bool, shape (H, W), optional
        Grey card / chart pixels found by the correction step.
    hair_region, skin_region : (x, y, w, h), optional
        Practitioner overrides in working pixels: hair (skin) is measured only inside
        that rectangle. Inside it the scalp mask is not required (the practitioner
        knows where the scalp is); if no hair (skin) is detected there, every usable
        pixel of the rectangle is taken.

    Returns
    -------
    Segmentation

    Raises
    ------
    SettingsError
        Arrays of the wrong shape or type, or a rectangle outside the image.
    """
    rgb, lab, reference = _check_inputs(rgb, lab, reference_mask)
    for name, rect in (("hair_region", hair_region), ("skin_region", skin_region)):
        if rect is not None:
            rect_mask(rgb.shape[:2], rect, name)  # validate in the caller's coordinates
    keep_out = _with_card_margin(reference)  # the card or chart and its frame
    turns = canonical_turns(lab[..., 0])
    shape = rgb.shape[:2]
    seg = _segment_canonical(
        quarter_turns(rgb, turns),
        quarter_turns(lab, turns),
        quarter_turns(keep_out, turns),
        _rotate_rect(hair_region, turns, shape),
        _rotate_rect(skin_region, turns, shape),
    )

    def back(mask):
        return quarter_turns(mask, -turns)

    return Segmentation(
        scalp=back(seg.scalp), hair=back(seg.hair), skin=back(seg.skin),
        excluded=back(seg.excluded), reference=reference, warnings=seg.warnings,
    )  # fmt: skip


def _segment_canonical(rgb, lab, reference, hair_region, skin_region) -> Segmentation:
    """:func:`segment` on checked inputs in the orientation given (see canonical_turns)."""
    shape = rgb.shape[:2]
    height, width = shape
    if max(height, width) > SEGMENT_MAX_SIDE:
        return _segment_reduced(rgb, lab, reference, hair_region, skin_region)
    lab_planes = cv2.split(lab)  # contiguous float32 planes: whole-image work is cheaper
    lightness = lab_planes[0]
    chroma = cv2.magnitude(lab_planes[1], lab_planes[2])

    # 1–2. Line detectors and strand seeds (at ≤ LINE_DETECTOR_SIDE).
    lightness_det, det_factor = _resize_to_side(lightness, LINE_DETECTOR_SIDE)
    dark_contrast, light_contrast = _line_contrast(lightness_det)
    dark_seed_det, dark_areas = _elongated_components(_contrast_at_least(dark_contrast, DARK_LINE_MIN_CONTRAST))
    light_seed_det, light_areas = _elongated_components(_contrast_at_least(light_contrast, LIGHT_LINE_MIN_CONTRAST))
    line_energy_det = _contrast_l(cv2.max(dark_contrast, light_contrast))

    # 3. Texture energy at ≤ SCALP_MASK_SIDE.
    small_shape = _shape_at_side(shape, SCALP_MASK_SIDE)
    energy_small = cv2.resize(line_energy_det, (small_shape[1], small_shape[0]), interpolation=cv2.INTER_AREA)
    texture_small = cv2.GaussianBlur(energy_small, (0, 0), TEXTURE_SIGMA_SMALL_PX)
    reference_small = cv2.resize(reference.astype(np.uint8), (small_shape[1], small_shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)

    # 4. Scalp.
    rgb_cut, _ = _resize_to_side(rgb, SCALP_GRABCUT_SIDE)
    reference_cut = cv2.resize(reference.astype(np.uint8), (rgb_cut.shape[1], rgb_cut.shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
    scalp_cut = _scalp_small(rgb_cut, reference_cut, texture_small)
    scalp = _upsample_mask(scalp_cut, shape) & ~reference
    texture = _upsample_float(texture_small, shape)

    dark_seed_all = _upsample_mask(dark_seed_det, shape) if det_factor < 1 else dark_seed_det
    light_seed_all = _upsample_mask(light_seed_det, shape) if det_factor < 1 else light_seed_det
    dark_seed = dark_seed_all & scalp
    light_seed = light_seed_all & scalp
    if det_factor < 1:  # the upsampled seeds are not the labelled components
        dark_areas = light_areas = None
    dark_seed, light_seed = _resolve_polarity(lab, lightness, chroma, scalp, dark_seed, light_seed, dark_areas, light_areas)

    # 5. Excluded (first pass): clipped and glare, relative to the smooth skin's median.
    clipped = _clipped(rgb)
    smooth = texture < TEXTURE_HAIR_MIN
    skin_probe = scalp & smooth & ~clipped & ~dark_seed & ~light_seed
    if np.count_nonzero(skin_probe) < 50:
        skin_probe = scalp & ~clipped
    if skin_probe.any():
        skin_l_ref = float(np.median(_sample(lightness, skin_probe)))
        skin_c_ref = float(np.median(_sample(chroma, skin_probe)))
    else:
        skin_l_ref, skin_c_ref = 60.0, 15.0
    # "Near a light strand", dilated at the small size (a large disc at full size is slow).
    reach_small = max(3, 2 * round(SEED_NEIGHBOURHOOD_FRACTION * max(small_shape)) + 1)
    near_light = _dilated_at_small_size(light_seed, small_shape, reach_small, shape) | light_seed
    # Glare's colour (GLARE_L_ABOVE_SKIN, GLARE_CHROMA_FRACTION); also tested on the hair below.
    glare_coloured = (lightness >= skin_l_ref + GLARE_L_ABOVE_SKIN) & (
        chroma <= GLARE_CHROMA_FRACTION * max(skin_c_ref, 1.0)
    )
    glare = glare_coloured & ~near_light
    glare = _dichromatic_glare(glare & scalp, rgb, scalp & ~reference, texture)
    glare = cv2.dilate(glare.astype(np.uint8), _disc(3)).astype(bool) & ~light_seed
    excluded = (clipped | glare) & scalp & ~reference

    # 6. Hair: seeds, then pixels of a hair colour that are textured or near seeds.
    gap = max(1, round(SKIN_HAIR_GAP_PX * max(height, width) / 1000))  # px kept between hair and skin
    usable = scalp & ~excluded
    dark_seed &= usable
    light_seed &= usable
    seed_px = int(np.count_nonzero(dark_seed | light_seed))
    scalp_px = int(np.count_nonzero(scalp))
    has_hair = seed_px >= max(MIN_HAIR_SEED_PX, MIN_HAIR_SEED_FRACTION * scalp_px)

    hair = np.zeros(shape, dtype=bool)
    if has_hair:
        seeds = dark_seed | light_seed
        hair = seeds.copy()
        seed_density = _upsample_float(_pooled(seeds, small_shape), shape)
        very_dark = lightness <= SHADOW_L_FRACTION * skin_l_ref  # shadow or dark hair: decided below
        candidates_mask = usable & ~seeds & (
            (seed_density >= REGION_SEED_DENSITY_MIN) | ~smooth | very_dark
        )
        away_from_seeds = usable & ~cv2.dilate(seeds.astype(np.uint8), _disc(2 * gap + 1)).astype(bool)
        centres = _initial_centres(lab, lightness, away_from_seeds, dark_seed, light_seed)
        if candidates_mask.any() and "skin" in centres and len(centres) > 1:
            centres = _refine_centres(_sample(lab, usable, REFINE_MAX_PIXELS), centres)
            # A "hair" class whose colour is the skin's (glints on skin, skin between
            # strands) is skin.
            centres = {
                n: c for n, c in centres.items()
                if n == "skin" or np.linalg.norm(c - centres["skin"]) >= CLASS_MIN_SEPARATION
            }
        # A green "hair" class is a plant, an aquarium or a green shirt: hair is not
        # green (HAIR_MIN_A_STAR). Dyed green hair is lost with it; a hair region
        # marked by hand (the override below) still measures it.
        centres = {n: c for n, c in centres.items() if n == "skin" or c[1] >= HAIR_MIN_A_STAR}
        if "skin" in centres and len(centres) > 1:
            # Seeds and candidates alike are hair when their colour is nearest a hair
            # class: skin wedges between crossing strands and strand edges are not.
            classify = candidates_mask | seeds
            squared_distance = _distance_maps(lab)
            to_skin = squared_distance(centres["skin"])
            to_hair = None
            for name, centre in centres.items():
                if name != "skin":
                    d = squared_distance(centre)
                    to_hair = d if to_hair is None else np.minimum(to_hair, d)
            # Seeds are hair when their colour is nearest a hair class; off the lines a
            # pixel must be clearly nearer a hair colour than the skin's (shaded skin,
            # follicle shadows and freckles lie between the two).
            hair = classify & (
                (seeds & (to_hair < to_skin)) | (to_hair <= REGION_HAIR_DISTANCE_RATIO**2 * to_skin)
            )
        elif "skin" in centres:
            hair = np.zeros(shape, dtype=bool)  # every hair class was the skin's colour
        hair_px = int(np.count_nonzero(hair))
        usable_px = int(np.count_nonzero(usable))
        if (
            hair_px < max(MIN_HAIR_SEED_PX, MIN_HAIR_SEED_FRACTION * scalp_px)
            and usable_px
            and seed_px >= SKIN_MAX_SEED_DENSITY * scalp_px
            and np.count_nonzero(usable & smooth) < FULL_COVER_MAX_SMOOTH_SHARE * usable_px
        ):
            # Full coverage: no smooth (bare-skin) area is left to start a skin class
            # from, so the "skin" centre was itself hair and every hair class merged
            # into it. Bare scalp skin is smooth at this pooling scale (TEXTURE_HAIR_MIN);
            # a scalp that is line-textured almost everywhere and as dense in strand
            # seeds as a hair region (SKIN_MAX_SEED_DENSITY) is hair.
            hair = usable & ~smooth
            hair_px = int(np.count_nonzero(hair))
        if hair_px < max(MIN_HAIR_SEED_PX, MIN_HAIR_SEED_FRACTION * scalp_px):
            hair = np.zeros(shape, dtype=bool)

    # Glare blobs that looked like light strands: speckled highlights are full of light
    # "lines". A compact, small, bright and nearly neutral patch of "hair" is glare.
    if hair.any():
        bright = hair & glare_coloured
        blobs = _compact_blobs(
            cv2.morphologyEx(bright.astype(np.uint8), cv2.MORPH_CLOSE, _disc(5)).astype(bool),
            max_area=GLARE_BLOB_MAX_SCALP_FRACTION * max(1, scalp_px),
        )
        if blobs.any():
            blobs = cv2.dilate(blobs.astype(np.uint8), _disc(5)).astype(bool) & scalp & ~reference
            glare |= blobs
            excluded |= blobs
            usable &= ~blobs
            hair &= ~blobs
            if np.count_nonzero(hair) < max(MIN_HAIR_SEED_PX, MIN_HAIR_SEED_FRACTION * scalp_px):
                hair = np.zeros(shape, dtype=bool)

    # Deep shadow: dark, smooth and not hair.
    shadow = (lightness <= SHADOW_L_FRACTION * skin_l_ref) & smooth & ~hair & scalp & ~reference
    excluded |= shadow
    usable &= ~shadow

    # 7. Skin.
    near_hair_edge = cv2.dilate(hair.astype(np.uint8), _disc(2 * gap + 1)).astype(bool)
    hair_share_small = _area_share(hair, small_shape)
    dense = _upsample_float(_pooled(hair, small_shape, hair_share_small), shape) >= DENSE_HAIR_DENSITY
    skin = usable & ~near_hair_edge & ~dense & ~hair
    if hair.any():
        # Inside a hair region the pixels between detected strands are mostly hair and
        # skin mixed: keep them out of the skin when enough skin is left elsewhere.
        seedy = seed_density >= SKIN_MAX_SEED_DENSITY  # density of dark_seed | light_seed, from step 6
        skin_outside = skin & ~seedy
        if np.count_nonzero(skin_outside) >= max(200, SKIN_MIN_FRACTION * np.count_nonzero(scalp)):
            skin = skin_outside
    if hair.any() and skin.any():
        radius_small = NEAR_HAIR_FRACTION * min(small_shape)
        hair_small = hair_share_small > 0.5  # cells more than half hair (hair is unchanged since)
        distance_small = cv2.distanceTransform((~hair_small).astype(np.uint8), cv2.DIST_L2, 3)
        near = _upsample_float(distance_small, shape) <= radius_small
        skin_near = skin & near
        if np.count_nonzero(skin_near) >= max(200, NEAR_SKIN_MIN_FRACTION * np.count_nonzero(skin)):
            skin = skin_near
    if hair.any():
        unresolved = _unresolved_hair(lab, rgb, skin, hair)
        if unresolved.any():
            hair |= unresolved
            skin &= ~cv2.dilate(hair.astype(np.uint8), _disc(2 * gap + 1)).astype(bool)
    skin_between_hair = False
    if hair.any() and np.count_nonzero(skin) >= 50:
        rebuilt = _second_material(lab, usable, hair, skin, dark_seed, light_seed)
        if rebuilt is not None:
            hair, skin = rebuilt
            skin_between_hair = True

    # Hair found only around a highlight is its speckle and the darker gaps in it, not
    # hair: a bald scalp with glare must report no hair. Only for a highlight that is a
    # spot (at most GLARE_BLOB_MAX_SCALP_FRACTION of the scalp, as a glare blob): clipped
    # fair skin between dense hair can cover a tenth of the scalp or more.
    highlight = (clipped | glare) & scalp
    if hair.any() and 0 < np.count_nonzero(highlight) <= GLARE_BLOB_MAX_SCALP_FRACTION * scalp_px:
        reach = 2 * round(GLARE_HALO_FRACTION * max(small_shape)) + 1
        halo = _dilated_at_small_size(highlight, small_shape, reach, shape)
        if np.count_nonzero(hair & ~halo) < max(MIN_HAIR_SEED_PX, MIN_HAIR_SEED_FRACTION * scalp_px):
            hair = np.zeros(shape, dtype=bool)
            skin_between_hair = False

    # Skin darker than any skin tone is the shadows of dense hair (a back view of full
    # dark hair leaves no bare skin, and the darker shades of the hair fall to "skin").
    too_dark_skin = None
    if np.count_nonzero(skin) >= 50:
        skin_l = float(np.median(_sample(lightness, skin)))
        if skin_l < SKIN_MIN_L:
            too_dark_skin = skin_l
            skin = np.zeros(shape, dtype=bool)
            skin_between_hair = False  # no skin is measured at all

    # Overrides.
    if hair_region is not None:
        box = rect_mask(shape, hair_region, "hair_region")
        box_usable = box & ~reference & ~clipped & ~glare
        # The practitioner says there is hair here: the classified hair if the box has
        # enough of it, else the line seeds (even off the scalp mask), else the box.
        hair_in_box = hair & box_usable
        seeds_in_box = (dark_seed_all | light_seed_all) & box_usable
        if np.count_nonzero(hair_in_box) >= MIN_HAIR_SEED_PX:
            hair = hair_in_box
        elif np.count_nonzero(seeds_in_box) >= MIN_HAIR_SEED_PX:
            hair = seeds_in_box
        else:
            hair = box_usable
    if skin_region is not None:
        box = rect_mask(shape, skin_region, "skin_region")
        box_usable = box & ~reference & ~clipped & ~glare & ~hair
        skin_in_box = box_usable & smooth
        skin = skin_in_box if np.count_nonzero(skin_in_box) >= 50 else box_usable

    warnings = []
    if too_dark_skin is not None and skin_region is None:
        warnings.append(
            f"The only skin-like pixels read L* {too_dark_skin:.0f}, darker than any skin tone (the "
            f"darkest Monk tone is L* {MONK_DARKEST_L:.0f}): they are shadows in the hair, so no bare skin "
            "is in view (or the photo is far too dark). Add a photo of a bald area, or mark one."
        )
    if skin_between_hair and skin_region is None:
        warnings.append(
            "Hair and skin were hard to tell apart: the skin was measured between dense hair. "
            "Check the skin tone on a bald area, or mark one (--skin-region, or \"Measure skin here\" in the app)."
        )
    if scalp_px:
        glare_share = np.count_nonzero(glare & scalp) / scalp_px
        shadow_share = np.count_nonzero(shadow & scalp) / scalp_px
        if glare_share >= EXCLUDED_WARNING_FRACTION:
            warnings.append(
                f"Glare on the scalp: {glare_share:.0%} of the scalp excluded. Diffuse the light or tilt the camera."
            )
        if shadow_share >= EXCLUDED_WARNING_FRACTION:
            warnings.append(
                f"Deep shadow on the scalp: {shadow_share:.0%} of the scalp excluded. Light the scalp evenly."
            )
    return Segmentation(
        scalp=scalp,
        hair=hair & ~excluded & ~reference,
        skin=skin & ~excluded & ~reference & ~hair,
        excluded=excluded,
        reference=reference,
        warnings=tuple(warnings),
    )
