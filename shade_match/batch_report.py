"""A self-contained HTML report (and CSV / Parquet exports) of a batch run's JSON Lines.

``shade-match report results.jsonl --html report.html [--csv out.csv] [--parquet out.parquet]``

The HTML page needs no network: thumbnails are embedded as base64 JPEG, the summary
plots are inline SVG bar charts drawn here (no plotting library), and the styles are
inline. Every piece of text that comes from the records (file names, warnings, palette
names) is escaped with :func:`html.escape`; colours are only used when they are
well-formed ``#rrggbb`` hex strings.

A thumbnail is taken from the original file when it is still at its recorded path and
still has the recorded SHA-256; otherwise the card says why there is no picture, so a
report never shows a photo next to another photo's numbers.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import html
import io
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .batch import CSV_COLUMNS, latest_records, read_records, record_to_row, records_to_csv
from .errors import InputError, SettingsError

__all__ = [
    "add_report_parser",
    "load_records",
    "main",
    "render_html",
    "run_report_cli",
    "svg_bar_chart",
    "thumbnail_data_uri",
    "write_html_report",
    "write_parquet",
]

#: Longest side of a contact-sheet thumbnail, in pixels. A presentation choice: large
#: enough to recognise the view (crown, sides), small enough that 1,000 cards stay a
#: page of a few MB.
THUMBNAIL_SIDE = 160

#: JPEG quality of the embedded thumbnails (a size/legibility choice).
THUMBNAIL_QUALITY = 80

#: Bars shown in the "chosen pigments" chart; the rest are summed as "other".
MAX_PIGMENT_BARS = 20

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def load_records(path: str | os.PathLike) -> list[dict]:
    """The newest record of each file in a batch JSON Lines output, in file order.

    Raises
    ------
    InputError
        The file does not exist or holds no records.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"expected a batch results file (JSON Lines); got {path!r}, which does not exist")
    records = list(latest_records(read_records(path)).values())
    if not records and os.path.getsize(path) > 0:
        raise InputError(
            f"expected JSON Lines records with a \"file\" key in {path!r}; found none "
            "(is it the output of shade-match batch?)"
        )
    return records


# --------------------------------------------------------------------------- charts


