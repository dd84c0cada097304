"""The front door: one photo in, one :class:`~shade_match.results.Analysis` out.

The steps are wired here and only here::

    load_image → correct_colours → segment → refine_light_with_skin → estimate (hair, skin)
    → classify → match

The CLI, batch mode and the Streamlit app all call :func:`analyze_image` (plain numbers)
or :func:`inspect_image` (the same numbers plus the images and masks behind them, for
the overlay and the app).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Sequence

import numpy as np

from . import colour, scales
from .correction import CorrectionResult, correct_colours, refine_light_with_skin, CORRECTION_METHODS
from .errors import AnalysisError, SettingsError, UnsupportedImageError
from .estimation import ToneEstimate, estimate_hair, estimate_skin
from .io import LoadedImage, load_image, DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE
from .io import _resize, _working_size
from .matching import nearest_matches
from .palette import DEFAULT_PIGMENT_PALETTE, Palette, get_palette
from .results import Analysis, CorrectionInfo, HairTone, ImageInfo, Match, SkinTone
from .recommend import Recommendation, recommend, recommendation_to_dict
from .segmentation import Segmentation, segment

__all__ = ["AnalysisSettings", "Inspection", "analyze_image", "inspect_image"]

ImageSource = str | os.PathLike | bytes | BinaryIO | np.ndarray

#: The working resolution's longest side: the loader's default,
#: :data:`shade_match.io.DEFAULT_MAX_SIDE` (1000 px; the reasons are given there). A
#: design choice for speed (issue 3): a 12 MP phone JPEG decodes at 1/4 scale straight
#: to this size and segmentation works at it without shrinking again; a close-up's
#: hairs stay ≥ 1–2 px wide; whole-head 640 px photos are analysed at full size.
DEFAULT_WORKING_SIDE = DEFAULT_MAX_SIDE


@dataclass(frozen=True)
class AnalysisSettings:
    """Named settings of one analysis. Every field has a safe default.

    Attributes
    ----------
    correction : {"auto", "none", "grey-card", "chart"}
        Colour correction. ``"auto"`` uses a chart or grey card found in frame and
        otherwise estimates the illuminant from the photo.
    grey_card : (x, y, w, h) or None
        Neutral-card rectangle in *input-image* pixels (after EXIF rotation). Given
        with ``correction="auto"`` or ``"grey-card"`` it is used instead of a search.
    hair_region, skin_region : (x, y, w, h) or None
        Practitioner overrides: measure hair (skin) only inside this rectangle.
    top_k : int
        How many pigment matches to report.
    metric : {"ciede2000", "cie94", "cie76"}
        Colour difference used for matching.
    working_side : int or None
        Longest side of the working image (``None``: full size).
    max_pixels : int
        Refuse images with more pixels than this (decompression-bomb guard).
    """

    correction: str = "auto"
    grey_card: tuple[int, int, int, int] | None = None
    hair_region: tuple[int, int, int, int] | None = None
    skin_region: tuple[int, int, int, int] | None = None
    top_k: int = 3
    metric: str = "ciede2000"
    working_side: int | None = DEFAULT_WORKING_SIDE
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        if self.correction not in CORRECTION_METHODS:
            raise SettingsError(
                f"correction must be one of {', '.join(CORRECTION_METHODS)}; got {self.correction!r}"
            )
        if self.metric not in colour.DELTA_E_METHODS:
            raise SettingsError(
                f"metric must be one of {', '.join(colour.DELTA_E_METHODS)}; got {self.metric!r}"
            )
        if not isinstance(self.top_k, int) or self.top_k < 1:
            raise SettingsError(f"top_k must be a whole number ≥ 1; got {self.top_k!r}")
        if self.working_side is not None and self.working_side < 64:
            raise SettingsError(f"working_side must be ≥ 64 px or None; got {self.working_side!r}")
        for name in ("grey_card", "hair_region", "skin_region"):
            _check_rect(name, getattr(self, name))


def _check_rect(name: str, rect) -> None:
    if rect is None:
        return
    try:
        x, y, w, h = (int(v) for v in rect)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be four integers x, y, w, h; got {rect!r}") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise SettingsError(
            f"{name} must have x, y ≥ 0 and width, height > 0; got x={x}, y={y}, w={w}, h={h}"
        )


@dataclass(frozen=True)
class Inspection:
    """An :class:`Analysis` with the pixels behind it.

    Attributes
    ----------
    analysis : Analysis
    rgb : ndarray, shape (H, W, 3), uint8
        The working image as loaded (sRGB).
    corrected : ndarray, shape (H, W, 3), float32 in [0, 1]
        The working image after colour correction (sRGB-encoded).
    segmentation : Segmentation
        The masks at the working resolution.
    scale : float
        Working pixels per input pixel (to map rectangles between the two).
    correction : CorrectionResult
        The correction step's full result (reference mask, gains).
    recommendation : Recommendation or None
        The treatment plan against the first pigment palette (its plain-value form is
        ``analysis.recommendation``), or ``None`` when that palette is not a pigment palette.
    """

    analysis: Analysis
    rgb: np.ndarray
    corrected: np.ndarray
    segmentation: Segmentation
    scale: float = 1.0
    correction: CorrectionResult | None = field(default=None, repr=False)
    recommendation: Recommendation | None = field(default=None, repr=False)


def _load(source: ImageSource, settings: AnalysisSettings, name: str | None) -> LoadedImage:
    if isinstance(source, np.ndarray):
        return _loaded_from_array(source, name or "<array>", settings.working_side)
    return load_image(
        source, max_side=settings.working_side, max_pixels=settings.max_pixels, name=name
    )


def _loaded_from_array(rgb: np.ndarray, name: str, max_side: int | None) -> LoadedImage:
    """Wrap an in-memory image (already decoded, the package's convention) as a LoadedImage."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise SettingsError(
            f"an image array must be (H, W, 3) uint8 RGB; got shape {rgb.shape} and dtype {rgb.dtype}"
        )
    height, width = rgb.shape[:2]
    # the loader's resize, so an array and the same image from a file are shrunk alike
    working = _resize(rgb, _working_size(width, height, max_side))
    return LoadedImage(
        rgb=np.ascontiguousarray(working),
        width=width,
        height=height,
        format="array",
        source=name,
        colour_profile="sRGB (in-memory array)",
        orientation=1,
    )


