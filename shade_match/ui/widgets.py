"""Pieces shared by the app's pages: cached analysis, palettes, swatches, photo input.

Layout only: every number shown comes from :mod:`shade_match.analysis`,
:mod:`shade_match.matching` or :mod:`shade_match.scales`; nothing here computes a
colour. Uploads stay in memory (bytes); nothing is written to disk.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from ..analysis import AnalysisSettings, inspect_image
from ..errors import PaletteError
from ..overlay import OVERLAY_COLOURS, SCALP_OUTLINE_COLOUR, render_overlay
from ..palette import DEFAULT_PIGMENT_PALETTE, Palette, find_palettes, load_palette
from ..results import Analysis, HairTone, Match, SkinTone
from ..scales import delta_e_reading

#: Photo file types the uploaders accept (what :func:`shade_match.io.load_image` decodes).
PHOTO_TYPES: tuple[str, ...] = ("jpg", "jpeg", "png", "heic", "heif", "webp", "tif", "tiff")

#: Where the shipped sample photos live (the repository's ``sample_images/``).
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_images"

#: Longest side of photos drawn on screen. A display choice: wide enough for a tablet
#: in landscape, small enough that each rerun sends well under 1 MB to the browser.
DISPLAY_MAX_SIDE = 900

#: Confidence words. A display choice (the analysis' confidence is 0–1, see
#: :mod:`shade_match.estimation`): the words only group the number, which is always shown.
CONFIDENCE_WORDS: tuple[tuple[float, str], ...] = ((0.7, "high"), (0.4, "moderate"), (0.0, "low"))

#: Outline colours of the rectangles the practitioner draws (display only).
RECT_COLOURS: dict[str, tuple[int, int, int]] = {
    "hair_region": (0, 200, 255),
    "skin_region": (255, 0, 200),
    "grey_card": (255, 255, 255),
}

#: The rectangles a practitioner can draw (AnalysisSettings field → label), the first
#: being the default target of a drag.
RECT_LABELS: dict[str, str] = {
    "hair_region": "Measure hair here",
    "skin_region": "Measure skin here",
    "grey_card": "Grey card",
}


# --- photos -------------------------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    """One photo as the app holds it: its name and its encoded bytes (in memory)."""

    name: str
    data: bytes

    @property
    def key(self) -> str:
        """A short id that changes when the bytes change (for widget keys)."""
        return hashlib.sha1(self.data).hexdigest()[:12]


def sample_photos(folder: Path | str | None = None) -> list[Path]:
    """Image files in ``folder`` (default :data:`SAMPLE_DIR`), sorted by name."""
    folder = Path(folder) if folder else SAMPLE_DIR
    if not folder.is_dir():
        return []
    return sorted(
        path for path in folder.iterdir()
        if path.is_file() and path.suffix.lower().lstrip(".") in PHOTO_TYPES
    )


@dataclass(frozen=True)
class PhotoResult:
    """What the app keeps of one analysed photo.

    Attributes
    ----------
    analysis : Analysis
    photo_rgb : ndarray, (H, W, 3) uint8
        The working image (sRGB) the analysis measured.
    overlay_rgb : ndarray, (H, W, 3) uint8
        :func:`shade_match.overlay.render_overlay` of it.
    scale : float
        Working pixels per input pixel.
    """

    analysis: Analysis
    photo_rgb: np.ndarray
    overlay_rgb: np.ndarray
    scale: float

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the photo as uploaded, after EXIF rotation."""
        return self.analysis.image.width, self.analysis.image.height


def settings_items(settings: AnalysisSettings) -> tuple[tuple[str, Any], ...]:
    """A hashable, cache-friendly form of the settings."""
    return tuple(asdict(settings).items())


@st.cache_data(max_entries=24, show_spinner=False)
def _analyse_cached(
    data: bytes, name: str, settings: tuple[tuple[str, Any], ...], palette_key: str, _palettes: tuple[Palette, ...]
) -> PhotoResult:
    inspection = inspect_image(
        data, settings=AnalysisSettings(**dict(settings)), palettes=_palettes, name=name
    )
    overlay = render_overlay(inspection.rgb, inspection.segmentation)
    return PhotoResult(
        analysis=inspection.analysis,
        photo_rgb=inspection.rgb,
        overlay_rgb=np.asarray(overlay, dtype=np.uint8),
        scale=float(inspection.scale),
    )


