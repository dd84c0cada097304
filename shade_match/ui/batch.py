"""Batch page: many photos (or a zip of them) in, a sortable table and CSV / JSON Lines out.

Everything stays in memory: uploads are bytes, a zip is read with :mod:`zipfile`
without extracting to disk. Each photo goes through
:func:`shade_match.analysis.inspect_image`; a photo that fails becomes an ``"ok":
false`` record (:func:`shade_match.report.failure_to_dict`) and the rest continue.
Large folders belong to the command line (``shade-match batch``), which runs in
parallel, resumes after an interruption and never holds all photos in memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import streamlit as st

from ..analysis import AnalysisSettings, inspect_image
from ..batch import CSV_COLUMNS, record_to_row
from ..errors import InputError, ShadeMatchError
from ..report import analysis_to_dict, failure_to_dict, to_json_line
from . import widgets
from .widgets import Photo

#: Most photos the page analyses in one go. A design choice: at ~0.5–1 s a photo
#: (one process, 2 cores) 200 photos is a few minutes in a browser tab; beyond that the
#: CLI's parallel, resumable run is the right tool.
MAX_APP_BATCH_FILES = 200

#: Most bytes (compressed uploads, or a zip's uncompressed members) the page accepts in
#: one go. A design choice: 500 MB is ~100 12-MP JPEGs at their largest and keeps the
#: server's memory bounded, since uploads are held in memory.
MAX_APP_BATCH_BYTES = 500 * 1024 * 1024

#: Most members read from one zip (directories included). Zip-bomb guard: a zip of
#: millions of tiny entries is refused before anything is read.
MAX_ZIP_MEMBERS = 2 * MAX_APP_BATCH_FILES

#: The zip uploader's per-file limit, in MB (Streamlit's ``max_upload_size``).
ZIP_UPLOAD_LIMIT_MB = MAX_APP_BATCH_BYTES // (1024 * 1024)

CLI_HINT = "shade-match batch FOLDER -o results.jsonl"


@dataclass(frozen=True)
class Unpacked:
    """Photos taken from the uploads, and the problems met (file name, message)."""

    photos: tuple[Photo, ...]
    problems: tuple[tuple[str, str], ...]
    too_large: str = ""


def _is_photo_name(name: str) -> bool:
    path = PurePosixPath(name)
    hidden = any(part.startswith(".") or part == "__MACOSX" for part in path.parts)
    return not hidden and path.suffix.lower().lstrip(".") in widgets.PHOTO_TYPES


def photos_from_zip(
    data: bytes,
    zip_name: str,
    *,
    max_members: int = MAX_ZIP_MEMBERS,
    max_total_bytes: int = MAX_APP_BATCH_BYTES,
) -> tuple[list[Photo], list[tuple[str, str]]]:
    """Read the photos in a zip (in memory), guarding against zip bombs.

    The member count and the declared uncompressed sizes are checked before
    anything is decompressed, and each member is read with a byte cap so a member
    whose header lies about its size cannot exceed ``max_total_bytes`` either.

    Parameters
    ----------
    data : bytes
        The zip file.
    zip_name : str
        Its name, used in messages and as a prefix of the photos' names.
    max_members : int
    max_total_bytes : int

    Returns
    -------
    photos : list of Photo
        Named ``"archive.zip/folder/photo.jpg"``.
    problems : list of (name, message)

    Raises
    ------
    InputError
        Not a zip, or over a limit.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise InputError(f"{zip_name}: expected a zip archive; could not read it ({error})") from None
    with archive:
        members = archive.infolist()
        if len(members) > max_members:
            raise InputError(
                f"{zip_name}: expected at most {max_members} entries in a zip; it has {len(members)}. "
                f"Large folders belong to the command line: {CLI_HINT}"
            )
        wanted = [m for m in members if not m.is_dir() and _is_photo_name(m.filename)]
        declared = sum(m.file_size for m in wanted)
        if declared > max_total_bytes:
            raise InputError(
                f"{zip_name}: expected at most {max_total_bytes // 2**20} MB of photos once unzipped; "
                f"it declares {declared / 2**20:.0f} MB. Large folders belong to the command line: {CLI_HINT}"
            )
        photos: list[Photo] = []
        problems: list[tuple[str, str]] = []
        remaining = max_total_bytes
        for member in wanted:
            name = f"{zip_name}/{member.filename}"
            try:
                with archive.open(member) as handle:
                    content = handle.read(remaining + 1)
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as error:
                problems.append((name, f"could not unzip this member ({error})"))
                continue
            if len(content) > remaining:
                raise InputError(
                    f"{zip_name}: expands to more than {max_total_bytes // 2**20} MB (its headers understate "
                    f"the sizes). Large folders belong to the command line: {CLI_HINT}"
                )
            remaining -= len(content)
            photos.append(Photo(name, content))
        skipped = len(members) - len(wanted) - sum(m.is_dir() for m in members)
        if skipped:
            problems.append((zip_name, f"{skipped} file(s) that are not photos were skipped"))
    return photos, problems


