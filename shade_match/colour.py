"""Colour conversions and colour differences.

sRGB ↔ linear sRGB ↔ CIE XYZ ↔ CIE 1976 L*a*b* ↔ LCh(ab), hex codes, colour
differences (CIEDE2000, CIE94, CIE76), the Individual Typology Angle, Bradford
chromatic adaptation, and a fast image → Lab conversion.

Conventions
-----------
* Every function is vectorised: arrays of any leading shape whose **last axis has
  length 3** (``(..., 3)``); the output has the same leading shape.
* The exact paths compute in ``float64``. Only :func:`image_to_lab_fast` uses
  ``float32`` (OpenCV) and is meant for per-pixel work, never for reported values.
* CIELAB is relative to the CIE D65 white with the CIE 1931 2° observer unless a
  ``white`` is passed. XYZ is scaled so that the white has ``Y = 1``.
* Encoded sRGB is float in [0, 1] (or ``uint8`` 0–255 where a name says ``8``).

This module mirrors scikit-image's ``skimage.color`` numerically (same matrix and
D65 white, see ``SRGB_TO_XYZ``) so that its results agree with ``rgb2lab`` to
~1e-6; colour-science uses the 4-decimal IEC matrix and a D65 white from xy and
differs by up to ~0.02 in L*a*b* [7]_. Against skimage the only other
difference is the exact CIE ε, κ constants (below 2e-4 in L*a*b*).

References
----------
.. [1] IEC 61966-2-1:1999, "Multimedia systems and equipment – Colour measurement
   and management – Part 2-1: Default RGB colour space – sRGB".
.. [2] CIE 15:2004, "Colorimetry", 3rd ed. (CIELAB: ε = 216/24389, κ = 24389/27).
.. [3] ASTM E308-01, "Standard Practice for Computing the Colors of Objects by Using
   the CIE System", Table 3 (white points, 2° observer) — the values also used by
   scikit-image and colormath.
.. [4] G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula:
   implementation notes, supplementary test data, and mathematical observations",
   Color Res. Appl. 30(1):21–30, 2005.
.. [5] CIE 116-1995, "Industrial colour-difference evaluation" (CIE94; graphic-arts
   weights k_L = 1, K_1 = 0.045, K_2 = 0.015).
.. [6] A. Chardon, I. Cretois, C. Hourseau, "Skin colour typology and suntanning
   pathways", Int. J. Cosmet. Sci. 13(4):191–208, 1991 (ITA°).
.. [7] ../shared/research/colour-science.md §1, §2.1 (library agreement, OpenCV
   error of ~0.07 mean / 0.22 max ΔE00 on float32 input).
.. [8] K. M. Lam, "Metamerism and colour constancy", PhD thesis, University of
   Bradford, 1985; ICC.1:2004-10 Annex E (Bradford chromatic adaptation).
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import InputError, SettingsError

__all__ = [
    "WHITE_D65",
    "WHITE_D50",
    "WHITES",
    "SRGB_TO_XYZ",
    "XYZ_TO_SRGB",
    "BRADFORD",
    "DELTA_E_METHODS",
    "srgb_to_linear",
    "linear_to_srgb",
    "linear_srgb_to_xyz",
    "xyz_to_linear_srgb",
    "xyz_to_lab",
    "lab_to_xyz",
    "srgb_to_lab",
    "srgb8_to_lab",
    "lab_to_srgb",
    "lab_to_srgb8",
    "lab_to_lch",
    "lch_to_lab",
    "hex_to_srgb8",
    "srgb8_to_hex",
    "hex_to_lab",
    "lab_to_hex",
    "delta_e",
    "ita_deg",
    "white_xyz",
    "adapt_xyz",
    "adapt_lab",
    "image_to_lab_fast",
]

# --- constants -----------------------------------------------------------------

#: CIE D65 white, 2° observer, XYZ with Y = 1 (ASTM E308-01 [3]; skimage's value).
WHITE_D65: Final[NDArray[np.float64]] = np.array([0.95047, 1.0, 1.08883])
#: CIE D50 white, 2° observer, XYZ with Y = 1 (ASTM E308-01 [3]).
WHITE_D50: Final[NDArray[np.float64]] = np.array([0.96422, 1.0, 0.82521])
#: Named whites (2° observer, ASTM E308-01 [3]) accepted wherever a white is named.
WHITES: Final[dict[str, NDArray[np.float64]]] = {
    "A": np.array([1.09850, 1.0, 0.35585]),
    "C": np.array([0.98074, 1.0, 1.18232]),
    "D50": WHITE_D50,
    "D55": np.array([0.95682, 1.0, 0.92149]),
    "D65": WHITE_D65,
    "D75": np.array([0.94972, 1.0, 1.22638]),
}
for _white in WHITES.values():
    _white.setflags(write=False)

#: Linear sRGB → XYZ, the 6-decimal form of the IEC 61966-2-1 matrix [1] used by
#: scikit-image (``skimage.color.colorconv.xyz_from_rgb``). The standard prints it
#: to 4 decimals (0.4124, 0.3576, 0.1805, …). Its rows sum to (0.950456, 1, 1.088754),
#: not exactly WHITE_D65, so sRGB white comes out at L* = 100, a* = −0.0025,
#: b* = 0.0047 — exactly as in skimage (colour-science's gives a* = 0.0077 [7]).
SRGB_TO_XYZ: Final[NDArray[np.float64]] = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
#: XYZ → linear sRGB, the exact inverse of :data:`SRGB_TO_XYZ`.
XYZ_TO_SRGB: Final[NDArray[np.float64]] = np.linalg.inv(SRGB_TO_XYZ)
#: Bradford cone-response matrix (Lam 1985 [8]; ICC.1 Annex E).
BRADFORD: Final[NDArray[np.float64]] = np.array(
    [
        [0.8951, 0.2664, -0.1614],
        [-0.7502, 1.7135, 0.0367],
        [0.0389, -0.0685, 1.0296],
    ]
)
for _matrix in (SRGB_TO_XYZ, XYZ_TO_SRGB, BRADFORD):
    _matrix.setflags(write=False)

#: The colour-difference formulas :func:`delta_e` knows.
DELTA_E_METHODS: Final[tuple[str, ...]] = ("ciede2000", "cie94", "cie76")

# CIE 15:2004 [2] constants, exact rationals (skimage rounds them to 0.008856 / 7.787;
# the difference only affects Y/Yn < 0.009, i.e. L* < 8, and is below 1e-3 there).
_LAB_EPSILON: Final = 216.0 / 24389.0
_LAB_KAPPA: Final = 24389.0 / 27.0

# IEC 61966-2-1 [1] transfer function constants.
_SRGB_DECODE_THRESHOLD: Final = 0.04045
_SRGB_ENCODE_THRESHOLD: Final = 0.0031308

_HEX_PATTERN: Final = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


# --- helpers -------------------------------------------------------------------


def _as_triplets(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``values`` as float64 with a last axis of length 3, or raise."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{name}: expected numbers with shape (..., 3); received {type(values).__name__} "
            f"that cannot be read as numbers ({exc})"
        ) from None
    if array.ndim == 0 or array.shape[-1] != 3:
        raise InputError(
            f"{name}: expected an array whose last axis has length 3 (shape (..., 3)); "
            f"received shape {array.shape}"
        )
    return array


def white_xyz(white: str | ArrayLike) -> NDArray[np.float64]:
    """Return a white point as XYZ (Y = 1).

    Parameters
    ----------
    white : str or array_like, shape (3,)
        A name from :data:`WHITES` (``"D65"``, ``"D50"``, …; case-insensitive) or
        an XYZ triple.

    Returns
    -------
    ndarray, shape (3,)
        The white's XYZ.
    """
    if isinstance(white, str):
        key = white.strip().upper()
        if key not in WHITES:
            raise SettingsError(
                f"white: expected one of {', '.join(WHITES)} or an XYZ triple; received {white!r}"
            )
        return WHITES[key]
    xyz = _as_triplets(white, "white")
    if xyz.shape != (3,) or not np.all(np.isfinite(xyz)) or np.any(xyz <= 0):
        raise InputError(
            f"white: expected one positive, finite XYZ triple of shape (3,); received {xyz.tolist()}"
        )
    return xyz


# --- sRGB transfer function and matrix -----------------------------------------


def srgb_to_linear(rgb: ArrayLike) -> NDArray[np.float64]:
    """Decode sRGB-encoded values to linear light (IEC 61966-2-1 [1]).

    Parameters
    ----------
    rgb : array_like, shape (..., 3)
        sRGB-encoded values, nominally in [0, 1]. Values outside are decoded with
        the same piecewise formula (the linear segment below 0.04045).

    Returns
    -------
    ndarray, shape (..., 3), float64
        Linear-light RGB.
    """
    rgb = _as_triplets(rgb, "rgb")
    return np.where(
        rgb > _SRGB_DECODE_THRESHOLD,
        ((np.maximum(rgb, _SRGB_DECODE_THRESHOLD) + 0.055) / 1.055) ** 2.4,
        rgb / 12.92,
    )


def linear_to_srgb(rgb_linear: ArrayLike) -> NDArray[np.float64]:
    """Encode linear-light RGB with the sRGB transfer function (IEC 61966-2-1 [1]).

    Parameters
    ----------
    rgb_linear : array_like, shape (..., 3)
        Linear RGB, nominally in [0, 1]. Negative values use the linear segment.

    Returns
    -------
    ndarray, shape (..., 3), float64
        sRGB-encoded values.
    """
    rgb_linear = _as_triplets(rgb_linear, "rgb_linear")
    return np.where(
        rgb_linear > _SRGB_ENCODE_THRESHOLD,
        1.055 * np.maximum(rgb_linear, _SRGB_ENCODE_THRESHOLD) ** (1 / 2.4) - 0.055,
        rgb_linear * 12.92,
    )


def linear_srgb_to_xyz(rgb_linear: ArrayLike) -> NDArray[np.float64]:
    """Linear sRGB → CIE XYZ (D65, Y of white = 1) with :data:`SRGB_TO_XYZ`.

    Parameters
    ----------
    rgb_linear : array_like, shape (..., 3)

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    return _as_triplets(rgb_linear, "rgb_linear") @ SRGB_TO_XYZ.T