def _scale_rect(rect, scale: float, shape) -> tuple[int, int, int, int] | None:
    if rect is None:
        return None
    x, y, w, h = (float(v) for v in rect)
    height, width = shape[:2]
    x0 = int(np.clip(round(x * scale), 0, width - 1))
    y0 = int(np.clip(round(y * scale), 0, height - 1))
    x1 = int(np.clip(round((x + w) * scale), x0 + 1, width))
    y1 = int(np.clip(round((y + h) * scale), y0 + 1, height))
    return (x0, y0, x1 - x0, y1 - y0)


def _resolve_palettes(palettes) -> tuple[Palette, ...]:
    if palettes is None:
        return (get_palette(DEFAULT_PIGMENT_PALETTE),)
    if isinstance(palettes, (Palette, str, os.PathLike)):
        palettes = (palettes,)
    return tuple(p if isinstance(p, Palette) else get_palette(p) for p in palettes)


def inspect_image(
    source: ImageSource,
    *,
    settings: AnalysisSettings | None = None,
    palettes: Palette | str | Sequence[Palette | str] | None = None,
    name: str | None = None,
) -> Inspection:
    """Analyse one photo and keep the images and masks behind the numbers.

    Parameters
    ----------
    source : path, bytes, binary file or ndarray
        The photo. An array must be ``(H, W, 3)`` uint8 RGB, sRGB-encoded.
    settings : AnalysisSettings, optional
    palettes : Palette, name, path or a sequence of them, optional
        Pigment palette(s) to match the hair tone against; default
        :data:`~shade_match.palette.DEFAULT_PIGMENT_PALETTE`.
    name : str, optional
        The file name to report (defaults to the path, or ``"<bytes>"``).

    Returns
    -------
    Inspection

    Raises
    ------
    InputError
        The image cannot be loaded or a setting is invalid.
    """
    settings = settings or AnalysisSettings()
    pigment_palettes = _resolve_palettes(palettes)
    loaded = _load(source, settings, name)
    if min(loaded.rgb.shape[:2]) < MIN_WORKING_SIDE <= min(loaded.width, loaded.height):
        # A long, thin photo shrunk to the working side lost its measurable width: load
        # it again with the long side it needs (once; such photos are rare).
        long_side = int(np.ceil(max(loaded.width, loaded.height) * MIN_WORKING_SIDE / min(loaded.width, loaded.height)))
        if hasattr(source, "seek"):
            source.seek(0)
        loaded = _load(source, replace(settings, working_side=long_side), name)
    rgb8 = loaded.rgb
    if min(rgb8.shape[:2]) < MIN_WORKING_SIDE:
        raise UnsupportedImageError(
            loaded.source,
            f"expected a photo at least {MIN_WORKING_SIDE}×{MIN_WORKING_SIDE} px to measure hair and skin; "
            f"got {loaded.width}×{loaded.height} px"
            + (f" (analysed at {rgb8.shape[1]}×{rgb8.shape[0]})" if rgb8.shape[:2] != (loaded.height, loaded.width) else ""),
        )
    scale = loaded.working_width / loaded.width if loaded.width else 1.0

    grey_card = _scale_rect(settings.grey_card, scale, rgb8.shape)
    correction = correct_colours(rgb8, settings.correction, grey_card=grey_card)
    corrected = correction.rgb
    lab_image = colour.image_to_lab_fast(corrected)

    seg = segment(
        corrected,
        lab_image,
        reference_mask=correction.reference_mask,
        hair_region=_scale_rect(settings.hair_region, scale, rgb8.shape),
        skin_region=_scale_rect(settings.skin_region, scale, rgb8.shape),
    )
    # Without a reference in frame, the light is estimated again from the skin the
    # segmentation found (a better sample than the estimate's own guess on a
    # thumbnail); the masks stay, the tones are measured in the new colours.
    correction = refine_light_with_skin(correction, rgb8, seg.skin, seg.scalp)
    corrected = correction.rgb

    warnings: list[str] = list(loaded.notes) + list(correction.warnings) + list(seg.warnings)
    hair_est = estimate_hair(corrected, seg)
    skin_est = estimate_skin(corrected, seg)
    hair = _hair_tone(hair_est, seg, correction.confidence) if hair_est is not None else None
    skin = _skin_tone(skin_est, correction.confidence) if skin_est is not None else None

    if hair is None:
        warnings.append(
            "No hair found in view: hair tone not measured. Add a photo of the sides or back "
            "where hair grows, or mark a hair region."
        )
    if skin is None:
        warnings.append("No bare scalp skin found: skin tone not measured.")
    if hair is not None and hair.grey_fraction >= GREY_HAIR_WARNING_FRACTION:
        warnings.append(
            f"Grey or white hair: {hair.grey_fraction:.0%} of hair pixels. SMP blends in the grey "
            "range; expect lighter touch-ups."
        )
    if hair is not None and skin is not None:
        contrast = float(colour.delta_e(np.asarray(hair.lab), np.asarray(skin.lab)))
        if contrast < HAIR_SKIN_MIN_CONTRAST:
            # Either low-contrast hair (dark on dark, blond on fair) or hair and skin not
            # told apart: either way the numbers deserve a look, and less trust.
            warnings.append(
                f"Hair and skin read almost alike (ΔE00 {contrast:.1f}): check the overlay, and mark "
                "a hair region and a skin region if the split is wrong."
            )
            hair = replace(hair, confidence=hair.confidence * LOW_CONTRAST_CONFIDENCE)
            skin = replace(skin, confidence=skin.confidence * LOW_CONTRAST_CONFIDENCE)
    if min(loaded.width, loaded.height) < LOW_RESOLUTION_SIDE:
        warnings.append(
            f"Low resolution: {loaded.width}×{loaded.height} px; at least {LOW_RESOLUTION_SIDE} px "
            "on the short side is expected for a reliable measurement."
        )

    matches: tuple[Match, ...] = ()
    if hair is not None:
        matches = nearest_matches(hair.lab, pigment_palettes, k=settings.top_k, metric=settings.metric)

    info = loaded.image_info()
    analysis = Analysis(
        file=loaded.source,
        image=info,
        correction=CorrectionInfo(method=correction.method, details=dict(correction.details)),
        hair=hair,
        skin=skin,
        matches=matches,
        warnings=tuple(dict.fromkeys(warnings)),
    )
    if hair is None and skin is None:
        raise AnalysisError(
            f"{loaded.source}: expected a photo showing scalp skin or hair; found neither "
            f"(scalp region {seg.scalp.mean():.0%} of the frame, {seg.excluded.mean():.0%} of it "
            "excluded as glare, shadow or clipped). Retake the photo closer, in even light."
        )
    recommendation = None
    if pigment_palettes[0].kind == "pigment":
        recommendation = recommend(analysis, pigment_palettes[0])
        analysis = replace(analysis, recommendation=recommendation_to_dict(recommendation))
    return Inspection(
        analysis=analysis,
        rgb=rgb8,
        corrected=corrected,
        segmentation=seg,
        scale=scale,
        correction=correction,
        recommendation=recommendation,
    )


