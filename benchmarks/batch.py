"""Batch throughput and memory, and a comparison with ``stone``. Prints numbers, asserts nothing.

Usage::

    python benchmarks/batch.py                      # throughput (60 × 3 MP, 1 and 2 workers) + memory (200 × 12 MP)
    python benchmarks/batch.py --n 60 --memory-n 1000
    python benchmarks/batch.py --stone /tmp/stone-venv/bin/stone   # also time stone on the same folder

The photos are synthetic scalp photos (``shade_match.synthetic``) at the stated size.
Throughput images are distinct renders/rotations re-encoded at different qualities;
the memory set is one 12 MP JPEG copied with a different trailer after the JPEG end
marker per copy (different bytes and hashes, same decode cost), which keeps
generating 1,000 files fast.

Memory is the resident set size (RSS) of this process plus all its children, sampled
every 0.2 s with psutil (``/proc`` when psutil is missing), and logged every 50 images
to show whether it stays flat over the run.

``stone`` (skin-tone-classifier) must live in its own virtual environment (it pins
OpenCV 4 and patches NumPy at import), e.g.::

    python3 -m venv /tmp/stone-venv
    /tmp/stone-venv/bin/pip install skin-tone-classifier "opencv-python>=4,<5"
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shade_match.batch import run_batch  # noqa: E402
from shade_match.synthetic import random_spec, render_scalp_photo  # noqa: E402


def _encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _base_photos(size: tuple[int, int], count: int) -> list[np.ndarray]:
    import cv2

    photos = []
    for seed in range(count):
        # Render at 640 px and upsample: rendering at 12 MP takes long and the analysis
        # works at 1600 px anyway; the decode cost is that of the full-size JPEG.
        small = render_scalp_photo(random_spec(seed, condition="neutral", scale="strand", size=(640, 480))).rgb
        photos.append(cv2.resize(small, size, interpolation=cv2.INTER_CUBIC))
    return photos


def make_throughput_set(folder: Path, n: int, size: tuple[int, int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    photos = _base_photos(size, 4)
    for index in range(n):
        rgb = photos[index % 4]
        if (index // 4) % 2:
            rgb = rgb[:, ::-1]
        (folder / f"img_{index:04d}.jpg").write_bytes(_encode_jpeg(rgb, 85 + index % 10))


def make_memory_set(folder: Path, n: int, size: tuple[int, int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = _encode_jpeg(_base_photos(size, 1)[0], 90)
    for index in range(n):
        (folder / f"big_{index:05d}.jpg").write_bytes(data + index.to_bytes(8, "little"))


def _rss_tree_bytes(pid: int) -> int:
    try:
        import psutil

        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total
    except ImportError:
        return _rss_proc(pid)


def _rss_proc(pid: int) -> int:
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{current}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return total


class RssSampler(threading.Thread):
    def __init__(self, interval_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.peak = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.peak = max(self.peak, _rss_tree_bytes(os.getpid()))
            time.sleep(self.interval_s)

    def stop(self) -> int:
        self.stop_event.set()
        self.join()
        return self.peak


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_shade_match(folder: Path, workers: int, scratch: Path) -> tuple[float, float, int, float]:
    out = scratch / f"out-{workers}-{time.monotonic_ns()}.jsonl"
    first_done = []

    def progress(done, total, record):
        if done == 1:
            first_done.append(time.monotonic())

    started = time.monotonic()
    cpu_before = _children_cpu_s() + _self_cpu_s()
    summary = run_batch([folder], out=out, workers=workers, progress=progress)
    wall = time.monotonic() - started
    # Worker processes are reaped when the pool shuts down, so their CPU time is in RUSAGE_CHILDREN.
    cpu_per_image = (_children_cpu_s() + _self_cpu_s() - cpu_before) / max(1, summary.analysed)
    # Steady state: images after the first one, over the time after the first one (excludes pool start-up).
    steady = (summary.analysed - 1) / (started + wall - first_done[0]) if first_done and summary.analysed > 1 else 0.0
    return summary.analysed / wall, steady, summary.failed, cpu_per_image


def time_stone(stone: str, folder: Path, workers: int, scratch: Path) -> tuple[float, float, str, float]:
    out = scratch / f"stone-{workers}"
    if out.exists():
        shutil.rmtree(out)
    n = len(list(folder.glob("*.jpg")))
    command = [stone, "-i", str(folder), "-t", "color", "--n_workers", str(workers), "-o", str(out)]
    started = time.monotonic()
    cpu_before = _children_cpu_s()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - started
    cpu_per_image = (_children_cpu_s() - cpu_before) / max(1, n)
    tail = (result.stderr or result.stdout).strip().splitlines()[-1:] if result.returncode else []
    return n / wall, wall, ("; ".join(tail) or "ok"), cpu_per_image


def memory_run(folder: Path, workers: int, scratch: Path) -> tuple[float, list[tuple[int, float]], float]:
    sampler = RssSampler()
    sampler.start()
    log: list[tuple[int, float]] = []
    log_every = max(1, min(50, len(list(folder.glob("*.jpg"))) // 10))

    def progress(done, total, record):
        if done % log_every == 0 or done == total:
            log.append((done, _rss_tree_bytes(os.getpid()) / 2**20))

    started = time.monotonic()
    summary = run_batch([folder], out=scratch / "memory.jsonl", workers=workers, progress=progress)
    wall = time.monotonic() - started
    peak = sampler.stop() / 2**20
    return peak, log, summary.analysed / wall


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="images in the throughput set")
    parser.add_argument("--mp", type=float, default=3.0, help="megapixels of the throughput images")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--memory-n", type=int, default=200, help="images in the memory run (0: skip)")
    parser.add_argument("--memory-mp", type=float, default=12.0)
    parser.add_argument("--stone", help="path of the stone executable (in its own venv)")
    parser.add_argument("--scratch", help="folder for the generated images (default: a temp dir, removed)")
    args = parser.parse_args(argv)

    scratch = Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="shade-match-bench-"))
    try:
        width = int(round((args.mp * 1e6 * 4 / 3) ** 0.5))
        size = (width, int(round(width * 3 / 4)))
        folder = scratch / "throughput"
        if not folder.exists():
            print(f"generating {args.n} JPEGs of {size[0]}×{size[1]} …", file=sys.stderr)
            make_throughput_set(folder, args.n, size)
        print(f"\n## Throughput: {args.n} JPEGs, {size[0]}×{size[1]} ({args.mp:g} MP), {os.cpu_count()} CPUs\n")
        print(f"load average at start: {os.getloadavg()[0]:.1f} (CPU s/image is robust to other load; images/s is not)\n")
        print("| tool | workers | images/s (wall, incl. start-up) | images/s (steady) | CPU s/image | failed |")
        print("| --- | --- | --- | --- | --- | --- |")
        ours = {}
        for workers in args.workers:
            rate, steady, failed, cpu = time_shade_match(folder, workers, scratch)
            ours[workers] = (rate, cpu)
            print(f"| shade-match | {workers} | {rate:.2f} | {steady:.2f} | {cpu:.2f} | {failed} |", flush=True)
        if args.stone:
            for workers in args.workers:
                rate, wall, status, cpu = time_stone(args.stone, folder, workers, scratch)
                ratio = ours[workers][0] / rate if rate else float("nan")
                cpu_ratio = cpu / ours[workers][1] if ours[workers][1] else float("nan")
                print(f"| stone | {workers} | {rate:.2f} | – | {cpu:.2f} | {status} |", flush=True)
                print(f"|  ratio shade-match/stone | {workers} | {ratio:.2f}× (wall) | | {cpu_ratio:.2f}× (by CPU) | |",
                      flush=True)

        if args.memory_n:
            width = int(round((args.memory_mp * 1e6 * 4 / 3) ** 0.5))
            msize = (width, int(round(width * 3 / 4)))
            mfolder = scratch / "memory"
            if not mfolder.exists():
                print(f"generating {args.memory_n} JPEGs of {msize[0]}×{msize[1]} …", file=sys.stderr)
                make_memory_set(mfolder, args.memory_n, msize)
            workers = max(args.workers)
            peak, log, rate = memory_run(mfolder, workers, scratch)
            print(f"\n## Memory: {args.memory_n} JPEGs of {msize[0]}×{msize[1]} ({args.memory_mp:g} MP), "
                  f"{workers} workers: {rate:.2f} images/s\n")
            print(f"peak RSS (parent + workers): {peak:.0f} MB")
            print("RSS after N images: " + ", ".join(f"{done}: {mb:.0f} MB" for done, mb in log))
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