def xyz_to_linear_srgb(xyz: ArrayLike) -> NDArray[np.float64]:
    """CIE XYZ (D65) → linear sRGB with :data:`XYZ_TO_SRGB` (no clipping).

    Parameters
    ----------
    xyz : array_like, shape (..., 3)

    Returns
    -------
    ndarray, shape (..., 3), float64
        May fall outside [0, 1] for colours outside the sRGB gamut.
    """
    return _as_triplets(xyz, "xyz") @ XYZ_TO_SRGB.T


# --- CIELAB ----------------------------------------------------------------------


def xyz_to_lab(xyz: ArrayLike, white: str | ArrayLike = WHITE_D65) -> NDArray[np.float64]:
    """CIE XYZ → CIE 1976 L*a*b* (CIE 15:2004 [2]).

    Parameters
    ----------
    xyz : array_like, shape (..., 3)
        XYZ with the white's Y = 1.
    white : str or array_like, shape (3,)
        Reference white (default D65).

    Returns
    -------
    ndarray, shape (..., 3), float64
        L* in [0, 100] for 0 ≤ Y ≤ 1; a*, b* unbounded.
    """
    ratio = _as_triplets(xyz, "xyz") / white_xyz(white)
    f = np.where(
        ratio > _LAB_EPSILON,
        np.cbrt(ratio),
        (_LAB_KAPPA * ratio + 16.0) / 116.0,
    )
    lightness = 116.0 * f[..., 1] - 16.0
    a_star = 500.0 * (f[..., 0] - f[..., 1])
    b_star = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a_star, b_star], axis=-1)