def svg_bar_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    bar_colours: Sequence[str | None] | None = None,
    width: int = 420,
    bar_height: int = 18,
) -> str:
    """A horizontal bar chart as an inline ``<svg>`` string.

    Parameters
    ----------
    items : sequence of (label, count)
        Bars from top to bottom; counts ≥ 0.
    title : str
        Shown above the bars (escaped).
    bar_colours : sequence of str or None, optional
        ``#rrggbb`` per bar (anything else falls back to the default colour).
    width, bar_height : int
        Size in CSS pixels.

    Returns
    -------
    str
        ``<svg ...>...</svg>`` with a ``<title>`` for screen readers.
    """
    label_width = 150
    count_width = 50
    plot_width = max(40, width - label_width - count_width)
    top = 26
    height = top + max(1, len(items)) * (bar_height + 6) + 4
    largest = max((count for _, count in items), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{html.escape(title)}</text>',
    ]
    if not items:
        parts.append(f'<text x="0" y="{top + 14}" class="chart-empty">no data</text>')
    for row, (label, count) in enumerate(items):
        y = top + row * (bar_height + 6)
        bar = 0 if largest == 0 else max(1, round(plot_width * count / largest)) if count else 0
        colour = "#4a6fa5"
        if bar_colours is not None and row < len(bar_colours) and _is_hex(bar_colours[row]):
            colour = bar_colours[row]
        text = str(label)
        shown = text if len(text) <= 22 else text[:21] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height - 5}" text-anchor="end">'
            f"<title>{html.escape(text)}</title>{html.escape(shown)}</text>"
        )
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{bar}" height="{bar_height}" fill="{colour}" '
            'stroke="#333" stroke-width="0.5"/>'
        )
        parts.append(f'<text x="{label_width + bar + 6}" y="{y + bar_height - 5}">{int(count)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _is_hex(value: Any) -> bool:
    return isinstance(value, str) and bool(_HEX_COLOUR.match(value))


def _ita_order() -> list[str]:
    try:
        from .scales import ITA_CLASSES

        return [name for name, _ in ITA_CLASSES]
    except ImportError:  # pragma: no cover - scales is part of the package
        return []


def distribution_charts(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The summary plots (SVG strings): ITA° classes, hair levels, chosen pigments."""
    ita = collections.Counter()
    levels = collections.Counter()
    pigments = collections.Counter()
    pigment_hex: dict[str, str] = {}
    for record in records:
        skin = record.get("skin") or {}
        if skin.get("ita_class"):
            ita[str(skin["ita_class"])] += 1
        hair = record.get("hair") or {}
        if hair.get("level") is not None:
            levels[str(hair["level"])] += 1
        matches = record.get("matches") or []
        if matches:
            top = matches[0]
            label = f"{top.get('name') or top.get('id')} ({top.get('palette', '')})"
            pigments[label] += 1
            pigment_hex.setdefault(label, top.get("hex") or "")

    order = _ita_order()
    ita_items = [(name, ita[name]) for name in order if name in ita] + sorted(
        (name, count) for name, count in ita.items() if name not in order
    )
    level_items = sorted(levels.items(), key=lambda kv: (not kv[0].isdigit(), int(kv[0]) if kv[0].isdigit() else 0, kv[0]))
    level_items = [(f"level {name}", count) for name, count in level_items]
    pigment_items = pigments.most_common()
    if len(pigment_items) > MAX_PIGMENT_BARS:
        rest = sum(count for _, count in pigment_items[MAX_PIGMENT_BARS:])
        pigment_items = pigment_items[:MAX_PIGMENT_BARS] + [("other", rest)]
    return [
        svg_bar_chart(ita_items, title="Skin: ITA° class (Del Bino)"),
        svg_bar_chart(level_items, title="Hair: level (1 black … 10 lightest)"),
        svg_bar_chart(
            pigment_items,
            title="Chosen pigment (top match)",
            bar_colours=[pigment_hex.get(label) for label, _ in pigment_items],
        ),
    ]


# ------------------------------------------------------------------------ thumbnails


def thumbnail_data_uri(
    path: str | os.PathLike, *, sha256: str | None = None, max_side: int = THUMBNAIL_SIDE
) -> tuple[str | None, str]:
    """A ``data:image/jpeg;base64,...`` thumbnail of an image file, or why there is none.

    Parameters
    ----------
    path : path-like
        The original image.
    sha256 : str, optional
        The hash recorded by the batch run; a file whose bytes no longer match gets
        no thumbnail.
    max_side : int
        Longest side of the thumbnail, pixels.

    Returns
    -------
    (uri or None, note)
        ``note`` is ``""`` with a thumbnail, else a short reason for the card.
    """
    from PIL import Image

    from .errors import ImageLoadError
    from .io import load_image

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:
        return None, "not a file"
    except FileNotFoundError:
        return None, "original no longer at this path"
    except OSError as error:
        return None, f"original unreadable ({error.strerror or error})"
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        return None, "original changed since the analysis"
    try:
        loaded = load_image(data, max_side=max_side, name=os.fspath(path))
    except (ImageLoadError, ValueError, MemoryError) as error:
        return None, f"no preview ({type(error).__name__})"
    buffer = io.BytesIO()
    Image.fromarray(loaded.rgb).save(buffer, "JPEG", quality=THUMBNAIL_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), ""


# ------------------------------------------------------------------------------ HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.4rem;margin:0 0 .3rem} h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.meta{color:#555;font-size:.9rem}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
.chart{font-size:12px;background:#fff;border:1px solid #ddd;padding:4px}
.chart-title{font-weight:600;font-size:13px}
table.failures{border-collapse:collapse;font-size:.9rem} table.failures td,table.failures th{border:1px solid #ccc;padding:2px 8px;text-align:left}
.sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;font-size:.82rem;overflow-wrap:anywhere}
.card.failed{border-color:#c0392b;background:#fff5f4}
.thumb{width:100%;height:160px;display:flex;align-items:center;justify-content:center;background:#eee;color:#777;margin-bottom:6px}
.thumb img{max-width:100%;max-height:160px}
.name{font-weight:600;margin-bottom:4px}
.row{display:flex;align-items:center;gap:6px;margin:2px 0}
.sw{display:inline-block;width:22px;height:22px;border:1px solid #555;border-radius:3px;flex:none}
.warn{color:#8a5a00;margin:2px 0}
.err{color:#c0392b}
"""


def _swatch(hex_colour: Any) -> str:
    if _is_hex(hex_colour):
        return f'<span class="sw" style="background:{hex_colour}" title="{hex_colour}"></span>'
    return '<span class="sw" title="no colour"></span>'


def _number(value: Any, digits: int = 1) -> str:
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return "–"


def _card(record: Mapping[str, Any], thumbnails: bool, thumbnail_side: int) -> str:
    file = str(record.get("file", ""))
    ok = bool(record.get("ok"))
    parts = [f'<div class="card{"" if ok else " failed"}">']
    if thumbnails:
        uri, note = thumbnail_data_uri(file, sha256=record.get("sha256"), max_side=thumbnail_side)
        if uri is not None:
            parts.append(f'<div class="thumb"><img alt="" src="{uri}"></div>')
        else:
            parts.append(f'<div class="thumb">{html.escape(note)}</div>')
    parts.append(f'<div class="name" title="{html.escape(file)}">{html.escape(os.path.basename(file) or file)}</div>')
    if not ok:
        error_type = record.get("error_type") or "Error"
        parts.append(
            f'<div class="err"><b>{html.escape(str(error_type))}</b>: {html.escape(str(record.get("error") or ""))}</div>'
        )
    hair = record.get("hair") or None
    if hair:
        lab = hair.get("lab") or [None] * 3
        parts.append(
            f'<div class="row">{_swatch(hair.get("hex"))}<span>hair L*a*b* {_number(lab[0])} '
            f"{_number(lab[1])} {_number(lab[2])} · level {html.escape(str(hair.get('level', '–')))}"
            f" · grey {_number(100 * float(hair.get('grey_fraction') or 0), 0)}%</span></div>"
        )
    elif ok:
        parts.append('<div class="row"><span class="sw"></span><span>hair not measured</span></div>')
    skin = record.get("skin") or None
    if skin:
        parts.append(
            f'<div class="row">{_swatch(skin.get("hex"))}<span>skin ITA° {_number(skin.get("ita_deg"))} '
            f"({html.escape(str(skin.get('ita_class', '')))}) · Monk {html.escape(str(skin.get('monk', '–')))}"
            f" · {html.escape(str(skin.get('undertone', '')))}</span></div>"
        )
    elif ok:
        parts.append('<div class="row"><span class="sw"></span><span>skin not measured</span></div>')
    matches = record.get("matches") or []
    if matches:
        top = matches[0]
        parts.append(
            f'<div class="row">{_swatch(top.get("hex"))}<span>match <b>{html.escape(str(top.get("name", "")))}</b> '
            f"({html.escape(str(top.get('palette', '')))} {html.escape(str(top.get('id', '')))}) "
            f"ΔE00 {_number(top.get('delta_e'))}</span></div>"
        )
    for warning in record.get("warnings") or ():
        parts.append(f'<div class="warn">⚠ {html.escape(str(warning))}</div>')
    parts.append("</div>")
    return "".join(parts)


def render_html(
    records: Sequence[Mapping[str, Any]],
    *,
    title: str = "shade-match batch report",
    source: str | None = None,
    thumbnails: bool = True,
    thumbnail_side: int = THUMBNAIL_SIDE,
) -> str:
    """The whole report page as one self-contained HTML string.

    Parameters
    ----------
    records : sequence of dict
        Batch records (one per file).
    title : str
    source : str, optional
        The JSON Lines file name, shown in the header.
    thumbnails : bool
        Embed a thumbnail of each original still on disk.
    thumbnail_side : int
        Longest side of a thumbnail, pixels.
    """
    ok_count = sum(1 for r in records if r.get("ok"))
    failures = collections.Counter(r.get("error_type") or "Error" for r in records if not r.get("ok"))
    head = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
    )
    parts = [head, f"<h1>{html.escape(title)}</h1>"]
    meta = f"{len(records)} image(s): {ok_count} analysed, {len(records) - ok_count} failed"
    if source:
        meta += f" · from {html.escape(source)}"
    meta += f" · generated {html.escape(time.strftime('%Y-%m-%d %H:%M'))}"
    parts.append(f'<p class="meta">{meta}</p>')
    parts.append('<h2>Summary</h2><div class="charts">')
    parts.extend(distribution_charts(records))
    parts.append("</div>")
    if failures:
        parts.append('<h2>Failures</h2><table class="failures"><tr><th>reason</th><th>files</th></tr>')
        for error_type, count in failures.most_common():
            parts.append(f"<tr><td>{html.escape(str(error_type))}</td><td>{count}</td></tr>")
        parts.append("</table>")
    parts.append('<h2>Contact sheet</h2><div class="sheet">')
    for record in records:
        parts.append(_card(record, thumbnails, thumbnail_side))
    parts.append("</div>")
    parts.append(
        '<p class="meta">Lab values are CIELAB D65/2° after colour correction; ΔE00 is CIEDE2000. '
        "Hair level and Fitzpatrick type are estimates.</p></body></html>"
    )
    return "".join(parts)


def write_html_report(
    jsonl: str | os.PathLike, html_path: str | os.PathLike, *, thumbnails: bool = True
) -> Path:
    """Read a batch JSON Lines file and write its HTML report; returns the report path."""
    records = load_records(jsonl)
    page = render_html(records, source=os.fspath(jsonl), thumbnails=thumbnails)
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(page, encoding="utf-8", errors="backslashreplace")
    return html_path


# --------------------------------------------------------------------------- Parquet

_FLOAT_COLUMNS = {
    "hair_L", "hair_a", "hair_b", "hair_grey_fraction", "hair_coverage", "hair_confidence",
    "skin_L", "skin_a", "skin_b", "skin_ita_deg", "skin_confidence", "match_delta_e",
}
_INT_COLUMNS = {"hair_level", "skin_monk"}


def write_parquet(records: Iterable[Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """Write the flat table (the CSV columns, typed) as Parquet. Needs ``pyarrow``.

    Raises
    ------
    SettingsError
        pyarrow is not installed.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise SettingsError(
            "expected pyarrow for --parquet; it is not installed. Install it with: pip install pyarrow "
            "(or use --csv)"
        ) from None
    fields = []
    for name in CSV_COLUMNS:
        if name == "ok":
            kind = pa.bool_()
        elif name in _FLOAT_COLUMNS:
            kind = pa.float64()
        elif name in _INT_COLUMNS:
            kind = pa.int64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    schema = pa.schema(fields)
    rows = []
    for record in records:
        row = record_to_row(record)
        rows.append({key: (None if value == "" else value) for key, value in row.items()})
    table = pa.Table.from_pylist(rows, schema=schema)
    path = Path(path)
    pq.write_table(table, path)
    return path


# ------------------------------------------------------------------------------- CLI


def add_report_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``report`` sub-command; its default ``func`` is :func:`run_report_cli`."""
    parser = subparsers.add_parser(
        "report",
        help="HTML contact sheet, CSV or Parquet from a batch results file",
        description="Build a self-contained HTML report and/or flat exports from batch JSON Lines.",
    )
    _add_report_arguments(parser)
    parser.set_defaults(func=run_report_cli)
    return parser


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", metavar="RESULTS.jsonl", help="output of shade-match batch")
    parser.add_argument("--html", dest="html_out", metavar="FILE", help="write the HTML report here")
    parser.add_argument("--csv", dest="csv_out", metavar="FILE", help="write a flat CSV here")
    parser.add_argument("--parquet", dest="parquet_out", metavar="FILE", help="write Parquet here (needs pyarrow)")
    parser.add_argument("--no-thumbnails", dest="thumbnails", action="store_false", help="do not embed thumbnails")


def run_report_cli(args: argparse.Namespace) -> int:
    """Run the ``report`` sub-command; 0 done, 2 usage error (missing file, no output asked, no pyarrow)."""
    if not (args.html_out or args.csv_out or args.parquet_out):
        print("shade-match report: error: give at least one of --html, --csv, --parquet", file=sys.stderr)
        return 2
    try:
        records = load_records(args.results)
        if args.parquet_out:
            write_parquet(records, args.parquet_out)
        if args.csv_out:
            records_to_csv(records, args.csv_out)
        if args.html_out:
            page = render_html(records, source=args.results, thumbnails=args.thumbnails)
            Path(args.html_out).write_text(page, encoding="utf-8", errors="backslashreplace")
    except InputError as error:
        print(f"shade-match report: error: {error}", file=sys.stderr)
        return 2
    written = [p for p in (args.html_out, args.csv_out, args.parquet_out) if p]
    print(f"{len(records)} record(s) → {', '.join(written)}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m shade_match.batch_report RESULTS.jsonl --html report.html``."""
    parser = argparse.ArgumentParser(prog="python -m shade_match.batch_report")
    _add_report_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return run_report_cli(args)


if __name__ == "__main__":
    sys.exit(main())
