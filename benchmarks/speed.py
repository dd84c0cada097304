"""Analysis speed on a 12 MP phone-like JPEG, on one core.

Run ``python benchmarks/speed.py [--runs 7] [--keep PATH]``.

It renders a 4000×3000 scalp photo with :mod:`shade_match.synthetic` (rendered at
2000×1500 and upscaled ×2 with bicubic interpolation, then given fresh sensor noise
so the JPEG carries 12 MP worth of detail), saves it as JPEG quality 90 (about
3.5 MB, the size of a phone photo) and times, as the median of ``--runs`` runs after
one warm-up:

(a) ``cv2.imdecode`` of the full image,
(b) ``cv2.imdecode`` with ``IMREAD_REDUCED_COLOR_4``,
(c) ``shade_match.analyze_image(path)`` end to end with default settings,

and prints the ratio (c)/(a), then the median time of each step inside (c): the
functions :func:`shade_match.analysis.inspect_image` calls (decode, colour correction,
Lab conversion, segmentation, estimation, matching and the treatment plan) are
wrapped with timers for a further ``--runs`` calls; "other" is what is left of each
call (result assembly). The steps' medians need not add up to (c) exactly. Targets (issue 3): (c) < 0.3 s and (c)/(a) ≤ 3. They
are printed beside the numbers, never asserted: wall-clock time depends on the
machine.

One core: the script re-executes itself once with ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``NUMEXPR_NUM_THREADS`` set to 1
(they must be set before NumPy loads) and calls ``cv2.setNumThreads(1)``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# shade_match.runtime imports no NumPy, so the variables can still be set after it
from shade_match.runtime import THREAD_POOL_VARIABLES as _THREAD_VARIABLES  # noqa: E402

_CHILD_FLAG = "SHADE_MATCH_SPEED_ONE_CORE"

#: Targets from issue 3.
TARGET_SECONDS = 0.3
TARGET_RATIO = 3.0


def _ensure_one_core() -> None:
    if os.environ.get(_CHILD_FLAG) == "1":
        return
    env = dict(os.environ, **{name: "1" for name in _THREAD_VARIABLES}, **{_CHILD_FLAG: "1"})
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def make_phone_jpeg(path: Path, *, seed: int = 0, quality: int = 90) -> int:
    """Write a 4000×3000 JPEG scalp photo to ``path``; return its size in bytes."""
    import cv2
    import numpy as np

    from shade_match.synthetic import random_spec, render_scalp_photo
    from dataclasses import replace

    spec = random_spec(seed, condition="neutral", scale="strand", size=(2000, 1500))
    spec = replace(
        spec, hair_density=0.7, strand_width_px=4.0, strand_length_px=60.0,
        noise_sigma=0.0, jpeg_quality=None, reference="none",
        # The photo every earlier speed figure was measured on: without the coloured
        # shade the renders gained on 2026-12-02 (random_spec draws it, 0.89 here).
        mutual_illumination=0.0,
    )  # fmt: skip
    photo = render_scalp_photo(spec)
    big = cv2.resize(photo.rgb, (4000, 3000), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    # Sensor noise at full resolution (σ = 4.5 codes, a phone at base ISO after
    # denoising) so the file has the size of a real 12 MP JPEG (~3.5 MB at q90).
    big += np.random.default_rng(seed).normal(0.0, 4.5, big.shape).astype(np.float32)
    bgr = np.clip(np.rint(big), 0, 255).astype(np.uint8)[..., ::-1]
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode the benchmark JPEG")
    path.write_bytes(buffer.tobytes())
    return len(buffer)


def _median_seconds(function, runs: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


#: The steps of one analysis: name → names in ``shade_match.analysis`` that it calls
#: (``colour.`` names are looked up on the ``colour`` module that analysis imported).
_STEPS = {
    "decode": ("_load",),
    "correction": ("correct_colours", "refine_light_with_skin"),
    "lab": ("colour.image_to_lab_fast",),
    "segmentation": ("segment",),
    "estimation": ("estimate_hair", "estimate_skin"),
    "matching": ("nearest_matches", "recommend", "recommendation_to_dict"),
}


def step_breakdown(path: str, runs: int) -> dict[str, float]:
    """Median seconds per step of ``analyze_image(path)`` over ``runs`` calls (after a
    warm-up), and ``"total"`` and ``"other"`` (total minus the steps, per call)."""
    import types

    from shade_match import analysis

    spent: dict[str, float] = {}

    def timed(step, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[step] = spent.get(step, 0.0) + time.perf_counter() - start

        return wrapper

    originals = {}
    colour_proxy = types.ModuleType("colour_proxy")
    colour_proxy.__dict__.update(vars(analysis.colour))
    for step, names in _STEPS.items():
        for name in names:
            if name.startswith("colour."):
                attribute = name.split(".", 1)[1]
                setattr(colour_proxy, attribute, timed(step, getattr(analysis.colour, attribute)))
            else:
                originals[name] = getattr(analysis, name)
                setattr(analysis, name, timed(step, originals[name]))
    originals["colour"] = analysis.colour
    analysis.colour = colour_proxy
    samples: dict[str, list[float]] = {step: [] for step in (*_STEPS, "other", "total")}
    try:
        analysis.analyze_image(path)  # warm-up
        for _ in range(runs):
            spent.clear()
            start = time.perf_counter()
            analysis.analyze_image(path)
            total = time.perf_counter() - start
            for step in _STEPS:
                samples[step].append(spent.get(step, 0.0))
            samples["other"].append(total - sum(spent.values()))
            samples["total"].append(total)
    finally:
        for name, original in originals.items():
            setattr(analysis, name, original)
    return {step: statistics.median(values) for step, values in samples.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs after a warm-up (default 7)")
    parser.add_argument("--keep", metavar="PATH", help="keep the benchmark JPEG here")
    parser.add_argument(
        "--default-allocator", action="store_true",
        help="leave glibc's malloc as it is (the CLI, batch workers and app call "
        "shade_match.runtime.reuse_freed_memory(); so does this script unless told not to)",
    )
    args = parser.parse_args(argv)

    from shade_match.runtime import reuse_freed_memory

    reused = False if args.default_allocator else reuse_freed_memory()

    import cv2
    import numpy as np

    from shade_match.analysis import analyze_image

    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.keep) if args.keep else Path(folder) / "phone-12mp.jpg"
        size = make_phone_jpeg(path)
        data = np.frombuffer(path.read_bytes(), np.uint8)
        full = _median_seconds(lambda: cv2.imdecode(data, cv2.IMREAD_COLOR), args.runs)
        reduced = _median_seconds(lambda: cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_4), args.runs)
        analysis = _median_seconds(lambda: analyze_image(str(path)), args.runs)
        steps = step_breakdown(str(path), args.runs)

    print(f"12 MP JPEG q90: 4000×3000, {size / 1e6:.2f} MB; median of {args.runs} runs, one core")
    print(f"allocator: {'freed blocks reused (as the CLI runs)' if reused else 'glibc defaults'}")
    print(f"(a) cv2.imdecode full            {full * 1000:8.1f} ms")
    print(f"(b) cv2.imdecode REDUCED_COLOR_4 {reduced * 1000:8.1f} ms")
    print(f"(c) analyze_image(path)          {analysis * 1000:8.1f} ms   target < {TARGET_SECONDS * 1000:.0f} ms"
          f"  {'ok' if analysis < TARGET_SECONDS else 'MISSED'}")  # fmt: skip
    print(f"(c)/(a)                          {analysis / full:8.2f}      target ≤ {TARGET_RATIO:g}"
          f"  {'ok' if analysis / full <= TARGET_RATIO else 'MISSED'}")  # fmt: skip
    print(f"steps of (c), median of {args.runs} further runs (total {steps['total'] * 1000:.1f} ms):")
    for step in (*_STEPS, "other"):
        print(f"    {step:<28} {steps[step] * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    _ensure_one_core()
    sys.exit(main())
