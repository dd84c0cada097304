"""Result types: frozen dataclasses of plain numbers.

Everything the analysis returns is here, so it pickles (multiprocessing, Dask),
caches (Streamlit ``st.cache_data``) and serialises (``shade_match.report``) without
surprises. Lab values are CIELAB D65 / 2° as three floats ``(L, a, b)``; colour
differences are floats named ``delta_e`` (CIEDE2000 unless a field says otherwise).

The JSON contract of ``shade-match analyze --json`` and of batch output is built from
these types in :func:`shade_match.report.analysis_to_dict`; field names here follow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

Lab = tuple[float, float, float]

__all__ = [
    "Lab",
    "ImageInfo",
    "CorrectionInfo",
    "HairTone",
    "SkinTone",
    "Match",
    "Analysis",
]


@dataclass(frozen=True)
class ImageInfo:
    """Facts about the decoded image.

    ``width``/``height`` are the original pixel size after EXIF orientation;
    ``working_width``/``working_height`` are the size the analysis ran at.
    """

    width: int
    height: int
    working_width: int
    working_height: int
    format: str = ""
    colour_profile: str = "sRGB (assumed)"
    orientation: int = 1


@dataclass(frozen=True)
class CorrectionInfo:
    """Which colour correction was applied, and what it found.

    ``method`` is what was actually applied: ``"none"``, ``"auto"`` (illuminant
    estimated from the photo), ``"grey-card"`` or ``"chart"``. ``details`` holds plain
    JSON-able values (gains, residual ΔE00 per chart patch, estimated CCT, ...).
    """

    method: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HairTone:
    """Measured hair tone.

    Attributes
    ----------
    lab : Lab
        Robust centre of the hair pixels, CIELAB D65.
    hex : str
        ``lab`` as sRGB hex (clipped to the gamut), for display.
    level : int
        Hair colour level 1 (black) … 10 (lightest blonde); approximate.
    grey_fraction : float
        Fraction of hair pixels that are grey/white (0–1).
    coverage : float
        Hair area / scalp area (0–1).
    confidence : float
        0–1; see :mod:`shade_match.estimation` for its definition.
    spread : Lab
        Robust spread (scaled MAD) of L*, a*, b* over the hair pixels.
    pixel_count : int
        Number of pixels the estimate used.
    """

    lab: Lab
    hex: str
    level: int
    grey_fraction: float
    coverage: float
    confidence: float
    spread: Lab = (0.0, 0.0, 0.0)
    pixel_count: int = 0


@dataclass(frozen=True)
class SkinTone:
    """Measured skin (scalp) tone and the classes derived from it.

    ``ita_deg`` is the Individual Typology Angle (Chardon et al. 1991);
    ``ita_class`` its Del Bino class; ``monk`` the nearest Monk Skin Tone (1–10);
    ``fitzpatrick`` an *estimate* ("I"…"VI") from ITA° — see :mod:`shade_match.scales`
    for the mapping used; ``undertone`` is ``"warm"``, ``"neutral"`` or ``"cool"``.
    """

    lab: Lab
    hex: str
    ita_deg: float
    ita_class: str
    monk: int
    fitzpatrick: str
    undertone: str
    confidence: float
    spread: Lab = (0.0, 0.0, 0.0)
    pixel_count: int = 0


@dataclass(frozen=True)
class Match:
    """One palette entry and its distance to a target colour."""

    palette: str
    id: str
    name: str
    lab: Lab
    delta_e: float
    hex: str = ""
    metric: str = "ciede2000"


@dataclass(frozen=True)
class Analysis:
    """Everything shade-match measured on one photo.

    ``hair`` is ``None`` when no hair is in view (a fully bald crown is common);
    ``skin`` is ``None`` when no skin could be measured. ``matches`` are the nearest
    pigments to the hair tone, best first. ``recommendation`` is filled by
    :mod:`shade_match.recommend` (a plain mapping), or ``None``.
    """

    file: str
    image: ImageInfo
    correction: CorrectionInfo
    hair: HairTone | None
    skin: SkinTone | None
    matches: tuple[Match, ...] = ()
    warnings: tuple[str, ...] = ()
    recommendation: Mapping[str, Any] | None = None
