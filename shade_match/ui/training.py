"""Training page: a trainee picks a pigment for a photo and is scored.

The trainer sets the photo folder, the palette, the number of photos in a session and
what a pick is scored against:

- the measured hair tone — the pick's ΔE00 to it, the best entry's ΔE00 and the pick's
  rank (:func:`shade_match.matching.rank_of`);
- the treatment target — the shaved-look target of the plan
  (:func:`shade_match.recommend.score_training_pick`), which is what an SMP
  practitioner actually matches (research R10).

The running score lives in ``st.session_state`` for the browser session only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ..analysis import AnalysisSettings
from ..errors import ShadeMatchError
from ..matching import nearest_matches, rank_of
from ..palette import Palette
from ..recommend import score_training_pick
from ..results import Analysis
from ..scales import delta_e_reading
from . import widgets
from .widgets import Photo

#: What a pick is scored against (trainer's choice).
TARGETS = {
    "hair": "Measured hair tone",
    "plan": "Treatment target (hair as it looks shaved)",
}

#: Default photos per session. A design choice: a short round a trainee finishes in minutes.
DEFAULT_SESSION_LENGTH = 5


@dataclass(frozen=True)
class PickScore:
    """The score of one pick (plain numbers for the session table)."""

    photo: str
    target: str
    picked_id: str
    picked_name: str
    picked_delta_e: float
    best_id: str
    best_name: str
    best_delta_e: float
    rank: int
    entries: int
    explanation: str


def score_against_hair(analysis: Analysis, palette: Palette, picked_id: str) -> PickScore:
    """Score a pick against the measured hair tone (ΔE00 and rank among the palette).

    Raises
    ------
    ShadeMatchError
        No hair tone was measured, or ``picked_id`` is not in the palette.
    """
    if analysis.hair is None:
        from ..errors import AnalysisError

        raise AnalysisError(f"{analysis.file}: no hair tone was measured, so a pick cannot be scored against it")
    ranked = nearest_matches(analysis.hair.lab, palette, k=len(palette))
    rank = rank_of(picked_id, analysis.hair.lab, palette)
    picked = next(match for match in ranked if match.id == picked_id)
    best = ranked[0]
    if rank == 1:
        verdict = "That is the nearest shade in the palette."
    else:
        verdict = (
            f"The nearest shade is {best.name} ({best.id}) at ΔE00 {best.delta_e:.1f} "
            f"({delta_e_reading(best.delta_e)}); your pick is {picked.delta_e - best.delta_e:.1f} "
            f"further away and ranks {rank} of {len(ranked)}."
        )
    explanation = (
        f"Your pick {picked.name} ({picked.id}) is ΔE00 {picked.delta_e:.1f} from the measured hair "
        f"tone ({delta_e_reading(picked.delta_e)}). {verdict}"
    )
    return PickScore(
        photo=analysis.file, target=TARGETS["hair"], picked_id=picked.id, picked_name=picked.name,
        picked_delta_e=picked.delta_e, best_id=best.id, best_name=best.name,
        best_delta_e=best.delta_e, rank=rank, entries=len(ranked), explanation=explanation,
    )


def score_against_plan(analysis: Analysis, palette: Palette, picked_id: str) -> PickScore:
    """Score a pick against the plan's treatment target (:func:`score_training_pick`)."""
    score = score_training_pick(analysis, palette, picked_id)
    return PickScore(
        photo=analysis.file, target=TARGETS["plan"], picked_id=score.picked_id,
        picked_name=palette.entry(score.picked_id).name, picked_delta_e=score.picked_delta_e,
        best_id=score.best_id, best_name=palette.entry(score.best_id).name,
        best_delta_e=score.best_delta_e, rank=score.rank, entries=score.entries,
        explanation=score.explanation,
    )


def _trainer_settings() -> tuple[Path, Palette | None, int, str, bool]:
    with st.expander("Trainer: photo folder, palette, photos per session", expanded=False):
        folder = Path(
            st.text_input("Photo folder (on this computer)", str(widgets.SAMPLE_DIR), key="train_folder")
        )
        cols = st.columns(3)
        with cols[0]:
            chosen = widgets.choose_palettes("train_palette", label="Palette", multiple=False)
        count = int(cols[1].number_input("Photos per session", 1, 50, DEFAULT_SESSION_LENGTH, key="train_n"))
        target = cols[2].selectbox("Score against", list(TARGETS), format_func=TARGETS.get, key="train_target")
        restart = st.button("Start a new session", key="train_restart")
    return folder, (chosen[0] if chosen else None), count, target, restart


def _new_session(folder: Path, count: int) -> dict:
    photos = widgets.sample_photos(folder)
    order = random.sample(photos, k=min(count, len(photos)))
    return {"folder": str(folder), "photos": [str(p) for p in order], "index": 0, "scores": [], "current": None}


