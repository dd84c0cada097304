"""Rendered scalp photos of known hair and skin colour.

This module is the project's independent yardstick: it shares no colour code with
the analysis (it carries its own small sRGB ↔ CIELAB conversion and its own CCT → xy
formulas, each tested against colour-science), so a bug in ``shade_match.colour``
cannot hide itself by appearing on both sides of a comparison.

The physics, in the order it is applied
---------------------------------------
1. **Materials** are reflectances in *linear* sRGB, made from the true CIELAB (D65,
   2°) colours: skin, hair strands, grey strands, scar tissue, background, the grey
   card (linear 0.18 in every channel, L* ≈ 49.5) and the ColorChecker patches.
2. **Skin** texture is multiplicative: ``base × exp(g)`` where ``g`` is a zero-median
   Gaussian random field (low-frequency albedo variation, the same in all channels),
   plus redness blotches (R up, G and B down) on a minority of the area and small dark
   pores/freckles on under 5 % of the skin. Hence the **true skin colour** is the base
   reflectance, which is the per-channel *median* of the clean rendered skin pixels
   (a robust centre ignores the one-sided blotches and pores). ``tests/test_synthetic.py``
   checks that this median is within 1 ΔE00 of the truth.
3. **Hair** is anti-aliased curved strands (curves drawn with OpenCV at 3–4×
   supersampling and area-averaged down), each strand with its own
   width, length, direction and a colour jitter that is symmetric in log-reflectance
   around the base colour. Where strands overlap a pixel shows the coverage-weighted
   mean of their colours (the expectation over random stacking orders), so the
   result does not depend on drawing order. The **true hair colour** is the base colour of the
   pigmented strands (``hair_lab``): the colour of the median pigmented strand, which
   is what an SMP practitioner matches. Grey/white strands have their own colour
   (``grey_lab``) and are counted by ``grey_fraction``; they are *not* part of the
   hair colour truth. For grey or white hair (the whole head gone grey) ``hair_lab``
   itself is grey/white and ``grey_fraction`` is 0.
4. **Region scale** (``scale="region"``): a whole head at 640 px, hair a textured
   region of many sub-pixel strands (0.35–1.1 px wide). Where the hair is dense the
   strands overlap until a pixel is all hair, so the strand colour is visible; where
   it thins, pixels mix hair and skin and look lighter. The truth stays the strand
   colour; the mixture a perfect segmenter would see (mean linear reflectance of the
   ``hair_mask`` pixels not dominated by grey strands) is reported separately as
   ``mixed_hair_lab`` so the cost of mixing can be told apart from analysis error.
   The head is an ellipse on a background (in about half of the photos large enough to
   be cut by the frame, hair and all), with ears, and in half of the photos a neck
   (skin that is not scalp) and a shirt; the hair is densest on the sides and back
   around a bald crown of random size (Norwood-like, none to a thin horseshoe).
   **Strand scale** (``scale="strand"``): a close-up where the frame is scalp (30 %
   with the head's edge against a background), strands 2–8 px wide, stubble or longer.
5. **Light** at every pixel = illuminant(CCT) × exposure × shading. The illuminant
   is a CCT on the CIE daylight locus (≥ 4000 K) or the Planckian locus (< 4000 K),
   converted to linear sRGB and normalised to luminance Y = 1 (auto-exposure meters
   luminance). The shading field is a dome fall-off from a light centre plus one
   soft shadow, normalised so that its median over the scalp is 1: so "the true
   colour under D65" is what the scalp shows under the light it mostly gets. Where the
   light falls below that median, light bounced off the skin fills in part of the shade
   (``mutual_illumination``): it has the illuminant's colour times the skin's, so shaded
   skin is redder and more saturated than lit skin, as on real heads (one bounce of
   mutual illumination, Funt, Drew & Ho 1991 [9]), not a grey copy of it. The grey
   card and chart are held beside the scalp: they get light 1 × a tilt factor in
   [0.95, 1.05] (a design choice; a card in a different light cannot correct).
6. **Glare**: specular blobs that add the illuminant's own colour (dielectric
   highlights keep the light's colour; Shafer's dichromatic model, 1985 [8]). The
   card or chart is kept out of the glare.
7. **Camera**: ``white_balanced=True`` divides by the illuminant times a small gain
   error ``wb_gain_error`` (an imperfect auto white balance); otherwise the camera is
   fixed to D65 (it divides by the D65 white), so a cast remains. The camera then
   protects highlights (if the 99.5th percentile of the brightest channel over the
   diffuse scene exceeds 0.98 the exposure is lowered to bring it there — phones do
   this; otherwise light skin under tungsten light clips), applies a mild optical blur,
   clips to [0, 1], encodes with the sRGB transfer function (IEC 61966-2-1), adds
   Gaussian noise (``noise_sigma`` in 8-bit codes), rounds to 8 bits and, if
   ``jpeg_quality`` is set, round-trips through an OpenCV JPEG encoder.

Not modelled (stated so nobody relies on it): a camera tone curve other than sRGB,
spectral effects (metamerism: everything is three-channel), vignetting, motion blur.

References
----------
.. [1] IEC 61966-2-1:1999, sRGB. Matrix and transfer function.
.. [2] CIE 15:2004, Colorimetry, 3rd ed. — CIELAB; daylight locus (eq. 3.3–3.4).
.. [3] B. Kang, O. Moon, C. Hong, H. Lee, B. Cho, Y. Kim, "Design of advanced color
   temperature control system for HDTV applications", J. Korean Phys. Soc. 41(6),
   865–871, 2002 — cubic approximation of the Planckian locus (often cited as
   "Kim et al. 2002").
.. [4] E. Monk, Monk Skin Tone scale (2019/2023); hex values as in
   ChenglongMa/SkinToneClassifier ``src/stone/image.py``.
.. [5] A. Chardon, I. Cretois, C. Hourseau, "Skin colour typology and suntanning
   pathways", Int. J. Cosmet. Sci. 13:191–208, 1991 (ITA°); S. Del Bino, F. Bernerd,
   "Variations in skin colour and the biological consequences of ultraviolet
   radiation exposure", Br. J. Dermatol. 169 (Suppl. 3):33–40, 2013 (in vivo skin
   colour spans ITA° about −60…+70; the L*/b* ranges drawn here are a design choice
   around that span — the paper's exact tables were not available to check).
.. [6] Named hair colours from collectedwebs.com/art/colors/hair/ as cited in
   ubik23/charactercreator ``src/constants/palettes/DefaultHairColors.ts``.
.. [7] X-Rite (2016), ColorChecker Classic "after November 2014" values; the 8-bit
   sRGB used here are rows cc01–cc24 of ``shared/reference/srgb_lab_reference.tsv``
   (Lab D50 → Bradford → sRGB, computed with colour-science 0.4.7).
.. [8] S. A. Shafer, "Using color to separate reflection components", Color Res.
   Appl. 10(4):210–218, 1985 (dichromatic reflection model).
.. [9] B. V. Funt, M. S. Drew, J. Ho, "Color constancy from mutual reflection",
   Int. J. Computer Vision 6(1):5–24, 1991, doi:10.1007/BF00127123 (light bounced from
   one surface onto another carries the first surface's colour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from .errors import SettingsError

__all__ = [
    "CONDITIONS",
    "SCALES",
    "REFERENCES",
    "SceneSpec",
    "SyntheticPhoto",
    "random_spec",
    "render_scalp_photo",
    "clean_spec",
    "D65_CCT_KELVIN",
    "GREY_CARD_REFLECTANCE",
    "HAIR_PRESENT_COVERAGE",
    "cct_to_xy",
    "illuminant_linear_rgb",
    "lab_to_linear_srgb",
    "linear_srgb_to_lab",
    "MONK_SKIN_HEX",
    "HAIR_SHADES",
    "COLORCHECKER_CLASSIC_SRGB8",
]

#: Evaluation conditions: camera white balance on (neutral), or a fixed-D65 camera
#: under a coloured light with a grey card, a chart, or nothing to correct with.
CONDITIONS = ("neutral", "cast-grey-card", "cast-chart", "cast-no-reference")
SCALES = ("strand", "region")
REFERENCES = ("none", "grey-card", "chart")

# --------------------------------------------------------------------------------------
# Colour maths (private to the yardstick; tested against colour-science)
# --------------------------------------------------------------------------------------

#: Linear sRGB → XYZ, IEC 61966-2-1 (4-decimal matrix) [1].
_RGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
#: D65 white, CIE 1931 2°, from xy = (0.3127, 0.3290) [2].
_D65_XY = (0.3127, 0.3290)
_D65_XYZ = np.array([_D65_XY[0] / _D65_XY[1], 1.0, (1 - sum(_D65_XY)) / _D65_XY[1]])
#: CCT of CIE D65 on the daylight locus: 6500 × 1.4388 / 1.4380 [2].
D65_CCT_KELVIN = 6504.0


def _srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear → sRGB-encoded, IEC 61966-2-1 piecewise curve (input clipped at 0)."""
    linear = np.maximum(linear, 0.0)
    return np.where(
        linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055
    )


