"""Classes derived from one colour: ITA° class, Fitzpatrick estimate, Monk tone,
undertone, hair level, and a plain-language reading of a ΔE00.

Every boundary below is either taken from a cited source or stated as a design
choice. All inputs are single colours/values (the analysis classifies the few
final tones, not pixels); ``lab`` means CIELAB D65 ``(L*, a*, b*)``.

Boundary rule (all scales here): a value exactly **on** a published boundary goes
to the **darker** class ("light 41–55" means 41 < ITA° ≤ 55). The published tables
give ranges such as "41–55" without saying which side owns the end point; this
rule matches derm_ita's ``ita > 55`` … tests and makes every scale total (derm_ita
leaves ITA° = −30 in no class at all [3]_).

References
----------
.. [1] A. Chardon, I. Cretois, C. Hourseau, "Skin colour typology and suntanning
   pathways", Int. J. Cosmet. Sci. 13(4):191–208, 1991.
.. [2] S. Del Bino, J. Sok, E. Bessac, F. Bernerd, "Relationship between skin
   response to ultraviolet exposure and skin color type", Pigment Cell Res.
   19(6):606–614, 2006; S. Del Bino, F. Bernerd, "Variations in skin colour and the
   biological consequences of ultraviolet radiation exposure", Br. J. Dermatol.
   169(Suppl 3):33–40, 2013 (the six ITA° classes).
.. [3] A. Corbin, derm_ita, https://github.com/AdamCorbinFAUPhD/derm_ita
   (``derm_ita/skin_tone_classification.py``: Del Bino, Kinyanjui and
   Kinyanjui→Fitzpatrick bins).
.. [4] M. Groh et al., "Evaluating Deep Neural Networks Trained on Clinical Images
   in Dermatology with the Fitzpatrick 17k Dataset", CVPR Workshops 2021 (ITA°→
   Fitzpatrick estimate following N. M. Kinyanjui et al., "Fairness of Classifiers
   Across Skin Tones in Dermatology", MICCAI 2020).
.. [5] E. Monk, Monk Skin Tone Scale, Google, 2019/2022 (https://skintone.google);
   hex values as shipped in ChenglongMa/SkinToneClassifier ``src/stone/image.py``
   (v1.2.6) — the official page was not consulted (research notes, domain §c).
.. [6] W. Thong, P. Joniak, A. Xiang, "Beyond Skin Tone: A Multidimensional Measure
   of Apparent Skin Color", ICCV 2023; SonyResearch/apparent_skincolor README
   (hue angle h* < 55° reads red, ≥ 55° yellow).
.. [7] collectedwebs.com, "Hair colours" (http://www.collectedwebs.com/art/colors/hair/),
   as reproduced in ubik23/charactercreator ``src/constants/palettes/DefaultHairColors.ts``;
   level names from blendsor.com "Color level guide" (research notes, domain §c).
.. [8] W. S. Mokrzycki, M. Tatol, "Colour difference ΔE – A survey", Machine
   Graphics & Vision 20(4):383–411, 2011.
.. [9] T. B. Fitzpatrick, "The validity and practicality of sun-reactive skin types
   I through VI", Arch. Dermatol. 124(6):869–871, 1988.
"""

from __future__ import annotations

import functools
import math
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .colour import delta_e, hex_to_lab, lab_to_lch
from .errors import InputError

__all__ = [
    "ITA_CLASSES",
    "FITZPATRICK_TYPES",
    "MONK_SKIN_TONE_HEX",
    "HAIR_LEVEL_HEX",
    "HAIR_LEVEL_NAMES",
    "UNDERTONE_HUE_SPLIT_DEG",
    "UNDERTONE_NEUTRAL_HALF_WIDTH_DEG",
    "UNDERTONE_MIN_CHROMA",
    "DELTA_E_READINGS",
    "ita_class",
    "fitzpatrick_from_ita",
    "nearest_monk",
    "undertone",
    "hair_level",
    "delta_e_reading",
]

#: Del Bino ITA° classes [2]_, lightest first, as ``(name, lower bound)``; a class
#: holds lower < ITA° ≤ upper (the next lighter class's lower bound). "dark" is
#: ITA° ≤ −30 (lower bound −∞).
ITA_CLASSES: Final[tuple[tuple[str, float], ...]] = (
    ("very light", 55.0),
    ("light", 41.0),
    ("intermediate", 28.0),
    ("tan", 10.0),
    ("brown", -30.0),
    ("dark", -math.inf),
)

#: Kinyanjui ITA° bins mapped to Fitzpatrick types as used by Groh et al. 2021 [4]_
#: (tabulated in derm_ita [3]_): I > 55; II 41–55; III 28–41; IV 19–28; V 10–19;
#: VI ≤ 10. Same ``(name, lower bound)`` layout as :data:`ITA_CLASSES`.
FITZPATRICK_TYPES: Final[tuple[tuple[str, float], ...]] = (
    ("I", 55.0),
    ("II", 41.0),
    ("III", 28.0),
    ("IV", 19.0),
    ("V", 10.0),
    ("VI", -math.inf),
)

