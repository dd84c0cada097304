"""Consultation page: photo(s) in, hair and skin tone, nearest pigments and a report out.

The practitioner picks a sample photo, uploads one or more photos (e.g. the crown for
the skin tone and the sides for the hair tone) or takes one with the camera. Each photo
is analysed with :func:`shade_match.analysis.inspect_image`; the practitioner chooses
which photo gives the hair tone and which the skin tone (default: the most confident).
Rectangles drawn on the photo (grey card, "measure hair here", "measure skin here")
become :class:`~shade_match.analysis.AnalysisSettings` fields, in input-image pixels.
"""

from __future__ import annotations

import json
from dataclasses import replace

import streamlit as st

from ..analysis import AnalysisSettings
from ..consultation_report import consultation_report_html
from ..correction import CORRECTION_METHODS
from ..errors import ShadeMatchError
from ..palette import Palette
from ..recommend import Overrides, Recommendation, recommend, recommendation_to_dict
from ..report import analysis_to_dict, to_json_line
from . import widgets
from .widgets import Photo, PhotoResult

#: Practitioner words for the correction methods (values are AnalysisSettings.correction).
CORRECTION_LABELS = {
    "auto": "Automatic (chart or grey card if in frame, else estimate the light)",
    "grey-card": "Grey card (drag a rectangle over it below)",
    "chart": "Colour chart in frame",
    "none": "None (trust the camera)",
}

SOURCES = ("Sample photo", "Upload photos", "Camera")

_RECT_FIELDS = ("x", "y", "w", "h")

#: Longest side of the photo in the drawing tool, in screen pixels. The component is
#: shown at its natural size (its "stretch" mode crops the bottom of tall photos), so
#: this keeps it inside a tablet's column (768 px portrait) while leaving room to aim.
DRAW_MAX_SIDE = 640


def _state_key(kind: str, target: str, photo_key: str, part: str = "") -> str:
    return f"cons_{kind}_{target}_{photo_key}{'_' + part if part else ''}"


def _photo_inputs() -> list[Photo]:
    samples = widgets.sample_photos()
    source = st.radio(
        "Photo from", SOURCES, index=0 if samples else 1, horizontal=True, key="cons_source"
    )
    if source == "Sample photo":
        if not samples:
            st.info(f"No sample photos in {widgets.SAMPLE_DIR}. Upload a photo instead.")
            return []
        chosen = st.selectbox(
            "Sample photo", samples, format_func=lambda p: p.name, key="cons_sample"
        )
        return [Photo(chosen.name, chosen.read_bytes())]
    if source == "Upload photos":
        uploads = st.file_uploader(
            "Scalp photos (several at once: e.g. the crown for skin, the sides for hair)",
            type=list(widgets.PHOTO_TYPES),
            accept_multiple_files=True,
            key="cons_uploads",
        )
        return [Photo(upload.name, upload.getvalue()) for upload in uploads or []]
    shot = st.camera_input("Take a photo of the scalp", key="cons_camera")
    return [Photo("camera.jpg", shot.getvalue())] if shot is not None else []


def _regions_for(photo: Photo) -> dict[str, tuple[int, int, int, int]]:
    """The rectangles switched on for this photo (input pixels), from session state."""
    regions = {}
    for target in widgets.RECT_LABELS:
        if st.session_state.get(_state_key("use", target, photo.key)):
            rect = tuple(
                int(st.session_state.get(_state_key("rect", target, photo.key, f), 0)) for f in _RECT_FIELDS
            )
            if rect[2] > 0 and rect[3] > 0:
                regions[target] = rect
    return regions


