"""Tests of shade_match.palette_builder on a rendered photo of a swatch card.

The scene is rendered here from known colours: a white card with a grid of swatches
of known CIELAB, a 24-patch ColorChecker Classic with the X-Rite 2014 sRGB values of
``shared/reference/srgb_lab_reference.tsv`` (so OpenCV's ``cv2.mcc`` detector finds
it), a warm cast applied in linear light, Gaussian noise and a JPEG round trip.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from shade_match import colour
from shade_match.errors import AnalysisError, SettingsError
from shade_match.palette import load_palette
from shade_match.palette_builder import (
    add_palettes_build_parser,
    build_palette_from_photo,
    write_palette_toml,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "srgb_lab_reference.tsv"
if not REFERENCE.exists():  # the repository may sit elsewhere than /work/main
    REFERENCE = Path("/work/shared/reference/srgb_lab_reference.tsv")

GRID = (3, 4)
# A carbon-like grey ramp (slightly cool, R7) and four coloured swatches.
SWATCH_LABS = [
    (18, 0, -1), (25, 0.5, -1.5), (33, 1, -2), (41, 1, -2),
    (49, 1.5, -1), (57, 1, 0), (64, 1, 1), (70, 0.5, 1.5),
    (38, 12, 18), (55, 8, 20), (30, -3, -8), (45, 5, 5),
]  # fmt: skip
NAMES = ["neat", "2:1", "4:1", "6:1", "8:1", "10:1", "15:1", "20:1", "brown", "tan", "blue-grey", "warm grey"]
WARM_CAST = (1.0, 0.8, 0.55)  # linear RGB gains of a tungsten-like light vs D65


def colorchecker_srgb8() -> np.ndarray:
    lines = [line for line in REFERENCE.read_text().splitlines() if not line.startswith("#")]
    rows = list(csv.reader(lines, delimiter="\t"))
    header = rows[0]
    r, g, b = header.index("R8"), header.index("G8"), header.index("B8")
    patches = [row for row in rows[1:] if row[0].startswith("cc")]
    assert len(patches) == 24
    return np.array([[int(p[r]), int(p[g]), int(p[b])] for p in patches], np.uint8)


GREY_CARD_BOX = (760, 680, 200, 150)  # x, y, w, h of the 18 % grey card when drawn


def render_card(
    *, cast=WARM_CAST, exposure=0.9, noise=2.0, jpeg=90, seed=0, chart=True, card_white=0.82, grey_card=False
):
    """JPEG bytes of the scene and the swatch grid's box (x, y, w, h)."""
    rng = np.random.default_rng(seed)
    width, height = 1200, 900
    table = colour.srgb_to_linear(np.array([0.45, 0.40, 0.35]))
    reflectance = np.empty((height, width, 3), np.float32)
    reflectance[:] = table * (1 + 0.05 * rng.standard_normal((height, width, 1)))
    rows, cols = GRID
    card_x, card_y, card_w, card_h, swatch = 60, 120, 560, 420, 90
    reflectance[card_y : card_y + card_h, card_x : card_x + card_w] = card_white
    gap_x = (card_w - cols * swatch) / (cols + 1)
    gap_y = (card_h - rows * swatch) / (rows + 1)
    swatch_linear = colour.srgb_to_linear(colour.lab_to_srgb(np.asarray(SWATCH_LABS, float)))
    corners = []
    for index, linear in enumerate(swatch_linear):
        r, c = divmod(index, cols)
        x = int(card_x + gap_x + c * (swatch + gap_x))
        y = int(card_y + gap_y + r * (swatch + gap_y))
        reflectance[y : y + swatch, x : x + swatch] = linear
        corners.append((x, y))
    box = (corners[0][0], corners[0][1], corners[-1][0] + swatch - corners[0][0], corners[-1][1] + swatch - corners[0][1])
    if chart:
        patch, gap, border = 64, 16, 22  # proportions of the real chart (gap ¼, border ⅓ patch)
        chart_w, chart_h = 6 * patch + 5 * gap + 2 * border, 4 * patch + 3 * gap + 2 * border
        body = np.full((chart_h, chart_w, 3), 0.03, np.float32)
        for index, linear in enumerate(colour.srgb_to_linear(colorchecker_srgb8() / 255.0)):
            r, c = divmod(index, 6)
            y, x = border + r * (patch + gap), border + c * (patch + gap)
            body[y : y + patch, x : x + patch] = linear
        reflectance[250 : 250 + chart_h, 680 : 680 + chart_w] = body
    if grey_card:
        x, y, w, h = GREY_CARD_BOX
        reflectance[y : y + h, x : x + w] = 0.18  # Kodak R-27 style 18 % neutral card
    camera = reflectance * np.float32(cast) * np.float32(exposure)
    encoded = colour.linear_to_srgb(np.clip(camera, 0, 1)) * 255 + rng.normal(0, noise, camera.shape)
    rgb8 = np.clip(np.rint(encoded), 0, 255).astype(np.uint8)
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(rgb8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, jpeg])
    assert ok
    return buffer.tobytes(), box


def errors_of(palette) -> list[float]:
    return [float(colour.delta_e(entry.lab, truth)) for entry, truth in zip(palette.entries, SWATCH_LABS)]


@pytest.fixture(scope="module")
def card():
    return render_card()


@pytest.fixture(scope="module")
def built(card):
    data, box = card
    return build_palette_from_photo(data, grid=GRID, names=NAMES, card_box=box, correction="chart",
                                    palette_name="test-card")  # fmt: skip


def test_chart_corrected_colours_match_truth(built):
    errors = errors_of(built)
    assert np.median(errors) <= 2.0, errors
    assert max(errors) <= 4.0, errors