def _srgb_encode_lut8(linear: np.ndarray) -> np.ndarray:
    """Linear (clipped to [0, 1]) → sRGB-encoded in 8-bit code units (float32, not rounded).

    A 65 536-entry table of :func:`_srgb_encode`; its step is at most 0.05 code
    (at black), far below the 8-bit rounding that follows.
    """
    global _ENCODE_TABLE
    if _ENCODE_TABLE is None:
        _ENCODE_TABLE = (_srgb_encode(np.linspace(0.0, 1.0, 65536)) * 255.0).astype(np.float32)
    index = np.rint(np.clip(linear, 0.0, 1.0) * np.float32(65535)).astype(np.uint16)
    return _ENCODE_TABLE[index]


_ENCODE_TABLE: np.ndarray | None = None


def _srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """sRGB-encoded → linear, IEC 61966-2-1."""
    encoded = np.asarray(encoded, dtype=np.float64)
    return np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)


def _lab_f(t: np.ndarray) -> np.ndarray:
    delta = 6 / 29
    return np.where(t > delta**3, np.cbrt(t), t / (3 * delta**2) + 4 / 29)


def _lab_f_inv(t: np.ndarray) -> np.ndarray:
    delta = 6 / 29
    return np.where(t > delta, t**3, 3 * delta**2 * (t - 4 / 29))


def lab_to_linear_srgb(lab) -> np.ndarray:
    """CIELAB (D65, 2°) → linear sRGB (not clipped).

    Parameters
    ----------
    lab : array_like, shape (..., 3)
        L* in [0, 100], a*, b*.

    Returns
    -------
    ndarray, shape (..., 3), float64
        Linear sRGB; values outside [0, 1] mean the colour is outside the sRGB gamut.
    """
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    fx = fy + lab[..., 1] / 500
    fz = fy - lab[..., 2] / 200
    xyz = np.stack([_lab_f_inv(fx), _lab_f_inv(fy), _lab_f_inv(fz)], axis=-1) * _D65_XYZ
    return xyz @ _XYZ_TO_RGB.T


