"""The machine-readable contract and text formatting of results.

One JSON object per image (JSON Lines), the same for ``shade-match analyze --json`` and
batch output. The keys are stable; the README documents them::

    {"file": str, "ok": bool, "error": str|null,
     "image": {"width", "height", "working_width", "working_height", ...},
     "correction": {"method": "none"|"auto"|"grey-card"|"chart", "details": {...}},
     "hair": {"lab": [L,a,b], "hex", "level", "grey_fraction", "coverage", "confidence", ...} | null,
     "skin": {"lab": [L,a,b], "hex", "ita_deg", "ita_class", "monk", "fitzpatrick",
              "undertone", "confidence", ...} | null,
     "matches": [{"palette", "id", "name", "lab": [L,a,b], "delta_e", ...}],
     "warnings": [str]}

Extra keys may be added (e.g. ``"recommendation"``, batch's ``"sha256"``); none of the
keys above is ever removed or renamed. Lab is CIELAB D65/2° after the chosen correction.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any, Mapping

from .results import Analysis

__all__ = [
    "CONTRACT_KEYS",
    "analysis_to_dict",
    "failure_to_dict",
    "to_json_line",
    "format_analysis_text",
]

#: Keys every record has, in this order.
CONTRACT_KEYS = (
    "file",
    "ok",
    "error",
    "image",
    "correction",
    "hair",
    "skin",
    "matches",
    "warnings",
)

#: Decimal places kept in JSON. A presentation choice: 0.001 in L*a*b* is far below
#: the ~1 ΔE00 a person can see, and keeps files small and diffs stable.
_DECIMALS = 4


def _plain(value: Any) -> Any:
    """Turn dataclass output into JSON-able plain values (tuples → lists, round floats)."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, _DECIMALS)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # NumPy scalars
        return _plain(value.item())
    if hasattr(value, "tolist") and callable(value.tolist):  # NumPy arrays
        return _plain(value.tolist())
    return value


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    """The contract record of a successful analysis.

    Parameters
    ----------
    analysis : Analysis

    Returns
    -------
    dict
        JSON-able; keys :data:`CONTRACT_KEYS` first, then ``"recommendation"`` when
        the analysis carries one.
    """
    record: dict[str, Any] = {
        "file": analysis.file,
        "ok": True,
        "error": None,
        "image": _plain(asdict(analysis.image)),
        "correction": {
            "method": analysis.correction.method,
            "details": _plain(dict(analysis.correction.details)),
        },
        "hair": _plain(asdict(analysis.hair)) if analysis.hair is not None else None,
        "skin": _plain(asdict(analysis.skin)) if analysis.skin is not None else None,
        "matches": [_plain(asdict(m)) for m in analysis.matches],
        "warnings": list(analysis.warnings),
    }
    if analysis.recommendation is not None:
        record["recommendation"] = _plain(dict(analysis.recommendation))
    return record


def failure_to_dict(file: str, error: BaseException | str) -> dict[str, Any]:
    """The contract record of an image that could not be analysed.

    Parameters
    ----------
    file : str
        The input as the user named it.
    error : exception or str
        Its message becomes ``"error"``; an exception's class name becomes
        ``"error_type"``.
    """
    message = str(error) if str(error) else type(error).__name__
    record: dict[str, Any] = {
        "file": str(file),
        "ok": False,
        "error": message,
        "image": None,
        "correction": None,
        "hair": None,
        "skin": None,
        "matches": [],
        "warnings": [],
    }
    if isinstance(error, BaseException):
        record["error_type"] = type(error).__name__
    return record


def to_json_line(record: Mapping[str, Any]) -> str:
    """One JSON Lines line (no trailing newline), UTF-8 safe, NaN-free."""
    return json.dumps(_plain(dict(record)), ensure_ascii=False, allow_nan=False)


def format_analysis_text(analysis: Analysis) -> str:
    """A short human-readable summary, for the terminal."""
    lines = [f"{analysis.file}"]
    lines.append(
        f"  image      {analysis.image.width}×{analysis.image.height} px "
        f"(analysed at {analysis.image.working_width}×{analysis.image.working_height}), "
        f"{analysis.image.colour_profile}"
    )
    lines.append(f"  correction {analysis.correction.method}")
    if analysis.hair is not None:
        h = analysis.hair
        lines.append(
            f"  hair       L*a*b* {h.lab[0]:.1f} {h.lab[1]:.1f} {h.lab[2]:.1f}  {h.hex}  "
            f"level {h.level} (approx.)  grey {h.grey_fraction:.0%}  coverage {h.coverage:.0%}  "
            f"confidence {h.confidence:.2f}"
        )
    else:
        lines.append("  hair       not found")
    if analysis.skin is not None:
        s = analysis.skin
        lines.append(
            f"  skin       L*a*b* {s.lab[0]:.1f} {s.lab[1]:.1f} {s.lab[2]:.1f}  {s.hex}  "
            f"ITA° {s.ita_deg:.1f} ({s.ita_class})  Monk {s.monk}  Fitzpatrick ≈{s.fitzpatrick}  "
            f"{s.undertone} undertone  confidence {s.confidence:.2f}"
        )
    else:
        lines.append("  skin       not found")
    for i, m in enumerate(analysis.matches, 1):
        lines.append(f"  match {i}    {m.name} ({m.palette}:{m.id})  ΔE00 {m.delta_e:.2f}")
    for w in analysis.warnings:
        lines.append(f"  warning    {w}")
    return "\n".join(lines)