def lab_to_xyz(lab: ArrayLike, white: str | ArrayLike = WHITE_D65) -> NDArray[np.float64]:
    """CIE 1976 L*a*b* → CIE XYZ, the inverse of :func:`xyz_to_lab`.

    Parameters
    ----------
    lab : array_like, shape (..., 3)
    white : str or array_like, shape (3,)
        Reference white (default D65).

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    lab = _as_triplets(lab, "lab")
    f_y = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([f_y + lab[..., 1] / 500.0, f_y, f_y - lab[..., 2] / 200.0], axis=-1)
    ratio = np.where(f**3 > _LAB_EPSILON, f**3, (116.0 * f - 16.0) / _LAB_KAPPA)
    return ratio * white_xyz(white)


def srgb_to_lab(rgb: ArrayLike) -> NDArray[np.float64]:
    """sRGB-encoded float in [0, 1] → CIELAB (D65).

    Parameters
    ----------
    rgb : array_like, shape (..., 3)

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    return xyz_to_lab(linear_srgb_to_xyz(srgb_to_linear(rgb)))


def srgb8_to_lab(rgb8: ArrayLike) -> NDArray[np.float64]:
    """8-bit sRGB (0–255) → CIELAB (D65).

    Parameters
    ----------
    rgb8 : array_like of int, shape (..., 3)
        ``uint8`` or integers in 0–255.

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    array = np.asarray(rgb8)
    if array.dtype != np.uint8:
        if array.dtype.kind not in "iu" and not (
            array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array))
        ):
            raise InputError(
                f"rgb8: expected integers 0–255 (uint8); received dtype {array.dtype}"
            )
        if array.size and (array.min() < 0 or array.max() > 255):
            raise InputError(
                f"rgb8: expected integers 0–255; received values from {array.min()} to {array.max()}"
            )
    return srgb_to_lab(_as_triplets(array, "rgb8") / 255.0)


def lab_to_srgb(lab: ArrayLike, clip: bool = True) -> NDArray[np.float64]:
    """CIELAB (D65) → sRGB-encoded float.

    Parameters
    ----------
    lab : array_like, shape (..., 3)
    clip : bool
        Clip linear RGB to [0, 1] before encoding (the gamut is cut per channel,
        which keeps in-gamut colours exact). With ``False`` out-of-gamut colours
        come back outside [0, 1].

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    rgb_linear = xyz_to_linear_srgb(lab_to_xyz(lab))
    if clip:
        rgb_linear = np.clip(rgb_linear, 0.0, 1.0)
    return linear_to_srgb(rgb_linear)


