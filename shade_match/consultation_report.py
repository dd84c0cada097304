"""The one-page consultation report: a self-contained, print-ready HTML page.

The page carries the photo and its overlay (embedded as base64 JPEG, so the file works
offline and can be e-mailed or printed to PDF from any browser), the measured hair and
skin tones as swatches with their classes, the nearest pigments with their ΔE00 and a
plain-language reading, the warnings, the colour correction used and the date.

It only formats numbers that :func:`shade_match.analysis.analyze_image` already
measured; there is no colour maths here.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime
from typing import Any, Mapping

import numpy as np
from PIL import Image

from .errors import InputError
from .results import Analysis, HairTone, Match, SkinTone
from .scales import delta_e_reading

__all__ = ["consultation_report_html", "REPORT_IMAGE_MAX_SIDE"]

#: Longest side of the images embedded in the report. A presentation choice: 1000 px
#: fills half an A4 page at ~250 dpi when printed and keeps the file under ~1 MB.
REPORT_IMAGE_MAX_SIDE = 1000

#: JPEG quality of the embedded images. A presentation choice (visually lossless for
#: photos; a uniform patch survives within ±1 code value).
_REPORT_JPEG_QUALITY = 90

_CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
       margin: 0 auto; max-width: 190mm; font-size: 9.5pt; line-height: 1.3; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; }
h2 { font-size: 11.5pt; margin: 3.5mm 0 1.5mm 0; border-bottom: 1px solid #bbb; }
.meta { color: #555; font-size: 9pt; }
.photos { display: flex; gap: 4mm; }
.photos figure { margin: 0; flex: 1 1 0; }
.photos img { width: 100%; height: 52mm; object-fit: contain; background: #f3f3f3; border: 1px solid #999; }
.photos figcaption { font-size: 8.5pt; color: #555; }
.tones { display: flex; gap: 6mm; }
.tone { flex: 1 1 0; display: flex; gap: 3mm; align-items: flex-start; }
.swatch { width: 15mm; height: 15mm; border: 1px solid #777; flex: 0 0 auto;
          -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.swatch.small { width: 8mm; height: 8mm; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 0.6mm 2mm; border-bottom: 1px solid #ddd; vertical-align: middle; }
.pair { display: flex; gap: 0; }
.warnings { background: #fff4e5; border-left: 3px solid #e69500; padding: 2mm 3mm; }
.warnings li { margin: 0.5mm 0; }
.recommendation { background: #eef5ff; border-left: 3px solid #3b6fb6; padding: 2mm 3mm; font-size: 8pt; line-height: 1.25; }
.recommendation p, .recommendation ul { margin: 1mm 0; }
.footer { margin-top: 5mm; font-size: 8pt; color: #666; }
@media print { .noprint { display: none; } h2 { break-after: avoid; } }
"""


