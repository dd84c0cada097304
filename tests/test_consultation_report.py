"""The one-page consultation report (shade_match.consultation_report).

The analysis here is built from real numbers: tones converted by shade_match.colour,
classes from shade_match.scales, matches from shade_match.matching against the shipped
palette, and a real plan from shade_match.recommend. The report must show each of
them, embed the images so they decode back to what was given, escape text, and load
nothing from the network.
"""

from __future__ import annotations

import base64
import html
import io
import re
from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from shade_match import colour, scales
from shade_match.consultation_report import REPORT_IMAGE_MAX_SIDE, consultation_report_html
from shade_match.errors import InputError
from shade_match.matching import nearest_matches
from shade_match.palette import DEFAULT_PIGMENT_PALETTE, get_palette
from shade_match.recommend import recommend, recommendation_to_dict
from shade_match.results import Analysis, CorrectionInfo, HairTone, ImageInfo, SkinTone

WHEN = datetime(2026, 3, 14, 9, 26)
DATA_URL = re.compile(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"')


def _analysis(file: str = "client-back.jpg", warnings=("Low resolution: 300×300 px.",)) -> Analysis:
    hair_lab = tuple(float(v) for v in colour.hex_to_lab("#3b3024"))  # "Dark Brown" (research note)
    skin_lab = tuple(float(v) for v in colour.hex_to_lab("#c69c82"))
    ita = float(colour.ita_deg(np.asarray(skin_lab)))
    palette = get_palette(DEFAULT_PIGMENT_PALETTE)
    return Analysis(
        file=file,
        image=ImageInfo(width=4000, height=3000, working_width=1600, working_height=1200, format="JPEG"),
        correction=CorrectionInfo(method="auto"),
        hair=HairTone(
            lab=hair_lab, hex=colour.lab_to_hex(hair_lab), level=scales.hair_level(hair_lab),
            grey_fraction=0.12, coverage=0.4, confidence=0.8,
        ),
        skin=SkinTone(
            lab=skin_lab, hex=colour.lab_to_hex(skin_lab), ita_deg=ita, ita_class=scales.ita_class(ita),
            monk=scales.nearest_monk(skin_lab), fitzpatrick=scales.fitzpatrick_from_ita(ita),
            undertone=scales.undertone(skin_lab), confidence=0.7,
        ),
        matches=nearest_matches(hair_lab, palette, k=3),
        warnings=tuple(warnings),
    )


def _flat(rgb, size=(120, 160)) -> np.ndarray:
    return np.full((*size, 3), rgb, dtype=np.uint8)


def _embedded_images(page: str) -> list[np.ndarray]:
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(b)))) for b in DATA_URL.findall(page)]


def test_report_shows_every_measured_number_and_match():
    analysis = _analysis()
    page = consultation_report_html(analysis, photo_rgb=_flat((90, 70, 60)), generated_at=WHEN)
    assert page.startswith("<!DOCTYPE html>")
    assert "2026-03-14 09:26" in page
    assert analysis.hair.hex in page and analysis.skin.hex in page
    assert f"Level {analysis.hair.level}" in page
    assert f"Monk skin tone {analysis.skin.monk}" in page
    assert f"Fitzpatrick {analysis.skin.fitzpatrick}" in page
    assert analysis.skin.ita_class.capitalize() in page
    assert len(analysis.matches) == 3
    for match in analysis.matches:
        assert html.escape(match.name) in page
        assert f"<td>{match.delta_e:.2f}</td>" in page
        assert scales.delta_e_reading(match.delta_e) in page
    assert "Low resolution: 300×300 px." in page


def test_embedded_photo_and_overlay_decode_back_to_the_given_images():
    photo, overlay = _flat((200, 40, 30)), _flat((10, 220, 90))
    page = consultation_report_html(_analysis(), photo_rgb=photo, overlay_rgb=overlay, generated_at=WHEN)
    images = _embedded_images(page)
    assert len(images) == 2
    for decoded, given in zip(images, (photo, overlay)):
        assert decoded.shape == given.shape
        # JPEG of a flat patch: every pixel within a couple of code values of the original.
        assert np.abs(decoded.astype(int) - given.astype(int)).max() <= 3


def test_large_photo_is_embedded_at_most_the_report_size_keeping_its_aspect():
    photo = _flat((128, 128, 128), size=(1500, 3000))
    page = consultation_report_html(_analysis(), photo_rgb=photo, generated_at=WHEN)
    (decoded,) = _embedded_images(page)
    assert decoded.shape[1] == REPORT_IMAGE_MAX_SIDE
    assert decoded.shape[0] == REPORT_IMAGE_MAX_SIDE // 2


def test_text_is_escaped_and_nothing_is_loaded_from_the_network():
    hostile = '<script>alert("x")</script>.jpg'
    page = consultation_report_html(
        _analysis(file=hostile, warnings=("<b>bold</b> & more",)),
        photo_rgb=_flat((1, 2, 3)),
        title="<i>t</i>",
        notes="<img src=x>",
        generated_at=WHEN,
    )
    assert "<script>" not in page and "<img src=x>" not in page and "<b>bold</b>" not in page
    assert html.escape(hostile) in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)


def test_missing_hair_and_skin_are_said_in_words():
    analysis = _analysis()
    bald = Analysis(
        file=analysis.file, image=analysis.image, correction=analysis.correction,
        hair=None, skin=None, matches=(), warnings=(),
    )
    page = consultation_report_html(bald, photo_rgb=_flat((1, 2, 3)), generated_at=WHEN)
    assert "Not measured (no hair in view)" in page
    assert "Not measured (no bare skin found)" in page
    assert "No pigment matches" in page
    assert "Warnings" not in page


def test_treatment_plan_is_printed_with_each_session():
    analysis = _analysis()
    palette = get_palette(DEFAULT_PIGMENT_PALETTE)
    plan = recommend(analysis, palette)
    with_plan = Analysis(**{**analysis.__dict__, "recommendation": recommendation_to_dict(plan)})
    page = consultation_report_html(with_plan, photo_rgb=_flat((1, 2, 3)), generated_at=WHEN)
    assert "Treatment plan" in page
    assert f"Target shade: {html.escape(plan.target.name)}" in page
    for step in plan.sessions:
        assert html.escape(step.reasoning) in page
        assert step.hex in page


@pytest.mark.parametrize(
    "photo, expected",
    [
        (np.zeros((10, 10), dtype=np.uint8), r"\(10, 10\)"),
        (np.zeros((10, 10, 3), dtype=np.float32), "float32"),
        (np.zeros((10, 10, 4), dtype=np.uint8), r"\(10, 10, 4\)"),
    ],
)
def test_bad_images_raise_input_error_naming_what_was_received(photo, expected):
    with pytest.raises(InputError, match=expected):
        consultation_report_html(_analysis(), photo_rgb=photo)


def test_not_an_analysis_raises_input_error():
    with pytest.raises(InputError, match="Analysis or an Inspection; got dict"):
        consultation_report_html({"file": "x"}, photo_rgb=_flat((1, 2, 3)))