#: Monk Skin Tone scale, tones 1 (lightest) … 10 (darkest), sRGB hex [5]_.
MONK_SKIN_TONE_HEX: Final[tuple[str, ...]] = (
    "#f6ede4",
    "#f3e7db",
    "#f7ead0",
    "#eadaba",
    "#d7bd96",
    "#a07e56",
    "#825c43",
    "#604134",
    "#3a312a",
    "#292420",
)

#: Hair colour levels 1 (black) … 10 (extra light blonde). **Approximate**: no
#: authoritative level → colour table exists. Design choice: each level takes the
#: collectedwebs named hair colour [7]_ whose name matches the level's name
#: (1 Black, 3 Dark Brown, 4 Medium Brown, 5 Light Brown, 8 Light Blonde); the
#: others take the nearest name that keeps L* increasing (2 "Off Black" for "very
#: dark brown / softest black", 6 "Honey Blonde" for "dark blonde", 7 "Ash Blonde"
#: for "medium blonde", 9 "Bleached Blonde" for "very light blonde", 10 "White
#: Blonde" for "extra light blonde"). L* (D65): 2.2, 14.7, 20.7, 29.4, 58.1, 64.7,
#: 78.3, 83.86, 83.90, 96.8. Reds, auburns and greys are not levels.
HAIR_LEVEL_HEX: Final[tuple[str, ...]] = (
    "#090806",
    "#2c222b",
    "#3b3024",
    "#4e433f",
    "#a7856a",
    "#b89778",
    "#debc99",
    "#e6cea8",
    "#dcd0ba",
    "#fff5e1",
)
#: Level names (blendsor "Color level guide" [7]_), levels 1 … 10.
HAIR_LEVEL_NAMES: Final[tuple[str, ...]] = (
    "black",
    "very dark brown",
    "dark brown",
    "medium brown",
    "light brown",
    "dark blonde",
    "medium blonde",
    "light blonde",
    "very light blonde",
    "extra light blonde",
)

#: Hue angle h_ab (degrees) splitting red-leaning from yellow-leaning skin, from
#: Sony's apparent-skin-colour measure [6]_.
UNDERTONE_HUE_SPLIT_DEG: Final = 55.0
#: Half-width of the "neutral" band around the split. Design choice: ±5° is about
#: a quarter of the spread of skin hue angles (the 10 Monk tones span 49°–89°), so
#: only colours close to the red/yellow split are called neutral.
UNDERTONE_NEUTRAL_HALF_WIDTH_DEG: Final = 5.0
#: Below this chroma C*ab the hue angle is dominated by noise and the colour is
#: called "neutral". Design choice: 2.0 ≈ a ΔE of 2, where a difference starts to
#: be seen by an untrained observer [8]_.
UNDERTONE_MIN_CHROMA: Final = 2.0

#: Plain-language readings of ΔE00, as ``(upper bound, reading)``, from the
#: five-band scale summarised by Mokrzycki & Tatol [8]_ (0–1 not noticed; 1–2 only
#: an experienced observer notices; 2–3.5 an inexperienced observer notices;
#: 3.5–5 clear difference; > 5 two different colours). Their bands are stated for
#: ΔE without naming a formula; using them for ΔE00 is our choice, and it is on
#: the safe side because ΔE00 is smaller than ΔE76 for most pairs. A value on a
#: bound takes the larger-difference reading.
DELTA_E_READINGS: Final[tuple[tuple[float, str], ...]] = (
    (1.0, "imperceptible"),
    (2.0, "barely distinguishable"),
    (3.5, "noticeable on close inspection"),
    (5.0, "clearly different"),
    (math.inf, "very different"),
)


