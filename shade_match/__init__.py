"""shade-match: hair and skin tone from a scalp photo, and the nearest SMP pigment shade.

The public names live here; the modules behind them are private to the layout
(see ARCHITECTURE.md). Names are imported on first use (PEP 562), so
``import shade_match`` is cheap and has no side effects::

    >>> from shade_match import analyze_image
    >>> result = analyze_image("sample_images/back-stubble.jpg")   # doctest: +SKIP
    >>> result.hair.lab, result.matches[0].delta_e                   # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name → module that defines it
_EXPORTS = {
    # front door
    "analyze_image": "analysis",
    "inspect_image": "analysis",
    "AnalysisSettings": "analysis",
    "Inspection": "analysis",
    # results
    "Analysis": "results",
    "HairTone": "results",
    "SkinTone": "results",
    "Match": "results",
    "ImageInfo": "results",
    "CorrectionInfo": "results",
    # loading
    "load_image": "io",
    "LoadedImage": "io",
    # palettes and matching
    "Palette": "palette",
    "PaletteEntry": "palette",
    "load_palette": "palette",
    "get_palette": "palette",
    "find_palettes": "palette",
    "nearest_matches": "matching",
    # colour maths
    "delta_e": "colour",
    "srgb_to_lab": "colour",
    "lab_to_srgb": "colour",
    "ita_deg": "colour",
    # serialisation
    "analysis_to_dict": "report",
    # errors
    "ShadeMatchError": "errors",
    "InputError": "errors",
    "ImageLoadError": "errors",
    "EmptyFileError": "errors",
    "NotAnImageError": "errors",
    "TruncatedImageError": "errors",
    "ImageTooLargeError": "errors",
    "UnsupportedImageError": "errors",
    "PaletteError": "errors",
    "SettingsError": "errors",
    "AnalysisError": "errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shade_match' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
