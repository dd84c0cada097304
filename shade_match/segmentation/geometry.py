"""Shapes, resizing, discs, rectangles, connected components and the canonical
orientation of the segmentation (no thresholds of its own).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import SettingsError


def _disc(diameter: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))


def _shape_at_side(shape, side: int) -> tuple[int, int]:
    """(height, width) of an image of *shape* after :func:`_resize_to_side`."""
    height, width = shape[:2]
    factor = side / max(height, width)
    if factor >= 1.0:
        return height, width
    return max(1, round(height * factor)), max(1, round(width * factor))


def _resize_to_side(image: np.ndarray, side: int, interpolation=cv2.INTER_AREA):
    height, width = image.shape[:2]
    factor = side / max(height, width)
    if factor >= 1.0:
        return image, 1.0
    small_height, small_width = _shape_at_side(image.shape, side)
    return cv2.resize(image, (small_width, small_height), interpolation=interpolation), factor


def _upsample_mask(mask_small: np.ndarray, shape) -> np.ndarray:
    if mask_small.shape == tuple(shape):
        return mask_small.copy()
    up = cv2.resize(mask_small.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return up >= 0.5


def _dilated_at_small_size(mask: np.ndarray, small_shape, diameter: int, shape) -> np.ndarray:
    """*mask* reduced to *small_shape* (a cell is set when any of its pixels is),
    dilated there by a disc of *diameter* cells and scaled back to *shape*: "near the
    mask" at a reach where a disc at full size would be slow."""
    small = cv2.resize(mask.astype(np.uint8), (small_shape[1], small_shape[0]), interpolation=cv2.INTER_AREA) > 0
    return _upsample_mask(cv2.dilate(small.astype(np.uint8), _disc(diameter)).astype(bool), shape)


def _as_uint8(mask: np.ndarray) -> np.ndarray:
    """A 0/1 ``uint8`` image of *mask* for OpenCV (a view, no copy, when it is ``bool``)."""
    return mask.view(np.uint8) if mask.dtype == np.bool_ else mask.astype(np.uint8)


def _upsample_float(values_small: np.ndarray, shape) -> np.ndarray:
    if values_small.shape == tuple(shape):
        return values_small
    return cv2.resize(values_small, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill the holes of a binary mask (background reached from the border stays)."""
    inverse = (~mask).astype(np.uint8)
    count, labels = cv2.connectedComponents(inverse, connectivity=4)
    if count <= 1:
        return mask.copy()
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.isin(labels, border[border > 0])
    return ~outside


def _components_in_bounds(mask: np.ndarray, *, with_stats: bool):
    """8-connected components of *mask*, labelled inside its bounding box only (the
    components are the same; the box is often much smaller than the image).

    Returns ``(window, (labels, stats))`` (``stats`` is None without *with_stats*),
    where *window* = (x, y, w, h) is the box the labels cover.
    """
    mask8 = _as_uint8(mask)
    x, y, w, h = cv2.boundingRect(mask8)
    crop = mask8[y : y + h, x : x + w]
    if with_stats:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=8)
        return (x, y, w, h), (labels, stats)
    _, labels = cv2.connectedComponents(crop, connectivity=8)
    return (x, y, w, h), (labels, None)


def _paint(shape, window, values: np.ndarray) -> np.ndarray:
    """A bool image of *shape*: *values* inside *window* = (x, y, w, h), False outside."""
    x, y, w, h = window
    if (w, h) == (shape[1], shape[0]):
        return values
    out = np.zeros(shape, dtype=bool)
    out[y : y + h, x : x + w] = values
    return out


def rect_mask(shape, rect, name: str) -> np.ndarray:
    """A bool mask of ``shape`` that is True inside ``rect`` = (x, y, w, h).

    Raises :class:`SettingsError` naming ``name`` when the rectangle is malformed or
    outside the image.
    """
    try:
        x, y, w, h = (int(v) for v in rect)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be four integers x, y, w, h; got {rect!r}") from None
    height, width = shape
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x >= width or y >= height:
        raise SettingsError(
            f"{name} must lie inside the {width}×{height} image with w, h > 0; "
            f"got x={x}, y={y}, w={w}, h={h}"
        )
    mask = np.zeros(shape, dtype=bool)
    mask[y : min(height, y + h), x : min(width, x + w)] = True
    return mask


def _centre_disc(shape, fraction: float) -> np.ndarray:
    height, width = shape
    yy, xx = np.ogrid[:height, :width]
    radius = fraction * min(height, width)
    return (yy - (height - 1) / 2) ** 2 + (xx - (width - 1) / 2) ** 2 <= radius**2


def canonical_turns(lightness: np.ndarray) -> int:
    """How many counter-clockwise quarter turns (``np.rot90``) put a photo in its
    canonical orientation: landscape, brighter half on top (*lightness*: any 2-D
    brightness image, L* or a channel mean).

    Segmenting in that orientation and turning the masks back makes the segmentation
    exactly equivariant under 90° rotations of the photo (GrabCut's colour models and
    every strided sample otherwise depend on the raster order). The brighter-half rule
    is a choice: any rule computed from the content alone would do, and half-image
    means are steady under re-encoding except for photos whose opposite halves are
    equally bright.
    """
    height, width = lightness.shape
    top = float(lightness[: height // 2].mean())
    bottom = float(lightness[height - height // 2 :].mean())
    left = float(lightness[:, : width // 2].mean())
    right = float(lightness[:, width - width // 2 :].mean())
    # After k turns the top half is: k=0 top, k=1 right, k=2 bottom, k=3 left.
    scores = {0: top - bottom, 1: right - left, 2: bottom - top, 3: left - right}
    if width > height:
        candidates = (0, 2)
    elif height > width:
        candidates = (1, 3)
    else:
        candidates = (0, 1, 2, 3)
    return max(candidates, key=lambda k: (scores[k], -k))


_CV2_TURNS = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


def quarter_turns(image: np.ndarray, turns: int) -> np.ndarray:
    """``np.rot90(image, turns)`` as a contiguous array (OpenCV's rotate: several times
    faster than NumPy's strided copy at 1000 px). Bool masks stay bool."""
    turns %= 4
    if turns == 0:
        return image
    if image.dtype == bool:
        return cv2.rotate(image.view(np.uint8), _CV2_TURNS[turns]).view(bool)
    return cv2.rotate(image, _CV2_TURNS[turns])


def _rotate_rect(rect, turns: int, shape) -> tuple[int, int, int, int] | None:
    """Rectangle (x, y, w, h) of an image of *shape* after ``np.rot90(image, turns)``."""
    if rect is None:
        return None
    x, y, w, h = (int(v) for v in rect)
    height, width = shape
    for _ in range(turns % 4):
        # One counter-clockwise turn: column x becomes row width−1−x, row y column y.
        x, y, w, h = y, width - (x + w), h, w
        height, width = width, height
    return (x, y, w, h)