def linear_srgb_to_lab(rgb) -> np.ndarray:
    """Linear sRGB → CIELAB (D65, 2°).

    Parameters
    ----------
    rgb : array_like, shape (..., 3)
        Linear sRGB, nominally in [0, 1].

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    xyz = (rgb @ _RGB_TO_XYZ.T) / _D65_XYZ
    f = _lab_f(xyz)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def _hex_to_lab(hex_code: str) -> np.ndarray:
    value = hex_code.lstrip("#")
    rgb8 = np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float64)
    return linear_srgb_to_lab(_srgb_decode(rgb8 / 255))


def _gamut_safe_reflectance(lab) -> np.ndarray:
    """Lab → linear sRGB reflectance, clipped into [0.002, 0.98] (renderable)."""
    return np.clip(lab_to_linear_srgb(lab), 0.002, 0.98)


def _lab_of_reflectance(rgb) -> tuple[float, float, float]:
    lab = linear_srgb_to_lab(rgb)
    return (float(lab[0]), float(lab[1]), float(lab[2]))


def cct_to_xy(cct_kelvin: float) -> tuple[float, float]:
    """Chromaticity of a light of the given correlated colour temperature.

    Below 4000 K the Planckian locus (Kang et al. 2002 cubic approximation [3]),
    from 4000 K up the CIE daylight locus (CIE 15:2004 [2]). At 4000 K the two loci
    differ by about 0.01 in y (daylight is greener); that step is accepted: indoor
    lamps below 4000 K are near-Planckian, daylight and "daylight" LEDs are not.

    Parameters
    ----------
    cct_kelvin : float
        1667–25000 K.

    Returns
    -------
    (x, y) : tuple of float
        CIE 1931 2° chromaticity.
    """
    t = float(cct_kelvin)
    if not 1667.0 <= t <= 25000.0:
        raise SettingsError(f"cct_kelvin must be in 1667–25000 K; got {cct_kelvin!r}")
    if t < 4000.0:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
        if t < 2222.0:
            y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
        else:
            y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
        return (x, y)
    if t <= 7000.0:
        x = -4.6070e9 / t**3 + 2.9678e6 / t**2 + 0.09911e3 / t + 0.244063
    else:
        x = -2.0064e9 / t**3 + 1.9018e6 / t**2 + 0.24748e3 / t + 0.237040
    y = -3.000 * x**2 + 2.870 * x - 0.275
    return (x, y)


def illuminant_linear_rgb(cct_kelvin: float) -> np.ndarray:
    """Linear-sRGB colour of a light of the given CCT, luminance Y = 1.

    Returns
    -------
    ndarray, shape (3,)
        At 6504 K this is ≈ (1, 1, 1) (D65 is sRGB's white).
    """
    x, y = cct_to_xy(cct_kelvin)
    xyz = np.array([x / y, 1.0, (1 - x - y) / y])
    return xyz @ _XYZ_TO_RGB.T


# --------------------------------------------------------------------------------------
# Colour populations
# --------------------------------------------------------------------------------------

#: Monk Skin Tone 1–10 display colours [4].
MONK_SKIN_HEX = (
    "#f6ede4", "#f3e7db", "#f7ead0", "#eadaba", "#d7bd96",
    "#a07e56", "#825c43", "#604134", "#3a312a", "#292420",
)  # fmt: skip

#: Named hair colours [6] as (name, category, hex). Categories: black, dark-brown,
#: brown, red, blond, grey, white.
HAIR_SHADES = (
    ("black", "black", "#090806"),
    ("off black", "black", "#2C222B"),
    ("dark brown", "dark-brown", "#3B3024"),
    ("medium brown", "dark-brown", "#4E433F"),
    ("chestnut brown", "dark-brown", "#504444"),
    ("golden brown", "brown", "#554838"),
    ("brown", "brown", "#6A4E42"),
    ("ash brown", "brown", "#977961"),
    ("light brown", "brown", "#A7856A"),
    ("dark auburn", "red", "#533D32"),
    ("light auburn", "red", "#91553D"),
    ("dark red", "red", "#8D4A43"),
    ("light red", "red", "#B55239"),
    ("strawberry blonde", "blond", "#A56B46"),
    ("honey blonde", "blond", "#B89778"),
    ("ash blonde", "blond", "#DEBC99"),
    ("golden blonde", "blond", "#E5C8A8"),
    ("light blonde", "blond", "#E6CEA8"),
    ("bleached blonde", "blond", "#DCD0BA"),
    ("dark gray", "grey", "#71635A"),
    ("medium gray", "grey", "#B7A69E"),
    ("light gray", "grey", "#D6C4C2"),
    ("platinum blonde", "white", "#CABFB1"),
    ("white blonde", "white", "#FFF5E1"),
)  # fmt: skip

#: How often each hair category is drawn. A design choice: the SMP clientele is
#: mostly dark-haired men with hair loss, but every category must be well sampled.
_HAIR_CATEGORY_WEIGHTS = {
    "black": 0.22, "dark-brown": 0.22, "brown": 0.16, "red": 0.08,
    "blond": 0.14, "grey": 0.10, "white": 0.08,
}  # fmt: skip

#: Categories whose hair colour is itself grey or white: such a head gets no added grey
#: strands, and all its hair counts as grey (``SyntheticPhoto.true_grey_fraction`` 1).
GREY_HEAD_CATEGORIES = ("grey", "white")

#: ColorChecker Classic, 8-bit sRGB of the X-Rite 2014 patches, row-major from
#: "dark skin" (cc01) to "black 2" (cc24) — copied from rows cc01–cc24 of
#: shared/reference/srgb_lab_reference.tsv [7].
COLORCHECKER_CLASSIC_SRGB8 = (
    (116, 79, 65), (197, 144, 127), (91, 120, 155), (91, 108, 64), (131, 127, 175),
    (95, 189, 172), (224, 124, 48), (69, 90, 167), (197, 80, 95), (93, 58, 104),
    (156, 187, 58), (227, 161, 39), (40, 62, 145), (61, 147, 70), (178, 54, 57),
    (236, 200, 15), (191, 79, 146), (0, 133, 165), (241, 242, 235), (201, 202, 201),
    (161, 163, 163), (121, 121, 121), (83, 84, 85), (50, 50, 50),
)  # fmt: skip

#: A photo "has hair" when strands cover at least 2 % of the scalp: a design choice —
#: below that it is essentially bald and "no hair found" is a fair answer.
HAIR_PRESENT_COVERAGE = 0.02

#: Grey card: 18 % neutral reflectance (the photographic standard grey), L* ≈ 49.5.
GREY_CARD_REFLECTANCE = 0.18

#: Background materials (linear-sRGB reflectance ranges come from these sRGB hex
#: anchors, jittered): a design choice covering the backgrounds seen in
#: shared/real_photos/hair-loss-train (walls, shirts, doors, floral sheets).
_BACKGROUNDS = (
    ("white wall", "#E8E4DC"),
    ("grey wall", "#9A9A96"),
    ("blue shirt", "#3E5C8A"),
    ("green shirt", "#4F6B45"),
    ("black shirt", "#1E1E22"),
    ("red shirt", "#8E2F32"),
    ("wooden door", "#A4774F"),
    ("beige sofa", "#C9B193"),
    ("floral sheet", "#D9DCE6"),
)

# --------------------------------------------------------------------------------------
# Specs and results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SceneSpec:
    """Everything that defines one synthetic photo. ``random_spec`` draws one from a seed.

    Lab values are CIELAB D65 / 2°. Ranges in brackets are those ``random_spec`` draws;
    ``render_scalp_photo`` accepts any physically meaningful value.

    Attributes
    ----------
    hair_lab : (L, a, b)
        True colour of the pigmented strands (see module docstring).
    skin_lab : (L, a, b)
        True scalp-skin colour (base reflectance = median of the textured skin).
    grey_fraction : float
        Fraction of strands that are grey/white, [0, 0.8].
    hair_density : float
        0 = bald (no strand at all), 1 = dense. [0, 1], 10 % of photos bald.
    strand_width_px, strand_length_px : float
        Mean strand width and length in output pixels. strand scale: width 2–8,
        length 8–250 (stubble to longer hair); region scale: width 0.35–1.1,
        length 6–30.
    scale : {"strand", "region"}
        Close-up (hairs several pixels wide) or whole head at 640 px.
    cct_kelvin : float
        Illuminant colour temperature, 2700–8000 K (drawn uniformly in mired).
    white_balanced : bool
        True: the camera's white balance removed the illuminant (with ``wb_gain_error``).
    exposure : float
        Multiplies the light; 1 = a white (reflectance 1) surface reaches code 255.
    shading : float
        Strength of the dome fall-off and soft shadow, [0, 0.4]: at 0.4 the light
        falls to 0.6 at the frame's far side and a shadow takes another 20 %. A design
        range for a phone photo of a scalp under room light. 0 = flat light.
    mutual_illumination : float
        Skin-coloured light bounced into the shade (module docstring, item 5): where
        the light is a fraction ``s`` < 1 of its median, ``m · (1 − s)`` more arrives
        with the colour of the skin (its linear reflectance scaled to luminance 1); the
        grey card or chart, in its own light, gets none. [0, 1] in :func:`random_spec`,
        at most 2. 0 = grey shading (the shade is a darker copy of the lit colour). A design
        range: with grey shading, shaded skin of a render is *less* chromatic than its
        lit part (C* −4 on a medium skin at shading 0.4); at 1 it is as chromatic or a
        little more (C* 0 to +2 on light to medium skin), and its linear-rgb
        chromaticity moves by ≈ 0.06. Shaded real scalp skin is more chromatic than
        its lit part (C* +1 to +7 on 13 dataset photos measured for issue 3, where
        sheen also washes out the lit side).
    glare : float
        Strength of specular highlight blobs (added linear light, in units of the
        light on a white surface), [0, 0.6] in half of the photos, else 0.
    noise_sigma : float
        Gaussian noise, standard deviation in 8-bit codes, [0, 4].
    jpeg_quality : int or None
        JPEG round trip at this quality (60–95), or None (lossless).
    background : bool
        Part of the frame is not scalp (wall, shirt…). Always True at region scale.
    scar : bool
        A hairless scar (FUT line or FUE dots) of its own colour.
    reference : {"none", "grey-card", "chart"}
        A neutral 18 % card or a ColorChecker Classic in frame.
    size : (width, height)
        Output size in pixels.
    seed : int
        Seeds every random texture in the render.
    grey_lab : (L, a, b)
        Colour of the grey/white strands.
    skin_texture : float
        Strength of skin texture, 0 = flat (clean renders for tests), 1 = normal.
    strand_jitter : float
        Per-strand colour variation, 0 = all strands exactly ``hair_lab``, 1 = normal
        (log-reflectance standard deviation about 0.12).
    wb_gain_error : (r, g, b)
        Multiplicative error of the camera's illuminant estimate when white balanced.
    blur_sigma_px : float
        Optical blur, Gaussian sigma in output pixels, [0.3, 1.0].
    scar_kind : {"line", "dots"}
        FUT linear scar or FUE dot scars (used when ``scar``).
    scar_lab : (L, a, b)
        Scar tissue colour (hypo- or hyper-pigmented relative to the skin).
    background_hex : str
        Background material anchor colour.
    """

    hair_lab: tuple[float, float, float]
    skin_lab: tuple[float, float, float]
    grey_fraction: float
    hair_density: float
    strand_width_px: float
    strand_length_px: float
    scale: str
    cct_kelvin: float
    white_balanced: bool
    exposure: float
    shading: float
    glare: float
    noise_sigma: float
    jpeg_quality: int | None
    background: bool
    scar: bool
    reference: str
    size: tuple[int, int]
    seed: int
    grey_lab: tuple[float, float, float] = (78.0, 0.0, 4.0)
    skin_texture: float = 1.0
    strand_jitter: float = 1.0
    wb_gain_error: tuple[float, float, float] = (1.0, 1.0, 1.0)
    blur_sigma_px: float = 0.5
    scar_kind: str = "line"
    scar_lab: tuple[float, float, float] = (70.0, 12.0, 12.0)
    background_hex: str = "#E8E4DC"
    hair_category: str = ""
    mutual_illumination: float = 0.0

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise SettingsError(f"scale must be one of {SCALES}; got {self.scale!r}")
        if self.reference not in REFERENCES:
            raise SettingsError(f"reference must be one of {REFERENCES}; got {self.reference!r}")
        if self.scar_kind not in ("line", "dots"):
            raise SettingsError(f"scar_kind must be 'line' or 'dots'; got {self.scar_kind!r}")
        width, height = self.size
        if not (64 <= width <= 8000 and 64 <= height <= 8000):
            raise SettingsError(f"size must be (width, height) in 64–8000 px; got {self.size!r}")
        if not 0.0 <= self.mutual_illumination <= 2.0:
            raise SettingsError(f"mutual_illumination must be in [0, 2]; got {self.mutual_illumination!r}")
        for name in ("grey_fraction", "hair_density"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SettingsError(f"{name} must be in [0, 1]; got {value!r}")
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 100:
            raise SettingsError(f"jpeg_quality must be 1–100 or None; got {self.jpeg_quality!r}")
        if self.exposure <= 0 or self.strand_width_px <= 0 or self.strand_length_px <= 0:
            raise SettingsError(
                "exposure, strand_width_px and strand_length_px must be > 0; got "
                f"{self.exposure!r}, {self.strand_width_px!r}, {self.strand_length_px!r}"
            )
        cct_to_xy(self.cct_kelvin)  # raises on an out-of-range CCT


@dataclass(frozen=True)
class SyntheticPhoto:
    """A rendered photo and its truth.

    Attributes
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        sRGB photo (after the JPEG round trip when ``spec.jpeg_quality`` is set).
    spec : SceneSpec
    hair_mask : ndarray, shape (H, W), bool
        Pixels at least half covered by strands (pigmented or grey).
    skin_mask : ndarray, shape (H, W), bool
        Bare scalp skin: no strand (coverage < 2 %) in the pixel or its 8 neighbours,
        no scar.
    scalp_mask : ndarray, shape (H, W), bool
        The scalp (skin + hair + scar), not background nor reference.
    reference_box : (x, y, w, h) or None
        Bounding box of the grey card (exactly the card) or of the chart.
    scar_mask : ndarray or None
        The visible scar (scar tissue not under strands), bool; None without a scar.
    hair_alpha : ndarray, shape (H, W), float32
        Strand coverage of each pixel, 0–1.
    true_hair_lab, true_skin_lab : (L, a, b)
        Truth under D65 (see the module docstring for the definitions).
    true_grey_fraction : float
        Grey strands' share of the strand coverage over ``hair_mask`` (``None`` if bald);
        1 when the hair colour itself is grey or white (:data:`GREY_HEAD_CATEGORIES`).
    true_coverage : float
        ``hair_mask`` area / ``scalp_mask`` area.
    true_scar_lab : (L, a, b) or None
    mixed_hair_lab : (L, a, b) or None
        Lab of the mean linear reflectance over the ``hair_mask`` pixels not dominated
        by grey strands (pigmented hair mixed with skin at the strand edges and in
        sparse areas): what a perfect segmenter averaging hair pixels would measure.
    grey_lab : (L, a, b)
        Colour of the grey strands.
    """

    rgb: np.ndarray
    spec: SceneSpec
    hair_mask: np.ndarray
    skin_mask: np.ndarray
    scalp_mask: np.ndarray
    reference_box: tuple[int, int, int, int] | None
    scar_mask: np.ndarray | None
    hair_alpha: np.ndarray
    true_hair_lab: tuple[float, float, float]
    true_skin_lab: tuple[float, float, float]
    true_grey_fraction: float | None
    true_coverage: float
    true_scar_lab: tuple[float, float, float] | None = None
    mixed_hair_lab: tuple[float, float, float] | None = None
    grey_lab: tuple[float, float, float] = field(default=(78.0, 0.0, 4.0))

    @property
    def has_hair(self) -> bool:
        """True when strands cover at least :data:`HAIR_PRESENT_COVERAGE` of the scalp."""
        return self.true_coverage >= HAIR_PRESENT_COVERAGE


# --------------------------------------------------------------------------------------
# Random specs
# --------------------------------------------------------------------------------------


def _rng(rng_or_seed) -> np.random.Generator:
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    if isinstance(rng_or_seed, (int, np.integer)) and not isinstance(rng_or_seed, bool):
        return np.random.default_rng(int(rng_or_seed))
    raise SettingsError(
        f"rng_or_seed must be an int seed or a numpy Generator; got {type(rng_or_seed).__name__}"
    )


def _draw_skin_lab(rng: np.random.Generator, monk_range=(1, 10)) -> tuple[float, float, float]:
    """Scalp skin colour.

    70 %: a Monk tone [4] (uniform over ``monk_range``) jittered by N(0, 3) in L*,
    N(+1, 2) in a* (scalp skin is slightly redder) and N(0, 2.5) in b*. 30 %: the
    colorimetric skin population of Del Bino & Bernerd [5]: ITA° uniform in −60…+70,
    b* uniform in 8–28, L* from the ITA° definition, a* uniform in 5–16. Between them
    they span ITA° ≈ −85…+85 (the Monk display colours are lighter and darker than
    skin measured in vivo; both ends are kept as hard cases).
    """
    lo, hi = monk_range
    if rng.random() < 0.7 or (lo, hi) != (1, 10):
        tone = int(rng.integers(lo, hi + 1))
        base = _hex_to_lab(MONK_SKIN_HEX[tone - 1])
        lab = base + rng.normal([0.0, 1.0, 0.0], [3.0, 2.0, 2.5])
    else:
        ita = rng.uniform(-60.0, 70.0)
        b = rng.uniform(8.0, 28.0)
        lightness = 50.0 + b * math.tan(math.radians(ita))
        lab = np.array([lightness, rng.uniform(5.0, 16.0), b])
    lab[0] = np.clip(lab[0], 12.0, 96.0)
    return _lab_in_gamut(lab)


def _lab_in_gamut(lab) -> tuple[float, float, float]:
    """Round-trip through clipped linear sRGB so the truth is renderable exactly."""
    return _lab_of_reflectance(_gamut_safe_reflectance(np.asarray(lab, dtype=np.float64)))


def _draw_hair_lab(rng: np.random.Generator, category: str | None = None):
    if category is None:
        names = list(_HAIR_CATEGORY_WEIGHTS)
        weights = np.array([_HAIR_CATEGORY_WEIGHTS[n] for n in names])
        category = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    shades = [s for s in HAIR_SHADES if s[1] == category]
    _, _, hex_code = shades[int(rng.integers(len(shades)))]
    lab = _hex_to_lab(hex_code) + rng.normal(0.0, [2.5, 1.5, 1.5])
    # Black hair photographs at L* ≈ 10–20 (sheen, inter-reflection), never at the
    # display value #090806 (L* 2.4): a design floor.
    lab[0] = max(lab[0], rng.uniform(9.0, 16.0)) if category == "black" else max(lab[0], 8.0)
    return _lab_in_gamut(lab), category


def _draw_grey_lab(rng: np.random.Generator) -> tuple[float, float, float]:
    """Grey/white strand colour: L* 55–92, a* ±1, b* 0–8 (white hair yellows)."""
    return _lab_in_gamut([rng.uniform(55, 92), rng.uniform(-1, 1), rng.uniform(0, 8)])


def _mired_uniform(rng: np.random.Generator, low_k: float, high_k: float) -> float:
    """CCT drawn uniformly in mired (1e6 / K), the perceptually even scale."""
    return float(1e6 / rng.uniform(1e6 / high_k, 1e6 / low_k))


def random_spec(
    rng_or_seed,
    *,
    condition: str,
    scale: str | None = None,
    size: tuple[int, int] | None = None,
) -> SceneSpec:
    """Draw a random scene for one evaluation condition.

    Parameters
    ----------
    rng_or_seed : int or numpy.random.Generator
    condition : str
        One of :data:`CONDITIONS`. ``"neutral"``: white-balanced camera (gain error
        σ = 2 % on R and B), exposure 0.93–1.07 (±0.1 EV: a correctly exposed photo;
        without a reference nothing can recover absolute lightness, and ±0.2 EV alone
        would move L* by up to ±4), no reference. ``"cast-*"``: fixed-D65
        camera under a 2700–8000 K light, exposure 0.7–1.3; with a grey card, a chart,
        or no reference.
    scale : {"strand", "region"} or None
        Force a scale; by default 60 % strand, 40 % region.
    size : (width, height) or None
        Force a size; by default strand scale draws 640×480, 480×640 or 800×600 and
        region scale is 640×640 (the size of shared/real_photos/hair-loss-train).

    Returns
    -------
    SceneSpec

    Notes
    -----
    Hard cases are drawn on purpose, 30 % of the time in all: dark hair on dark skin
    (Monk 8–10, black/dark brown hair; low contrast, 12 %), light blond on fair skin
    (Monk 1–3, 10 %), and white hair (8 %). The other draws (all design choices meant
    to cover what phone photos of scalps show, each range documented on
    :class:`SceneSpec`):

    - hair category by :data:`_HAIR_CATEGORY_WEIGHTS`, shade from :data:`HAIR_SHADES`
      jittered N(0, 2.5) in L*, N(0, 1.5) in a*, b*; skin by ``_draw_skin_lab``;
    - grey fraction 0 (60 %), 0.05–0.3 (25 %), 0.3–0.8 (15 %; none for grey/white hair);
    - bald (density 0) 10 %, else density 0.15–1; scar 10 % (60 % FUT line, 40 % FUE
      dots; hypo- or hyper-pigmented by 5–15 L*);
    - CCT uniform in mired over 2700–8000 K, so about 80 % of the casts are more than
      1000 K from D65; glare in half of the photos; noise σ 0–4 codes; JPEG q60–95 in
      80 %, lossless in 20 %; optical blur σ 0.3–1 px; skin texture ×0.5–1.5; strand
      colour jitter ×0.5–1.5.
    """
    if condition not in CONDITIONS:
        raise SettingsError(f"condition must be one of {CONDITIONS}; got {condition!r}")
    if scale is not None and scale not in SCALES:
        raise SettingsError(f"scale must be one of {SCALES} or None; got {scale!r}")
    rng = _rng(rng_or_seed)
    seed = int(rng.integers(0, 2**31 - 1))
    scale = scale or ("strand" if rng.random() < 0.6 else "region")

    case = rng.random()
    if case < 0.12:  # dark hair on dark skin
        hair_lab, category = _draw_hair_lab(rng, str(rng.choice(["black", "dark-brown"])))
        skin_lab = _draw_skin_lab(rng, (8, 10))
    elif case < 0.22:  # light blond on fair skin
        hair_lab, category = _draw_hair_lab(rng, "blond")
        skin_lab = _draw_skin_lab(rng, (1, 3))
    elif case < 0.30:  # white hair
        hair_lab, category = _draw_hair_lab(rng, "white")
        skin_lab = _draw_skin_lab(rng)
    else:
        hair_lab, category = _draw_hair_lab(rng)
        skin_lab = _draw_skin_lab(rng)

    if category in GREY_HEAD_CATEGORIES:
        grey_fraction = 0.0  # no grey strands added: the hair is grey already
    else:
        r = rng.random()
        grey_fraction = 0.0 if r < 0.6 else (rng.uniform(0.05, 0.3) if r < 0.85 else rng.uniform(0.3, 0.8))

    hair_density = 0.0 if rng.random() < 0.10 else float(rng.uniform(0.15, 1.0))
    if scale == "strand":
        strand_width = float(rng.uniform(2.0, 8.0))
        strand_length = float(rng.uniform(8.0, 40.0) if rng.random() < 0.5 else rng.uniform(40.0, 250.0))
        size = size or [(640, 480), (480, 640), (800, 600)][int(rng.integers(3))]
        background = bool(rng.random() < 0.3)
    else:
        strand_width = float(rng.uniform(0.35, 1.1))
        strand_length = float(rng.uniform(6.0, 30.0))
        size = size or (640, 640)
        background = True

    neutral = condition == "neutral"
    if neutral:
        cct = _mired_uniform(rng, 2700.0, 8000.0)
        wb_error = (float(rng.normal(1, 0.02)), 1.0, float(rng.normal(1, 0.02)))
        exposure = float(rng.uniform(0.93, 1.07))
    else:
        cct = _mired_uniform(rng, 2700.0, 8000.0)
        wb_error = (1.0, 1.0, 1.0)
        exposure = float(rng.uniform(0.7, 1.3))
    reference = {"cast-grey-card": "grey-card", "cast-chart": "chart"}.get(condition, "none")

    scar = bool(rng.random() < 0.1)
    skin_arr = np.array(skin_lab)
    if rng.random() < 0.5:  # hypopigmented: lighter, less saturated
        scar_lab = skin_arr + [rng.uniform(5, 15), rng.uniform(-3, 3), -rng.uniform(2, 8)]
    else:  # hyperpigmented: darker, browner
        scar_lab = skin_arr + [-rng.uniform(5, 15), rng.uniform(0, 5), rng.uniform(0, 6)]

    return SceneSpec(
        hair_lab=hair_lab,
        skin_lab=skin_lab,
        grey_fraction=float(grey_fraction),
        hair_density=hair_density,
        strand_width_px=strand_width,
        strand_length_px=strand_length,
        scale=scale,
        cct_kelvin=cct,
        white_balanced=neutral,
        exposure=exposure,
        shading=float(rng.uniform(0.0, 0.4)),
        glare=float(rng.uniform(0.0, 0.6) if rng.random() < 0.5 else 0.0),
        noise_sigma=float(rng.uniform(0.0, 4.0)),
        jpeg_quality=None if rng.random() < 0.2 else int(rng.integers(60, 96)),
        background=background,
        scar=scar,
        reference=reference,
        size=(int(size[0]), int(size[1])),
        seed=seed,
        grey_lab=_draw_grey_lab(rng),
        skin_texture=float(rng.uniform(0.5, 1.5)),
        strand_jitter=float(rng.uniform(0.5, 1.5)),
        wb_gain_error=wb_error,
        blur_sigma_px=float(rng.uniform(0.3, 1.0)),
        scar_kind="line" if rng.random() < 0.6 else "dots",
        scar_lab=_lab_in_gamut(scar_lab),
        background_hex=_BACKGROUNDS[int(rng.integers(len(_BACKGROUNDS)))][1],
        hair_category=category,
        # Drawn last, so that every earlier draw (and so the rest of the scene) is
        # what it was before this parameter existed.
        mutual_illumination=float(rng.uniform(0.0, 1.0)),
    )


# --------------------------------------------------------------------------------------
# Rendering helpers
# --------------------------------------------------------------------------------------


def _smooth_field(rng: np.random.Generator, shape, scale_px: float) -> np.ndarray:
    """Zero-mean, unit-std Gaussian random field with correlation length ~scale_px."""
    h, w = shape
    step = max(scale_px / 2.0, 1.0)
    gh, gw = max(2, int(math.ceil(h / step)) + 2), max(2, int(math.ceil(w / step)) + 2)
    coarse = rng.standard_normal((gh, gw)).astype(np.float32)
    coarse = cv2.GaussianBlur(coarse, (0, 0), 1.0)
    fine = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    fine -= float(np.median(fine))
    std = float(fine.std())
    return fine / std if std > 0 else fine


def _soft_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones are done on a reduced copy (same result to the eye, 50× faster)."""
    if sigma <= 4.0:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    h, w = image.shape[:2]
    factor = sigma / 2.0
    small = cv2.resize(image, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 2.0)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _skin_reflectance(rng, spec: SceneSpec, shape) -> np.ndarray:
    """Textured skin in linear sRGB whose per-channel median is the base colour."""
    base = _gamut_safe_reflectance(spec.skin_lab).astype(np.float32)
    h, w = shape
    k = spec.skin_texture
    if k <= 0:
        return np.broadcast_to(base, (h, w, 3)).copy()
    unit = min(h, w)
    # Albedo variation: log-reflectance std 0.05 (large) + 0.03 (fine), design values
    # that give the ±2–4 L* variation seen across a scalp in a photo.
    g = 0.05 * _smooth_field(rng, shape, unit / 4) + 0.03 * _smooth_field(rng, shape, unit / 40)
    albedo = np.exp(k * g)[..., None] * base
    # Redness blotches: top ~12 % of a smooth field, R × up to 1.12, G/B × down to 0.93.
    blotch = np.clip(_smooth_field(rng, shape, unit / 10) - 1.2, 0, None)
    blotch = np.clip(blotch / 0.8, 0, 1) * k
    albedo *= np.stack([1 + 0.12 * blotch, 1 - 0.07 * blotch, 1 - 0.07 * blotch], axis=-1)
    # Pores / freckles: ~3 % of pixels darkened by 10–35 %.
    noise = rng.random((h, w)).astype(np.float32)
    pores = (noise < 0.03 * min(k, 1.5)).astype(np.float32)
    pores = _soft_blur(pores, max(unit / 600, 0.6))
    pores = np.clip(pores * 2.0, 0, 1)
    albedo *= (1 - 0.25 * pores)[..., None]
    return np.clip(albedo, 0.001, 0.98)


def _background_reflectance(rng, spec: SceneSpec, shape) -> np.ndarray:
    base = _srgb_decode(np.array([int(spec.background_hex[i : i + 2], 16) for i in (1, 3, 5)]) / 255)
    base = np.clip(base * np.exp(rng.normal(0, [0.15, 0.15, 0.15])), 0.005, 0.95)
    h, w = shape
    g = 0.12 * _smooth_field(rng, shape, min(h, w) / 3) + 0.04 * _smooth_field(rng, shape, 6)
    bg = np.exp(g)[..., None] * base.astype(np.float32)
    if spec.background_hex == "#D9DCE6":  # floral sheet: coloured blobs
        flowers = np.clip(_smooth_field(rng, shape, min(h, w) / 12) - 1.0, 0, 1)
        tint = np.array(rng.uniform(0.1, 0.6, 3), dtype=np.float32)
        bg = bg * (1 - flowers[..., None]) + tint * flowers[..., None]
    return np.clip(bg, 0.002, 0.98).astype(np.float32)


def _strand_polylines(starts, angles, lengths, curvatures, n_points=6) -> np.ndarray:
    """Curved strands as polylines, shape (n, n_points, 2), in output pixels.

    The direction turns linearly along the strand by ``curvatures`` radians in total.
    """
    t = np.linspace(0.0, 1.0, n_points)[None, :]
    phi = angles[:, None] + curvatures[:, None] * t
    step = (lengths / (n_points - 1))[:, None]
    dx, dy = np.cos(phi) * step, np.sin(phi) * step
    xs = starts[:, :1] + np.concatenate([np.zeros((len(angles), 1)), np.cumsum(dx[:, :-1], 1)], 1)
    ys = starts[:, 1:] + np.concatenate([np.zeros((len(angles), 1)), np.cumsum(dy[:, :-1], 1)], 1)
    return np.stack([xs, ys], axis=-1)


def _draw_alpha(shape, polylines: np.ndarray, widths, supersample: int) -> np.ndarray:
    """Anti-aliased coverage (0–1) of strands: drawn at ``supersample``× with sharp
    (8-connected) edges and area-averaged down, so each output pixel gets the share of
    its ``supersample``² sub-pixels the strands cover. (OpenCV's own ``LINE_AA`` was 3–4×
    slower for thick lines and adds nothing on top of the supersampling.)"""
    h, w = shape
    if len(polylines) == 0:
        return np.zeros((h, w), np.float32)
    canvas = np.zeros((h * supersample, w * supersample), np.uint8)
    shift = 3
    thick = np.maximum(1, np.rint(np.asarray(widths) * supersample)).astype(int)
    fixed = np.rint(polylines * (supersample * (1 << shift))).astype(np.int32)
    for t in np.unique(thick):
        cv2.polylines(canvas, list(fixed[thick == t]), False, 255, int(t), cv2.LINE_8, shift)
    alpha = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return alpha


def _sample_points(rng, density: np.ndarray, n: int) -> np.ndarray:
    """n points (x, y) drawn with probability ∝ density (pixel centres + jitter)."""
    flat = density.ravel().astype(np.float64)
    total = flat.sum()
    if n <= 0 or total <= 0:
        return np.zeros((0, 2))
    idx = rng.choice(flat.size, size=n, p=flat / total)
    ys, xs = np.divmod(idx, density.shape[1])
    return np.stack([xs + rng.random(n), ys + rng.random(n)], axis=-1)


def _render_hair(rng, spec: SceneSpec, shape, hair_region: np.ndarray, flow_centre):
    """Strands. Returns (hair colour (H, W, 3), grey share (H, W), coverage (H, W)).

    The hair colour is the reflectance of the strands in each pixel, the grey share
    the fraction of that strand coverage that is grey strands, the coverage the share
    of the pixel covered by any strand.
    """
    h, w = shape
    zeros = np.zeros(shape, np.float32)
    empty = (np.zeros((h, w, 3), np.float32), zeros, zeros)
    if spec.hair_density <= 0 or not hair_region.any():
        return empty
    region = spec.scale == "region"
    supersample = 4 if region else 3
    width, length = spec.strand_width_px, spec.strand_length_px
    # Strands per unit area: at density 1 the strand area is 5× (region) or 1.6× (strand
    # scale) the region area, so dense hair covers pixels fully (1 − e^−5 ≈ 99 %) — design.
    area = float(hair_region.sum())
    per_strand = width * length
    n = int(spec.hair_density * 5.0 * area / per_strand) if region else int(
        spec.hair_density * 1.6 * area / per_strand
    )
    n = int(min(n, 120_000))
    if n == 0:
        return empty
    starts = _sample_points(rng, hair_region.astype(np.float32), n)
    if region:
        cx, cy = flow_centre
        radial = np.arctan2(starts[:, 1] - cy, starts[:, 0] - cx)
        angles = radial + rng.normal(0, 0.35, n)
        curv = rng.normal(0, 0.4, n)
    else:
        main = rng.uniform(0, 2 * np.pi)
        local = _smooth_field(rng, shape, min(h, w) / 3)
        xi = np.clip(starts[:, 0].astype(int), 0, w - 1)
        yi = np.clip(starts[:, 1].astype(int), 0, h - 1)
        angles = main + 0.6 * local[yi, xi] + rng.normal(0, 0.25, n)
        curv = rng.normal(0, 0.5, n)
    lengths = length * rng.lognormal(0, 0.3, n)
    widths = width * rng.lognormal(0, 0.2, n)
    # Strands start inside the region and grow outward: move start back half a length
    # so the strand is centred on its sample point.
    starts = starts - 0.5 * np.stack([np.cos(angles), np.sin(angles)], -1) * lengths[:, None]
    polylines = _strand_polylines(starts, angles, lengths, curv)

    is_grey = rng.random(n) < spec.grey_fraction
    # Colour jitter: symmetric log-reflectance offsets (std ≈ 0.12 × strand_jitter),
    # quantised to 7 groups so strands can be drawn in bulk.
    levels = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5]) * 0.12 * spec.strand_jitter
    level_of = rng.integers(0, len(levels), n)
    base_hair = _gamut_safe_reflectance(spec.hair_lab)
    base_grey = _gamut_safe_reflectance(spec.grey_lab)
    weighted = np.zeros((h, w, 3), np.float32)  # Σ coverage × reflectance
    coverage_sum = np.zeros(shape, np.float32)  # Σ coverage
    grey_sum = np.zeros(shape, np.float32)  # Σ coverage of grey strands
    keep = np.ones(shape, np.float32)  # Π (1 − coverage): uncovered share
    for grey in (False, True):
        base = base_grey if grey else base_hair
        for k, offset in enumerate(levels):
            pick = np.flatnonzero((is_grey == grey) & (level_of == k))
            if pick.size == 0:
                continue
            alpha = _draw_alpha(shape, polylines[pick], widths[pick], supersample)
            # Jitter in lightness with a slight chroma tilt (redder when darker),
            # symmetric around the base colour. Grey strands vary in lightness only.
            tilt = np.zeros(3) if grey else np.array([-0.2, 0.0, 0.2]) * offset
            refl = np.clip(base * np.exp(offset + tilt), 0.002, 0.98).astype(np.float32)
            weighted += alpha[..., None] * refl
            coverage_sum += alpha
            keep *= 1 - alpha
            if grey:
                grey_sum += alpha
    # Where strands overlap, the pixel shows the coverage-weighted mean of their colours
    # (the expected colour over random stacking orders; order-independent).
    safe = np.maximum(coverage_sum, 1e-6)
    hair_colour = weighted / safe[..., None]
    grey_share = grey_sum / safe
    return hair_colour, grey_share, 1 - keep


