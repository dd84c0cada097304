"""The JSON contract: keys, types and round-trip through JSON."""

import json
import math

import pytest

from shade_match.report import CONTRACT_KEYS, analysis_to_dict, failure_to_dict, to_json_line
from shade_match.results import Analysis, CorrectionInfo, HairTone, ImageInfo, Match, SkinTone
from shade_match.errors import TruncatedImageError


def _analysis(hair=True):
    return Analysis(
        file="a.jpg",
        image=ImageInfo(width=4000, height=3000, working_width=1600, working_height=1200, format="JPEG"),
        correction=CorrectionInfo(method="grey-card", details={"gains": (1.1, 1.0, 0.9), "requested": "auto"}),
        hair=HairTone(
            lab=(22.5, 2.25, 4.125), hex="#3a312a", level=2, grey_fraction=0.1, coverage=0.35, confidence=0.8
        )
        if hair
        else None,
        skin=SkinTone(
            lab=(65.0, 12.0, 18.0), hex="#c8977f", ita_deg=39.8, ita_class="intermediate", monk=5,
            fitzpatrick="III", undertone="warm", confidence=0.9,
        ),
        matches=(Match(palette="p", id="x", name="X", lab=(20.0, 0.0, 0.0), delta_e=3.21234567),),
        warnings=("Grey or white hair",),
    )


def test_contract_keys_and_types():
    record = analysis_to_dict(_analysis())
    assert tuple(record)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert record["ok"] is True and record["error"] is None
    assert set(record["image"]) >= {"width", "height", "working_width", "working_height"}
    assert record["correction"]["method"] == "grey-card"
    assert record["correction"]["details"]["gains"] == [1.1, 1.0, 0.9]
    hair = record["hair"]
    assert set(hair) >= {"lab", "hex", "level", "grey_fraction", "coverage", "confidence"}
    assert hair["lab"] == [22.5, 2.25, 4.125]
    skin = record["skin"]
    assert set(skin) >= {"lab", "hex", "ita_deg", "ita_class", "monk", "fitzpatrick", "undertone", "confidence"}
    match = record["matches"][0]
    assert set(match) >= {"palette", "id", "name", "lab", "delta_e"}
    assert match["delta_e"] == pytest.approx(3.2123, abs=1e-4)
    assert json.loads(to_json_line(record)) == record


def test_no_hair_is_null():
    record = analysis_to_dict(_analysis(hair=False))
    assert record["hair"] is None
    assert json.loads(to_json_line(record))["hair"] is None


def test_failure_record():
    exc = TruncatedImageError("b.jpg", "JPEG data ends early")
    record = failure_to_dict("b.jpg", exc)
    assert tuple(record)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert record["ok"] is False
    assert record["error"] == "b.jpg: JPEG data ends early"
    assert record["error_type"] == "TruncatedImageError"
    assert record["hair"] is None and record["matches"] == []


def test_json_line_has_no_nan_and_one_line():
    record = analysis_to_dict(_analysis())
    record["extra"] = {"value": math.nan, "name": "ünïcode\nname"}
    line = to_json_line(record)
    assert "\n" not in line
    assert json.loads(line)["extra"]["value"] is None
