"""Time nearest_matches on a random 10,000-entry palette.

    python benchmarks/matching.py [--entries 10000] [--repeats 20]

Prints the median time of one top-3 CIEDE2000 query (palette Lab array already
cached, as in the app), and the first query including building that array.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shade_match.colour import delta_e, lab_to_srgb8  # noqa: E402
from shade_match.matching import nearest_matches  # noqa: E402
from shade_match.palette import Palette, PaletteEntry  # noqa: E402


def random_palette(count: int, seed: int = 0) -> Palette:
    rng = np.random.default_rng(seed)
    labs = np.column_stack([rng.uniform(0, 100, count), rng.uniform(-60, 60, (count, 2))])
    rgb8 = lab_to_srgb8(labs)
    entries = tuple(
        PaletteEntry(
            id=f"e{index:05d}",
            name=f"Entry {index}",
            lab=(float(lab[0]), float(lab[1]), float(lab[2])),
            hex="#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb)),
        )
        for index, (lab, rgb) in enumerate(zip(labs, rgb8))
    )
    return Palette(name="random", title="random", kind="pigment", entries=entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time nearest_matches on a large palette.")
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    palette = random_palette(args.entries)
    targets = np.random.default_rng(1).uniform([0, -40, -40], [100, 40, 40], (args.repeats, 3))
    delta_e([50, 0, 0], [50, 0, 0])  # import scikit-image outside the timing
    start = time.perf_counter()
    nearest_matches(targets[0], palette, k=3)
    first = time.perf_counter() - start
    times = []
    for target in targets:
        start = time.perf_counter()
        nearest_matches(target, palette, k=3)
        times.append(time.perf_counter() - start)
    for metric in ("cie76", "cie94"):
        start = time.perf_counter()
        nearest_matches(targets[0], palette, k=3, metric=metric)
        print(f"{metric}: {1000 * (time.perf_counter() - start):.1f} ms")
    print(f"{args.entries} entries, top-3 CIEDE2000: first query {1000 * first:.1f} ms "
          f"(includes building the Lab array), then median {1000 * statistics.median(times):.1f} ms "
          f"over {args.repeats} queries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
