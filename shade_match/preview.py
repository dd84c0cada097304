"""Healed-look preview: SMP dots rendered over the client's own photo.

:func:`render_preview` places dots like follicles — Poisson-disk samples (Bridson
2007 [1]_, made parallel as in Wei 2008 [5]_), so no two dots are closer than a spacing, without the grid look of a
regular pattern — only inside the bald or thinning area of the scalp, and draws each
as a soft, anti-aliased dot whose colour is a **simple optical approximation** of
healed pigment seen through skin:

1. *Cool shift.* Carbon pigment in skin heals cooler (bluer/greener) than the ink
   (research R7 [2]_); the pigment colour is shifted by :data:`COOL_SHIFT_LAB` in
   CIELAB before anything else.
2. *Translucent epidermis.* The pigment sits in the dermis under a thin, translucent
   epidermis (SMP depth ≈ 0.5 mm, R9 [3]_), so part of what is seen over a dot is
   the skin's own reflectance. The healed dot colour is a linear-light mix
   ``healed = T · pigment + (1 − T) · skin`` with the transmittance-like weight
   ``T`` = :data:`EPIDERMAL_TRANSMITTANCE`, computed per pixel with the local skin.
   Carbon black only absorbs light, so the healed colour is capped, channel by
   channel, at the skin's own value: a dilution lighter than the skin shows as
   (almost) nothing rather than as a light dot — the "too light is not visible
   enough" outcome of R5.
3. *Soft edges.* Healed dots spread slightly and lose their crisp edge (R6 [4]_): the
   dot coverage is blurred by a Gaussian of :data:`HEAL_BLUR_FRACTION` × the dot
   diameter.

This is an illustration to discuss a shade with a client, **not** a physical model
of light transport in skin (no scattering, no melanin layer, no depth). Every
constant is a stated design choice.

The output equals the input bit for bit outside ``area_mask ∧ scalp_mask``, and the
same ``seed`` always gives the same image.

References
----------
.. [1] R. Bridson, "Fast Poisson disk sampling in arbitrary dimensions", ACM
   SIGGRAPH 2007 Sketches, article 22.
.. [2] Research notes §b R7: https://baldingblog.com/does-the-smp-scalp-micropigmentation-turn-green-or-blue-over-time ;
   https://dariadart.com/smp-scalp-micropigmentation
.. [3] Research notes §b R9: https://californiamicropigmentation.com/what-is-scalp-miropigmentation-or-smp/
.. [4] Research notes §b R6: https://www.skalptec.com/news/fading/
.. [5] L.-Y. Wei, "Parallel Poisson disk sampling", ACM Trans. Graph. 27(3), article
   20 (SIGGRAPH 2008).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np

from . import colour
from .errors import SettingsError
from .results import Lab

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .analysis import Inspection
    from .recommend import Recommendation

__all__ = [
    "COOL_SHIFT_LAB",
    "EPIDERMAL_TRANSMITTANCE",
    "HEAL_BLUR_FRACTION",
    "POISSON_PACKING",
    "Preview",
    "poisson_disk_points",
    "render_preview",
    "compare_previews",
    "preview_montage",
    "write_previews",
]

#: Shift of the pigment colour in CIELAB (ΔL*, Δa*, Δb*) for the cool cast of healed
#: carbon (R7: "black with a tinge of blue"). Design choice: a few units towards
#: blue-green, visible but small; R7 gives no number.
COOL_SHIFT_LAB: tuple[float, float, float] = (0.0, -1.0, -4.0)

#: Weight of the pigment in the healed dot's linear-light colour (the rest is the
#: local skin showing through the epidermis). Design choice: 0.8 keeps a neat carbon
#: dot near-black on light skin while letting the skin tint it.
EPIDERMAL_TRANSMITTANCE = 0.8

#: Gaussian sigma of the healed-dot blur, as a fraction of the dot diameter (design
#: choice: a quarter softens the edge without merging neighbouring dots).
HEAL_BLUR_FRACTION = 0.25

#: Per-dot strength is drawn uniformly from this range (design choice: dots of one
#: session never heal identically; a ±8 % spread avoids a printed look).
DOT_STRENGTH_RANGE = (0.85, 1.0)

#: Poisson-disk samples per area at spacing r: ``POISSON_PACKING / r²``. Measured
#: on :func:`poisson_disk_points` with its defaults (600×600 px, r = 4 and 8 px,
#: interior only): 0.62. Used to turn a density into a spacing.
POISSON_PACKING = 0.62

#: Passes over the 25 phase groups in :func:`poisson_disk_points`. Design choice:
#: each pass tries one candidate per still-empty cell; 20 passes reach near-maximal
#: density (more passes add under 2 % more samples, measured).
POISSON_ROUNDS = 20

#: Stop early when a pass adds fewer than this fraction of the samples so far
#: (design choice: the plane is then practically full).
POISSON_STOP_FRACTION = 0.005


@dataclass(frozen=True)
class Preview:
    """One rendered preview.

    ``image`` is ``(H, W, 3)`` uint8 sRGB; ``lab`` the pigment colour used (before
    the cool shift); ``entry_id`` the palette entry, if any.
    """

    label: str
    lab: Lab
    image: np.ndarray
    entry_id: str = ""


# --- sampling ----------------------------------------------------------------------------------


def poisson_disk_points(
    shape: tuple[int, int],
    spacing_px: float,
    *,
    mask: np.ndarray | None = None,
    seed: int = 0,
    rounds: int = POISSON_ROUNDS,
) -> np.ndarray:
    """Poisson-disk samples: no two closer than ``spacing_px``, otherwise random.

    Uses Bridson's background grid [1]_ (cells of side r/√2, so a cell holds at most
    one sample and a candidate only needs the 5×5 cells around it) with the
    *parallel* dart throwing of Wei [5]_ instead of Bridson's serial active list:
    cells are split into 25 phase groups by ``(row mod 5, col mod 5)``; cells of one
    group are ≥ 4 cells (> r) apart, so one candidate per empty cell of a group can
    be tested and accepted at once, in NumPy. ``rounds`` passes over the groups fill
    the plane to near-maximal density (see :data:`POISSON_PACKING`).

    Samples fill the bounding box of ``mask`` (or the whole image); only those on
    ``mask`` pixels are returned.

    Parameters
    ----------
    shape : (height, width)
    spacing_px : float
        Minimum distance between samples, > 0.5 px.
    mask : ndarray of bool, shape (height, width), optional
    seed : int
    rounds : int

    Returns
    -------
    ndarray, shape (N, 2), float64
        ``(x, y)`` pixel coordinates (pixel centres at integers), in no particular order.
    """
    height, width = (int(v) for v in shape)
    if not spacing_px > 0.5:
        raise SettingsError(f"spacing_px must be > 0.5 px; got {spacing_px!r}")
    rng = np.random.default_rng(seed)
    if mask is not None:
        ys, xs = np.nonzero(mask)
        if ys.size == 0:
            return np.zeros((0, 2))
        x0, x1, y0, y1 = xs.min() - 0.5, xs.max() + 0.5, ys.min() - 0.5, ys.max() + 0.5
    else:
        x0, x1, y0, y1 = -0.5, width - 0.5, -0.5, height - 0.5
    radius = float(spacing_px)
    cell = radius / math.sqrt(2.0)
    pad = 2
    cells_y = int(math.ceil((y1 - y0) / cell))
    cells_x = int(math.ceil((x1 - x0) / cell))
    # Sample coordinates per cell; NaN = empty. Padded by 2 cells of permanent NaN.
    grid = np.full((cells_y + 2 * pad, cells_x + 2 * pad, 2), np.nan)
    rows_all, cols_all = np.mgrid[0:cells_y, 0:cells_x]
    offsets = np.array([(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if (dy, dx) != (0, 0)])
    offset_y, offset_x = offsets[:, 0], offsets[:, 1]
    groups = []
    for gy in range(5):
        for gx in range(5):
            member = ((rows_all % 5) == gy) & ((cols_all % 5) == gx)
            groups.append((rows_all[member] + pad, cols_all[member] + pad))
    r2 = radius * radius
    total = 0
    for _ in range(rounds):
        accepted = 0
        for group in rng.permutation(len(groups)):
            rows, cols = groups[int(group)]
            empty = np.isnan(grid[rows, cols, 0])
            rows, cols = rows[empty], cols[empty]
            if rows.size == 0:
                continue
            cand_x = x0 + (cols - pad + rng.random(rows.size)) * cell
            cand_y = y0 + (rows - pad + rng.random(rows.size)) * cell
            neighbours = grid[rows[:, None] + offset_y[None, :], cols[:, None] + offset_x[None, :]]
            d2 = (neighbours[..., 0] - cand_x[:, None]) ** 2 + (neighbours[..., 1] - cand_y[:, None]) ** 2
            ok = (cand_x < x1) & (cand_y < y1) & ~np.any(d2 < r2, axis=1)  # NaN (empty) → False
            grid[rows[ok], cols[ok], 0] = cand_x[ok]
            grid[rows[ok], cols[ok], 1] = cand_y[ok]
            accepted += int(np.count_nonzero(ok))
        total += accepted
        if accepted < POISSON_STOP_FRACTION * total:
            break
    result = grid[pad:-pad, pad:-pad].reshape(-1, 2)
    result = result[~np.isnan(result[:, 0])]
    if mask is not None:
        col = np.clip(np.rint(result[:, 0]).astype(np.int64), 0, width - 1)
        row = np.clip(np.rint(result[:, 1]).astype(np.int64), 0, height - 1)
        result = result[mask[row, col]]
    return result


# --- rendering ---------------------------------------------------------------------------------


def _check_inputs(rgb8, scalp_mask, area_mask) -> tuple[np.ndarray, np.ndarray]:
    rgb8 = np.asarray(rgb8)
    if rgb8.ndim != 3 or rgb8.shape[2] != 3 or rgb8.dtype != np.uint8:
        raise SettingsError(
            f"rgb8 must be an (H, W, 3) uint8 RGB image; got shape {rgb8.shape}, dtype {rgb8.dtype}"
        )
    masks = []
    for name, mask in (("scalp_mask", scalp_mask), ("area_mask", area_mask)):
        mask = np.asarray(mask)
        if mask.shape != rgb8.shape[:2] or mask.dtype != bool:
            raise SettingsError(
                f"{name} must be a bool mask of shape {rgb8.shape[:2]}; got shape {mask.shape}, "
                f"dtype {mask.dtype}"
            )
        masks.append(mask)
    return rgb8, masks[0] & masks[1]


def _spacing(
    spacing_px: float | None, density_per_cm2: float | None, px_per_cm: float | None
) -> float:
    if (spacing_px is None) == (density_per_cm2 is None):
        raise SettingsError(
            "give exactly one of spacing_px or density_per_cm2 (with px_per_cm); "
            f"got spacing_px={spacing_px!r}, density_per_cm2={density_per_cm2!r}"
        )
    if spacing_px is not None:
        return float(spacing_px)
    if px_per_cm is None or not px_per_cm > 0 or not density_per_cm2 > 0:
        raise SettingsError(
            "density_per_cm2 needs px_per_cm (image scale) and both must be > 0; "
            f"got density_per_cm2={density_per_cm2!r}, px_per_cm={px_per_cm!r}"
        )
    density_px = density_per_cm2 / (px_per_cm * px_per_cm)
    return math.sqrt(POISSON_PACKING / density_px)


def _dot_kernel(diameter: float) -> np.ndarray:
    """Anti-aliased disc: coverage ≈ clip(r + ½ − distance, 0, 1)."""
    radius = diameter / 2.0
    half = int(math.ceil(radius + 1))
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    return np.clip(radius + 0.5 - np.hypot(xx, yy), 0.0, 1.0).astype(np.float32)


def _coverage(shape, points: np.ndarray, diameter: float, seed: int) -> np.ndarray:
    """Dot coverage 0–1: bilinear impulses at the points, a disc kernel, then the heal blur."""
    height, width = shape
    impulses = np.zeros((height + 1, width + 1), np.float32)
    if len(points):
        rng = np.random.default_rng([seed, 1])  # independent of the sampler's stream
        strength = rng.uniform(*DOT_STRENGTH_RANGE, len(points)).astype(np.float32)
        x, y = points[:, 0], points[:, 1]
        ix, iy = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
        fx, fy = (x - ix).astype(np.float32), (y - iy).astype(np.float32)
        ix, iy = np.clip(ix, 0, width - 1), np.clip(iy, 0, height - 1)
        for dy, dx, weight in (
            (0, 0, (1 - fx) * (1 - fy)),
            (0, 1, fx * (1 - fy)),
            (1, 0, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            np.add.at(impulses, (iy + dy, ix + dx), weight * strength)
    impulses = impulses[:height, :width]
    coverage = cv2.filter2D(impulses, -1, _dot_kernel(diameter), borderType=cv2.BORDER_CONSTANT)
    sigma = HEAL_BLUR_FRACTION * diameter
    if sigma > 0.1:
        coverage = cv2.GaussianBlur(coverage, (0, 0), sigma)
    return np.clip(coverage, 0.0, 1.0)


def healed_pigment_linear(pigment_lab: Sequence[float]) -> np.ndarray:
    """The pigment's linear-light sRGB after the cool shift (:data:`COOL_SHIFT_LAB`), shape (3,)."""
    shifted = np.asarray(pigment_lab, float).reshape(3) + np.asarray(COOL_SHIFT_LAB)
    shifted[0] = np.clip(shifted[0], 0.0, 100.0)
    return np.clip(colour.srgb_to_linear(colour.lab_to_srgb(shifted)), 0.0, 1.0)


