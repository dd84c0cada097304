"""The check image: which pixels were measured as hair, skin, excluded or reference.

Each class is painted in its own colour from the Okabe–Ito palette [1]_, designed to
stay distinguishable for the common colour-vision deficiencies (protanopia,
deuteranopia, tritanopia). The scalp outline is drawn in a fifth colour so the region
the analysis considered is visible too. The legend names are in :data:`OVERLAY_COLOURS`.

References
----------
.. [1] M. Okabe, K. Ito, "Color Universal Design (CUD): how to make figures and
   presentations that are friendly to colorblind people", J*Fly, 2002/2008,
   https://jfly.uni-koeln.de/color/ (the eight-colour palette; also B. Wong, "Points of
   view: Color blindness", Nature Methods 8:441, 2011).
"""

from __future__ import annotations

from os import PathLike

import cv2
import numpy as np

from .errors import SettingsError
from .segmentation import Segmentation

__all__ = ["OVERLAY_COLOURS", "SCALP_OUTLINE_COLOUR", "render_overlay", "save_overlay"]

#: Class → (legend name, sRGB 8-bit colour), Okabe–Ito palette [1]_. Painted in this
#: order, so a later class wins where masks overlap (they should not).
OVERLAY_COLOURS: dict[str, tuple[str, tuple[int, int, int]]] = {
    "hair": ("Hair (measured)", (230, 159, 0)),          # Okabe–Ito orange
    "skin": ("Skin (measured)", (86, 180, 233)),         # Okabe–Ito sky blue
    "excluded": ("Excluded: glare, shadow, clipped", (204, 121, 167)),  # reddish purple
    "reference": ("Grey card / colour chart", (0, 158, 115)),  # bluish green
}
#: Outline of the scalp region: Okabe–Ito yellow.
SCALP_OUTLINE_COLOUR: tuple[int, int, int] = (240, 228, 66)


def _as_uint8_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise SettingsError(f"rgb must be an (H, W, 3) image; got shape {rgb.shape}")
    if rgb.dtype == np.uint8:
        return rgb.copy()
    if np.issubdtype(rgb.dtype, np.floating):
        return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    raise SettingsError(f"rgb must be uint8 or float in [0, 1]; got dtype {rgb.dtype}")


def render_overlay(rgb: np.ndarray, seg: Segmentation, *, alpha: float = 0.45) -> np.ndarray:
    """Paint the segmentation over the photo.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8 or float in [0, 1]
        The photo (sRGB).
    seg : Segmentation
        Masks of the same height and width.
    alpha : float, optional
        Opacity of the class colours, in [0, 1].

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
        The photo with hair, skin, excluded and reference pixels tinted with
        :data:`OVERLAY_COLOURS` and the scalp outlined in :data:`SCALP_OUTLINE_COLOUR`.
    """
    image = _as_uint8_rgb(rgb)
    if not isinstance(seg, Segmentation):
        raise SettingsError(f"seg must be a Segmentation; got {type(seg).__name__}")
    if seg.hair.shape != image.shape[:2]:
        raise SettingsError(
            f"the masks {seg.hair.shape} and the image {image.shape[:2]} differ in size"
        )
    if not 0.0 <= float(alpha) <= 1.0:
        raise SettingsError(f"alpha must be in [0, 1]; got {alpha!r}")
    out = image.astype(np.float32)
    for name, (_, colour_rgb) in OVERLAY_COLOURS.items():
        mask = np.asarray(getattr(seg, name), dtype=bool)
        out[mask] = (1.0 - alpha) * out[mask] + alpha * np.asarray(colour_rgb, np.float32)
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    contours, _ = cv2.findContours(
        np.asarray(seg.scalp, dtype=np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
    )
    thickness = max(1, round(max(image.shape[:2]) / 400))
    cv2.drawContours(out, contours, -1, SCALP_OUTLINE_COLOUR, thickness)
    return out


def save_overlay(path: str | PathLike[str], rgb: np.ndarray, seg: Segmentation, *, alpha: float = 0.45) -> None:
    """Write :func:`render_overlay` of *rgb* and *seg* to *path* as a PNG.

    Raises
    ------
    SettingsError
        The path does not end in ``.png``.
    OSError
        The file cannot be written.
    """
    path_str = str(path)
    if not path_str.lower().endswith(".png"):
        raise SettingsError(f"the overlay is written as PNG; the path must end in .png, got {path_str!r}")
    overlay = render_overlay(rgb, seg, alpha=alpha)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(overlay, cv2.COLOR_RGB2BGR))
    if not ok:
        raise SettingsError(f"could not encode the overlay as PNG for {path_str!r}")
    with open(path, "wb") as handle:  # an OSError (no such folder, no permission) propagates
        handle.write(encoded.tobytes())