def analyze_image(
    source: ImageSource,
    *,
    settings: AnalysisSettings | None = None,
    palettes: Palette | str | Sequence[Palette | str] | None = None,
    name: str | None = None,
) -> Analysis:
    """Analyse one photo: hair tone, skin tone, pigment matches and warnings.

    Same parameters as :func:`inspect_image`; returns only the plain-number
    :class:`~shade_match.results.Analysis`.
    """
    return inspect_image(source, settings=settings, palettes=palettes, name=name).analysis


#: The smallest working image we measure. A choice: below 32 px a side there is no room
#: for a scalp region, a ring of skin and hair texture (the segmentation's smallest
#: filters are a few pixels wide), so any result would be noise.
MIN_WORKING_SIDE = 32

#: Warn about grey hair from this grey fraction on. A choice: a fifth of the hair grey is
#: where practitioners start blending in the grey range (research R13 gives no number).
GREY_HAIR_WARNING_FRACTION = 0.2

#: Hair and skin closer than this (ΔE00) get a warning and their confidences are
#: multiplied by LOW_CONTRAST_CONFIDENCE. Choices: 5 ΔE00 is "clearly different at a
#: glance" on the reading scale of shade_match.scales (Mokrzycki & Tatol 2011 put
#: 3.5–5 at "clear difference"), so below it a person could not be sure which is which;
#: halving the confidence is a plain "trust this less", not a calibrated probability.
HAIR_SKIN_MIN_CONTRAST = 5.0
LOW_CONTRAST_CONFIDENCE = 0.5