def render_preview(
    rgb8: np.ndarray,
    scalp_mask: np.ndarray,
    area_mask: np.ndarray,
    pigment_lab: Sequence[float],
    *,
    dot_diameter_px: float,
    spacing_px: float | None = None,
    density_per_cm2: float | None = None,
    px_per_cm: float | None = None,
    seed: int = 0,
    points: np.ndarray | None = None,
) -> np.ndarray:
    """Render healed SMP dots of one pigment over a photo.

    Parameters
    ----------
    rgb8 : ndarray, shape (H, W, 3), uint8
        sRGB photo.
    scalp_mask, area_mask : ndarray of bool, shape (H, W)
        Dots go only where both are True (the bald/thinning part of the scalp).
    pigment_lab : sequence of 3 floats
        Pigment colour, CIELAB D65 (e.g. a palette entry's ``lab``).
    dot_diameter_px : float
        Diameter of one dot, > 0.
    spacing_px : float, optional
        Minimum distance between dot centres (Poisson-disk radius).
    density_per_cm2, px_per_cm : float, optional
        Instead of ``spacing_px``: dots per cm² at ``px_per_cm`` image scale,
        converted with :data:`POISSON_PACKING`.
    seed : int
        Seeds the dot layout and strengths.
    points : ndarray, shape (N, 2), optional
        Dot centres ``(x, y)`` to use instead of sampling (same layout across shades).

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
        Equal to ``rgb8`` outside ``scalp_mask ∧ area_mask``.

    Raises
    ------
    SettingsError
        Wrong array shapes or types, or a bad size/spacing.
    """
    rgb8, target = _check_inputs(rgb8, scalp_mask, area_mask)
    if not dot_diameter_px > 0:
        raise SettingsError(f"dot_diameter_px must be > 0; got {dot_diameter_px!r}")
    pigment = np.asarray(pigment_lab, dtype=float)
    if pigment.shape != (3,) or not np.all(np.isfinite(pigment)):
        raise SettingsError(f"pigment_lab must be three finite numbers L*, a*, b*; got {pigment_lab!r}")
    if points is None:
        spacing = _spacing(spacing_px, density_per_cm2, px_per_cm)
        points = poisson_disk_points(rgb8.shape[:2], spacing, mask=target, seed=seed)
    output = rgb8.copy()
    if not target.any() or len(points) == 0:
        return output
    coverage = _coverage(rgb8.shape[:2], np.asarray(points, float), float(dot_diameter_px), seed)
    rows, cols = np.nonzero(target & (coverage > 0))
    if rows.size == 0:
        return output
    skin_linear = colour.srgb_to_linear(rgb8[rows, cols].astype(np.float64) / 255.0)
    weight = (EPIDERMAL_TRANSMITTANCE * coverage[rows, cols]).astype(np.float64)[:, None]
    # Carbon only absorbs: a healed dot never makes the skin lighter (per channel).
    healed = np.minimum(healed_pigment_linear(pigment)[None, :], skin_linear)
    mixed = skin_linear + weight * (healed - skin_linear)
    encoded = colour.linear_to_srgb(np.clip(mixed, 0.0, 1.0))
    output[rows, cols] = np.clip(np.rint(encoded * 255.0), 0, 255).astype(np.uint8)
    return output


