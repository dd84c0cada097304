"""Step 5 of the segmentation: the scalp mask, by GrabCut [5]_ seeded with a
rotation-symmetric centre prior, with its colour and structure evidence for background.

The references ([1]_–[6]_) are those of the package docstring (:mod:`shade_match.segmentation`).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import srgb_to_linear
from .geometry import _centre_disc, _fill_holes
from .pixels import _chromaticity
from .lines import TEXTURE_HAIR_MIN


# --------------------------------------------------------------------------------------
# Thresholds. Each is a design choice (there is no published value for scalp photos);
# the comment says why, and the tests pin the behaviour it buys.
# --------------------------------------------------------------------------------------

#: GrabCut seeds for the scalp mask (fractions of the short side at SCALP_GRABCUT_SIDE):
#: a border band that is probably background and a central disc that is surely head.
#: Choices: photos of a scalp are framed on it, and both seeds are symmetric under 90°
#: rotations. Three iterations: the cut no longer changes much after that (checked on
#: the dataset photos) and each costs a few ms at this size.
SCALP_GRABCUT_SIDE = 128
SCALP_BORDER_FRACTION = 0.08
SCALP_SURE_DISC_FRACTION = 0.12
SCALP_GRABCUT_ITERATIONS = 3

#: Seed for OpenCV's random generator before GrabCut, so results are repeatable. Any
#: constant works; it has no meaning beyond determinism.
GRABCUT_RNG_SEED = 20050101
#: The head's colours are those of the central disc of this radius (fraction of the
#: short side); border pixels farther than SCALP_COLOUR_REACH (CIELAB units, a choice:
#: ~4 JND, more than shading moves skin) from all of them are background evidence, and
#: less than SCALP_MIN_BACKGROUND_FRACTION of the border being such evidence means the
#: close-up fills the frame (a choice: 3 % is a thin strip of shirt or wall).
SCALP_CENTRE_COLOUR_FRACTION = 0.2
#: ... counting only the most populated colours holding 90 % of the disc (the rest may
#: be background showing at the disc's edge). A choice.
SCALP_CENTRE_COLOUR_MASS = 0.9
SCALP_COLOUR_REACH = 10.0
SCALP_MIN_BACKGROUND_FRACTION = 0.03
#: Background evidence from structure, for walls and shirts of the head's colours (where
#: the colour test above finds none): border pixels that are smooth (texture energy below
#: TEXTURE_HAIR_MIN, so not hair) and cannot be reached from the central smooth skin
#: without crossing hair texture or a colour step. A step is a local CIELAB gradient of
#: at least SCALP_STEP_MIN_DE (half the 3×3 morphological range, ≈ ΔE*ab per pixel) and
#: at least SCALP_STEP_SKIN_RATIO times the median gradient of the central smooth skin.
#: Choices: at SCALP_GRABCUT_SIDE shading moves skin by well under 1 per pixel, while
#: a head outline against a wall of near skin colour (ΔE*ab ≈ 5–7, blurred over 2–3 px)
#: gives 2–18 along most of its length (measured on synthetic region-scale photos; 2
#: closes more of the outline than 3 did: 1 photo in 82 with scalp precision < 0.7
#: instead of 3). The ratio keeps low-contrast hair on dark skin (gradient ≈ 5
#: everywhere, little line texture) from fragmenting a close-up.
SCALP_STEP_MIN_DE = 2.0
SCALP_STEP_SKIN_RATIO = 2.0
#: ... counting only unreached smooth pieces whose bounding box spans at least this
#: fraction of the short side. A choice: a wall or shirt behind a head is a band along
#: the frame, while the skin seen between strands of a close-up comes in small patches.
SCALP_STRUCTURE_MIN_EXTENT = 0.5
#: ... and only pieces of another material than the central smooth skin: their median
#: colour differs from its median by at least SCALP_STRUCTURE_MIN_DE_ANY in CIELAB, and
#: by at least SCALP_STRUCTURE_MIN_CHROMATICITY in linear rgb chromaticity or by at
#: least SCALP_STRUCTURE_MIN_DE. Choices: skin cut off from the centre by the strands of
#: a close-up is the same skin (on 500 synthetic photos: ≤ 4.3 ΔE*ab, and ≤ 0.01 in
#: chromaticity unless dark, where chromaticity is unsteady); walls differed by ≥ 5.5
#: ΔE*ab and ≥ 0.023. 5 is about two just-noticeable differences (Mahy et al. 1994 [4]);
#: 0.02 is below the 0.03 between neighbouring Monk tones (see
#: SKIN_SPLIT_MIN_CHROMATICITY), and shading changes chromaticity not at all; 20 ΔE*ab
#: is more lightness than shading of ±40 % gives skin (a wall of skin chromaticity).
SCALP_STRUCTURE_MIN_DE_ANY = 5.0
SCALP_STRUCTURE_MIN_CHROMATICITY = 0.02
SCALP_STRUCTURE_MIN_DE = 20.0


def _colour_set(lab_pixels: np.ndarray, reach_bins: int, mass: float = 1.0) -> np.ndarray:
    """The CIELAB histogram bins holding *mass* of the pixels (the most populated
    first; bins of single pixels never count), dilated by *reach_bins* bins (bool grid).
    """
    grid = np.zeros(_LAB_GRID_SHAPE, dtype=np.int64)
    if len(lab_pixels):
        idx = _lab_bins(lab_pixels)
        np.add.at(grid, (idx[:, 0], idx[:, 1], idx[:, 2]), 1)
    occupied = _most_populated(grid.ravel(), mass).reshape(_LAB_GRID_SHAPE) & (grid >= 2)
    if reach_bins > 0 and occupied.any():
        size = 2 * reach_bins + 1
        kernel = np.ones((size, size), np.uint8)
        # Dilate over (a, b) per L slice, then over L.
        occupied = np.stack([cv2.dilate(sl.astype(np.uint8), kernel).astype(bool) for sl in occupied])
        cumulative = occupied.copy()
        for shift in range(1, reach_bins + 1):
            cumulative[shift:] |= occupied[:-shift]
            cumulative[:-shift] |= occupied[shift:]
        occupied = cumulative
    return occupied


def _most_populated(counts: np.ndarray, mass: float) -> np.ndarray:
    """Bool mask of the bins that ``np.argsort(counts)[::-1]`` lists before the running
    total reaches *mass* of all counts (that bin included), for :func:`_colour_set`.

    Only bins of 2 or more counts matter to the caller, so the sort is needed only when
    the bins tied at the cut-off count (≥ 2) are split by it; otherwise the kept bins
    follow from the counts alone and the few occupied bins are sorted instead of the
    whole grid (same result, ~2 ms less per call).
    """
    occupied = np.zeros(counts.shape, dtype=bool)
    if not counts.any():
        return occupied
    present = np.sort(counts[counts > 0])[::-1]
    cumulative = np.cumsum(present)
    last = int(np.searchsorted(cumulative, mass * cumulative[-1]))  # index of the last bin kept
    if last >= len(present):
        return counts > 0
    cut = present[last]
    ties_kept = last + 1 - int(np.count_nonzero(present > cut))
    if cut < 2 or ties_kept == int(np.count_nonzero(present == cut)):
        return counts >= cut
    order = np.argsort(counts)[::-1]  # the tie order of the full sort decides
    occupied[order[: last + 1]] = True
    return occupied


_LAB_BIN = 5.0  # CIELAB units per histogram bin (a choice: ~2 JND)
_LAB_GRID_SHAPE = (21, 52, 52)  # L 0–100, a and b −130…130


def _lab_bins(lab_pixels: np.ndarray) -> np.ndarray:
    l_bin = np.clip(lab_pixels[:, 0] / _LAB_BIN, 0, _LAB_GRID_SHAPE[0] - 1)
    a_bin = np.clip((lab_pixels[:, 1] + 130.0) / _LAB_BIN, 0, _LAB_GRID_SHAPE[1] - 1)
    b_bin = np.clip((lab_pixels[:, 2] + 130.0) / _LAB_BIN, 0, _LAB_GRID_SHAPE[2] - 1)
    return np.stack([l_bin, a_bin, b_bin], axis=1).astype(np.intp)


def _lab_step(lab_small: np.ndarray) -> np.ndarray:
    """Local colour step (≈ ΔE*ab per pixel): half the 3×3 morphological range of each
    CIELAB channel, combined as a Euclidean norm. Symmetric under 90° rotations."""
    kernel = np.ones((3, 3), np.uint8)
    squared = np.zeros(lab_small.shape[:2], np.float32)
    for channel in range(3):
        plane = np.ascontiguousarray(lab_small[..., channel])
        spread = cv2.dilate(plane, kernel) - cv2.erode(plane, kernel)
        squared += spread * spread
    return np.sqrt(squared) / 2


def _structure_evidence(rgb_small, lab_small, texture, centre, border, *, colour_evidence=True) -> np.ndarray:
    """Border pixels that are smooth but not connected to the central smooth skin (see
    SCALP_STEP_MIN_DE and SCALP_STRUCTURE_MIN_EXTENT): a wall or shirt of the head's
    colours, set apart from the dome by its outline or by the hair around it.

    A centre with no smooth pixel is hair all over (a full head, or a close-up of dense
    hair). Then, if not *colour_evidence* (the caller found no background by colour, so
    the photo would otherwise be taken for a close-up filling the frame), a smooth piece
    counts if it is of another material than the centre as a whole (the hair with the
    skin between it): a full head in front of a wall of its colours, such as a grey
    wall behind grey and black hair. The skin between the strands of a close-up of
    dense hair comes in pieces smaller than SCALP_STRUCTURE_MIN_EXTENT. With
    *colour_evidence* such a centre gives no evidence: beside hair that fills the
    centre, a smooth piece is as often bald skin (a receding forehead) as a wall, and
    GrabCut has the colour evidence to separate the two. Measured: on 400 neutral renders (evaluation
    seeds 0 and 1000) the rule restores 13 scalp masks taken for the whole frame
    (precision 0.39–0.86 → 0.92–0.99, recall ≥ 0.996). On the 1,294 real photos it
    changes none (3 of their 2,588 shrunk copies), while applying it with colour
    evidence too changed 57, all with colour evidence on ≥ 7 % of the border, and cut
    the bald skin beside the hair off the scalp in several.

    Returns a bool mask of *border*'s shape.
    """
    smooth = texture < TEXTURE_HAIR_MIN
    central_skin = centre & smooth
    if not central_skin.any() and colour_evidence:
        return np.zeros_like(border)
    step = _lab_step(lab_small)
    if central_skin.any():
        limit = max(SCALP_STEP_MIN_DE, SCALP_STEP_SKIN_RATIO * float(np.median(step[central_skin])))
        head_sample = central_skin
    else:  # hair fills the centre: the skin between it has no step of its own to measure
        limit = SCALP_STEP_MIN_DE
        head_sample = centre
    passable = smooth & (step < limit)
    _, labels = cv2.connectedComponents(passable.astype(np.uint8), connectivity=4)
    reached = np.unique(labels[central_skin & passable])
    skin = np.isin(labels, reached[reached > 0])
    # One pixel of margin: the outline itself belongs to neither side.
    near_skin = cv2.dilate(skin.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    apart = border & smooth & ~near_skin
    if not apart.any():
        return apart
    _, pieces, stats, _ = cv2.connectedComponentsWithStats(apart.astype(np.uint8), connectivity=8)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = extent >= SCALP_STRUCTURE_MIN_EXTENT * min(border.shape)
    keep[0] = False
    if not keep.any():
        return np.zeros_like(border)
    head_lab = np.median(lab_small[head_sample], axis=0)
    head_chroma = _chromaticity(srgb_to_linear(np.median(rgb_small[head_sample], axis=0)))
    for piece in np.flatnonzero(keep):
        inside = pieces == piece
        distance = float(np.linalg.norm(np.median(lab_small[inside], axis=0) - head_lab))
        chroma_distance = float(np.linalg.norm(
            _chromaticity(srgb_to_linear(np.median(rgb_small[inside], axis=0))) - head_chroma
        ))
        keep[piece] = distance >= SCALP_STRUCTURE_MIN_DE_ANY and (
            distance >= SCALP_STRUCTURE_MIN_DE or chroma_distance >= SCALP_STRUCTURE_MIN_CHROMATICITY
        )
    return keep[pieces]


def _scalp_small(rgb_small, reference_small, texture_small=None) -> np.ndarray:
    """The head region at low resolution, by GrabCut [5]_ seeded with a centre prior.

    *texture_small* is the texture energy (L* units, any size; resized here), or None to
    use colour evidence only.

    1. The colours of a central disc are the head's; border-band pixels whose colour is
       far (≳ SCALP_COLOUR_REACH) from all of them are background evidence. So are
       smooth border pixels cut off from the central smooth skin by hair texture or a
       colour step (``_structure_evidence``): a wall of the hair's or skin's colour.
       When colour finds none and hair fills the centre, smooth border pieces of
       another material than the centre are (a full head in front of a wall).
    2. No such evidence: the photo is a close-up that fills the frame; all of it is scalp.
    3. Otherwise GrabCut starts with: central disc surely head, pixels of background
       colours probably background, the rest probably head; it then fits colour models
       and cuts. Every seed is symmetric under 90° rotations, and colour sets are
       histograms, so the result does not depend on pixel order.
    """
    height, width = rgb_small.shape[:2]
    lab_small = cv2.cvtColor(np.ascontiguousarray(rgb_small, np.float32), cv2.COLOR_RGB2Lab)
    flat = lab_small.reshape(-1, 3)
    centre = _centre_disc((height, width), SCALP_CENTRE_COLOUR_FRACTION) & ~reference_small
    band = max(1, round(SCALP_BORDER_FRACTION * min(height, width)))
    border = np.zeros((height, width), dtype=bool)
    border[:band] = border[-band:] = True
    border[:, :band] = border[:, -band:] = True
    border &= ~reference_small
    reach = max(1, round(SCALP_COLOUR_REACH / _LAB_BIN))
    head_colours = _colour_set(lab_small[centre], reach, SCALP_CENTRE_COLOUR_MASS)
    bins = _lab_bins(flat)
    head_coloured = head_colours[bins[:, 0], bins[:, 1], bins[:, 2]].reshape(height, width)
    evidence = border & ~head_coloured
    enough = SCALP_MIN_BACKGROUND_FRACTION * border.sum()
    if texture_small is not None:
        texture = cv2.resize(texture_small, (width, height), interpolation=cv2.INTER_AREA)
        found_by_colour = np.count_nonzero(evidence) >= enough
        evidence |= _structure_evidence(
            rgb_small, lab_small, texture, centre, border, colour_evidence=found_by_colour
        )
    if np.count_nonzero(evidence) < enough:
        return ~reference_small
    background_colours = _colour_set(lab_small[evidence], 1)
    background_coloured = background_colours[bins[:, 0], bins[:, 1], bins[:, 2]].reshape(height, width)

    image8 = np.clip(rgb_small * 255 + 0.5, 0, 255).astype(np.uint8)
    seeds = np.full((height, width), cv2.GC_PR_FGD, np.uint8)
    seeds[background_coloured & ~head_coloured] = cv2.GC_PR_BGD
    seeds[evidence] = cv2.GC_BGD
    seeds[_centre_disc(seeds.shape, SCALP_SURE_DISC_FRACTION)] = cv2.GC_FGD
    seeds[reference_small] = cv2.GC_BGD
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    # GrabCut initialises its colour models with k-means drawn from OpenCV's per-thread
    # random generator: seed it so the same photo always gives the same mask.
    cv2.setRNGSeed(GRABCUT_RNG_SEED)
    try:
        cv2.grabCut(image8, seeds, None, background_model, foreground_model,
                    SCALP_GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # degenerate colour models (e.g. a flat image): keep the seeds
        pass
    head = (seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)
    count, labels = cv2.connectedComponents(head.astype(np.uint8), connectivity=8)
    central = np.unique(labels[_centre_disc(head.shape, SCALP_SURE_DISC_FRACTION)])
    head = np.isin(labels, central[central > 0])
    return _fill_holes(head) & ~reference_small