def analyse_photo(photo: Photo, settings: AnalysisSettings, palettes: Sequence[Palette]) -> PhotoResult:
    """Analyse one photo (cached on its bytes, the settings and the palettes).

    Raises whatever :func:`shade_match.analysis.inspect_image` raises (``InputError``
    for a bad photo or setting).
    """
    palettes = tuple(palettes)
    return _analyse_cached(photo.data, photo.name, settings_items(settings), palette_key(palettes), palettes)


# --- palettes -----------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _shipped_palettes(listing: tuple[tuple[str, str, float], ...]) -> dict[str, Palette | PaletteError]:
    loaded: dict[str, Palette | PaletteError] = {}
    for name, path, _mtime in listing:
        try:
            loaded[name] = load_palette(path)
        except PaletteError as error:
            loaded[name] = error
    return loaded


def installed_palettes() -> dict[str, Palette | PaletteError]:
    """Palettes found by :func:`shade_match.palette.find_palettes` (shared across sessions).

    A file that fails to load maps to its :class:`PaletteError` so a page can say so.
    The cache is keyed on the files' paths and modification times.
    """
    listing = tuple(
        (name, str(path), path.stat().st_mtime) for name, path in find_palettes().items()
    )
    return _shipped_palettes(listing)


def user_palettes() -> dict[str, Palette]:
    """Palettes uploaded in this session (Palettes page), by name."""
    return st.session_state.setdefault("user_palettes", {})


def available_palettes(kind: str | None = None) -> dict[str, Palette]:
    """Installed palettes that load, then this session's uploads (which win on a name clash)."""
    palettes = {name: p for name, p in installed_palettes().items() if isinstance(p, Palette)}
    palettes.update(user_palettes())
    if kind is not None:
        palettes = {name: p for name, p in palettes.items() if p.kind == kind}
    return palettes


def palette_key(palettes: Iterable[Palette]) -> str:
    """Identity of a set of palettes for caching (names and entries)."""
    digest = hashlib.sha1()
    for palette in palettes:
        digest.update(palette.name.encode())
        for entry in palette.entries:
            digest.update(repr((entry.id, entry.lab)).encode())
    return digest.hexdigest()


def palette_label(palette: Palette) -> str:
    """The palette's title, flagged "(illustrative)" when it is a model and the title does not say so."""
    title = palette.title or palette.name
    flag = " (illustrative)" if palette.illustrative and "illustrative" not in title.lower() else ""
    return f"{title}{flag}"


def choose_palettes(key: str, label: str = "Pigment palette(s)", multiple: bool = True) -> list[Palette]:
    """A palette selector (pigment palettes first, default the project's default)."""
    palettes = available_palettes()
    if not palettes:
        st.error("No palettes found. Add a palette file to palettes/ or upload one on the Palettes page.")
        return []
    names = sorted(palettes, key=lambda n: (palettes[n].kind != "pigment", n))
    default = DEFAULT_PIGMENT_PALETTE if DEFAULT_PIGMENT_PALETTE in palettes else names[0]
    fmt = lambda n: f"{palette_label(palettes[n])} · {palettes[n].kind}"  # noqa: E731
    if multiple:
        chosen = st.multiselect(label, names, default=[default], format_func=fmt, key=key)
    else:
        chosen = [st.selectbox(label, names, index=names.index(default), format_func=fmt, key=key)]
    return [palettes[name] for name in chosen if name]


# --- swatches and words -------------------------------------------------------------


def swatch_html(hex_code: str, size_px: int = 72, label: str = "", max_width: str = "100%") -> str:
    """A square colour patch (inline HTML), big enough to judge on a tablet.

    It shrinks (staying square) when its column is narrower than ``size_px``, or
    than ``max_width`` of it (e.g. ``"48%"`` for two side by side).
    """
    return (
        f'<div title="{html.escape(label or hex_code)}" style="width:min({size_px}px,{max_width});'
        f"aspect-ratio:1/1;background:{html.escape(hex_code)};border:1px solid #888;border-radius:6px;"
        'display:inline-block;vertical-align:middle"></div>'
    )