def compare_previews(
    rgb8: np.ndarray,
    scalp_mask: np.ndarray,
    area_mask: np.ndarray,
    pigments: Sequence[tuple[str, Sequence[float]] | tuple[str, Sequence[float], str]],
    *,
    dot_diameter_px: float,
    spacing_px: float | None = None,
    density_per_cm2: float | None = None,
    px_per_cm: float | None = None,
    seed: int = 0,
) -> list[Preview]:
    """Previews of several shades with the *same* dot layout, for side-by-side comparison.

    Parameters
    ----------
    pigments : sequence of (label, lab) or (label, lab, entry_id)
        The recommended shade first, then alternatives.
    Other parameters as :func:`render_preview`.

    Returns
    -------
    list of Preview
        One per pigment, in order; :func:`preview_montage` lays them side by side.
    """
    rgb8, target = _check_inputs(rgb8, scalp_mask, area_mask)
    spacing = _spacing(spacing_px, density_per_cm2, px_per_cm)
    points = poisson_disk_points(rgb8.shape[:2], spacing, mask=target, seed=seed)
    previews = []
    for item in pigments:
        label, lab = item[0], item[1]
        entry_id = item[2] if len(item) > 2 else ""
        image = render_preview(
            rgb8, scalp_mask, area_mask, lab, dot_diameter_px=dot_diameter_px, seed=seed, points=points
        )
        previews.append(Preview(str(label), tuple(float(v) for v in lab), image, str(entry_id)))  # type: ignore[arg-type]
    return previews


