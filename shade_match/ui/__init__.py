"""The Streamlit pages of shade-match (layout only; the package does the science).

One module per page, each with a ``render()`` function; :func:`pages` lists them for
``st.navigation`` in ``app.py``:

- :mod:`.consultation` — photo(s) → hair and skin tone, pigment matches, plan, report;
- :mod:`.training` — a trainee picks a pigment for a photo and is scored;
- :mod:`.batch` — many photos or a zip → table, CSV and JSON Lines;
- :mod:`.palettes` — browse, check and compare palettes.

Shared pieces (cached analysis, swatches, palette choice) are in :mod:`.widgets`.
Importing this package draws nothing.
"""

from __future__ import annotations

__all__ = ["pages"]


def pages() -> list:
    """The app's pages as ``st.Page`` objects, the consultation first (the default)."""
    import streamlit as st

    from . import batch, consultation, palettes, training

    return [
        st.Page(consultation.render, title="Consultation", icon=":material/face:", url_path="consultation", default=True),
        st.Page(training.render, title="Training", icon=":material/school:", url_path="training"),
        st.Page(batch.render, title="Batch", icon=":material/photo_library:", url_path="batch"),
        st.Page(palettes.render, title="Palettes", icon=":material/palette:", url_path="palettes"),
    ]
