"""The Streamlit app, run headless with streamlit.testing.v1.AppTest.

Each page runs without an exception; what a page shows is compared with what the
library computes for the same input (analyze_image, rank_of, validate_palette_file),
so the app can neither invent nor drop a number. The pure helpers of the pages
(zip reading with its bomb guard, drag → rectangle, palette comparison) are tested
directly.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from shade_match.analysis import AnalysisSettings, analyze_image
from shade_match.errors import InputError
from shade_match.matching import rank_of
from shade_match.palette import DEFAULT_PIGMENT_PALETTE, get_palette, validate_palette_file
from shade_match.scales import delta_e_reading
from shade_match.ui.batch import photos_from_zip, records_csv_bytes, unpack_uploads
from shade_match.ui.palettes import compare_palettes
from shade_match.ui.widgets import drag_to_rect, sample_photos

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
#: Generous: the first run imports OpenCV and scikit-image and analyses a photo.
TIMEOUT = 180

SAMPLES = sample_photos()
pytestmark = pytest.mark.skipif(not SAMPLES, reason="sample_images/ holds no photos")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts without analyses cached by an earlier one."""
    import streamlit as st

    st.cache_data.clear()
    yield
    st.cache_data.clear()


def _expected(source, **kwargs):
    """analyze_image in a fresh thread, as the app's script thread runs it.

    OpenCV's GrabCut (segmentation) draws from cv2's thread-local RNG, so until
    segmentation seeds it the same photo can segment slightly differently on a
    thread's second call; a fresh thread matches the app's first analysis.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(analyze_image, source, **kwargs).result()


def _sample(name: str) -> Path:
    return ROOT / "sample_images" / name


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _consultation_page():
    from shade_match.ui import consultation

    consultation.render()


def _training_page():
    from shade_match.ui import training

    training.render()


def _batch_page():
    from shade_match.ui import batch

    batch.render()


def _palettes_page():
    from shade_match.ui import palettes

    palettes.render()


def _run(page) -> AppTest:
    at = AppTest.from_function(page, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- the app ---------------------------------------------------------------------------


def test_app_opens_on_the_consultation_with_the_first_sample_analysed():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Consultation"
    expected = _expected(SAMPLES[0])
    text = _markdown(at)
    if expected.hair is not None:
        assert f"**Level {expected.hair.level}**" in text
        assert expected.matches[0].name in text
    if expected.skin is not None:
        assert f"Monk skin tone **{expected.skin.monk}**" in text


@pytest.mark.parametrize("page", [_training_page, _batch_page, _palettes_page])
def test_each_other_page_runs(page):
    at = _run(page)
    assert at.title[0].value in {"Training", "Batch", "Palettes"}


# --- consultation --------------------------------------------------------------------------


def test_choosing_a_sample_shows_its_hair_skin_and_matches():
    at = _run(_consultation_page)
    at.selectbox(key="cons_sample").select(_sample("back-stubble.jpg")).run()
    assert not at.exception
    expected = _expected(_sample("back-stubble.jpg"))
    assert expected.hair is not None and expected.matches, "the sample should show hair"
    text = _markdown(at)
    hair = expected.hair
    assert f"L* {hair.lab[0]:.2f}, a* {hair.lab[1]:.2f}, b* {hair.lab[2]:.2f}" in text
    assert f"**Level {hair.level}**" in text
    for rank, match in enumerate(expected.matches, start=1):
        assert f"**{rank}. {match.name}**" in text
        assert f"ΔE00 **{match.delta_e:.2f}** — {delta_e_reading(match.delta_e)}" in text
    if expected.skin is not None:
        assert f"ITA° {expected.skin.ita_deg:.1f}" in text
    assert [w.value for w in at.warning][: len(expected.warnings)] == list(expected.warnings)
    labels = [b.label for b in at.get("download_button")]
    assert any("JSON" in label for label in labels) and any("report" in label for label in labels)


def test_a_bad_upload_shows_its_error_and_the_good_one_is_still_analysed():
    at = _run(_consultation_page)
    at.radio(key="cons_source").set_value("Upload photos").run()
    good = _sample("back-stubble.jpg").read_bytes()
    at.file_uploader(key="cons_uploads").set_value(
        [("broken.jpg", b"this is not a photo", "image/jpeg"), ("good.jpg", good, "image/jpeg")]
    ).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("broken.jpg:")
    expected = _expected(good, name="good.jpg")
    assert f"**1. {expected.matches[0].name}**" in _markdown(at)


def test_with_two_photos_the_hair_comes_from_the_more_confident_one():
    at = _run(_consultation_page)
    at.radio(key="cons_source").set_value("Upload photos").run()
    names = ["back-bald-crown-dark-hair.jpg", "back-stubble.jpg"]
    at.file_uploader(key="cons_uploads").set_value(
        [(n, _sample(n).read_bytes(), "image/jpeg") for n in names]
    ).run()
    assert not at.exception
    analyses = [_expected(_sample(n)) for n in names]
    confidences = [a.hair.confidence if a.hair else -1.0 for a in analyses]
    best = max(range(2), key=confidences.__getitem__)
    assert at.selectbox(key="cons_hair_from").value == best
    # Switching the hair source changes the hair tone shown to that photo's.
    other = 1 - best
    at.selectbox(key="cons_hair_from").set_value(other).run()
    if analyses[other].hair is not None:
        lab = analyses[other].hair.lab
        assert f"L* {lab[0]:.2f}, a* {lab[1]:.2f}, b* {lab[2]:.2f}" in _markdown(at)


def test_a_typed_hair_region_is_passed_to_the_analysis_in_photo_pixels():
    at = _run(_consultation_page)
    at.selectbox(key="cons_sample").select(_sample("back-stubble.jpg")).run()
    photo_key = next(k for k in at.session_state if str(k).startswith("cons_use_hair_region_")).rsplit("_", 1)[1]
    rect = (200, 60, 240, 180)
    at.checkbox(key=f"cons_use_hair_region_{photo_key}").check()
    for field, value in zip("xywh", rect):
        at.number_input(key=f"cons_rect_hair_region_{photo_key}_{field}").set_value(value)
    at.run()
    assert not at.exception
    expected = _expected(_sample("back-stubble.jpg"), settings=AnalysisSettings(hair_region=rect))
    plain = _expected(_sample("back-stubble.jpg"))
    assert expected.hair is not None
    assert expected.hair.lab != plain.hair.lab, "the region should change the measurement"
    lab = expected.hair.lab
    assert f"L* {lab[0]:.2f}, a* {lab[1]:.2f}, b* {lab[2]:.2f}" in _markdown(at)


# --- training -------------------------------------------------------------------------------


def test_training_scores_a_pick_against_the_measured_hair_tone(tmp_path):
    photo = tmp_path / "stubble.jpg"
    photo.write_bytes(_sample("back-stubble.jpg").read_bytes())
    at = _run(_training_page)
    at.text_input(key="train_folder").set_value(str(tmp_path)).run()
    assert at.session_state["train_session"]["photos"] == [str(photo)]
    analysis = _expected(photo)
    assert analysis.hair is not None
    palette = get_palette(DEFAULT_PIGMENT_PALETTE)
    picked = palette.ids[-1]
    at.radio(key="train_pick_0").set_value(picked).run()
    at.button(key="train_submit_0").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rank of your pick"] == f"{rank_of(picked, analysis.hair.lab, palette)} of {len(palette)}"
    assert metrics["Photos scored"] == "1 of 1"
    assert metrics["Nearest shade: ΔE00"] == f"{analysis.matches[0].delta_e:.2f}"
    explanation = [m.value for m in (*at.success, *at.info)]
    assert any(f"Your pick {palette.entry(picked).name}" in text for text in explanation)
    at.button(key="train_next_0").click().run()
    assert any("Session finished" in s.value for s in at.success)


# --- batch ----------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_batch_page_analyses_files_and_a_zip_and_lists_failures():
    at = _run(_batch_page)
    stubble = _sample("back-stubble.jpg").read_bytes()
    white = _sample("side-white-hair.jpg").read_bytes()
    at.file_uploader(key="batch_uploads").set_value(
        [
            ("stubble.jpg", stubble, "image/jpeg"),
            ("empty.png", b"", "image/png"),
            ("more.zip", _zip({"in/white.jpg": white, "__MACOSX/._white.jpg": b"x", "notes.txt": b"hi"}), "application/zip"),
        ]
    ).run()
    at.button(key="batch_run").click().run()
    assert not at.exception
    records = at.session_state["batch_results"][1]
    assert [r["file"] for r in records] == ["stubble.jpg", "empty.png", "more.zip/in/white.jpg"]
    assert [r["ok"] for r in records] == [True, False, True]
    expected = _expected(stubble, name="stubble.jpg")
    assert records[0]["matches"][0]["id"] == expected.matches[0].id
    assert any(e.value.startswith("empty.png") for e in at.error)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 3
    csv_text = records_csv_bytes(records).decode("utf-8-sig")
    assert csv_text.count("\n") == 4  # header + 3 rows


def test_zip_reading_skips_non_photos_and_hidden_files():
    data = _zip({"a.jpg": b"1", "dir/b.PNG": b"22", "__MACOSX/._a.jpg": b"x", ".hidden.jpg": b"y", "c.txt": b"z"})
    photos, problems = photos_from_zip(data, "x.zip")
    assert [(p.name, p.data) for p in photos] == [("x.zip/a.jpg", b"1"), ("x.zip/dir/b.PNG", b"22")]
    assert problems and "3 file(s)" in problems[0][1]


def test_zip_bomb_guards_refuse_too_many_members_and_too_many_bytes():
    many = _zip({f"{i}.jpg": b"" for i in range(11)})
    with pytest.raises(InputError, match="at most 10 entries.*it has 11"):
        photos_from_zip(many, "many.zip", max_members=10)
    big = _zip({"zeros.jpg": bytes(3_000_000)})  # compresses to a few KB
    assert len(big) < 50_000
    with pytest.raises(InputError, match="declares 3 MB"):
        photos_from_zip(big, "big.zip", max_total_bytes=2 * 2**20)
    with pytest.raises(InputError, match="expected a zip archive"):
        photos_from_zip(b"PK not really", "fake.zip")


def test_upload_limits_point_to_the_command_line():
    over = unpack_uploads([("a.jpg", b"1"), ("b.jpg", b"2"), ("c.jpg", b"3")], max_files=2)
    assert not over.photos and "shade-match batch" in over.too_large
    heavy = unpack_uploads([("a.jpg", bytes(2_000_000))], max_total_bytes=1_000_000)
    assert not heavy.photos and "command line" in heavy.too_large


# --- palettes --------------------------------------------------------------------------------

BAD_PALETTE = b"""
[palette]
name = "Bad Name!"
kind = "pigment"