def preview_montage(previews: Sequence[Preview], *, label_height: int = 28) -> np.ndarray:
    """The previews side by side, each with its label above it, as one uint8 RGB image."""
    if not previews:
        raise SettingsError("preview_montage needs at least one preview; got none")
    tiles = []
    for preview in previews:
        height, width = preview.image.shape[:2]
        band = np.full((label_height, width, 3), 255, np.uint8)
        scale = max(0.35, min(0.6, width / 900))
        cv2.putText(band, preview.label[:60], (6, label_height - 9), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (20, 20, 20), 1, cv2.LINE_AA)  # fmt: skip
        tiles.append(np.concatenate([band, preview.image], axis=0))
    height = max(t.shape[0] for t in tiles)
    tiles = [np.pad(t, ((0, height - t.shape[0]), (0, 4), (0, 0)), constant_values=255) for t in tiles]
    return np.concatenate(tiles, axis=1)


# --- files --------------------------------------------------------------------------------------

#: Default dot diameter for :func:`write_previews`, as a fraction of the image's short
#: side. Design choice: an SMP impression is well under 1 mm; on a whole-head photo
#: (head ≈ 20 cm across the short side) 0.4 % is ≈ 0.8 mm, the smallest that stays
#: visible at 640 px (≈ 2.5 px). Close-ups get larger dots than reality.
DEFAULT_DOT_FRACTION = 0.004
#: Default spacing for :func:`write_previews`, in dot diameters (design choice:
#: dense enough to read as a shaved shadow, sparse enough to see single dots).
DEFAULT_SPACING_DIAMETERS = 2.2


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "shade"


