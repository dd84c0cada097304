"""Step 7 of the segmentation: hair and skin class centres in CIELAB, their k-means
refinement, distance maps, unresolved hair in the skin mask, and the second material
when hair and skin come out as one colour.

The references ([1]_–[6]_) are those of the package docstring (:mod:`shade_match.segmentation`).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import srgb_to_linear
from .pixels import _chromaticity, _sample
from .lines import GREY_HAIR_MAX_CHROMA, GREY_HAIR_MIN_L


# --------------------------------------------------------------------------------------
# Thresholds. Each is a design choice (there is no published value for scalp photos);
# the comment says why, and the tests pin the behaviour it buys.
# --------------------------------------------------------------------------------------

#: Class centres (CIELAB) closer than this to the skin centre are not a hair class. A
#: choice: ~4 JND; hair that close to the skin colour cannot be told from it by colour.
CLASS_MIN_SEPARATION = 10.0
#: A hair class whose centre has a* below this is not hair. Melanin hair is yellow-red
#: (a*, b* ≥ −3 under D65; the sources are quoted at ``correction._HAIR_AB_MIN``), and
#: the casts of room lights and daylight move colours along the blue–yellow axis (b*)
#: far more than along a*, so a green class is something else in frame. A choice:
#: −3 with two of correction's hair-region softness (``_HAIR_SIGMA`` = 5) as a margin
#: for a tinted light. Seen on the dataset: a green aquarium at the edge of a bald
#: head (1-Front, three copies) was its only "hair", reported as Lab (70, −35, 35).
#: b* is not tested: under the blue light of some dataset photos real grey stubble
#: reads b* −11 to −52.
HAIR_MIN_A_STAR = -13.0
#: The skin centre starts this far (L*) on the skin's side of the main hair colour, and
#: a second hair polarity needs this share of the seeds (unless grey/white). Choices:
#: 12 L* is twice the dark-line contrast threshold; a fifth of the seeds is more than
#: the glints and skin wedges a single polarity of hair leaves.
SKIN_INIT_MARGIN_L = 12.0
#: Chromatic light lines must be at least this much lighter (L*) than the pixels off the
#: lines to be hair: half the light-line contrast threshold, a choice that keeps "lines"
#: of skin between pores from being hair.
MAIN_CLASS_MIN_OFFSET_L = 4.0
SECONDARY_MIN_SHARE = 0.2

#: A pixel off the detected lines is hair only when its distance to the nearest hair
#: centre is at most this fraction of its distance to the skin centre (a choice: 0.6
#: puts the boundary ~60 % of the way from skin to hair, so skin in shadow stays skin).
REGION_HAIR_DISTANCE_RATIO = 0.6
#: The skin mask splits into skin and unresolved hair (see _unresolved_hair) only when
#: each part holds this share of its pixels, and their rgb chromaticities (linear light,
#: r + g + b = 1) differ by at least this. Choices: a tenth is a region, not pores or
#: blotches; 0.03 is about the chromaticity step between neighbouring Monk tones at
#: equal lightness, while shading changes chromaticity not at all.
SKIN_SPLIT_MIN_SHARE = 0.1
#: When the hair and skin masks come out as one material (their median colours closer
#: than CLASS_MIN_SEPARATION, see _second_material), the other material is looked for
#: among the scalp pixels left out of both masks; it must cover at least this share of
#: the scalp. A choice: 3 % is a region (the skin seen between dense hair, a sparse
#: strand zone), not the strand edges, specks and glints a 1 % band would hold.
SECOND_MATERIAL_MIN_FRACTION = 0.03
#: ... and its refined colour must lie this far (ΔE*ab) from the common one. A choice:
#: CLASS_MIN_SEPARATION with half of it again as a margin, so that a shade of the same
#: material (skin in a shadowed band, a blotch) does not rebuild the masks.
SECOND_MATERIAL_SEPARATION = 1.5 * CLASS_MIN_SEPARATION
#: ... and its pixels must clump: around the median one of them, at least this share
#: of a window of SECOND_MATERIAL_WINDOW_FRACTION of the long side is the same
#: material. Scattered specks (glints, noise, bright pores beside black hair on dark
#: skin) are not a material. A choice, read off the rendered photos of
#: shade_match.evaluate (seed 0): the skin seen between dense hair scored 0.46–1.0
#: (one at 0.31), the specks that misled the rebuild 0.08–0.41 (three at 0.53–0.85);
#: checked on the disjoint seed 1000 (closing note of issue 3).
SECOND_MATERIAL_MIN_CLUSTERING = 0.45
SECOND_MATERIAL_WINDOW_FRACTION = 0.01
SKIN_SPLIT_MIN_CHROMATICITY = 0.03
#: Lloyd iterations and pixel budget of the class-centre refinement (speed choices;
#: the centres settle in 3–5 iterations on the dataset photos, and 10 000 pixels give
#: the hair and skin masks of 40 000 within IoU 0.99 on the 12 MP benchmark photo).
REFINE_ITERATIONS = 6
REFINE_MAX_PIXELS = 10_000

#: Minimum hair seeds for a scalp to have hair: this fraction of the scalp area
#: (a choice: synthetic.SyntheticPhoto.has_hair calls a scalp hairy at 0.5 % coverage;
#: seeds are thinner than the hair they mark, so half of that).
MIN_HAIR_SEED_FRACTION = 0.0025
#: ... and never fewer than this many pixels.
MIN_HAIR_SEED_PX = 30


def _columns(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three channels of (n, 3) *pixels* as contiguous arrays."""
    return tuple(np.ascontiguousarray(pixels[:, channel]) for channel in range(3))