#: Below this short side a photo is "low resolution". A choice: the dataset's whole-head
#: photos are 640 px and still show hair regions; below ~400 px stubble is unresolved.
LOW_RESOLUTION_SIDE = 400


def _lab(values) -> tuple[float, float, float]:
    return tuple(float(v) for v in values)  # type: ignore[return-value]


def _hair_tone(est: ToneEstimate, seg: Segmentation, correction_confidence: float) -> HairTone:
    lab = _lab(est.lab)
    return HairTone(
        lab=lab,
        hex=colour.lab_to_hex(lab),
        level=scales.hair_level(lab),
        grey_fraction=float(est.grey_fraction),
        coverage=float(seg.coverage),
        confidence=float(np.clip(est.confidence * correction_confidence, 0.0, 1.0)),
        spread=_lab(est.spread),
        pixel_count=int(est.pixel_count),
    )


def _skin_tone(est: ToneEstimate, correction_confidence: float) -> SkinTone:
    lab = _lab(est.lab)
    ita = float(colour.ita_deg(np.asarray(lab)))
    return SkinTone(
        lab=lab,
        hex=colour.lab_to_hex(lab),
        ita_deg=ita,
        ita_class=scales.ita_class(ita),
        monk=scales.nearest_monk(lab),
        fitzpatrick=scales.fitzpatrick_from_ita(ita),
        undertone=scales.undertone(lab),
        confidence=float(np.clip(est.confidence * correction_confidence, 0.0, 1.0)),
        spread=_lab(est.spread),
        pixel_count=int(est.pixel_count),
    )