def write_previews(inspection: Inspection, recommendation: Recommendation, out_dir) -> list[Path]:
    """Write healed-look previews for ``--preview DIR``.

    Renders the target shade, the session-1 shade and up to two other nearest
    matches on the colour-corrected working image, only on bare scalp
    (``scalp ∧ ¬hair``), with the same dot layout (seed 0), and writes one PNG per
    shade plus a side-by-side montage.

    Parameters
    ----------
    inspection : Inspection
        From :func:`shade_match.analysis.inspect_image`.
    recommendation : Recommendation
        From :func:`shade_match.recommend.recommend`.
    out_dir : path
        Created if missing.

    Returns
    -------
    list of Path
        The files written, montage last.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seg = inspection.segmentation
    corrected = np.asarray(inspection.corrected)
    if corrected.dtype != np.uint8:
        corrected = np.clip(np.rint(corrected * 255.0), 0, 255).astype(np.uint8)
    area = np.asarray(seg.scalp, bool) & ~np.asarray(seg.hair, bool)
    shades: list[tuple[str, Lab, str]] = []
    seen: set[str] = set()

    def add(label: str, entry_id: str, lab) -> None:
        if entry_id not in seen:
            seen.add(entry_id)
            shades.append((label, tuple(float(v) for v in lab), entry_id))  # type: ignore[arg-type]

    add(f"target {recommendation.target.name}", recommendation.target.entry_id, recommendation.target.lab)
    first = recommendation.sessions[0]
    add(f"session 1 {first.name}", first.entry_id, first.lab)
    for match in inspection.analysis.matches:
        if len(shades) >= 4:
            break
        add(f"alternative {match.name}", match.id, match.lab)

    diameter = max(2.0, DEFAULT_DOT_FRACTION * min(corrected.shape[:2]))
    previews = compare_previews(
        corrected, np.asarray(seg.scalp, bool), area, shades,
        dot_diameter_px=diameter, spacing_px=DEFAULT_SPACING_DIAMETERS * diameter, seed=0,
    )  # fmt: skip
    stem = _slug(Path(inspection.analysis.file).stem)
    written = []
    from PIL import Image  # deferred: keep imports light

    for preview in previews:
        path = out / f"{stem}-preview-{_slug(preview.entry_id or preview.label)}.png"
        Image.fromarray(preview.image).save(path)
        written.append(path)
    montage_path = out / f"{stem}-preview-compare.png"
    Image.fromarray(preview_montage(previews)).save(montage_path)
    written.append(montage_path)
    return written