def _squared_distance(columns, centre) -> np.ndarray:
    """``((pixels - centre) ** 2).sum(axis=1)`` for pixels given as :func:`_columns`:
    the same terms added in the same order (so the same values, bit for bit), without
    the (n, 3) temporaries and the strided reduction (~10× faster at 10 000 pixels)."""
    return ((columns[0] - centre[0]) ** 2 + (columns[1] - centre[1]) ** 2) + (columns[2] - centre[2]) ** 2


def _unresolved_hair(lab, rgb, skin, hair) -> np.ndarray:
    """Pixels of the skin mask that are smooth, unresolved hair (region scale).

    Dense hair at 640 px can be as smooth as skin to the line detectors (a blond or
    brown mass around a bald crown): the skin mask then holds two materials. Its pixels
    are split in two by 2-means in CIELAB (started from the two ends of the lightness
    range). The split is a second material, not shading, when the two centres are at
    least :data:`CLASS_MIN_SEPARATION` apart, each holds at least
    :data:`SKIN_SPLIT_MIN_SHARE` of the pixels and their linear-light rgb chromaticities
    differ by :data:`SKIN_SPLIT_MIN_CHROMATICITY` (shading scales all channels alike and
    leaves chromaticity unchanged). The part nearer the detected hair's colour, when
    clearly nearer (REGION_HAIR_DISTANCE_RATIO), is hair.
    """
    index = np.flatnonzero(skin)
    if len(index) < 400:
        return np.zeros_like(skin)
    sample = index[:: max(1, len(index) // REFINE_MAX_PIXELS)]
    pixels = lab.reshape(-1, 3)[sample]
    order = np.argsort(pixels[:, 0])
    start = np.stack([np.median(pixels[order[: len(order) // 4]], 0), np.median(pixels[order[-len(order) // 4 :]], 0)])
    centres, nearest, fewest = _lloyd(pixels, start)
    if fewest < _LLOYD_MIN_MEMBERS:  # one part emptied on the way: no split
        return np.zeros_like(skin)
    shares = np.bincount(nearest, minlength=2) / len(nearest)
    if np.linalg.norm(centres[0] - centres[1]) < CLASS_MIN_SEPARATION or shares.min() < SKIN_SPLIT_MIN_SHARE:
        return np.zeros_like(skin)
    linear = srgb_to_linear(rgb.reshape(-1, 3)[sample])
    chroma = _chromaticity(np.stack([np.median(linear[nearest == k], 0) for k in (0, 1)]))
    if np.linalg.norm(chroma[0] - chroma[1]) < SKIN_SPLIT_MIN_CHROMATICITY:
        return np.zeros_like(skin)
    hair_lab = np.median(_sample(lab, hair), axis=0)
    to_hair = np.linalg.norm(centres - hair_lab, axis=1)
    near, far = (0, 1) if to_hair[0] <= to_hair[1] else (1, 0)
    if to_hair[near] > REGION_HAIR_DISTANCE_RATIO * to_hair[far]:
        return np.zeros_like(skin)
    all_pixels = _columns(lab.reshape(-1, 3)[index])
    d_near = _squared_distance(all_pixels, centres[near])
    d_far = _squared_distance(all_pixels, centres[far])
    out = np.zeros(skin.size, dtype=bool)
    out[index[d_near < d_far]] = True
    return out.reshape(skin.shape)


def _distance_maps(lab: np.ndarray):
    """A function of a CIELAB centre giving every pixel's squared distance to it
    (float32 image): |p − c|² = |p|² − 2 p·c + |c|², |p|² computed once, then one
    affine transform per centre."""
    lab_norm2 = cv2.transform(cv2.multiply(lab, lab), np.ones((1, 3), np.float32))

    def squared_distance(centre):
        c = np.asarray(centre, np.float64)
        affine = np.array([[-2 * c[0], -2 * c[1], -2 * c[2], float(c @ c)]], np.float32)
        return cv2.add(lab_norm2, cv2.transform(lab, affine))

    return squared_distance


def _second_material(lab, usable, hair, skin, dark_seed, light_seed):
    """Hair and skin masks rebuilt when both came out as one material, else None.

    Two ways the masks collapse onto one colour: dense hair is smooth to the line
    detectors at the pooling scale and becomes the "skin" (the real skin, seen only
    between the hairs, is then left in the band around the hair or excluded as
    "glare"); or, on a sparse scalp, the "hair" class settles on skin-coloured pixels
    and the strands stay in the band around them. Either way the hair and skin masks
    have the same median colour (within :data:`CLASS_MIN_SEPARATION`: hair that close
    to the skin cannot be told from it), and the scalp pixels outside both masks hold
    a second material: at least :data:`SECOND_MATERIAL_MIN_FRACTION` of the scalp
    farther than CLASS_MIN_SEPARATION from the common colour, in clumps
    (:data:`SECOND_MATERIAL_MIN_CLUSTERING`), not scattered specks. The two colours are
    refined by k-means over the usable scalp and must end
    :data:`SECOND_MATERIAL_SEPARATION` apart. Which one is hair follows from the line
    detectors: dark lines in the majority mean the hair is the darker material (light
    lines, the lighter one), since a line detector finds strands darker (lighter) than
    what lies between them. Each usable pixel clearly nearer one colour
    (REGION_HAIR_DISTANCE_RATIO) joins that mask.
    """
    if np.linalg.norm(np.median(_sample(lab, hair), axis=0) - np.median(_sample(lab, skin), axis=0)) >= CLASS_MIN_SEPARATION:
        return None  # two materials (every photo with hair and skin apart stops here)
    common = np.median(_sample(lab, hair | skin), axis=0)
    rest = usable & ~hair & ~skin
    far = rest.copy()
    far[rest] = np.linalg.norm(lab[rest] - common, axis=1) >= CLASS_MIN_SEPARATION
    if np.count_nonzero(far) < max(MIN_HAIR_SEED_PX, SECOND_MATERIAL_MIN_FRACTION * np.count_nonzero(usable)):
        return None
    window = max(3, 2 * round(SECOND_MATERIAL_WINDOW_FRACTION * max(far.shape)) + 1)
    clustering = cv2.blur(far.astype(np.float32), (window, window))
    if float(np.median(clustering[far])) < SECOND_MATERIAL_MIN_CLUSTERING:
        return None  # scattered specks (glints, noise, pores), not a material
    centres = _refine_centres(
        _sample(lab, usable, REFINE_MAX_PIXELS),
        {"common": common, "other": np.median(_sample(lab, far), axis=0)},
    )
    if np.linalg.norm(centres["common"] - centres["other"]) < SECOND_MATERIAL_SEPARATION:
        return None
    darker, lighter = sorted(centres.values(), key=lambda c: c[0])
    dark_hair = np.count_nonzero(dark_seed) >= np.count_nonzero(light_seed)
    hair_centre, skin_centre = (darker, lighter) if dark_hair else (lighter, darker)
    squared_distance = _distance_maps(lab)
    to_hair, to_skin = squared_distance(hair_centre), squared_distance(skin_centre)
    ratio2 = REGION_HAIR_DISTANCE_RATIO**2
    return usable & (to_hair <= ratio2 * to_skin), usable & (to_skin <= ratio2 * to_hair)


def _refine_centres(lab_pixels: np.ndarray, centres: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A few Lloyd (k-means) iterations from the seed-based class centres.

    The skin centre starts from the pixels away from any strand, which at region scale
    still include unresolved hair; reassigning all usable pixels to the nearest centre
    and re-taking medians moves each centre to its own material. Deterministic: the
    start is given, the pixels are a fixed stride of at most REFINE_MAX_PIXELS.
    """
    if len(lab_pixels) > REFINE_MAX_PIXELS:
        lab_pixels = lab_pixels[:: int(np.ceil(len(lab_pixels) / REFINE_MAX_PIXELS))]
    names = list(centres)
    current, _, _ = _lloyd(lab_pixels, np.stack([centres[n] for n in names]))
    return {n: current[k] for k, n in enumerate(names)}


#: A class keeps its centre in an iteration where fewer pixels than this are nearest
#: it (a median of a handful of pixels is noise). A choice, as the package's other small
#: floors.
_LLOYD_MIN_MEMBERS = 20


def _lloyd(pixels: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Lloyd (k-means) iterations with medians, from the centres *start* (k × 3).

    At most REFINE_ITERATIONS; stops when no centre would move by more than 0.1 (the
    centres are then those before that last update). A class with fewer than
    :data:`_LLOYD_MIN_MEMBERS` pixels keeps its centre. Ties go to the first centre.
    Returns the centres, each pixel's class in the last iteration, and the fewest
    pixels any class had in any iteration (a two-way split that emptied a part on the
    way is no split, see :func:`_unresolved_hair`).
    """
    current = np.array(start)
    columns = _columns(pixels)
    nearest = np.zeros(len(pixels), dtype=np.intp)
    fewest = len(pixels)
    for _ in range(REFINE_ITERATIONS):
        distances = np.stack([_squared_distance(columns, centre) for centre in current], axis=1)
        nearest = np.argmin(distances, axis=1)
        counts = np.bincount(nearest, minlength=len(current))
        fewest = min(fewest, int(counts.min()))
        updated = current.copy()
        for k in range(len(current)):
            if counts[k] >= _LLOYD_MIN_MEMBERS:
                updated[k] = np.median(pixels[nearest == k], axis=0)
        if np.allclose(updated, current, atol=0.1):
            break
        current = updated
    return current, nearest, fewest


def _initial_centres(lab, lightness, away_from_seeds, dark_seed, light_seed) -> dict[str, np.ndarray]:
    """Starting CIELAB centres of the skin and hair classes.

    The main hair class is the polarity with more seeds. By what a line detector finds,
    dark strands are darker than the skin around them (light strands lighter), so the
    skin centre starts from the pixels away from any strand that are on the skin's side
    of the main hair colour by SKIN_INIT_MARGIN_L — unresolved hair (a large smooth dark
    region of black hair) would otherwise pull it. The other polarity is a class of its
    own only when it holds SECONDARY_MIN_SHARE of the seeds or looks grey/white; else
    its few seeds are glints or skin wedges between strands. *lightness* is L* of *lab*
    as a contiguous plane (sampling a strided view of it would copy the whole plane).
    """
    dark_px, light_px = int(np.count_nonzero(dark_seed)), int(np.count_nonzero(light_seed))
    main, other = ("dark", "light") if dark_px >= light_px else ("light", "dark")
    seeds = {"dark": dark_seed, "light": light_seed}
    centres = {}
    main_lab = np.median(_sample(lab, seeds[main]), axis=0)
    # Chromatic light "lines" hardly lighter than the pixels off the lines are skin
    # between darker specks (pores, freckles) on a bald scalp, not hair. (Grey/white
    # hair is exempt: it is not chromatic; dark lines are exempt: at region scale the
    # pixels off the lines are mostly unresolved hair of the same colour.)
    area_l = float(np.median(_sample(lightness, away_from_seeds)))
    main_grey = np.hypot(main_lab[1], main_lab[2]) < GREY_HAIR_MAX_CHROMA
    if main == "light" and not main_grey and main_lab[0] < area_l + MAIN_CLASS_MIN_OFFSET_L:
        skin_pixels = _sample(lab, away_from_seeds)
        return {"skin": np.median(skin_pixels, axis=0)} if len(skin_pixels) >= 20 else {}
    centres[main] = main_lab
    other_px = _sample(lab, seeds[other])
    if len(other_px) >= 20:
        other_lab = np.median(other_px, axis=0)
        other_grey = (
            other == "light"
            and np.hypot(other_lab[1], other_lab[2]) < GREY_HAIR_MAX_CHROMA
            and other_lab[0] > GREY_HAIR_MIN_L
        )
        other_count = light_px if other == "light" else dark_px
        if other_count >= SECONDARY_MIN_SHARE * (dark_px + light_px) or other_grey:
            centres[other] = other_lab
    if main == "dark":
        skin_side = away_from_seeds & (lightness >= main_lab[0] + SKIN_INIT_MARGIN_L)
    else:
        skin_side = away_from_seeds & (lightness <= main_lab[0] - SKIN_INIT_MARGIN_L)
    skin_pixels = _sample(lab, skin_side if np.count_nonzero(skin_side) >= 50 else away_from_seeds)
    if len(skin_pixels) >= 20:
        centres["skin"] = np.median(skin_pixels, axis=0)
    return centres
