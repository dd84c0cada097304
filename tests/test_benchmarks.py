"""The benchmark scripts still run: each is started as a user would start it, on a
tiny workload, and must exit 0 and print its report.

These check that the scripts work (a refactor once broke ``illuminant.py`` without any
test noticing), not what they measure: their numbers are in the README and the
closing notes, and timings are never asserted.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL_PHOTOS = ROOT.parent / "shared" / "real_photos" / "hair-loss-train"


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args[0]} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def test_illuminant_benchmark_runs_with_the_refined_estimate_and_the_sweep():
    out = _run("benchmarks/illuminant.py", "--n", "2", "--seeds", "0", "--sweep", "--refined")
    assert "warn recall (>1000 K off D65)" in out
    assert "false cast warnings" in out
    assert "warning trade-off, seed 0" in out


def test_matching_and_decode_benchmarks_run():
    assert "top-3 CIEDE2000" in _run("benchmarks/matching.py", "--entries", "200", "--repeats", "1")
    assert "load_image" in _run("benchmarks/decode.py", "--repeats", "1")


def test_batch_benchmark_runs_without_failures():
    out = _run("benchmarks/batch.py", "--n", "2", "--mp", "0.3", "--workers", "1", "--memory-n", "0")
    row = next(line for line in out.splitlines() if line.startswith("| shade-match | 1 |"))
    assert row.rstrip(" |").endswith("0"), row  # the "failed" column


def test_speed_benchmark_runs():
    out = _run("benchmarks/speed.py", "--runs", "1")
    assert "(c)/(a)" in out and "segmentation" in out


@pytest.mark.skipif(not REAL_PHOTOS.is_dir(), reason="shared/real_photos is not beside the checkout")
def test_real_photo_benchmark_runs_on_a_few_photos():
    out = _run("benchmarks/real_photos.py", "--limit", "4", "--workers", "1")
    assert "Crashes:          0 unexpected exceptions" in out
    assert "corrected differently (method, or a gain > 4% apart)" in out
    assert "Resized copies" in out and "unexpected exceptions: 0" in out


def _benchmark(script: str):
    """benchmarks/<script>.py imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location(f"{script}_benchmark", ROOT / "benchmarks" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _real_photos_benchmark():
    return _benchmark("real_photos")


def test_real_photo_benchmark_tells_copies_corrected_differently():
    # Its split of the rotated pairs: a no-reference estimate applied in one copy and
    # not the other, or a "card" found in one copy only, is a different correction;
    # gains a few per cent apart are not.
    module = _real_photos_benchmark()
    photo = dict(name="a.jpg", dataset="hair-loss", view="Back", seconds=0.1)
    kept = module.PhotoResult(**photo, correction_method="auto", correction_gains=(1.0, 1.0, 1.0))
    applied = module.PhotoResult(**photo, correction_method="auto", correction_gains=(0.72, 1.08, 1.73))
    nearly = module.PhotoResult(**photo, correction_method="auto", correction_gains=(1.03, 1.0, 0.98))
    card = module.PhotoResult(**photo, correction_method="grey-card", correction_gains=(1.0, 1.0, 1.0))
    chart = module.PhotoResult(**photo, correction_method="chart", correction_gains=None)
    assert module.corrected_differently(kept, applied) and module.corrected_differently(applied, kept)
    assert not module.corrected_differently(kept, nearly)
    assert module.corrected_differently(kept, card)
    assert not module.corrected_differently(chart, chart)


def test_real_photo_benchmark_compares_resized_copies_with_their_full_size_photo():
    # Item 6: each "<name>@<scale>" result is compared with the full-size "<name>";
    # a tone found in one and not the other is a presence disagreement, and a copy
    # whose photo failed (or is missing) is left out.
    module = _real_photos_benchmark()
    common = dict(dataset="hair-loss", view="Back", seconds=0.1, correction_method="auto",
                  correction_gains=(1.0, 1.0, 1.0))  # fmt: skip
    full = module.PhotoResult(name="a.jpg", hair_lab=(30.0, 5.0, 8.0), skin_lab=(60.0, 12.0, 18.0), **common)
    same = module.PhotoResult(name="a.jpg@0.75", hair_lab=(30.0, 5.0, 8.0), skin_lab=(60.0, 12.0, 18.0), **common)
    bald = module.PhotoResult(name="a.jpg@0.5", hair_lab=None, skin_lab=(66.0, 12.0, 18.0), **common)
    orphan = module.PhotoResult(name="b.jpg@0.5", hair_lab=None, skin_lab=(66.0, 12.0, 18.0), **common)
    found = module.compare_resized([same, bald, orphan], {"a.jpg": full})
    assert [(a.name, a.scale) for a in found] == [("a.jpg", 0.75), ("a.jpg", 0.5)]
    assert found[0].hair_delta_e == 0.0 and found[0].skin_delta_e == 0.0
    assert not found[0].hair_presence_differs and not found[0].correction_differs
    assert found[1].hair_delta_e is None and found[1].hair_presence_differs
    # Only L* differs (60 → 66): CIEDE2000 is ΔL* / S_L, S_L = 1 + 0.015 (L̄ − 50)² /
    # √(20 + (L̄ − 50)²) with L̄ = 63 (Sharma et al. 2005, eq. 10).
    s_l = 1 + 0.015 * 13**2 / (20 + 13**2) ** 0.5
    assert found[1].skin_delta_e == pytest.approx(6.0 / s_l, abs=1e-6)


def _hand_labelled_benchmark():
    return _benchmark("hand_labelled")


HAND_LABEL_KINDS = {
    "hair_kind": {"black", "dark-brown", "brown", "light-brown-blond", "grey", "white", "salt-and-pepper", "none"},
    "skin_kind": {"very-light", "light", "medium", "tan", "brown", "dark", "none"},
}


def test_hand_labels_are_boxes_inside_the_photos_of_the_sample_described():
    # The file says: 120 photos, 24 per view, boxes of at least 12×12 px inside the
    # 640×640 frame, kinds from the protocol's lists; the second opinion is on 20 of them.
    import json
    import re

    document = json.loads((ROOT / "benchmarks" / "hand_labels.json").read_text(encoding="utf-8"))
    photos = document["photos"]
    assert len(photos) == 120 and "protocol" in document and "sample" in document
    views = [re.match(r"\d+-?(Top-Down|Front|Back|Left|Right)_jpg", name).group(1) for name in photos]
    assert sorted(views.count(v) for v in set(views)) == [24] * 5
    second = document["second_opinion"]["photos"]
    assert len(second) == 20 and set(second) <= set(photos)
    for name, label in list(photos.items()) + list(second.items()):
        for tone in ("hair", "skin"):
            for box in label[tone]:
                x, y, w, h = box
                assert all(isinstance(v, int) for v in box), (name, box)
                assert w >= 12 and h >= 12 and x >= 0 and y >= 0 and x + w <= 640 and y + h <= 640, (name, box)
        for field, allowed in HAND_LABEL_KINDS.items():
            assert label[field] in allowed, (name, field, label[field])
    if REAL_PHOTOS.is_dir():
        assert all((REAL_PHOTOS / name).is_file() for name in photos)


def test_hand_label_truth_is_read_inside_the_boxes_at_the_working_scale():
    # Left half red, right half blue: a box on the right half reads blue; a box given
    # in photo pixels of a photo analysed at half size is halved, and so lands on the
    # red half (x 40–56 of the photo is x 20–28 of the working image).
    from skimage.color import rgb2lab

    module = _hand_labelled_benchmark()
    image = np.zeros((40, 60, 3), np.uint8)
    image[:, :30] = (200, 30, 30)
    image[:, 30:] = (30, 30, 200)
    blue = rgb2lab(np.array([[[30, 30, 200]]], np.uint8))[0, 0]
    box = [[40, 10, 16, 20]]
    assert np.allclose(module._box_lab(image, module._box_mask(image.shape[:2], [[35, 5, 20, 20]], 1.0)), blue)
    mask = module._box_mask(image.shape[:2], box, 0.5)
    assert mask.sum() == 8 * 10 and mask[5:15, 20:28].all()
    red = rgb2lab(np.array([[[200, 30, 30]]], np.uint8))[0, 0]
    assert np.allclose(module._box_lab(image, mask), red)
    assert module._box_lab(image, module._box_mask(image.shape[:2], [], 1.0)) is None


def test_hand_label_boxes_are_placed_in_the_masks_they_fall_in():
    # A 10×10 frame: scalp on the left 8 columns, hair on columns 0–3, skin on 5–7,
    # excluded on column 4. A box over columns 2–9 has 2/8 in the hair, 3/8 in the skin,
    # 1/8 excluded and 2/8 outside the scalp: no majority, so "split".
    from shade_match.segmentation import Segmentation

    module = _hand_labelled_benchmark()
    empty = np.zeros((10, 10), bool)
    scalp, hair, skin, excluded = empty.copy(), empty.copy(), empty.copy(), empty.copy()
    scalp[:, :8] = True
    hair[:, :4] = True
    skin[:, 5:8] = True
    excluded[:, 4] = True
    seg = Segmentation(scalp=scalp, hair=hair, skin=skin, excluded=excluded, reference=empty)
    shares = module.box_placement(module._box_mask((10, 10), [[2, 0, 8, 10]], 1.0), seg)
    assert shares == pytest.approx({"outside the scalp": 2 / 8, "hair mask": 2 / 8, "skin mask": 3 / 8, "excluded": 1 / 8})
    assert module.placement_of(shares) == "split"
    assert module.placement_of(module.box_placement(module._box_mask((10, 10), [[0, 0, 3, 10]], 1.0), seg)) == "hair mask"
    assert module.placement_of(module.box_placement(module._box_mask((10, 10), [[7, 0, 3, 10]], 1.0), seg)) == "outside the scalp"
    assert module.box_placement(empty, seg) is None


@pytest.mark.skipif(not REAL_PHOTOS.is_dir(), reason="shared/real_photos is not beside the checkout")
def test_hand_labelled_benchmark_runs_on_a_few_photos():
    out = _run("benchmarks/hand_labelled.py", "--limit", "2", "--workers", "1")
    assert "2 photos × 2 corrections" in out
    assert "correction 'none'" in out and "correction 'auto'" in out
    assert "hair: ΔE00 median / p90" in out and "skin: ΔE00 median / p90" in out
    assert "hair boxes mostly in:" in out and "skin boxes mostly in:" in out