def _show_running_score(session: dict) -> None:
    scores: list[PickScore] = session["scores"]
    cols = st.columns(3)
    cols[0].metric("Photos scored", f"{len(scores)} of {len(session['photos'])}")
    cols[1].metric("Nearest shade found", f"{sum(s.rank == 1 for s in scores)}")
    if scores:
        mean_gap = sum(s.picked_delta_e - s.best_delta_e for s in scores) / len(scores)
        cols[2].metric("Mean ΔE00 above the nearest", f"{mean_gap:.2f}")
    else:
        cols[2].metric("Mean ΔE00 above the nearest", "–")


def _palette_grid(palette: Palette, columns: int = 6) -> None:
    """The palette as a grid of big swatches with their ids."""
    entries = list(palette.entries)
    for start in range(0, len(entries), columns):
        cols = st.columns(columns)
        for col, entry in zip(cols, entries[start : start + columns]):
            col.markdown(
                widgets.swatch_html(entry.hex, 64, entry.name) + f"<br><small><b>{entry.name}</b><br>{entry.id}</small>",
                unsafe_allow_html=True,
            )


def render() -> None:
    """Draw the training page."""
    st.title("Training")
    st.caption("Look at the photo, pick the pigment you would use, then see how close you were.")
    folder, palette, count, target, restart = _trainer_settings()
    if palette is None:
        return
    session = st.session_state.get("train_session")
    if restart or session is None or session["folder"] != str(folder):
        session = _new_session(folder, count)
        st.session_state["train_session"] = session
    if not session["photos"]:
        st.error(f"No photos found in {folder}. Set a folder with JPEG/PNG/HEIC/WebP/TIFF photos.")
        return

    _show_running_score(session)
    if session["index"] >= len(session["photos"]):
        st.success("Session finished.")
        st.dataframe(
            [
                {"photo": Path(s.photo).name, "your pick": f"{s.picked_name} ({s.picked_id})",
                 "ΔE00": round(s.picked_delta_e, 2), "nearest": f"{s.best_name} ({s.best_id})",
                 "nearest ΔE00": round(s.best_delta_e, 2), "rank": f"{s.rank} of {s.entries}"}
                for s in session["scores"]
            ],
            hide_index=True,
        )
        st.caption("Use “Start a new session” in the trainer settings for another round.")
        return

    path = Path(session["photos"][session["index"]])
    photo = Photo(path.name, path.read_bytes())
    try:
        result = widgets.analyse_photo(photo, AnalysisSettings(), [palette])
    except ShadeMatchError as error:
        st.error(f"{path.name}: {error}")
        if st.button("Skip this photo", key="train_skip_error"):
            session["index"] += 1
            st.rerun()
        return

    st.subheader(f"Photo {session['index'] + 1} of {len(session['photos'])}: {path.name}")
    photo_col, pick_col = st.columns([3, 2], gap="large")
    photo_col.image(widgets.display_image(result.photo_rgb)[0], width="stretch")
    needs_hair = target == "hair"
    if needs_hair and result.analysis.hair is None:
        pick_col.warning("No hair was found in this photo, so there is nothing to match. Skip it.")
        if pick_col.button("Next photo", key="train_skip_nohair"):
            session["index"] += 1
            st.rerun()
        return

    current: PickScore | None = session.get("current")
    with pick_col:
        st.markdown(f"**{widgets.palette_label(palette)}**")
        _palette_grid(palette, columns=4)
        picked_id = st.radio(
            "Your pick", list(palette.ids), horizontal=True, disabled=current is not None,
            format_func=lambda i: f"{i} · {palette.entry(i).name}", key=f"train_pick_{session['index']}",
        )
        submitted = st.button(
            "Score my pick", type="primary", disabled=current is not None, key=f"train_submit_{session['index']}"
        )
    if submitted and current is None:
        try:
            scorer = score_against_hair if needs_hair else score_against_plan
            current = scorer(result.analysis, palette, picked_id)
        except ShadeMatchError as error:
            st.error(str(error))
            return
        session["current"] = current
        session["scores"].append(current)
        st.rerun()

    if current is not None:
        st.markdown("### Your score")
        cols = st.columns(3)
        cols[0].metric("Your pick: ΔE00", f"{current.picked_delta_e:.2f}")
        cols[1].metric("Nearest shade: ΔE00", f"{current.best_delta_e:.2f}", help=f"{current.best_name} ({current.best_id})")
        cols[2].metric("Rank of your pick", f"{current.rank} of {current.entries}")
        pick_entry, best_entry = palette.entry(current.picked_id), palette.entry(current.best_id)
        hair_hex = result.analysis.hair.hex if result.analysis.hair is not None else None
        swatches = (
            (widgets.swatch_html(hair_hex, 64, "measured hair") + " measured hair &nbsp; " if hair_hex else "")
            + widgets.swatch_html(pick_entry.hex, 64, "your pick") + " your pick &nbsp; "
            + widgets.swatch_html(best_entry.hex, 64, "nearest") + " nearest"
        )
        st.markdown(swatches, unsafe_allow_html=True)
        (st.success if current.rank == 1 else st.info)(current.explanation)
        if st.button("Next photo", type="primary", key=f"train_next_{session['index']}"):
            session["index"] += 1
            session["current"] = None
            st.rerun()