def lab_to_srgb8(lab: ArrayLike) -> NDArray[np.uint8]:
    """CIELAB (D65) → 8-bit sRGB, clipped to the gamut and rounded.

    Parameters
    ----------
    lab : array_like, shape (..., 3)

    Returns
    -------
    ndarray, shape (..., 3), uint8
    """
    rgb = lab_to_srgb(lab, clip=True)
    if not np.all(np.isfinite(rgb)):
        raise InputError("lab: expected finite L*a*b* values; received NaN or infinity")
    return np.round(rgb * 255.0).astype(np.uint8)


def lab_to_lch(lab: ArrayLike) -> NDArray[np.float64]:
    """CIELAB → CIE LCh(ab): lightness, chroma C*ab, hue angle h_ab in degrees.

    Parameters
    ----------
    lab : array_like, shape (..., 3)

    Returns
    -------
    ndarray, shape (..., 3), float64
        ``(L*, C*, h)`` with h in [0, 360). For a* = b* = 0 the hue is 0.
    """
    lab = _as_triplets(lab, "lab")
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0
    hue = np.where(hue >= 360.0, 0.0, hue)  # -tiny % 360 can round to 360.0
    return np.stack([lab[..., 0], chroma, hue], axis=-1)


def lch_to_lab(lch: ArrayLike) -> NDArray[np.float64]:
    """CIE LCh(ab) (hue in degrees) → CIELAB.

    Parameters
    ----------
    lch : array_like, shape (..., 3)

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    lch = _as_triplets(lch, "lch")
    hue = np.radians(lch[..., 2])
    return np.stack(
        [lch[..., 0], lch[..., 1] * np.cos(hue), lch[..., 1] * np.sin(hue)], axis=-1
    )


# --- hex -------------------------------------------------------------------------


def hex_to_srgb8(hex_code: str) -> tuple[int, int, int]:
    """Parse ``"#a07e56"`` (or ``"a07e56"``, ``"#abc"``) into 8-bit sRGB.

    Parameters
    ----------
    hex_code : str

    Returns
    -------
    tuple of int
        ``(R, G, B)`` in 0–255.
    """
    if not isinstance(hex_code, str):
        raise InputError(
            f"hex colour: expected a string like '#a07e56'; received {type(hex_code).__name__} {hex_code!r}"
        )
    match = _HEX_PATTERN.match(hex_code.strip())
    if match is None:
        raise InputError(
            f"hex colour: expected '#' and 6 (or 3) hex digits like '#a07e56'; received {hex_code!r}"
        )
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def srgb8_to_hex(rgb8: ArrayLike) -> str:
    """8-bit sRGB triple → lower-case ``"#rrggbb"``.

    Parameters
    ----------
    rgb8 : array_like of int, shape (3,)

    Returns
    -------
    str
    """
    array = np.asarray(rgb8)
    if array.shape != (3,):
        raise InputError(f"rgb8: expected one triple of shape (3,); received shape {array.shape}")
    if array.dtype.kind not in "iu" or array.min() < 0 or array.max() > 255:
        raise InputError(f"rgb8: expected integers 0–255; received {array.tolist()}")
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in array))


def hex_to_lab(hex_code: str) -> NDArray[np.float64]:
    """``"#rrggbb"`` (sRGB) → CIELAB (D65), shape (3,)."""
    return srgb8_to_lab(np.array(hex_to_srgb8(hex_code), dtype=np.uint8))


def lab_to_hex(lab: ArrayLike) -> str:
    """One CIELAB (D65) colour → ``"#rrggbb"``, clipped to the sRGB gamut.

    Parameters
    ----------
    lab : array_like, shape (3,)

    Returns
    -------
    str
    """
    lab = _as_triplets(lab, "lab")
    if lab.shape != (3,):
        raise InputError(f"lab: expected one colour of shape (3,); received shape {lab.shape}")
    return srgb8_to_hex(lab_to_srgb8(lab))


# --- colour difference -----------------------------------------------------------


def _delta_e_cie94(lab1: NDArray[np.float64], lab2: NDArray[np.float64]) -> NDArray[np.float64]:
    """CIE94, graphic-arts weights (k_L = k_C = k_H = 1, K_1 = 0.045, K_2 = 0.015) [5].

    ``lab1`` is the reference: S_C and S_H use its chroma (CIE 116-1995), so the
    formula is not symmetric. Written out rather than taken from skimage, whose
    ``deltaE_ciede94`` forms ΔH² as ΔE76² − ΔL² − ΔC², which can go slightly negative
    by rounding.
    """
    d_lightness = lab1[..., 0] - lab2[..., 0]
    chroma1 = np.hypot(lab1[..., 1], lab1[..., 2])
    chroma2 = np.hypot(lab2[..., 1], lab2[..., 2])
    d_chroma = chroma1 - chroma2
    d_a = lab1[..., 1] - lab2[..., 1]
    d_b = lab1[..., 2] - lab2[..., 2]
    d_hue_sq = np.maximum(d_a**2 + d_b**2 - d_chroma**2, 0.0)
    s_chroma = 1.0 + 0.045 * chroma1
    s_hue = 1.0 + 0.015 * chroma1
    return np.sqrt(d_lightness**2 + (d_chroma / s_chroma) ** 2 + d_hue_sq / s_hue**2)


def delta_e(lab1: ArrayLike, lab2: ArrayLike, method: str = "ciede2000") -> NDArray[np.float64]:
    """Colour difference between CIELAB colours, broadcasting over leading axes.

    Parameters
    ----------
    lab1, lab2 : array_like, shape (..., 3)
        CIELAB colours; leading shapes broadcast against each other. For
        ``"cie94"`` ``lab1`` is the reference (the formula is not symmetric).
    method : {"ciede2000", "cie94", "cie76"}
        ``"ciede2000"``: CIE 142-2001 via ``skimage.color.deltaE_ciede2000``
        (k_L = k_C = k_H = 1), verified against Sharma et al. [4];
        ``"cie94"``: CIE 116-1995 graphic-arts weights [5];
        ``"cie76"``: Euclidean distance in L*a*b*.

    Returns
    -------
    ndarray, shape = broadcast leading shape, float64
        NaN where an input has NaN.
    """
    if method not in DELTA_E_METHODS:
        raise SettingsError(
            f"delta_e method: expected one of {', '.join(DELTA_E_METHODS)}; received {method!r}"
        )
    lab1 = _as_triplets(lab1, "lab1")
    lab2 = _as_triplets(lab2, "lab2")
    try:
        lab1, lab2 = np.broadcast_arrays(lab1, lab2)
    except ValueError:
        raise InputError(
            f"delta_e: expected shapes that broadcast; received {lab1.shape} and {lab2.shape}"
        ) from None
    if method == "cie76":
        return np.sqrt(np.sum((lab1 - lab2) ** 2, axis=-1))
    if method == "cie94":
        return _delta_e_cie94(lab1, lab2)
    from skimage.color import deltaE_ciede2000  # deferred: skimage import is slow

    if lab1.size == 0:
        return np.zeros(lab1.shape[:-1])
    return np.asarray(deltaE_ciede2000(lab1, lab2, channel_axis=-1), dtype=np.float64)[()]


# --- ITA ---------------------------------------------------------------------------


def ita_deg(lab: ArrayLike) -> NDArray[np.float64]:
    """Individual Typology Angle ITA° (Chardon et al. 1991 [6]).

    ``ITA° = arctan((L* − 50) / b*) · 180/π`` in the literature; computed here as
    ``arctan2(L* − 50, b*)`` in degrees.

    For b* > 0 — every skin colour in the studies that define the Del Bino classes
    — the two are identical. They differ only for b* ≤ 0, outside the skin gamut:
    ``arctan`` divides by zero at b* = 0 and, for b* < 0, flips the sign, so a light
    bluish-grey (L* = 80, b* = −2) would get ITA° ≈ −86° and be classed "dark".
    ``arctan2`` keeps the property the Del Bino classes rely on — ITA° grows with
    L* and has the sign of L* − 50 — giving ±90° at b* = 0 and values beyond ±90°
    for b* < 0 (which then fall in "very light" or "dark", as their lightness says).
    The result is in (−180°, 180°]; L* = 50, b* = 0 gives 0°.

    Parameters
    ----------
    lab : array_like, shape (..., 3)

    Returns
    -------
    ndarray, shape (...), float64
        Degrees. NaN where the input has NaN.
    """
    lab = _as_triplets(lab, "lab")
    return np.degrees(np.arctan2(lab[..., 0] - 50.0, lab[..., 2]))[()]


# --- chromatic adaptation ------------------------------------------------------------


def adapt_xyz(
    xyz: ArrayLike, source_white: str | ArrayLike, target_white: str | ArrayLike = WHITE_D65
) -> NDArray[np.float64]:
    """Bradford (von Kries in the Bradford cone space) adaptation of XYZ [8].

    ``XYZ_t = M⁻¹ · diag(ργβ_target / ργβ_source) · M · XYZ_s`` with M = :data:`BRADFORD`
    (the linearised Bradford transform, as in ICC profiles and colormath).

    Parameters
    ----------
    xyz : array_like, shape (..., 3)
    source_white, target_white : str or array_like, shape (3,)
        Names from :data:`WHITES` or XYZ triples.

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    source = white_xyz(source_white)
    target = white_xyz(target_white)
    gains = (BRADFORD @ target) / (BRADFORD @ source)
    transform = np.linalg.inv(BRADFORD) @ np.diag(gains) @ BRADFORD
    return _as_triplets(xyz, "xyz") @ transform.T