def swatch_svg_url(hex_code: str) -> str:
    """A data URL of a flat SVG square, for ``st.column_config.ImageColumn``."""
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='40' height='40'>"
        f"<rect width='40' height='40' fill='{hex_code}'/></svg>"
    )
    return "data:image/svg+xml;utf8," + svg.replace("#", "%23")


def thumbnail_url(rgb: np.ndarray, max_side: int = 96) -> str:
    """A small JPEG data URL of an ``(H, W, 3)`` uint8 image, for table thumbnails."""
    image = Image.fromarray(np.ascontiguousarray(rgb))
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def confidence_words(confidence: float) -> str:
    """"high (0.83)" and the like; see :data:`CONFIDENCE_WORDS`."""
    for lower, word in CONFIDENCE_WORDS:
        if confidence >= lower:
            return f"{word} ({confidence:.2f})"
    return f"low ({confidence:.2f})"


def reading_of(match: Match) -> str:
    """The plain-language reading of a match's difference (ΔE00 only)."""
    if match.metric != "ciede2000":
        return f"{match.metric} distance"
    return delta_e_reading(match.delta_e)


def show_hair(hair: HairTone | None, source: str = "") -> None:
    """Hair tone card: swatch, level, grey, confidence in words; numbers in an expander."""
    st.markdown("#### Hair")
    if hair is None:
        st.info("Hair tone not measured: no hair found in this photo.")
        return
    left, right = st.columns([1, 2])
    left.markdown(swatch_html(hair.hex, 96, "measured hair tone"), unsafe_allow_html=True)
    right.markdown(
        f"**Level {hair.level}** (approximate, ±1)  \n"
        f"Grey or white: **{hair.grey_fraction:.0%}** of hair  \n"
        f"Hair covers {hair.coverage:.0%} of the scalp in view  \n"
        f"Confidence: {confidence_words(hair.confidence)}"
        + (f"  \nFrom: {source}" if source else "")
    )
    with st.expander("Hair numbers"):
        st.markdown(
            f"- Lab (D65): L* {hair.lab[0]:.2f}, a* {hair.lab[1]:.2f}, b* {hair.lab[2]:.2f}\n"
            f"- hex: `{hair.hex}`\n"
            f"- spread (robust SD) L*, a*, b*: {hair.spread[0]:.2f}, {hair.spread[1]:.2f}, {hair.spread[2]:.2f}\n"
            f"- pixels used: {hair.pixel_count:,}\n"
            f"- grey fraction {hair.grey_fraction:.3f}, coverage {hair.coverage:.3f}, confidence {hair.confidence:.3f}"
        )


def show_skin(skin: SkinTone | None, source: str = "") -> None:
    """Skin tone card: swatch, ITA° class, Monk, Fitzpatrick estimate, undertone."""
    st.markdown("#### Scalp skin")
    if skin is None:
        st.info("Skin tone not measured: no bare scalp skin found in this photo.")
        return
    left, right = st.columns([1, 2])
    left.markdown(swatch_html(skin.hex, 96, "measured skin tone"), unsafe_allow_html=True)
    right.markdown(
        f"**{skin.ita_class.capitalize()}** skin (ITA° class)  \n"
        f"Monk skin tone **{skin.monk}** · Fitzpatrick **{skin.fitzpatrick}** (estimate)  \n"
        f"Undertone: **{skin.undertone}**  \n"
        f"Confidence: {confidence_words(skin.confidence)}"
        + (f"  \nFrom: {source}" if source else "")
    )
    with st.expander("Skin numbers"):
        st.markdown(
            f"- Lab (D65): L* {skin.lab[0]:.2f}, a* {skin.lab[1]:.2f}, b* {skin.lab[2]:.2f}\n"
            f"- hex: `{skin.hex}`\n"
            f"- ITA° {skin.ita_deg:.1f}\n"
            f"- spread (robust SD) L*, a*, b*: {skin.spread[0]:.2f}, {skin.spread[1]:.2f}, {skin.spread[2]:.2f}\n"
            f"- pixels used: {skin.pixel_count:,}, confidence {skin.confidence:.3f}"
        )


