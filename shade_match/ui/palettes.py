"""Palettes page: browse palettes as swatches, check a palette file, compare two palettes.

An uploaded (or pasted) palette is validated with
:func:`shade_match.palette.validate_palette_file`, which lists *every* problem by
entry and field; a valid one is kept for this browser session and can then be chosen
on the other pages. Nothing is written to disk.
"""

from __future__ import annotations

import streamlit as st

from ..errors import PaletteError
from ..matching import nearest_matches
from ..palette import DEFAULT_PIGMENT_PALETTE, Palette, load_palette, validate_palette_file
from . import widgets

PALETTE_FILE_TYPES = ("toml", "csv", "yaml", "yml")


def check_palette(data: bytes, file_name: str) -> tuple[Palette | None, list[PaletteError]]:
    """Validate palette bytes; the palette when valid, else every problem found."""
    problems = validate_palette_file(data, name_hint=file_name)
    if problems:
        return None, problems
    return load_palette(data, name_hint=file_name), []


def show_problems(file_name: str, problems: list[PaletteError]) -> None:
    """Each problem on its own line: entry, field, message."""
    st.error(f"{file_name}: {len(problems)} problem(s); the palette was not added.")
    rows = [
        {"entry": p.entry or "(file)", "field": p.field or "", "problem": p.message}
        for p in problems
    ]
    st.dataframe(
        rows, hide_index=True, width="stretch",
        column_config={"problem": st.column_config.TextColumn("problem", width="large")},
    )


def show_palette(palette: Palette) -> None:
    """A palette as a swatch grid, with its provenance and a table of its numbers."""
    st.markdown(f"### {palette.title or palette.name}")
    facts = [f"`{palette.name}`", palette.kind, f"{len(palette)} entries"]
    if palette.illustrative:
        facts.append("**illustrative** (a model, not measured pigment)")
    st.markdown(" · ".join(facts))
    provenance = {k: v for k, v in palette.provenance.items() if v not in (None, "")}
    if provenance.get("description"):
        st.caption(str(provenance["description"]))
    columns = 6
    entries = list(palette.entries)
    for start in range(0, len(entries), columns):
        cols = st.columns(columns)
        for col, entry in zip(cols, entries[start : start + columns]):
            col.markdown(
                widgets.swatch_html(entry.hex, 72, entry.name)
                + f"<br><small><b>{entry.name}</b><br>{entry.id} · {entry.hex}</small>",
                unsafe_allow_html=True,
            )
    with st.expander("Numbers and provenance"):
        st.dataframe(
            [
                {
                    "swatch": widgets.swatch_svg_url(e.hex), "id": e.id, "name": e.name, "hex": e.hex,
                    "L*": round(e.lab[0], 2), "a*": round(e.lab[1], 2), "b*": round(e.lab[2], 2),
                    "dilution": e.dilution, "brand": e.brand, "notes": e.notes,
                }
                for e in entries
            ],
            hide_index=True,
            width="stretch",
            column_config={"swatch": st.column_config.ImageColumn("swatch", width="small")},
        )
        if provenance:
            st.json(provenance)


def compare_palettes(first: Palette, second: Palette) -> list[dict]:
    """For each entry of ``first``, the nearest entry of ``second`` by ΔE00 (table rows).

    Columns ``"A"`` and ``"B"`` hold swatch data URLs of the two entries.
    """
    rows = []
    for entry in first.entries:
        nearest = nearest_matches(entry.lab, second, k=1)[0]
        rows.append(
            {
                "A": widgets.swatch_svg_url(entry.hex),
                "entry": f"{entry.id} · {entry.name}",
                "B": widgets.swatch_svg_url(nearest.hex),
                "nearest": f"{nearest.id} · {nearest.name}",
                "ΔE00": round(nearest.delta_e, 2),
                "reading": widgets.reading_of(nearest),
            }
        )
    return rows


def _upload_section() -> None:
    st.subheader("Check and add a palette file")
    st.caption(
        "TOML, CSV or YAML, as described in palettes/README.md. Every problem is listed by entry "
        "and field; a valid palette is available on the other pages for this session."
    )
    upload = st.file_uploader("Palette file", type=list(PALETTE_FILE_TYPES), key="pal_upload")
    with st.expander("…or paste the file's text"):
        pasted_name = st.text_input("File name (its suffix sets the format)", "my-palette.toml", key="pal_paste_name")
        pasted = st.text_area("Palette text", key="pal_paste_text", height=180)
        check_pasted = st.button("Check pasted palette", key="pal_paste_check")
    sources = []
    if upload is not None:
        sources.append((upload.name, upload.getvalue()))
    if check_pasted and pasted.strip():
        sources.append((pasted_name.strip() or "pasted.toml", pasted.encode("utf-8")))
    for file_name, data in sources:
        palette, problems = check_palette(data, file_name)
        if problems:
            show_problems(file_name, problems)
            continue
        widgets.user_palettes()[palette.name] = palette
        st.success(f"{file_name}: valid — palette '{palette.name}' with {len(palette)} entries added for this session.")


def render() -> None:
    """Draw the palettes page."""
    st.title("Palettes")
    for name, loaded in widgets.installed_palettes().items():
        if isinstance(loaded, PaletteError):
            st.error(f"Installed palette '{name}' does not load: {loaded}")
    palettes = widgets.available_palettes()

    browse, check, compare = st.tabs(["Browse", "Check / add a file", "Compare two"])
    with browse:
        if not palettes:
            st.info("No palettes found.")
        else:
            names = list(palettes)
            default = names.index(DEFAULT_PIGMENT_PALETTE) if DEFAULT_PIGMENT_PALETTE in names else 0
            name = st.selectbox(
                "Palette", names, index=default,
                format_func=lambda n: f"{widgets.palette_label(palettes[n])} · {palettes[n].kind}", key="pal_browse",
            )
            show_palette(palettes[name])
    with check:
        _upload_section()
    with compare:
        palettes = widgets.available_palettes()
        if len(palettes) < 2:
            st.info("Two palettes are needed to compare.")
            return
        names = list(palettes)
        cols = st.columns(2)
        first = cols[0].selectbox("For each entry of", names, index=0, key="pal_cmp_a")
        second = cols[1].selectbox("…the nearest in", names, index=1, key="pal_cmp_b")
        rows = compare_palettes(palettes[first], palettes[second])
        st.dataframe(
            rows,
            hide_index=True,
            width="stretch",
            column_config={
                "A": st.column_config.ImageColumn(first, width="small"),
                "B": st.column_config.ImageColumn(second, width="small"),
            },
        )