def _ellipse_mask(shape, centre, axes, angle_deg=0.0) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.ellipse(
        mask,
        (int(round(centre[0])), int(round(centre[1]))),
        (max(1, int(round(axes[0]))), max(1, int(round(axes[1])))),
        angle_deg, 0, 360, 1, -1, cv2.LINE_8,
    )  # fmt: skip
    return mask.astype(bool)


def _chart_reflectance(patch_px: int) -> tuple[np.ndarray, np.ndarray]:
    """A ColorChecker Classic in its own frame: (reflectance HxWx3, mask HxW).

    Proportions of the physical chart (279 × 216 mm card, 40 mm patches with ~5 mm
    black gaps and border): gap = 0.25 patch, border = 0.35 patch. The card body is a
    near-black (reflectance 0.03) like the real chart's frame.
    """
    gap, border = round(0.25 * patch_px), round(0.35 * patch_px)
    width = 6 * patch_px + 5 * gap + 2 * border
    height = 4 * patch_px + 3 * gap + 2 * border
    chart = np.full((height, width, 3), 0.03, np.float32)
    patches = _srgb_decode(np.array(COLORCHECKER_CLASSIC_SRGB8, dtype=np.float64) / 255)
    for i, refl in enumerate(patches):
        row, col = divmod(i, 6)
        y = border + row * (patch_px + gap)
        x = border + col * (patch_px + gap)
        chart[y : y + patch_px, x : x + patch_px] = refl
    return chart, np.ones((height, width), np.float32)