def adapt_lab(
    lab: ArrayLike, source_white: str | ArrayLike, target_white: str | ArrayLike = WHITE_D65
) -> NDArray[np.float64]:
    """Re-express CIELAB measured under ``source_white`` relative to ``target_white``.

    Lab(source) → XYZ(source) → Bradford → XYZ(target) → Lab(target). Used to bring
    D50 measurements (spectrophotometers, ICC) to this package's D65.

    Parameters
    ----------
    lab : array_like, shape (..., 3)
    source_white, target_white : str or array_like, shape (3,)

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    xyz = lab_to_xyz(lab, white=source_white)
    return xyz_to_lab(adapt_xyz(xyz, source_white, target_white), white=target_white)


# --- fast image path ---------------------------------------------------------------


def image_to_lab_fast(rgb: ArrayLike) -> NDArray[np.float32]:
    """sRGB image → float32 CIELAB (D65) with OpenCV, for per-pixel work.

    ``cv2.cvtColor(float32 RGB in [0, 1], COLOR_RGB2Lab)`` uses its own tabulated
    transfer curve and matrix: against the exact path it is within ~0.07 ΔE00 on
    average and 0.22 ΔE00 at worst on the 33 reference colours [7], and about 30×
    faster than ``skimage.color.rgb2lab`` (54 ms vs 1.5 s at 12 MP). Use it for
    masks and clustering; convert the few reported colours with :func:`srgb_to_lab`.

    Parameters
    ----------
    rgb : array_like, shape (..., 3)
        RGB order, sRGB-encoded: ``uint8`` (0–255), ``uint16`` (0–65535) or float
        in [0, 1] (values outside are clipped).

    Returns
    -------
    ndarray, shape (..., 3), float32
        L* in [0, 100], a*, b*.
    """
    import cv2  # deferred: keep `import shade_match.colour` light

    array = np.asarray(rgb)
    if array.ndim == 0 or array.shape[-1] != 3:
        raise InputError(
            f"image: expected an RGB array of shape (..., 3); received shape {array.shape}"
        )
    if array.dtype == np.uint8:
        rgb_f = array.astype(np.float32) * np.float32(1.0 / 255.0)
    elif array.dtype == np.uint16:
        rgb_f = array.astype(np.float32) * np.float32(1.0 / 65535.0)
    elif array.dtype.kind == "f":
        # Clipping commutes with rounding to float32 (0 and 1 are exact), and it is
        # skipped when every value is already inside (OpenCV's min/max pass costs a
        # fraction of np.clip's copy; it ignores NaN, which clipping keeps anyway).
        rgb_f = array.astype(np.float32, copy=False)
        if rgb_f.size:
            # One image row per matrix row: OpenCV is slow on (n, 3) matrices.
            rows = rgb_f.shape[0] if rgb_f.ndim == 3 else 1
            low, high, _, _ = cv2.minMaxLoc(rgb_f.reshape(rows, -1))
            if low < 0.0 or high > 1.0:
                rgb_f = np.clip(rgb_f, 0.0, 1.0)
    else:
        raise InputError(
            f"image: expected dtype uint8, uint16 or float in [0, 1]; received {array.dtype}"
        )
    leading = rgb_f.shape[:-1]
    if rgb_f.size == 0:
        return rgb_f.copy()
    if rgb_f.ndim != 3:
        rgb_f = rgb_f.reshape(-1, 1, 3)
    lab = cv2.cvtColor(np.ascontiguousarray(rgb_f), cv2.COLOR_RGB2Lab)
    return lab.reshape(*leading, 3)