def _take_pending_drag(photo: Photo) -> None:
    """Copy a new drag on the photo into the selected rectangle's number inputs.

    Runs before those inputs are drawn (Streamlit allows setting a widget's state
    only before the widget is created in the run).
    """
    value = st.session_state.get(_state_key("drag", "", photo.key))
    size = st.session_state.get(_state_key("size", "", photo.key))
    if not value or not size or value.get("unix_time") == st.session_state.get(_state_key("seen", "", photo.key)):
        return
    st.session_state[_state_key("seen", "", photo.key)] = value.get("unix_time")
    rect = widgets.drag_to_rect(value, size)
    if rect is None:
        return
    target = st.session_state.get(_state_key("target", "", photo.key), "hair_region")
    for field, number in zip(_RECT_FIELDS, rect):
        st.session_state[_state_key("rect", target, photo.key, field)] = number
    st.session_state[_state_key("use", target, photo.key)] = True


def _clear_regions(photo_key: str) -> None:
    """Switch off every rectangle drawn on one photo (a button callback)."""
    for target in widgets.RECT_LABELS:
        st.session_state[_state_key("use", target, photo_key)] = False


def _settings_for(photo: Photo, correction: str, top_k: int) -> AnalysisSettings:
    regions = _regions_for(photo)
    return AnalysisSettings(
        correction=correction,
        top_k=top_k,
        grey_card=regions.get("grey_card"),
        hair_region=regions.get("hair_region"),
        skin_region=regions.get("skin_region"),
    )


def _region_tools(photo: Photo, result: PhotoResult) -> None:
    """Drag a rectangle on the photo (mouse), or type it (touch screens, exact values)."""
    width, height = result.input_size
    st.session_state[_state_key("size", "", photo.key)] = (width, height)
    st.radio(
        "Rectangle to draw",
        list(widgets.RECT_LABELS),
        format_func=widgets.RECT_LABELS.get,
        horizontal=True,
        key=_state_key("target", "", photo.key),
    )
    st.caption(
        "Drag on the photo with the mouse to draw the rectangle, or type it below "
        f"(pixels of the photo as taken, {width}×{height})."
    )
    shown, display_factor = widgets.display_image(result.photo_rgb, DRAW_MAX_SIDE)
    drawn = widgets.draw_rectangles(shown, _regions_for(photo), result.scale * display_factor)
    try:
        from streamlit_image_coordinates import streamlit_image_coordinates

        streamlit_image_coordinates(
            drawn,
            key=_state_key("drag", "", photo.key),
            click_and_drag=True,
            image_format="JPEG",
            cursor="crosshair",
        )
    except Exception as error:  # a third-party component; typing the numbers still works
        st.image(drawn, width="stretch")
        st.caption(f"Drawing on the photo is unavailable here ({error}); type the rectangle instead.")

    for target, label in widgets.RECT_LABELS.items():
        cols = st.columns([2, 1, 1, 1, 1])
        cols[0].checkbox(f"Use: {label}", key=_state_key("use", target, photo.key))
        limits = {"x": width - 1, "y": height - 1, "w": width, "h": height}
        for col, field in zip(cols[1:], _RECT_FIELDS):
            key = _state_key("rect", target, photo.key, field)
            if key in st.session_state:
                st.session_state[key] = min(int(st.session_state[key]), limits[field])
            col.number_input(field, min_value=0, max_value=limits[field], step=1, key=key)


def _best(results: list[tuple[Photo, PhotoResult]], part: str) -> int:
    """Index of the photo whose ``part`` ("hair"/"skin") tone has the highest confidence."""
    confidences = [
        getattr(result.analysis, part).confidence if getattr(result.analysis, part) is not None else -1.0
        for _, result in results
    ]
    return max(range(len(results)), key=confidences.__getitem__)


def _combined(results, hair_index: int, skin_index: int):
    """The consultation's analysis: hair (and matches) from one photo, skin from another."""
    hair_photo, hair_result = results[hair_index]
    skin_photo, skin_result = results[skin_index]
    if hair_index == skin_index:
        return hair_result.analysis
    warnings = [f"{hair_photo.name}: {w}" for w in hair_result.analysis.warnings]
    warnings += [f"{skin_photo.name}: {w}" for w in skin_result.analysis.warnings]
    return replace(
        hair_result.analysis, skin=skin_result.analysis.skin, warnings=tuple(dict.fromkeys(warnings))
    )