def _place_chart(rng, shape, frac_width: float):
    """Warp a chart into the frame. Returns (reflectance, coverage, box) in frame coords."""
    h, w = shape
    patch_px = 48
    chart, cover = _chart_reflectance(patch_px)
    ch, cw = chart.shape[:2]
    target_w = frac_width * w
    s = target_w / cw
    target_h = ch * s
    # Where: one of the four corners, with a margin.
    margin = 0.04 * min(h, w)
    corner = int(rng.integers(4))
    x0 = margin if corner in (0, 2) else w - margin - target_w
    y0 = margin if corner in (0, 1) else h - margin - target_h
    src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
    dst = np.float32([[x0, y0], [x0 + target_w, y0], [x0 + target_w, y0 + target_h], [x0, y0 + target_h]])
    # Slight rotation (±8°) and perspective (corners moved by up to 4 % of the size).
    angle = math.radians(rng.uniform(-8, 8))
    centre = dst.mean(axis=0)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    dst = (dst - centre) @ rot.T + centre
    dst += rng.uniform(-0.04, 0.04, dst.shape) * np.float32([target_w, target_h])
    dst = np.clip(dst, 1, [w - 2, h - 2]).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    refl = cv2.warpPerspective(chart, m, (w, h), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    coverage = cv2.warpPerspective(cover, m, (w, h), flags=cv2.INTER_LINEAR)
    xs, ys = dst[:, 0], dst[:, 1]
    box = (int(np.floor(xs.min())), int(np.floor(ys.min())),
           int(np.ceil(xs.max() - xs.min())), int(np.ceil(ys.max() - ys.min())))  # fmt: skip
    return refl, np.clip(coverage, 0, 1), box


def _place_grey_card(rng, shape):
    h, w = shape
    cw = int(rng.uniform(0.12, 0.2) * w)
    chh = int(cw * rng.uniform(0.7, 1.2))
    margin = int(0.04 * min(h, w))
    corner = int(rng.integers(4))
    x0 = margin if corner in (0, 2) else w - margin - cw
    y0 = margin if corner in (0, 1) else h - margin - chh
    return (x0, y0, cw, chh)


def _shading_field(rng, spec: SceneSpec, shape, light_centre) -> np.ndarray:
    """Dome fall-off from a light centre and one soft shadow (multiplicative, ≥ 0.2)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = light_centre
    r2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / float(max(h, w) ** 2)
    light = 1.0 - spec.shading * np.clip(r2 * 2.0, 0, 1)
    # A soft shadow (a hand, the phone, a fold): a blurred half-plane or ellipse on one side.
    sx, sy = rng.uniform(0, w), rng.uniform(0, h)
    shadow = _ellipse_mask(shape, (sx, sy), (rng.uniform(0.15, 0.35) * w, rng.uniform(0.1, 0.3) * h),
                           rng.uniform(0, 180)).astype(np.float32)  # fmt: skip
    shadow = _soft_blur(shadow, 0.05 * min(h, w))
    light *= 1.0 - 0.5 * spec.shading * shadow
    return np.clip(light, 0.2, None)


# --------------------------------------------------------------------------------------
# The renderer
# --------------------------------------------------------------------------------------


def render_scalp_photo(spec: SceneSpec) -> SyntheticPhoto:
    """Render a scalp photo from a :class:`SceneSpec` (deterministic in ``spec.seed``).

    Parameters
    ----------
    spec : SceneSpec

    Returns
    -------
    SyntheticPhoto
        The photo and its truth (masks, true colours, coverage, grey fraction).
    """
    if not isinstance(spec, SceneSpec):
        raise SettingsError(f"spec must be a SceneSpec; got {type(spec).__name__}")
    rng = np.random.default_rng(spec.seed)
    width, height = spec.size
    shape = (height, width)

    # --- geometry: scalp, background, ears ------------------------------------------
    if spec.scale == "region":
        cx = width * rng.uniform(0.42, 0.58)
        cy = height * rng.uniform(0.42, 0.56)
        # Half-axes up to about half the frame: in about half of the photos the head
        # reaches the frame's edge, and the horseshoe of hair is cut by it (as in most
        # of shared/real_photos, framed on the crown). A design range.
        ax, ay = width * rng.uniform(0.30, 0.52), height * rng.uniform(0.32, 0.52)
        tilt = rng.uniform(-15, 15)
        scalp = _ellipse_mask(shape, (cx, cy), (ax, ay), tilt)
        ears = np.zeros(shape, bool)
        if rng.random() < 0.6:
            for side in (-1, 1):
                ears |= _ellipse_mask(shape, (cx + side * ax * 0.98, cy + ay * 0.1),
                                      (ax * 0.12, ay * 0.2), 0)  # fmt: skip
        ears &= ~scalp
        # Back or side views show the neck (skin, not scalp) and a shirt below the head.
        shirt = np.zeros(shape, bool)
        if rng.random() < 0.5:
            neck = _ellipse_mask(shape, (cx, cy + ay * 1.05), (ax * 0.55, ay * 0.45), 0)
            shirt = _ellipse_mask(shape, (cx, cy + ay * 1.9), (ax * 1.6, ay * 0.75), 0)
            ears |= neck & ~scalp & ~shirt
            shirt &= ~scalp
        # Horseshoe: dense on the sides and back (lower part), thinning on the crown,
        # plus low-frequency patchiness. Strands are seeded where density is high.
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        u, v = (xx - cx) / ax, (yy - cy) / ay
        r = np.sqrt(u**2 + v**2)
        crown_x, crown_y = rng.uniform(-0.25, 0.25), rng.uniform(-0.45, 0.05)
        # Bald crown radius (in head radii): 0 (full head of hair) to 0.9 (only a
        # horseshoe left, Norwood 6–7), drawn uniformly — the hair-loss photos in
        # shared/real_photos span Norwood levels 2–7.
        crown_r = rng.uniform(0.0, 0.9)
        crown = np.sqrt((u - crown_x) ** 2 + (v - crown_y) ** 2)
        density = np.clip((crown - crown_r) / 0.25, 0, 1) * np.clip((1.02 - r) / 0.05, 0, 1)
        density *= np.clip(1.0 + 0.35 * _smooth_field(rng, shape, width / 8), 0.2, 1.5)
        hair_region = density * scalp
        flow_centre = (cx + crown_x * ax, cy + crown_y * ay)
        light_centre = (cx + rng.uniform(-0.5, 0.5) * ax, cy + rng.uniform(-0.5, 0.5) * ay)
        background_mask = ~(scalp | ears)
    else:
        scalp = np.ones(shape, bool)
        ears = np.zeros(shape, bool)
        shirt = np.zeros(shape, bool)
        if spec.background:
            # The head's silhouette against the background along one edge: a large circle.
            side = int(rng.integers(4))
            big = max(width, height) * rng.uniform(1.2, 2.5)
            depth = rng.uniform(0.08, 0.25) * (height if side in (0, 2) else width)
            centres = {
                0: (width * rng.uniform(0.3, 0.7), depth + big),
                1: (width - depth - big, height * rng.uniform(0.3, 0.7)),
                2: (width * rng.uniform(0.3, 0.7), height - depth - big),
                3: (depth + big, height * rng.uniform(0.3, 0.7)),
            }
            scalp = _ellipse_mask(shape, centres[side], (big, big))
        density = np.clip(1.0 + 0.3 * _smooth_field(rng, shape, min(width, height) / 3), 0.2, 1.6)
        if rng.random() < 0.4:  # a thinning patch
            thin = _ellipse_mask(shape, (rng.uniform(0, width), rng.uniform(0, height)),
                                 (rng.uniform(0.1, 0.4) * width, rng.uniform(0.1, 0.4) * height),
                                 rng.uniform(0, 180)).astype(np.float32)  # fmt: skip
            density *= 1 - 0.8 * _soft_blur(thin, 0.05 * min(width, height))
        hair_region = density * scalp
        flow_centre = (width / 2, height / 2)
        light_centre = (rng.uniform(0, width), rng.uniform(0, height))
        background_mask = ~scalp

    # --- scar -------------------------------------------------------------------------
    scar_mask = None
    if spec.scar:
        scar_u8 = np.zeros(shape, np.uint8)
        ys, xs = np.nonzero(scalp)
        if ys.size:
            if spec.scar_kind == "line":
                unit = min(width, height)
                thickness = max(2, int(unit * (0.012 if spec.scale == "region" else 0.04)))
                y_mid = float(np.percentile(ys, rng.uniform(55, 80)))
                x_lo, x_hi = np.percentile(xs, [15, 85])
                pts = np.array([[x, y_mid + 0.06 * unit * math.sin((x - x_lo) / max(x_hi - x_lo, 1) * math.pi)]
                                for x in np.linspace(x_lo, x_hi, 12)], np.int32)  # fmt: skip
                cv2.polylines(scar_u8, [pts], False, 1, thickness, cv2.LINE_8)
            else:
                n_dots = int(rng.integers(15, 60))
                radius = max(1, int(min(width, height) * (0.004 if spec.scale == "region" else 0.012)))
                pick = rng.integers(0, ys.size, n_dots)
                for i in pick:
                    cv2.circle(scar_u8, (int(xs[i]), int(ys[i])), radius, 1, -1, cv2.LINE_8)
        scar_mask = scar_u8.astype(bool) & scalp
        hair_region = hair_region * ~scar_mask
        if not scar_mask.any():
            scar_mask = None

    # --- reference (occludes the scene; strands are not drawn over it) -----------------
    reference_box = None
    reference_cover = np.zeros(shape, np.float32)
    reference_refl = np.zeros((height, width, 3), np.float32)
    if spec.reference == "grey-card":
        x0, y0, cw, chh = _place_grey_card(rng, shape)
        reference_cover[y0 : y0 + chh, x0 : x0 + cw] = 1.0
        reference_refl[:] = GREY_CARD_REFLECTANCE
        reference_box = (x0, y0, cw, chh)
    elif spec.reference == "chart":
        frac = rng.uniform(0.38, 0.5) if spec.scale == "strand" else rng.uniform(0.34, 0.42)
        reference_refl, reference_cover, reference_box = _place_chart(rng, shape, frac)
    occluded = reference_cover > 0.0
    hair_region = hair_region * ~occluded

    # --- materials ----------------------------------------------------------------------
    skin = _skin_reflectance(rng, spec, shape)
    if ears.any():
        skin = np.where(ears[..., None], np.clip(skin * np.float32([1.05, 0.9, 0.9]), 0, 0.98), skin)
    albedo = np.where(background_mask[..., None], _background_reflectance(rng, spec, shape), skin)
    if spec.scale == "region" and shirt.any():
        shirt_colour = _srgb_decode(np.array(rng.integers(20, 230, 3)) / 255).astype(np.float32)
        shirt_refl = shirt_colour * np.exp(0.08 * _smooth_field(rng, shape, 12))[..., None]
        albedo = np.where(shirt[..., None], np.clip(shirt_refl, 0.002, 0.98), albedo)
    if scar_mask is not None:
        scar_refl = _gamut_safe_reflectance(spec.scar_lab).astype(np.float32)
        albedo = np.where(scar_mask[..., None], scar_refl, albedo)
    hair_colour, grey_share, hair_alpha = _render_hair(rng, spec, shape, hair_region, flow_centre)
    albedo = albedo.astype(np.float32) * (1 - hair_alpha[..., None]) + hair_colour * hair_alpha[..., None]
    grey_alpha = grey_share * hair_alpha
    albedo = albedo * (1 - reference_cover[..., None]) + reference_refl * reference_cover[..., None]
    hair_alpha = hair_alpha * (1 - reference_cover)
    grey_alpha = grey_alpha * (1 - reference_cover)

    # --- truth masks ----------------------------------------------------------------------
    scalp_mask = scalp & ~occluded
    hair_mask = (hair_alpha >= 0.5) & scalp_mask
    # Bare skin: no strand in the pixel nor in its 8 neighbours, so the optical blur
    # (σ ≤ 1 px) and JPEG's 2×2 chroma subsampling do not carry hair colour into it.
    near_hair = cv2.dilate((hair_alpha >= 0.02).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    skin_mask = scalp_mask & ~near_hair
    if scar_mask is not None:
        # The visible scar: scar tissue not hidden by strands lying over it.
        scar_mask &= ~occluded & (hair_alpha < 0.5)
        skin_mask &= ~scar_mask
    n_scalp = int(scalp_mask.sum())
    true_coverage = float(hair_mask.sum() / n_scalp) if n_scalp else 0.0
    if hair_mask.any():
        true_grey_fraction = float(grey_alpha[hair_mask].sum() / hair_alpha[hair_mask].sum())
        if spec.hair_category in GREY_HEAD_CATEGORIES:
            # The hair colour itself is grey or white: every strand is grey/white hair,
            # as the analysis's contract counts it (``HairTone.grey_fraction``).
            true_grey_fraction = 1.0
        pigmented = hair_mask & (grey_alpha < 0.5)
        mixed_hair_lab = (
            _lab_of_reflectance(albedo[pigmented].astype(np.float64).mean(axis=0))
            if pigmented.any()
            else None
        )
    else:
        true_grey_fraction, mixed_hair_lab = None, None

    # --- light ------------------------------------------------------------------------------
    shading = _shading_field(rng, spec, shape, light_centre)
    scalp_or_all = scalp_mask if scalp_mask.any() else np.ones(shape, bool)
    shading /= float(np.median(shading[scalp_or_all]))
    if reference_box is not None:
        shading = np.where(occluded, np.float32(rng.uniform(0.95, 1.05)), shading)
    illuminant = illuminant_linear_rgb(spec.cct_kelvin).astype(np.float32)
    light = shading[..., None]
    if spec.mutual_illumination > 0:
        skin_tint = _gamut_safe_reflectance(spec.skin_lab).astype(np.float32)
        skin_tint /= np.float32(skin_tint @ _RGB_TO_XYZ[1])  # luminance Y of the tint = 1
        fill = np.float32(spec.mutual_illumination) * np.clip(1.0 - shading, 0.0, None)
        if reference_box is not None:
            fill = np.where(occluded, np.float32(0.0), fill)  # the card is in its own light
        light = light + fill[..., None] * skin_tint
    radiance = albedo * light * illuminant

    # --- camera -------------------------------------------------------------------------------
    if spec.white_balanced:
        estimate = illuminant * np.float32(spec.wb_gain_error)
    else:
        estimate = illuminant_linear_rgb(D65_CCT_KELVIN).astype(np.float32)
    camera = radiance / estimate * np.float32(spec.exposure)
    peak = float(np.percentile(camera.max(axis=-1), 99.5))
    if peak > 0.98:  # highlight protection (see module docstring)
        camera *= np.float32(0.98 / peak)
    if spec.glare > 0:
        blobs = np.zeros(shape, np.float32)
        for _ in range(int(rng.integers(1, 4))):
            c = (rng.uniform(0, width), rng.uniform(0, height))
            axes = (rng.uniform(0.02, 0.08) * width, rng.uniform(0.02, 0.08) * height)
            blobs += _ellipse_mask(shape, c, axes, rng.uniform(0, 180))
        blobs = _soft_blur(np.clip(blobs, 0, 1), 0.015 * min(width, height))
        # The card or chart is held out of the glare: a glaring reference cannot
        # correct anything, and that failure is not what the evaluation measures.
        blobs *= 1 - reference_cover
        speckle = np.clip(1 + 0.5 * _smooth_field(rng, shape, 4), 0, None)
        glare_colour = illuminant / estimate * np.float32(spec.exposure)
        camera = camera + (spec.glare * blobs * speckle)[..., None] * glare_colour
    if spec.blur_sigma_px > 0:
        camera = cv2.GaussianBlur(camera, (0, 0), spec.blur_sigma_px)
    encoded = _srgb_encode_lut8(camera)
    if spec.noise_sigma > 0:
        encoded = encoded + rng.normal(0.0, spec.noise_sigma, encoded.shape)
    rgb = np.clip(np.rint(encoded), 0, 255).astype(np.uint8)
    if spec.jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(spec.jpeg_quality)])
        rgb = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    rgb = np.ascontiguousarray(rgb)

    return SyntheticPhoto(
        rgb=rgb,
        spec=spec,
        hair_mask=hair_mask,
        skin_mask=skin_mask,
        scalp_mask=scalp_mask,
        reference_box=reference_box,
        scar_mask=scar_mask,
        hair_alpha=hair_alpha.astype(np.float32),
        true_hair_lab=_lab_of_reflectance(_gamut_safe_reflectance(spec.hair_lab)),
        true_skin_lab=_lab_of_reflectance(_gamut_safe_reflectance(spec.skin_lab)),
        true_grey_fraction=true_grey_fraction,
        true_coverage=true_coverage,
        true_scar_lab=(
            _lab_of_reflectance(_gamut_safe_reflectance(spec.scar_lab)) if scar_mask is not None else None
        ),
        mixed_hair_lab=mixed_hair_lab,
        grey_lab=_lab_of_reflectance(_gamut_safe_reflectance(spec.grey_lab)),
    )


def clean_spec(spec: SceneSpec, **changes) -> SceneSpec:
    """The same scene without any camera degradation (for tests and truth checks).

    White balanced with a perfect estimate, exposure 1, flat light, no glare, noise,
    blur or JPEG, flat skin and no strand jitter unless ``changes`` say otherwise.
    """
    base = dict(
        white_balanced=True, wb_gain_error=(1.0, 1.0, 1.0), exposure=1.0, shading=0.0,
        glare=0.0, noise_sigma=0.0, jpeg_quality=None, blur_sigma_px=0.0,
        skin_texture=0.0, strand_jitter=0.0, mutual_illumination=0.0,
    )  # fmt: skip
    base.update(changes)
    return replace(spec, **base)
