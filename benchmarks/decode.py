"""Time JPEG decoding to a working image: shade_match.io.load_image against the alternatives.

Run: ``python benchmarks/decode.py [--repeats 10]``. Prints the median time (ms) per
decode (CPU time) from bytes in memory (no file I/O) of a synthetic 12 MP (4000 × 3000) q90
JPEG made with the recipe of research/colour-science.md §6 (smooth fields,
4,000 dark strands, noise σ = 4), for working sizes of 1600 and 1024 px.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import imagegen  # noqa: E402
from shade_match.io import load_image  # noqa: E402


def median_ms(function, repeats: int) -> float:
    """Median CPU time of the process per call, in ms. CPU time rather than wall
    time, so other jobs on a shared machine do not inflate the numbers (OpenCV is
    limited to one thread below, so CPU time ≈ single-core wall time)."""
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def cv2_full_then_area(data: bytes, max_side: int) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = bgr.shape[:2]
    s = max_side / max(h, w)
    small = cv2.resize(bgr, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)


def cv2_reduced_then_area(data: bytes, max_side: int, full_long_side: int) -> np.ndarray:
    factor = max(f for f in (1, 2, 4, 8) if full_long_side / f >= max_side)
    flag = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}[factor]
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    h, w = bgr.shape[:2]
    s = max_side / max(h, w)
    small = cv2.resize(bgr, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)


def pil_draft_then_area(data: bytes, max_side: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
        s = max_side / max(w, h)
        im.draft("RGB", (int(np.ceil(w * s)), int(np.ceil(h * s))))
        arr = np.asarray(im)
    h2, w2 = arr.shape[:2]
    s = max_side / max(h2, w2)
    return cv2.resize(arr, (round(w2 * s), round(h2 * s)), interpolation=cv2.INTER_AREA)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # one core per image, as in batch runs

    rgb = imagegen.photo_like_rgb(3000, 4000, seed=0)
    data = imagegen.jpeg_bytes(rgb, quality=90)
    data_p3 = imagegen.jpeg_bytes(rgb, quality=90, icc=imagegen.display_p3_icc_profile())
    data_rotated = imagegen.jpeg_bytes(rgb, quality=90, exif_orientation=6)
    print(f"12 MP q90 JPEG: {len(data) / 1e6:.2f} MB; median CPU time of {args.repeats} runs, ms")
    print(f"{'method':58s} {'1600':>7s} {'1024':>7s}")
    rows = [
        ("cv2.imdecode full (no resize)", lambda ms: cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)),
        ("PIL full load + np.asarray (no resize)", lambda ms: np.asarray(Image.open(io.BytesIO(data)))),
        ("cv2.imdecode full + INTER_AREA + BGR2RGB", lambda ms: cv2_full_then_area(data, ms)),
        ("cv2.imdecode IMREAD_REDUCED_COLOR_n + INTER_AREA + BGR2RGB",
         lambda ms: cv2_reduced_then_area(data, ms, 4000)),
        ("PIL draft + np.asarray + INTER_AREA", lambda ms: pil_draft_then_area(data, ms)),
        ("shade_match.io.load_image(bytes, max_side=...)", lambda ms: load_image(data, max_side=ms)),
        ("  same, Display P3 profile (ICC → sRGB at working size)", lambda ms: load_image(data_p3, max_side=ms)),
        ("  same, EXIF orientation 6", lambda ms: load_image(data_rotated, max_side=ms)),
    ]
    for label, function in rows:
        t1600 = median_ms(lambda: function(1600), args.repeats)
        t1024 = median_ms(lambda: function(1024), args.repeats)
        print(f"{label:58s} {t1600:7.1f} {t1024:7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
