"""Step 6 of the segmentation: clipped pixels, glare (the dichromatic test [6]_) and
compact bright blobs of "hair" (speckled highlights).

The references ([1]_–[6]_) are those of the package docstring (:mod:`shade_match.segmentation`).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import srgb_to_linear
from .geometry import _components_in_bounds, _disc, _paint
from .pixels import _chromaticity
from .lines import STRAND_EXTENT_MIN_PX, TEXTURE_HAIR_MIN


# --------------------------------------------------------------------------------------
# Thresholds. Each is a design choice (there is no published value for scalp photos);
# the comment says why, and the tests pin the behaviour it buys.
# --------------------------------------------------------------------------------------

#: A channel at or above this (sRGB-encoded) is clipped: 8-bit code 255. Lower limits
#: would throw away white hair (L* ≈ 98 is codes ≈ 250).
CLIPPED_HIGH = 254.5 / 255
#: All channels at or below this are crushed black: 8-bit code 0–1 carries no colour.
CLIPPED_LOW = 1.5 / 255

#: A glare blob: a compact patch ((extent)² / area ≤ 2; a disc gives 1.27, a strand
#: ≥ 3) of bright, nearly neutral "hair" no larger than 5 % of the scalp. Choices: a
#: specular highlight is a blob; white hair is lines, or a region larger than that.
GLARE_BLOB_MAX_ELONGATION = 2.0
GLARE_BLOB_MAX_SCALP_FRACTION = 0.05

#: Ring around a glare candidate its colour is compared with (fraction of the long
#: side). A choice: ~1 % reaches the surface beside a highlight, not the next material.
GLARE_RING_FRACTION = 0.01
#: ... or its extra light is this close to neutral (rgb chromaticity distance), as a
#: white-balanced light is, however grey the surround (grey or white hair). A choice:
#: 0.03 is about the chromaticity of a 20-mired white-balance error.
GLARE_NEUTRAL_EXCESS = 0.03
#: A candidate at least this share smooth (texture < TEXTURE_HAIR_MIN) inside a ring
#: at most 1 − this share smooth is bare skin amid hair, not glare. A choice: two
#: thirds is a clear majority either way.
GLARE_SMOOTH_SHARE = 2.0 / 3.0


def _compact_blobs(mask: np.ndarray, max_area: float) -> np.ndarray:
    """Components of *mask* that are compact (near-disc) blobs no larger than *max_area*."""
    if not mask.any():
        return mask
    window, (labels, stats) = _components_in_bounds(mask, with_stats=True)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float64)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    keep = (
        (extent >= STRAND_EXTENT_MIN_PX)
        & (extent * extent <= GLARE_BLOB_MAX_ELONGATION * area)
        & (area <= max_area)
    )
    keep[0] = False
    return _paint(mask.shape, window, np.take(keep, labels))


def _clipped(rgb: np.ndarray) -> np.ndarray:
    """Clipped pixels of float32 *rgb*: a channel outside [−1, CLIPPED_HIGH) (at or
    above CLIPPED_HIGH, or NaN), or every channel at or below CLIPPED_LOW.

    Two whole-image ``inRange`` passes (~1.6 ms each at 1000 px) are skipped when one
    look at the value range settles them: no channel at or below CLIPPED_LOW means
    nothing is crushed, and every value in [−1, CLIPPED_HIGH) (``checkRange``, which
    also fails on NaN) means nothing is clipped high. Same masks either way; OpenCV
    compares float32 images against float32 bounds in all three calls.
    """
    height, width = rgb.shape[:2]
    rows = rgb.reshape(height, -1)
    high = float(np.float32(CLIPPED_HIGH))
    if cv2.checkRange(rows, True, -1.0, high)[0]:
        clipped = np.zeros((height, width), dtype=bool)
    else:
        below_high = float(np.nextafter(np.float32(CLIPPED_HIGH), np.float32(0)))
        clipped = cv2.inRange(rgb, (-1.0, -1.0, -1.0), (below_high,) * 3) == 0  # a channel outside [−1, CLIPPED_HIGH)
    lowest = cv2.minMaxLoc(rows)[0]  # NaN ignored: a NaN channel is never ≤ CLIPPED_LOW
    if lowest <= float(np.float32(CLIPPED_LOW)):
        clipped |= cv2.inRange(rgb, (-1.0, -1.0, -1.0), (CLIPPED_LOW,) * 3) > 0  # every channel ≤ CLIPPED_LOW
    return clipped


def _chromaticity_distance(linear: np.ndarray) -> np.ndarray:
    """Distance of linear RGB rows from the neutral axis, in rgb chromaticity."""
    return np.linalg.norm(_chromaticity(linear) - 1.0 / 3.0, axis=-1)


def _dichromatic_glare(candidates: np.ndarray, rgb: np.ndarray, scalp: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """Keep the glare candidates whose extra light is less saturated than their surround.

    A highlight adds light of the illuminant's colour to the surface beneath it
    (Shafer's dichromatic model [6]_): in linear light, highlight − surrounding surface
    is the light's colour, which is less saturated than the body colour of skin or hair
    under that light. A lighter, paler *material* — a fair bald crown beside blond or
    brown hair, white hair beside dark skin — differs from its surround by a colour at
    least as saturated as the surround. Extra light that is itself nearly neutral
    (:data:`GLARE_NEUTRAL_EXCESS`) is glare whatever the surround — unless the blob is
    smooth and its surround is hair-textured: light added to hair keeps the hair's
    texture, so a smooth pale patch inside hair is bare skin (a fair bald crown beside
    saturated red hair differs from the hair by a nearly white colour). Each 8-connected
    candidate blob is compared
    with a ring of :data:`GLARE_RING_FRACTION` of the long side around it.
    """
    if not candidates.any():
        return candidates
    count, labels = cv2.connectedComponents(candidates.astype(np.uint8), connectivity=8)
    reach = max(3, 2 * round(GLARE_RING_FRACTION * max(candidates.shape)) + 1)
    ring_labels = cv2.dilate(labels.astype(np.float32), _disc(reach)).astype(np.int32)
    ring = (ring_labels > 0) & ~candidates & scalp
    # Linear light of the candidate and ring pixels only (the rest is never looked at).
    linear_in = srgb_to_linear(rgb[candidates])
    linear_ring = srgb_to_linear(rgb[ring])
    sums_in = np.stack([np.bincount(labels[candidates], linear_in[:, c], count) for c in range(3)], 1)
    n_in = np.bincount(labels[candidates], minlength=count)[:, None]
    sums_ring = np.stack([np.bincount(ring_labels[ring], linear_ring[:, c], count) for c in range(3)], 1)
    n_ring = np.bincount(ring_labels[ring], minlength=count)[:, None]
    inside = sums_in / np.maximum(n_in, 1)
    around = sums_ring / np.maximum(n_ring, 1)
    excess = inside - around
    smooth = (texture < TEXTURE_HAIR_MIN).astype(np.float64)
    smooth_inside = np.bincount(labels[candidates], smooth[candidates], count) / np.maximum(n_in[:, 0], 1)
    smooth_around = np.bincount(ring_labels[ring], smooth[ring], count) / np.maximum(n_ring[:, 0], 1)
    skin_in_hair = (smooth_inside >= GLARE_SMOOTH_SHARE) & (smooth_around < 1.0 - GLARE_SMOOTH_SHARE) & (n_ring[:, 0] > 0)
    keep = ~skin_in_hair & (
        (n_ring[:, 0] == 0)  # nothing around to compare with: keep the photometric rule
        | (
            np.all(excess > 0, axis=1)
            & (
                (_chromaticity_distance(excess) < _chromaticity_distance(around))
                | (_chromaticity_distance(excess) <= GLARE_NEUTRAL_EXCESS)
            )
        )
    )
    keep[0] = False
    return keep[labels]
