"""Tests of shade_match.batch_report: the HTML contact sheet, SVG charts, CSV and Parquet."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from imagegen import make_jpeg, make_text_file
from shade_match.batch import CSV_COLUMNS, run_batch
from shade_match.batch_report import (
    THUMBNAIL_SIDE,
    load_records,
    main,
    render_html,
    svg_bar_chart,
    write_parquet,
)
from shade_match.errors import InputError, SettingsError
from shade_match.synthetic import random_spec, render_scalp_photo

HOSTILE_NAME = '<img src=x onerror=alert(1)>&"q".jpg'


@pytest.fixture(scope="module")
def batch_output(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("report-in")
    for seed in range(3):
        rgb = render_scalp_photo(random_spec(seed, condition="neutral", size=(480, 360))).rgb
        make_jpeg(folder / f"client_{seed}.jpg", rgb)
    make_jpeg(folder / HOSTILE_NAME, render_scalp_photo(random_spec(7, condition="neutral", size=(480, 360))).rgb)
    make_text_file(folder / "broken.jpg")
    out = folder.parent / "results.jsonl"
    run_batch([folder], out=out, workers=2)
    return folder, out


def test_svg_chart_is_wellformed_and_proportional():
    svg = svg_bar_chart([("a & <b>", 4), ("c", 2), ("d", 0)], title="T <x>")
    root = ET.fromstring(svg)  # well-formed XML: every label escaped
    ns = "{http://www.w3.org/2000/svg}"
    widths = [float(r.get("width")) for r in root.iter(f"{ns}rect")]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    texts = "".join(root.itertext())
    assert "a & <b>" in texts and "T <x>" in texts


def test_html_is_self_contained_escaped_and_counts_match(batch_output):
    folder, out = batch_output
    records = load_records(out)
    page = render_html(records, source=str(out))
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert HOSTILE_NAME not in page and "onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;q&quot;.jpg" in page

    ok = [r for r in records if r["ok"]]
    thumbnails = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(thumbnails) == len(ok)
    with Image.open(io.BytesIO(base64.b64decode(thumbnails[0]))) as image:
        assert max(image.size) <= THUMBNAIL_SIDE

    # Every SVG chart parses, and the ITA° chart counts what the records say.
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(svgs) == 3
    ita_svg = ET.fromstring(svgs[0])
    ns = "{http://www.w3.org/2000/svg}"
    numbers = [t.text for t in ita_svg.iter(f"{ns}text") if t.text and t.text.isdigit()]
    expected = Counter(r["skin"]["ita_class"] for r in records if r.get("skin"))
    assert sorted(int(n) for n in numbers) == sorted(expected.values())
    assert "NotAnImageError" in page


def test_thumbnail_is_withheld_for_changed_or_missing_originals(batch_output, tmp_path):
    folder, out = batch_output
    records = load_records(out)
    changed = [dict(r) for r in records]
    first_ok, second_ok = [i for i, r in enumerate(records) if r["ok"]][:2]
    changed[first_ok]["sha256"] = hashlib.sha256(b"other bytes").hexdigest()
    changed[second_ok]["file"] = str(tmp_path / "moved-away.jpg")
    page = render_html(changed)
    assert "changed since the analysis" in page and "no longer at this path" in page
    assert page.count("data:image/jpeg;base64,") == sum(1 for r in records if r["ok"]) - 2


def test_report_cli_writes_html_csv_parquet(batch_output, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    folder, out = batch_output
    html_path, csv_path, parquet_path = tmp_path / "r.html", tmp_path / "r.csv", tmp_path / "r.parquet"
    code = main([str(out), "--html", str(html_path), "--csv", str(csv_path), "--parquet", str(parquet_path)])
    assert code == 0
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    records = load_records(out)
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["file"] for row in rows] == [r["file"] for r in records]
    table = pq.read_table(parquet_path)
    assert tuple(table.column_names) == CSV_COLUMNS
    assert table.column("file").to_pylist() == [r["file"] for r in records]
    assert table.column("ok").to_pylist() == [r["ok"] for r in records]
    hair_l = table.column("hair_L").to_pylist()
    for value, record in zip(hair_l, records):
        if record.get("hair"):
            assert value == pytest.approx(record["hair"]["lab"][0])
        else:
            assert value is None


def test_parquet_without_pyarrow_is_a_clear_error(batch_output, tmp_path, monkeypatch):
    folder, out = batch_output
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(SettingsError, match="pip install pyarrow"):
        write_parquet(load_records(out), tmp_path / "x.parquet")
    assert main([str(out), "--parquet", str(tmp_path / "x.parquet")]) == 2


def test_report_usage_errors(tmp_path):
    assert main([str(tmp_path / "missing.jsonl"), "--html", str(tmp_path / "r.html")]) == 2
    (tmp_path / "x.jsonl").write_text("hello\n")
    assert main([str(tmp_path / "x.jsonl"), "--csv", str(tmp_path / "r.csv")]) == 2
    assert main([str(tmp_path / "x.jsonl")]) == 2
    with pytest.raises(InputError):
        load_records(tmp_path / "missing.jsonl")