def test_the_cast_is_what_the_correction_removes(card):
    data, box = card
    uncorrected = build_palette_from_photo(data, grid=GRID, card_box=box, correction="none")
    assert np.median(errors_of(uncorrected)) > 5.0  # the warm cast is large without correction


def test_swatch_grid_is_found_on_white_card(card):
    data, _ = card
    palette = build_palette_from_photo(data, grid=GRID, correction="chart")
    assert np.median(errors_of(palette)) <= 2.0


def test_provenance_records_photo_hash_and_correction(card, built):
    data, _ = card
    assert built.provenance["source"] == f"photo sha256:{hashlib.sha256(data).hexdigest()}"
    assert "chart" in built.provenance["method"] and "residual mean ΔE00" in built.provenance["method"]
    assert built.provenance["illuminant"] == "D65" and built.kind == "pigment"
    assert built.provenance["illustrative"] is False


def test_names_set_ids_and_dilutions(built):
    by_name = {entry.name: entry for entry in built.entries}
    assert by_name["neat"].dilution == 0 and by_name["10:1"].dilution == 10
    assert by_name["brown"].dilution is None
    assert len({entry.id for entry in built.entries}) == len(NAMES)


def test_toml_round_trip(tmp_path, built):
    path = write_palette_toml(built, tmp_path / "test-card.toml")
    loaded = load_palette(path)
    assert loaded.name == "test-card" and loaded.kind == "pigment"
    assert [e.id for e in loaded.entries] == [e.id for e in built.entries]
    for a, b in zip(loaded.entries, built.entries):
        assert a.lab == pytest.approx(b.lab, abs=0.006) and a.dilution == b.dilution and a.notes == b.notes
    assert loaded.provenance["source"] == built.provenance["source"]
    assert loaded.provenance["method"] == built.provenance["method"]


def test_path_and_file_object_inputs_agree(tmp_path, card, built):
    data, box = card
    photo = tmp_path / "card.jpg"
    photo.write_bytes(data)
    from_path = build_palette_from_photo(photo, grid=GRID, card_box=box, correction="chart")
    from_file = build_palette_from_photo(io.BytesIO(data), grid=GRID, card_box=box, correction="chart")
    assert [e.lab for e in from_path.entries] == [e.lab for e in built.entries]
    assert [e.lab for e in from_file.entries] == [e.lab for e in built.entries]


def test_grey_card_corrected_colours_match_truth():
    data, box = render_card(chart=False, grey_card=True)
    palette = build_palette_from_photo(data, grid=GRID, card_box=box, correction="grey-card", grey_card=GREY_CARD_BOX)
    assert "grey-card" in palette.provenance["method"]
    assert np.median(errors_of(palette)) <= 2.0, errors_of(palette)


def test_chart_correction_without_chart_raises():
    data, box = render_card(chart=False)
    with pytest.raises(AnalysisError, match="correction 'chart'"):
        build_palette_from_photo(data, grid=GRID, card_box=box, correction="chart")


def test_no_white_card_asks_for_a_box():
    data, _ = render_card(card_white=0.3)  # grey card stock: not paper-white
    with pytest.raises(AnalysisError, match="card_box"):
        build_palette_from_photo(data, grid=GRID, correction="chart")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(grid=(3, 4), names=["a", "b"]), "one non-empty name per swatch"),
        (dict(grid=(0, 4)), "rows, cols"),
        (dict(grid="3x4"), "grid"),
        (dict(grid=(3, 4), correction="magic"), "correction"),
        (dict(grid=(3, 4), card_box=(1150, 10, 200, 200)), "inside the photo"),
        (dict(grid=(3, 4), palette_name="My Card"), "slug"),
    ],
)
def test_bad_settings_raise(card, kwargs, match):
    data, _ = card
    with pytest.raises(SettingsError, match=match):
        build_palette_from_photo(data, **kwargs)


def test_write_requires_matching_file_name(tmp_path, built):
    with pytest.raises(SettingsError, match="test-card.toml"):
        write_palette_toml(built, tmp_path / "other.toml")


def cli(argv):
    parser = argparse.ArgumentParser(prog="shade-match palettes")
    add_palettes_build_parser(parser.add_subparsers(dest="action", required=True))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    return args.func(args, out, err), out.getvalue(), err.getvalue()


def test_cli_writes_a_loadable_palette(tmp_path, card):
    data, box = card
    photo = tmp_path / "card.jpg"
    photo.write_bytes(data)
    out_file = tmp_path / "clinic-carbon.toml"
    code, out, err = cli([
        "build", str(photo), "--grid", "3x4", "--names", ",".join(NAMES), "--out", str(out_file),
        "--card-box", ",".join(map(str, box)), "--correction", "chart", "--measured-by", "test",
    ])  # fmt: skip
    assert code == 0, err
    assert "12 swatches" in out
    palette = load_palette(out_file)
    assert palette.name == "clinic-carbon" and palette.provenance["measured_by"] == "test"
    assert np.median(errors_of(palette)) <= 2.0


def test_cli_usage_errors(tmp_path, card):
    data, _ = card
    photo = tmp_path / "card.jpg"
    photo.write_bytes(data)
    code, _, err = cli(["build", str(photo), "--grid", "3x4", "--names", "a,b", "--out", str(tmp_path / "x.toml")])
    assert code == 2 and "name per swatch" in err
    with pytest.raises(SystemExit):
        cli(["build", str(photo), "--grid", "three", "--out", "x.toml"])
    code, _, err = cli(["build", str(tmp_path / "missing.jpg"), "--grid", "3x4", "--out", str(tmp_path / "x.toml")])
    assert code in (1, 2) and "missing.jpg" in err