def show_matches(hair: HairTone | None, matches: Sequence[Match]) -> None:
    """Each pigment beside the measured hair tone, with ΔE and its reading."""
    st.markdown("#### Nearest pigments")
    if not matches:
        st.info("No pigment matches: the hair tone was not measured.")
        return
    st.caption("Each pair: the measured hair tone (left) beside the pigment (right).")
    for rank, match in enumerate(matches, start=1):
        pair = (swatch_html(hair.hex, 64, "measured hair", "49%") if hair is not None else "") + swatch_html(
            match.hex, 64, match.name, "49%"
        )
        left, right = st.columns([1, 3])
        left.markdown(f'<div style="white-space:nowrap">{pair}</div>', unsafe_allow_html=True)
        if match.metric == "ciede2000":
            distance = f"ΔE00 **{match.delta_e:.2f}** — {reading_of(match)}"
        else:
            distance = f"{match.metric} **{match.delta_e:.2f}**"
        right.markdown(f"**{rank}. {match.name}** · `{match.id}` · {match.palette}  \n{distance}")


def overlay_legend_html() -> str:
    """The overlay's legend: each class's colour (:data:`shade_match.overlay.OVERLAY_COLOURS`)."""
    items = [(name, rgb) for name, rgb in OVERLAY_COLOURS.values()]
    items.append(("Scalp outline", SCALP_OUTLINE_COLOUR))
    return " &nbsp; ".join(
        f'<span style="white-space:nowrap">{swatch_html("#%02x%02x%02x" % tuple(rgb), 14, name)} '
        f"<small>{html.escape(name)}</small></span>"
        for name, rgb in items
    )


def show_warnings(warnings: Iterable[str]) -> None:
    for warning in warnings:
        st.warning(warning, icon="⚠️")


# --- images and rectangles ----------------------------------------------------------


def display_image(rgb: np.ndarray, max_side: int = DISPLAY_MAX_SIDE) -> tuple[np.ndarray, float]:
    """A copy of ``rgb`` no larger than ``max_side``, and its pixels per source pixel."""
    image = Image.fromarray(np.ascontiguousarray(rgb))
    factor = 1.0
    if max(image.size) > max_side:
        factor = max_side / max(image.size)
        image = image.resize(
            (max(1, round(image.width * factor)), max(1, round(image.height * factor))),
            Image.Resampling.BILINEAR,
        )
    return np.asarray(image), factor


def draw_rectangles(rgb: np.ndarray, rects: dict[str, tuple[int, int, int, int]], factor: float) -> np.ndarray:
    """Outline each named rectangle (input pixels × ``factor`` = display pixels)."""
    image = Image.fromarray(np.ascontiguousarray(rgb)).copy()
    draw = ImageDraw.Draw(image)
    width = max(2, round(max(image.size) / 300))
    for name, rect in rects.items():
        x, y, w, h = rect
        box = [x * factor, y * factor, (x + w) * factor, (y + h) * factor]
        draw.rectangle(box, outline=(0, 0, 0), width=width + 2)
        draw.rectangle(box, outline=RECT_COLOURS.get(name, (255, 255, 0)), width=width)
    return np.asarray(image)


def drag_to_rect(
    value: dict[str, Any] | None, input_size: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """Turn a streamlit-image-coordinates drag (display pixels) into an input-pixel rectangle.

    Parameters
    ----------
    value : dict or None
        ``{"x1", "y1", "x2", "y2", "width", "height"}`` as the component returns it
        (``width``/``height`` are the displayed size).
    input_size : (width, height)
        The photo's size as uploaded.

    Returns
    -------
    (x, y, w, h) or None
        Clipped to the photo; ``None`` for a click without a drag or bad values.
    """
    if not value or "x1" not in value:
        return None
    try:
        shown_w, shown_h = float(value["width"]), float(value["height"])
        xs = sorted((float(value["x1"]), float(value["x2"])))
        ys = sorted((float(value["y1"]), float(value["y2"])))
    except (KeyError, TypeError, ValueError):
        return None
    if shown_w <= 0 or shown_h <= 0:
        return None
    width, height = input_size
    sx, sy = width / shown_w, height / shown_h
    x0 = int(np.clip(round(xs[0] * sx), 0, width - 1))
    y0 = int(np.clip(round(ys[0] * sy), 0, height - 1))
    x1 = int(np.clip(round(xs[1] * sx), 0, width))
    y1 = int(np.clip(round(ys[1] * sy), 0, height))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return (x0, y0, x1 - x0, y1 - y0)