def _image_data_url(rgb: np.ndarray, what: str) -> str:
    """Encode an ``(H, W, 3)`` uint8 RGB image as a ``data:image/jpeg;base64,`` URL."""
    array = np.asarray(rgb)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise InputError(
            f"{what} must be an (H, W, 3) uint8 RGB array; got shape {array.shape} and dtype {array.dtype}"
        )
    image = Image.fromarray(np.ascontiguousarray(array), mode="RGB")
    if max(image.size) > REPORT_IMAGE_MAX_SIDE:
        image.thumbnail((REPORT_IMAGE_MAX_SIDE, REPORT_IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=_REPORT_JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _lab_text(lab) -> str:
    return f"L* {lab[0]:.1f}, a* {lab[1]:.1f}, b* {lab[2]:.1f}"


def _swatch(hex_code: str, label: str, small: bool = False) -> str:
    cls = "swatch small" if small else "swatch"
    return (
        f'<div class="{cls}" style="background:{_esc(hex_code)}" role="img" '
        f'aria-label="{_esc(label)} {_esc(hex_code)}"></div>'
    )


def _hair_block(hair: HairTone | None) -> str:
    if hair is None:
        return '<div class="tone"><div><strong>Hair</strong><br>Not measured (no hair in view).</div></div>'
    return (
        '<div class="tone">'
        + _swatch(hair.hex, "hair tone")
        + "<div><strong>Hair</strong><br>"
        f"Level {hair.level} (approximate, ±1)<br>"
        f"Grey or white: {hair.grey_fraction:.0%} of hair<br>"
        f"Hair covers {hair.coverage:.0%} of the scalp in view<br>"
        f"Confidence {hair.confidence:.2f}<br>"
        f'<span class="meta">{_esc(hair.hex)} · {_lab_text(hair.lab)}</span>'
        "</div></div>"
    )


def _skin_block(skin: SkinTone | None) -> str:
    if skin is None:
        return '<div class="tone"><div><strong>Scalp skin</strong><br>Not measured (no bare skin found).</div></div>'
    return (
        '<div class="tone">'
        + _swatch(skin.hex, "skin tone")
        + "<div><strong>Scalp skin</strong><br>"
        f"{_esc(skin.ita_class.capitalize())} (ITA° {skin.ita_deg:.1f})<br>"
        f"Monk skin tone {skin.monk} · Fitzpatrick {_esc(skin.fitzpatrick)} (estimate)<br>"
        f"Undertone {_esc(skin.undertone)}<br>"
        f"Confidence {skin.confidence:.2f}<br>"
        f'<span class="meta">{_esc(skin.hex)} · {_lab_text(skin.lab)}</span>'
        "</div></div>"
    )


def _matches_block(hair: HairTone | None, matches: tuple[Match, ...]) -> str:
    if not matches:
        return "<p>No pigment matches (hair tone not measured).</p>"
    rows = []
    for rank, match in enumerate(matches, start=1):
        measured = _swatch(hair.hex, "measured hair", small=True) if hair is not None else ""
        pair = f'<div class="pair">{measured}{_swatch(match.hex, match.name, small=True)}</div>'
        rows.append(
            "<tr>"
            f"<td>{rank}</td><td>{pair}</td>"
            f"<td><strong>{_esc(match.name)}</strong><br><span class=\"meta\">{_esc(match.id)} · "
            f"{_esc(match.palette)} · {_esc(match.hex)}</span></td>"
            f"<td>{match.delta_e:.2f}</td>"
            f"<td>{_esc(_reading(match))}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>#</th><th>hair | pigment</th><th>pigment</th>"
        "<th>ΔE00</th><th>reading</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _reading(match: Match) -> str:
    # The readings' thresholds are CIEDE2000 ones (scales.DELTA_E_READINGS).
    if match.metric != "ciede2000":
        return f"{match.metric} distance (reading is defined for ΔE00 only)"
    return delta_e_reading(match.delta_e)


def _generic_items(mapping: Mapping[str, Any]) -> str:
    items = []
    for key, value in mapping.items():
        if isinstance(value, (list, tuple)):
            text = "; ".join(str(v) for v in value)
        elif isinstance(value, Mapping):
            text = "; ".join(f"{k}: {v}" for k, v in value.items())
        else:
            text = str(value)
        items.append(f"<li><strong>{_esc(str(key).replace('_', ' '))}</strong>: {_esc(text)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _recommendation_block(recommendation: Mapping[str, Any] | None) -> str:
    """The treatment plan (``shade_match.recommend.recommendation_to_dict`` layout).

    Any other mapping is listed key by key.
    """
    if not recommendation:
        return ""
    target = recommendation.get("target")
    sessions = recommendation.get("sessions")
    if not isinstance(target, Mapping) or not isinstance(sessions, (list, tuple)):
        return '<h2>Plan</h2><div class="recommendation">' + _generic_items(recommendation) + "</div>"
    parts = [
        '<h2>Treatment plan</h2><div class="recommendation">',
        '<div class="tone">',
        _swatch(str(recommendation.get("target_hex", target.get("hex", ""))), "target"),
        f"<div><strong>Target shade: {_esc(target.get('name', ''))}</strong> "
        f"({_esc(target.get('entry_id', ''))}, palette {_esc(recommendation.get('palette', ''))})<br>"
        f"{_esc(recommendation.get('target_explanation', ''))}</div></div>",
        "<table><thead><tr><th>session</th><th></th><th>pigment</th><th>why</th></tr></thead><tbody>",
    ]
    for step in sessions:
        if not isinstance(step, Mapping):
            continue
        parts.append(
            f"<tr><td>{_esc(step.get('session', ''))}</td>"
            f"<td>{_swatch(str(step.get('hex', '')), str(step.get('name', '')), small=True)}</td>"
            f"<td><strong>{_esc(step.get('name', ''))}</strong><br><span class=\"meta\">"
            f"{_esc(step.get('entry_id', ''))}</span></td>"
            f"<td>{_esc(step.get('reasoning', ''))}</td></tr>"
        )
    parts.append("</tbody></table>")
    choices = [c for c in recommendation.get("choices", ()) if isinstance(c, Mapping)]
    if choices:
        parts.append(
            "<p><strong>Choices:</strong> "
            + " · ".join(
                f"{_esc(c.get('name', ''))} {_esc(c.get('value', ''))}, chosen by "
                f"{_esc(c.get('chosen_by', ''))} ({_esc(c.get('reason', ''))})"
                for c in choices
            )
            + "</p>"
        )
    plan_warnings = [w for w in recommendation.get("warnings", ()) if isinstance(w, Mapping)]
    if plan_warnings:
        parts.append(
            "<p><strong>Cautions</strong></p><ul>"
            + "".join(
                f"<li>{_esc(w.get('message', ''))} ({_esc(', '.join(map(str, w.get('rules', ()))))})</li>"
                for w in plan_warnings
            )
            + "</ul>"
        )
    requests = list(recommendation.get("requests", ()))
    if requests:
        parts.append("<p><strong>Also needed</strong></p><ul>" + "".join(f"<li>{_esc(r)}</li>" for r in requests) + "</ul>")
    parts.append("</div>")
    return "".join(parts)


def consultation_report_html(
    result,
    *,
    photo_rgb: np.ndarray,
    overlay_rgb: np.ndarray | None = None,
    title: str = "Scalp micropigmentation consultation",
    generated_at: datetime | None = None,
    notes: str = "",
) -> str:
    """Render one consultation as a self-contained, print-ready HTML page.

    Parameters
    ----------
    result : Analysis or Inspection
        The analysis to report (an :class:`~shade_match.analysis.Inspection` is
        accepted and its ``.analysis`` used).
    photo_rgb : ndarray, shape (H, W, 3), uint8
        The photo as analysed (sRGB).
    overlay_rgb : ndarray, shape (H, W, 3), uint8, optional
        The overlay check image (:func:`shade_match.overlay.render_overlay`).
    title : str
        Page heading.
    generated_at : datetime, optional
        The date printed on the report (default: now, local time).
    notes : str
        Free-text practitioner notes, printed as given (escaped).

    Returns
    -------
    str
        A complete HTML document with no external resources.

    Raises
    ------
    InputError
        ``result`` is not an Analysis/Inspection, or an image is not ``(H, W, 3)`` uint8.
    """
    analysis = getattr(result, "analysis", result)
    if not isinstance(analysis, Analysis):
        raise InputError(
            f"result must be an Analysis or an Inspection; got {type(result).__name__}"
        )
    when = generated_at or datetime.now()
    photo_url = _image_data_url(photo_rgb, "photo_rgb")
    figures = [f'<figure><img src="{photo_url}" alt="photo"><figcaption>Photo: {_esc(analysis.file)}</figcaption></figure>']
    if overlay_rgb is not None:
        overlay_url = _image_data_url(overlay_rgb, "overlay_rgb")
        figures.append(
            f'<figure><img src="{overlay_url}" alt="overlay"><figcaption>What was measured: '
            "hair, skin and excluded areas</figcaption></figure>"
        )
    warnings = ""
    if analysis.warnings:
        warnings = (
            '<h2>Warnings</h2><div class="warnings"><ul>'
            + "".join(f"<li>{_esc(w)}</li>" for w in analysis.warnings)
            + "</ul></div>"
        )
    info = analysis.image
    correction = _esc(analysis.correction.method)
    notes_html = f"<h2>Notes</h2><p>{_esc(notes)}</p>" if notes else ""
    body = f"""<h1>{_esc(title)}</h1>
<div class="meta">Date: {when:%Y-%m-%d %H:%M} · Photo: {_esc(analysis.file)} ({info.width}×{info.height} px,
analysed at {info.working_width}×{info.working_height}) · Colour correction: {correction}</div>
<div class="photos" style="margin-top:3mm">{''.join(figures)}</div>
{warnings}
<h2>Measured tones</h2>
<div class="tones">{_hair_block(analysis.hair)}{_skin_block(analysis.skin)}</div>
<h2>Nearest pigments</h2>
{_matches_block(analysis.hair, analysis.matches)}
{_recommendation_block(analysis.recommendation)}
{notes_html}
<div class="footer">Colours are CIELAB (D65, 2°) after colour correction; ΔE00 is CIEDE2000.
Hair level, Monk tone and Fitzpatrick type are estimates from the photo, not a diagnosis.
Generated by shade-match.</div>"""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)} – {_esc(analysis.file)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
