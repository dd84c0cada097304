"""The command line, called as ``main(argv)`` (and once as a real subprocess)."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from shade_match.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "sample_images").glob("*.jpg"))


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_samples_are_shipped():
    assert len(SAMPLES) >= 3


def test_analyze_json_one_line_per_image_and_bad_file_does_not_stop_the_rest(tmp_path):
    bad = tmp_path / "not-a-photo.jpg"
    bad.write_text("this is text, not a JPEG")
    images = [str(SAMPLES[0]), str(bad), str(SAMPLES[1])]
    code, out, _ = run(["analyze", *images, "--json"])
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["file"] for r in records] == images
    assert [r["ok"] for r in records] == [True, False, True]
    failed = records[1]
    assert failed["error_type"] == "NotAnImageError"
    assert "not-a-photo.jpg" in failed["error"]
    for r in (records[0], records[2]):
        assert r["skin"] is not None or r["hair"] is not None
        if r["hair"] is not None:
            assert len(r["matches"]) == 3
            deltas = [m["delta_e"] for m in r["matches"]]
            assert deltas == sorted(deltas)


def test_analyze_all_good_exits_zero_and_text_output():
    code, out, _ = run(["analyze", str(SAMPLES[0]), "--top", "2"])
    assert code == 0
    assert SAMPLES[0].name in out and "skin" in out


def test_overlay_written(tmp_path):
    code, _, _ = run(["analyze", str(SAMPLES[0]), "--overlay", str(tmp_path / "ov"), "--json"])
    assert code == 0
    assert list((tmp_path / "ov").glob("*.png"))


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze"],
        ["analyze", "x.jpg", "--top", "zero"],
        ["analyze", "x.jpg", "--grey-card", "1,2,3"],
        ["analyze", "x.jpg", "--correction", "magic"],
        ["no-such-command"],
    ],
)
def test_usage_errors_exit_2(argv):
    code, _, _ = run(argv)
    assert code == 2


def test_unknown_palette_is_a_usage_error():
    code, _, err = run(["analyze", str(SAMPLES[0]), "--palette", "no-such-palette"])
    assert code == 2
    assert "no-such-palette" in err


def test_palettes_list_show_validate(tmp_path):
    code, out, _ = run(["palettes", "list"])
    assert code == 0 and "smp-carbon-dilution" in out
    code, out, _ = run(["palettes", "show", "monk-skin-tone"])
    assert code == 0 and "#f6ede4" in out.lower()
    bad = tmp_path / "bad.toml"
    bad.write_text('[palette]\nname = "bad"\n[[entries]]\nid = "a"\nname = "A"\nhex = "#zzzzzz"\n')
    code, out, _ = run(["palettes", "validate", str(bad), str(REPO / "palettes" / "monk-skin-tone.toml")])
    assert code == 1
    assert "INVALID" in out and "hex" in out and "ok" in out


def test_python_dash_m_works():
    result = subprocess.run(
        [sys.executable, "-m", "shade_match", "analyze", str(SAMPLES[0]), "--json"],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["ok"] is True


def test_batch_and_report_are_wired_into_the_main_command(tmp_path):
    out = tmp_path / "results.jsonl"
    code, _, _ = run(["batch", str(SAMPLES[0]), str(SAMPLES[1]), "--out", str(out), "--workers", "1"])
    assert code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2 and all(r["ok"] for r in records)
    # an existing output without --resume is refused (never overwrite a clinic's results)
    code, _, _ = run(["batch", str(SAMPLES[0]), "--out", str(out), "--workers", "1"])
    assert code == 2
    html = tmp_path / "report.html"
    code, _, _ = run(["report", str(out), "--html", str(html)])
    assert code == 0 and "<html" in html.read_text().lower()


def test_a_blank_photo_is_an_ok_false_line_with_a_reason(tmp_path):
    import numpy as np
    import cv2

    blank = tmp_path / "black.png"
    cv2.imwrite(str(blank), np.zeros((200, 200, 3), np.uint8))
    code, out, _ = run(["analyze", str(blank), "--json"])
    record = json.loads(out.splitlines()[0])
    assert code == 1 and record["ok"] is False
    assert record["error_type"] == "AnalysisError"
    assert "expected a photo showing scalp skin or hair" in record["error"]