def unpack_uploads(
    uploads: list[tuple[str, bytes]],
    *,
    max_files: int = MAX_APP_BATCH_FILES,
    max_total_bytes: int = MAX_APP_BATCH_BYTES,
) -> Unpacked:
    """Photos from uploaded files and zips, with the app's size limits.

    ``too_large`` is a message (and ``photos`` empty) when the whole lot is over a limit.
    """
    photos: list[Photo] = []
    problems: list[tuple[str, str]] = []
    total = sum(len(data) for _, data in uploads)
    if total > max_total_bytes:
        return Unpacked((), (), f"The uploads total {total / 2**20:.0f} MB; the app takes up to "
                        f"{max_total_bytes // 2**20} MB at once. Large folders belong to the command line: `{CLI_HINT}`")
    for name, data in uploads:
        if name.lower().endswith(".zip"):
            try:
                found, met = photos_from_zip(data, name, max_total_bytes=max_total_bytes)
            except InputError as error:
                problems.append((name, str(error)))
                continue
            photos.extend(found)
            problems.extend(met)
        else:
            photos.append(Photo(name, data))
    if len(photos) > max_files:
        return Unpacked((), tuple(problems), f"{len(photos)} photos: the app analyses up to {max_files} at once. "
                        f"Large folders belong to the command line: `{CLI_HINT}`")
    return Unpacked(tuple(photos), tuple(problems))


def analyse_batch(photos, settings: AnalysisSettings, palettes, progress=None) -> list[dict]:
    """Analyse each photo; a failure becomes an ``"ok": false`` record.

    Each record is :func:`~shade_match.report.analysis_to_dict` (or
    :func:`~shade_match.report.failure_to_dict`) plus a ``"thumbnail"`` data URL
    (``""`` on failure), which the downloads leave out.
    """
    records = []
    for index, photo in enumerate(photos):
        if progress is not None:
            progress(index, photo.name)
        try:
            inspection = inspect_image(photo.data, settings=settings, palettes=palettes, name=photo.name)
        except ShadeMatchError as error:
            record = failure_to_dict(photo.name, error)
            record["thumbnail"] = ""
        else:
            record = analysis_to_dict(inspection.analysis)
            record["thumbnail"] = widgets.thumbnail_url(inspection.rgb)
        records.append(record)
    return records


def _without_thumbnail(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "thumbnail"}