def _finite_scalar(value: float, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a finite number; received {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{name}: expected a finite number; received {number}")
    return number


def _one_lab(lab: ArrayLike) -> NDArray[np.float64]:
    try:
        array = np.asarray(lab, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.shape != (3,) or not np.all(np.isfinite(array)):
        received = repr(lab) if array is None else repr(array.tolist())
        raise InputError(
            f"lab: expected one finite (L*, a*, b*) triple of shape (3,); received {received}"
        )
    return array


def _bin(value: float, classes: tuple[tuple[str, float], ...]) -> str:
    for name, lower in classes:
        if value > lower:
            return name
    return classes[-1][0]  # unreachable: the last lower bound is -inf


def ita_class(ita_deg: float) -> str:
    """Del Bino skin-colour class of an ITA° [1]_ [2]_.

    Parameters
    ----------
    ita_deg : float
        Individual Typology Angle in degrees (:func:`shade_match.colour.ita_deg`).

    Returns
    -------
    str
        ``"very light"`` (> 55°), ``"light"`` (41–55°), ``"intermediate"`` (28–41°),
        ``"tan"`` (10–28°), ``"brown"`` (−30–10°) or ``"dark"`` (≤ −30°). A value on
        a boundary belongs to the darker class (see the module docstring).
    """
    return _bin(_finite_scalar(ita_deg, "ita_deg"), ITA_CLASSES)


def fitzpatrick_from_ita(ita_deg: float) -> str:
    """An *estimate* of the Fitzpatrick skin type from ITA°.

    Fitzpatrick types describe how skin reacts to sun (burning, tanning) [9]_; a
    colour measurement cannot determine them. This uses the Kinyanjui ITA° bins
    mapped to Fitzpatrick types as in Groh et al. 2021 [4]_ (see
    :data:`FITZPATRICK_TYPES`), one of several published mappings that disagree.

    Parameters
    ----------
    ita_deg : float

    Returns
    -------
    str
        ``"I"`` … ``"VI"``.
    """
    return _bin(_finite_scalar(ita_deg, "ita_deg"), FITZPATRICK_TYPES)


@functools.cache
def _reference_labs(hex_codes: tuple[str, ...]) -> NDArray[np.float64]:
    """CIELAB of a reference scale, computed once per process (read-only)."""
    labs = np.array([hex_to_lab(code) for code in hex_codes])
    labs.setflags(write=False)
    return labs


def _monk_labs() -> NDArray[np.float64]:
    return _reference_labs(MONK_SKIN_TONE_HEX)


def _hair_level_labs() -> NDArray[np.float64]:
    return _reference_labs(HAIR_LEVEL_HEX)


def _nearest_index(lab: NDArray[np.float64], references: NDArray[np.float64]) -> int:
    distances = delta_e(lab[None, :], references)
    return int(np.argmin(distances))  # ties → lower index (lighter Monk / darker level)


def nearest_monk(lab: ArrayLike) -> int:
    """Nearest Monk Skin Tone (1–10) by CIEDE2000 [5]_.

    Parameters
    ----------
    lab : array_like, shape (3,)

    Returns
    -------
    int
        1 (lightest) … 10 (darkest). Exact ties go to the lower number.
    """
    return _nearest_index(_one_lab(lab), _monk_labs()) + 1


def undertone(lab: ArrayLike) -> str:
    """Skin undertone from the hue angle h_ab.

    Sony's apparent-skin-colour measure splits red (h < 55°) from yellow (h ≥ 55°)
    skin [6]_. Here red-leaning reads ``"cool"`` (pink/red tinge) and
    yellow-leaning ``"warm"`` (yellow/golden), with a ``"neutral"`` band of
    ±:data:`UNDERTONE_NEUTRAL_HALF_WIDTH_DEG` around the split and for near-grey
    colours (C* < :data:`UNDERTONE_MIN_CHROMA`). Both are design choices.

    The hue difference to 55° is taken on the circle, so hues far outside the skin
    range are still labelled (60°–235° warm, 235°–50° cool); those labels are
    extrapolations.

    Parameters
    ----------
    lab : array_like, shape (3,)

    Returns
    -------
    str
        ``"warm"``, ``"neutral"`` or ``"cool"``.
    """
    _, chroma, hue = lab_to_lch(_one_lab(lab))
    if chroma < UNDERTONE_MIN_CHROMA:
        return "neutral"
    offset = (hue - UNDERTONE_HUE_SPLIT_DEG + 180.0) % 360.0 - 180.0
    if offset > UNDERTONE_NEUTRAL_HALF_WIDTH_DEG:
        return "warm"
    if offset < -UNDERTONE_NEUTRAL_HALF_WIDTH_DEG:
        return "cool"
    return "neutral"


def hair_level(lab: ArrayLike) -> int:
    """Approximate hair colour level 1 (black) … 10 (extra light blonde).

    Nearest of :data:`HAIR_LEVEL_HEX` by CIEDE2000. The level chart itself is an
    approximation (see :data:`HAIR_LEVEL_HEX`); treat the result as ±1 level.

    Parameters
    ----------
    lab : array_like, shape (3,)

    Returns
    -------
    int
        1 … 10. Exact ties go to the lower (darker) level.
    """
    return _nearest_index(_one_lab(lab), _hair_level_labs()) + 1


def delta_e_reading(delta_e: float) -> str:
    """Plain-language reading of a CIEDE2000 difference (see :data:`DELTA_E_READINGS`).

    Parameters
    ----------
    delta_e : float
        ΔE00, ≥ 0.

    Returns
    -------
    str
        ``"imperceptible"`` (< 1), ``"barely distinguishable"`` (1–2),
        ``"noticeable on close inspection"`` (2–3.5), ``"clearly different"``
        (3.5–5) or ``"very different"`` (≥ 5).
    """
    value = _finite_scalar(delta_e, "delta_e")
    if value < 0:
        raise InputError(f"delta_e: expected a colour difference ≥ 0; received {value}")
    for upper, reading in DELTA_E_READINGS:
        if value < upper:
            return reading
    return DELTA_E_READINGS[-1][1]