def _downloads(results, hair_index: int, skin_index: int, analysis) -> None:
    hair_photo, hair_result = results[hair_index]
    if len(results) == 1:
        record = analysis_to_dict(analysis)
    else:
        record = {
            "hair_from": results[hair_index][0].name,
            "skin_from": results[skin_index][0].name,
            "photos": [analysis_to_dict(result.analysis) for _, result in results],
        }
    stem = hair_photo.name.rsplit(".", 1)[0]
    def report() -> bytes:  # built only when the button is clicked (two JPEG encodes)
        return consultation_report_html(
            analysis,
            photo_rgb=hair_result.photo_rgb,
            overlay_rgb=hair_result.overlay_rgb,
            title="Scalp micropigmentation consultation",
        ).encode("utf-8")

    cols = st.columns(2)
    cols[0].download_button(
        "Download the consultation report (HTML, print-ready)",
        report,
        file_name=f"{stem}-consultation.html",
        mime="text/html",
        on_click="ignore",
        key="cons_dl_html",
    )
    cols[1].download_button(
        "Download the numbers (JSON)",
        (json.dumps(json.loads(to_json_line(record)), indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        file_name=f"{stem}-shade-match.json",
        mime="application/json",
        on_click="ignore",
        key="cons_dl_json",
    )
    st.caption("Open the HTML report in a browser and print it (or save it as PDF) for the client file.")


def _plan_palette(palettes: list[Palette]) -> Palette | None:
    """The palette the plan is drawn from: the first chosen pigment palette."""
    pigments = [p for p in palettes if p.kind == "pigment"]
    return (pigments or palettes or [None])[0]


def _plan_overrides(palette: Palette) -> Overrides:
    """The practitioner's overrides of the plan (target, session 1, number of sessions)."""
    auto = "(shade-match's choice)"
    ids = [auto, *palette.ids]
    label = lambda i: i if i == auto else f"{i} · {palette.entry(i).name}"  # noqa: E731
    with st.expander("Override the plan", expanded=False):
        cols = st.columns(3)
        target = cols[0].selectbox("Target shade", ids, format_func=label, key="cons_ovr_target")
        first = cols[1].selectbox("Session 1 shade", ids, format_func=label, key="cons_ovr_session1")
        sessions = int(cols[2].number_input("Sessions", 1, 10, 3, key="cons_ovr_sessions"))
        reason = st.text_input("Why (kept in the plan)", key="cons_ovr_reason")
    return Overrides(
        target_id=None if target == auto else target,
        session1_id=None if first == auto else first,
        sessions=sessions if sessions != 3 else None,
        reason=reason,
    )


def _show_plan(plan: Recommendation) -> None:
    st.markdown(f"#### Treatment plan · {plan.palette}")
    left, right = st.columns([1, 4])
    left.markdown(widgets.swatch_html(plan.target_hex, 96, "target"), unsafe_allow_html=True)
    right.markdown(
        f"**Target shade: {plan.target.name}** (`{plan.target.entry_id}`), "
        f"ΔE00 {plan.target.delta_e:.1f} from the target colour  \n{plan.target_explanation}"
    )
    for step in plan.sessions:
        left, right = st.columns([1, 4])
        left.markdown(widgets.swatch_html(step.hex, 56, step.name), unsafe_allow_html=True)
        right.markdown(f"**Session {step.session}: {step.name}** (`{step.entry_id}`)  \n{step.reasoning}")
    for warning in plan.warnings:
        st.warning(f"{warning.message} ({', '.join(warning.rules)})", icon="⚠️")
    for request in plan.requests:
        st.info(request)
    with st.expander("Who chose what"):
        st.markdown("\n".join(f"- **{c.name}**: {c.value} — {c.chosen_by}: {c.reason}" for c in plan.choices))


def _plan(analysis, palettes: list[Palette]):
    """Draw the treatment plan and return the analysis carrying it (or unchanged)."""
    palette = _plan_palette(palettes)
    if palette is None:
        return analysis
    shown_above = st.container()  # the plan is drawn above its override controls
    overrides = _plan_overrides(palette)
    try:
        plan = recommend(analysis, palette, overrides=overrides)
    except ShadeMatchError as error:
        shown_above.info(f"No treatment plan: {error}")
        return analysis
    with shown_above:
        _show_plan(plan)
    return replace(analysis, recommendation=recommendation_to_dict(plan))


def render() -> None:
    """Draw the consultation page."""
    st.title("Consultation")
    photos = _photo_inputs()

    with st.expander("Settings: palette, colour correction, number of matches", expanded=False):
        cols = st.columns([2, 2, 1])
        with cols[0]:
            palettes = widgets.choose_palettes("cons_palettes")
        correction = cols[1].selectbox(
            "Colour correction",
            [m for m in CORRECTION_LABELS if m in CORRECTION_METHODS],
            format_func=CORRECTION_LABELS.get,
            key="cons_correction",
        )
        top_k = int(cols[2].number_input("Matches to show", 1, 10, 3, key="cons_top_k"))

    if not photos:
        st.info("Choose a sample photo, upload photos or take one with the camera.")
        return
    if not palettes:
        st.warning("Choose at least one palette in Settings to see pigment matches.")

    results: list[tuple[Photo, PhotoResult]] = []
    with st.spinner("Measuring hair and skin tone…"):
        for photo in photos:
            _take_pending_drag(photo)
            try:
                settings = _settings_for(photo, correction, top_k)
                results.append((photo, widgets.analyse_photo(photo, settings, palettes)))
            except ShadeMatchError as error:  # InputError (bad photo/setting) or AnalysisError
                st.error(f"{photo.name}: {error}" if not str(error).startswith(photo.name) else str(error))
                if _regions_for(photo):
                    st.button(
                        f"Remove the rectangles drawn on {photo.name}", on_click=_clear_regions,
                        args=(photo.key,), key=_state_key("clear", "", photo.key),
                    )
    if not results:
        return

    names = [photo.name for photo, _ in results]
    hair_index = skin_index = 0
    if len(results) > 1:
        cols = st.columns(2)
        hair_index = cols[0].selectbox(
            "Hair tone from", range(len(results)), index=_best(results, "hair"),
            format_func=names.__getitem__, key="cons_hair_from",
        )
        skin_index = cols[1].selectbox(
            "Skin tone from", range(len(results)), index=_best(results, "skin"),
            format_func=names.__getitem__, key="cons_skin_from",
        )
    analysis = _combined(results, hair_index, skin_index)

    widgets.show_warnings(analysis.warnings)

    photo_col, tone_col = st.columns([3, 2], gap="large")
    with photo_col:
        shown_index = hair_index
        if len(results) > 1:
            shown_index = st.selectbox(
                "Photo shown", range(len(results)), index=hair_index,
                format_func=names.__getitem__, key="cons_shown",
            )
        shown_photo, shown_result = results[shown_index]
        overlay_on = st.toggle("Show what was measured (overlay)", value=True, key="cons_overlay")
        image = shown_result.overlay_rgb if overlay_on else shown_result.photo_rgb
        st.image(widgets.display_image(image)[0], caption=shown_photo.name, width="stretch")
        if overlay_on:
            st.markdown(widgets.overlay_legend_html(), unsafe_allow_html=True)
    with tone_col:
        widgets.show_hair(analysis.hair, names[hair_index] if len(results) > 1 else "")
        widgets.show_skin(analysis.skin, names[skin_index] if len(results) > 1 else "")
        st.caption(f"Colour correction applied: {analysis.correction.method}")

    widgets.show_matches(analysis.hair, analysis.matches)
    analysis = _plan(analysis, palettes)

    with st.expander("Adjust: grey card, measure hair here, measure skin here", expanded=False):
        _region_tools(shown_photo, shown_result)

    st.divider()
    _downloads(results, hair_index, skin_index, analysis)