def records_csv_bytes(records: list[dict]) -> bytes:
    """The records as the CLI's flat CSV (:data:`shade_match.batch.CSV_COLUMNS`), UTF-8 with BOM."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record_to_row(_without_thumbnail(record)))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def records_jsonl_bytes(records: list[dict]) -> bytes:
    """The records as JSON Lines (one :func:`~shade_match.report.to_json_line` per photo)."""
    return "".join(to_json_line(_without_thumbnail(r)) + "\n" for r in records).encode("utf-8")


def _table(records: list[dict]) -> None:
    rows = []
    for record in records:
        row = record_to_row(_without_thumbnail(record))
        rows.append(
            {
                "photo": record.get("thumbnail") or None,
                "file": row["file"],
                "ok": row["ok"],
                "hair": widgets.swatch_svg_url(row["hair_hex"]) if row["hair_hex"] else None,
                "level": row["hair_level"] if row["hair_level"] != "" else None,
                "grey %": round(100 * row["hair_grey_fraction"]) if row["hair_grey_fraction"] != "" else None,
                "skin": widgets.swatch_svg_url(row["skin_hex"]) if row["skin_hex"] else None,
                "ITA° class": row["skin_ita_class"] or None,
                "Monk": row["skin_monk"] if row["skin_monk"] != "" else None,
                "Fitzpatrick": row["skin_fitzpatrick"] or None,
                "top match": row["match_name"] or None,
                "ΔE00": round(row["match_delta_e"], 2) if row["match_delta_e"] != "" else None,
                "hair confidence": round(row["hair_confidence"], 2) if row["hair_confidence"] != "" else None,
                "error / warnings": row["error"] or row["warnings"],
            }
        )
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "photo": st.column_config.ImageColumn("photo", width="small"),
            "hair": st.column_config.ImageColumn("hair", width="small"),
            "skin": st.column_config.ImageColumn("skin", width="small"),
            "ok": st.column_config.CheckboxColumn("ok"),
            "error / warnings": st.column_config.TextColumn("error / warnings", width="large"),
        },
    )


def render() -> None:
    """Draw the batch page."""
    st.title("Batch")
    st.caption(
        f"Analyse up to {MAX_APP_BATCH_FILES} photos ({MAX_APP_BATCH_BYTES // 2**20} MB) at once, "
        f"as files or a zip. Large folders belong to the command line: `{CLI_HINT}`."
    )
    uploads = st.file_uploader(
        "Photos or a zip of photos",
        type=[*widgets.PHOTO_TYPES, "zip"],
        accept_multiple_files=True,
        max_upload_size=ZIP_UPLOAD_LIMIT_MB,
        key="batch_uploads",
    )
    with st.expander("Settings: palette, colour correction", expanded=False):
        palettes = widgets.choose_palettes("batch_palettes")
        correction = st.selectbox("Colour correction", ["auto", "none", "chart"], key="batch_correction")
    if not uploads:
        st.info("Upload photos (JPEG, PNG, HEIC, WebP, TIFF) or a zip of them.")
        return
    unpacked = unpack_uploads([(u.name, u.getvalue()) for u in uploads])
    for name, message in unpacked.problems:
        st.error(f"{name}: {message}" if not message.startswith(name) else message)
    if unpacked.too_large:
        st.error(unpacked.too_large)
        return
    if not unpacked.photos:
        st.warning("No photos found in the uploads.")
        return

    signature = (tuple((p.name, p.key) for p in unpacked.photos), correction, widgets.palette_key(palettes))
    if st.button(f"Analyse {len(unpacked.photos)} photo(s)", type="primary", key="batch_run"):
        bar = st.progress(0.0, text="Starting…")
        total = len(unpacked.photos)

        def progress(index: int, name: str) -> None:
            bar.progress(index / total, text=f"{index + 1} of {total}: {name}")

        records = analyse_batch(unpacked.photos, AnalysisSettings(correction=correction), palettes, progress)
        bar.progress(1.0, text=f"Done: {total} photo(s)")
        st.session_state["batch_results"] = (signature, records)

    stored = st.session_state.get("batch_results")
    if not stored or stored[0] != signature:
        return
    records = stored[1]
    failed = sum(not r["ok"] for r in records)
    st.markdown(f"**{len(records) - failed} analysed, {failed} failed.** Click a column header to sort.")
    for record in records:
        if not record["ok"]:
            st.error(f"{record['file']}: {record['error']}" if not record["error"].startswith(record["file"]) else record["error"])
    _table(records)
    cols = st.columns(2)
    cols[0].download_button(
        "Download CSV", records_csv_bytes(records), file_name="shade-match-batch.csv",
        mime="text/csv", on_click="ignore", key="batch_dl_csv",
    )
    cols[1].download_button(
        "Download JSON Lines", records_jsonl_bytes(records), file_name="shade-match-batch.jsonl",
        mime="application/x-ndjson", on_click="ignore", key="batch_dl_jsonl",
    )