[[entries]]
id = "a"
name = "fine"
hex = "#112233"

[[entries]]
id = "b"
name = "bad hex"
hex = "#12345"

[[entries]]
id = "c"
name = "no colour"
"""

GOOD_PALETTE = b"""
[palette]
name = "test-greys"
kind = "pigment"

[[entries]]
id = "g1"
name = "dark"
hex = "#222222"

[[entries]]
id = "g2"
name = "mid"
hex = "#666666"
"""


def test_palettes_page_lists_every_problem_of_a_bad_palette_file():
    at = _run(_palettes_page)
    at.file_uploader(key="pal_upload").set_value(("bad.toml", BAD_PALETTE, "application/toml")).run()
    assert not at.exception
    problems = validate_palette_file(BAD_PALETTE, name_hint="bad.toml")
    assert len(problems) >= 2
    assert any(f"{len(problems)} problem(s)" in e.value for e in at.error)
    table = next(df.value for df in at.dataframe if "problem" in df.value.columns)
    assert list(table["problem"]) == [p.message for p in problems]
    assert set(table["entry"]) >= {"b", "c"}


def test_a_valid_palette_upload_becomes_available_to_the_other_pages():
    at = _run(_palettes_page)
    at.file_uploader(key="pal_upload").set_value(("greys.toml", GOOD_PALETTE, "application/toml")).run()
    assert not at.exception
    assert any("test-greys" in s.value for s in at.success)
    assert "test-greys" in at.session_state["user_palettes"]


def test_comparing_a_palette_with_itself_finds_every_entry_at_zero():
    palette = get_palette(DEFAULT_PIGMENT_PALETTE)
    rows = compare_palettes(palette, palette)
    assert len(rows) == len(palette)
    assert all(row["ΔE00"] == 0 for row in rows)
    assert [row["nearest"] for row in rows] == [f"{e.id} · {e.name}" for e in palette.entries]


# --- drawing a rectangle ----------------------------------------------------------------------


def test_a_drag_on_a_half_size_display_maps_to_photo_pixels():
    drag = {"x1": 300, "y1": 200, "x2": 100, "y2": 50, "width": 450, "height": 300}
    assert drag_to_rect(drag, (900, 600)) == (200, 100, 400, 300)


def test_a_drag_past_the_image_edge_is_clipped_and_a_click_is_ignored():
    drag = {"x1": 400, "y1": 250, "x2": 600, "y2": 400, "width": 450, "height": 300}
    assert drag_to_rect(drag, (900, 600)) == (800, 500, 100, 100)
    click = {"x1": 10, "y1": 10, "x2": 10, "y2": 10, "width": 450, "height": 300}
    assert drag_to_rect(click, (900, 600)) is None
    assert drag_to_rect({"x": 3, "y": 4, "width": 10, "height": 10}, (900, 600)) is None
