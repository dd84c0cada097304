"""Tests of shade_match.batch: discovery, the output file, resume, crash recovery, CSV, CLI.

The truth a batch run is compared against is the single-image front door
(:func:`shade_match.analysis.analyze_image` + :func:`shade_match.report.analysis_to_dict`)
run directly on each file, and invariants: every input recorded exactly once, every
line valid JSON, nothing rewritten that did not change.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from imagegen import make_jpeg, make_text_file
from shade_match.analysis import AnalysisSettings, analyze_image
from shade_match.batch import (
    CSV_COLUMNS,
    OPENCV_RNG_SEED,
    BatchSummary,
    collect_image_paths,
    format_summary,
    main,
    run_batch,
)
from shade_match.errors import InputError, SettingsError
from shade_match.report import analysis_to_dict
from shade_match.synthetic import random_spec, render_scalp_photo

REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="session")
def scalp_photos() -> list[np.ndarray]:
    """Four rendered scalp photos (320×240) of known different scenes."""
    return [render_scalp_photo(random_spec(seed, condition="neutral", size=(320, 240))).rgb for seed in range(4)]


def write_photos(folder: Path, photos: list[np.ndarray], count: int, *, prefix: str = "img") -> list[Path]:
    """``count`` JPEGs with distinct bytes: the photos rotated/flipped, at several qualities."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        rgb = photos[index % len(photos)]
        variant = index // len(photos)
        rgb = np.rot90(rgb, variant % 4)
        if variant >= 4:
            rgb = rgb[:, ::-1]
        path = folder / f"{prefix}_{index:03d}.jpg"
        make_jpeg(path, np.ascontiguousarray(rgb), quality=85 + index % 10)
        paths.append(path)
    return paths


def lines_of(path: Path) -> list[dict]:
    """Every line of a JSON Lines file parsed strictly (a broken line fails the test)."""
    raw = path.read_bytes()
    assert raw == b"" or raw.endswith(b"\n"), "output must end with a newline"
    return [json.loads(line) for line in raw.splitlines()]


def assert_each_once(records: list[dict], files: list[Path]) -> None:
    recorded = [r["file"] for r in records]
    assert sorted(recorded) == sorted(str(f.resolve()) for f in files)
    assert len(set(recorded)) == len(recorded)


# ----------------------------------------------------------------------------- discovery


def test_collect_filters_extensions_sorts_and_skips_hidden(tmp_path):
    for name in ["b.JPG", "a.png", "c.txt", ".hidden.jpg", "._a.jpg", "d.jpeg", "e.HEIC"]:
        (tmp_path / name).write_bytes(b"x")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "z.jpg").write_bytes(b"x")
    found = collect_image_paths([tmp_path])
    assert [Path(p).name for p in found] == ["a.png", "b.JPG", "d.jpeg", "e.HEIC"]
    found = collect_image_paths([tmp_path], recursive=True)
    assert [Path(p).name for p in found] == ["a.png", "b.JPG", "d.jpeg", "e.HEIC", "z.jpg"]


def test_collect_explicit_files_any_extension_and_dedup(tmp_path):
    note = tmp_path / "notes.txt"
    note.write_text("hi")
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    found = collect_image_paths([note, image, tmp_path, str(image)])
    assert found == [str(note), str(image)]


def test_collect_missing_path_is_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        collect_image_paths([tmp_path / "nope.jpg"])


def test_collect_does_not_follow_symlink_loops(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "self.jpg").symlink_to(tmp_path / "self.jpg")  # a link to itself
    found = collect_image_paths([tmp_path], recursive=True)
    assert [Path(p).name for p in found] == ["a.jpg", "self.jpg"]


def test_collect_lists_a_folder_named_like_an_image(tmp_path):
    (tmp_path / "x.jpg").mkdir()
    (tmp_path / "x.jpg" / "inner.jpg").write_bytes(b"x")
    assert [Path(p).name for p in collect_image_paths([tmp_path])] == ["x.jpg"]
    assert [Path(p).name for p in collect_image_paths([tmp_path], recursive=True)] == ["x.jpg", "inner.jpg"]


# ----------------------------------------------------------------------------- a run


def test_batch_records_equal_single_image_analysis(tmp_path, scalp_photos):
    files = write_photos(tmp_path / "in", scalp_photos, 6)
    files.append(make_text_file(tmp_path / "in" / "zz_text.jpg"))
    out = tmp_path / "out.jsonl"
    seen = []
    summary = run_batch([tmp_path / "in"], out=out, workers=2, progress=lambda d, t, r: seen.append((d, t)))

    assert isinstance(summary, BatchSummary)
    assert (summary.total, summary.analysed, summary.skipped) == (7, 7, 0)
    assert (summary.succeeded, summary.failed) == (6, 1)
    assert dict(summary.failures_by_type) == {"NotAnImageError": 1}
    assert summary.exit_code == 1
    assert seen[-1] == (7, 7) and len(seen) == 7

    records = lines_of(out)
    assert_each_once(records, files)
    by_file = {r["file"]: r for r in records}
    for path in files[:6]:
        record = by_file[str(path)]
        # The batch worker resets OpenCV's global RNG before each image (GrabCut's
        # k-means initialisation draws from it); do the same for the direct call.
        cv2.setRNGSeed(OPENCV_RNG_SEED)
        expected = analysis_to_dict(analyze_image(path, settings=AnalysisSettings()))
        assert record["ok"] is True and record["error_type"] is None
        assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        for key in ("image", "correction", "hair", "skin", "matches", "warnings"):
            assert record[key] == expected[key], key
    failed = by_file[str(files[6])]
    assert failed["ok"] is False and failed["error_type"] == "NotAnImageError"
    assert "expected" in failed["error"] and failed["hair"] is None
    assert "1 failed" in format_summary(summary)


def test_records_do_not_depend_on_processing_order(tmp_path, scalp_photos):
    files = write_photos(tmp_path / "in", scalp_photos, 4)
    forward, backward = tmp_path / "forward.jsonl", tmp_path / "backward.jsonl"
    run_batch(files, out=forward, workers=1)
    run_batch(files[::-1], out=backward, workers=1)
    forward_records = lines_of(forward)
    assert [r["file"] for r in forward_records] == [str(f) for f in files]
    assert {r["file"]: r for r in forward_records} == {r["file"]: r for r in lines_of(backward)}


def test_existing_output_without_resume_is_refused_untouched(tmp_path, scalp_photos):
    write_photos(tmp_path / "in", scalp_photos, 1)
    out = tmp_path / "out.jsonl"
    out.write_text('{"file": "/clinic/earlier.jpg", "ok": true}\n')
    before = out.read_bytes()
    with pytest.raises(SettingsError, match="--resume"):
        run_batch([tmp_path / "in"], out=out, workers=1)
    assert out.read_bytes() == before
    assert main([str(tmp_path / "in"), "--out", str(out), "--workers", "1"]) == 2
    assert out.read_bytes() == before


def test_second_writer_is_refused(tmp_path, scalp_photos):
    write_photos(tmp_path / "in", scalp_photos, 1)
    out = tmp_path / "out.jsonl"
    with open(out, "ab") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(SettingsError, match="another shade-match batch"):
            run_batch([tmp_path / "in"], out=out, workers=1, resume=True)


def test_resume_skips_unchanged_redoes_changed_and_repairs_torn_tail(tmp_path, scalp_photos):
    files = write_photos(tmp_path / "in", scalp_photos, 5)
    out = tmp_path / "out.jsonl"
    first = run_batch([tmp_path / "in"], out=out, workers=2)
    assert first.analysed == 5 and first.exit_code == 0
    snapshot = out.read_bytes()

    again = run_batch([tmp_path / "in"], out=out, workers=2, resume=True)
    assert (again.analysed, again.skipped, again.succeeded) == (0, 5, 5)
    assert out.read_bytes() == snapshot  # nothing appended, nothing rewritten

    # Change one file's bytes, add a new file and tear the last line.
    make_jpeg(files[2], scalp_photos[3], quality=70)
    new = write_photos(tmp_path / "in", scalp_photos[:1], 1, prefix="new")
    with open(out, "ab") as handle:
        handle.write(b'{"file": "' + str(files[4]).encode() + b'", "ok": tr')
    third = run_batch([tmp_path / "in"], out=out, workers=2, resume=True)
    assert (third.analysed, third.skipped) == (2, 4)
    records = lines_of(out)
    assert_each_once(records, files + new)
    changed = next(r for r in records if r["file"] == str(files[2]))
    assert changed["sha256"] == hashlib.sha256(files[2].read_bytes()).hexdigest()


def test_resume_retries_records_without_hash(tmp_path, scalp_photos):
    files = write_photos(tmp_path / "in", scalp_photos, 2)
    out = tmp_path / "out.jsonl"
    # A record of a run where the file could not be read (no hash): retried, replaced.
    out.write_text(json.dumps({"file": str(files[0]), "ok": False, "error": "gone", "error_type": "FileNotFoundError",
                               "sha256": None}) + "\n")
    summary = run_batch([tmp_path / "in"], out=out, workers=1, resume=True)
    assert (summary.analysed, summary.failed) == (2, 0)
    records = lines_of(out)
    assert_each_once(records, files)
    assert all(r["ok"] for r in records)


def test_csv_is_regenerated_from_the_whole_output(tmp_path, scalp_photos):
    import csv

    files = write_photos(tmp_path / "in", scalp_photos, 3)
    out, table = tmp_path / "out.jsonl", tmp_path / "out.csv"
    run_batch([files[0]], out=out, workers=1, csv_out=table)
    run_batch([tmp_path / "in"], out=out, workers=1, resume=True, csv_out=table)
    with open(table, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    records = {r["file"]: r for r in lines_of(out)}
    assert [row["file"] for row in rows] == list(records)
    for row in rows:
        record = records[row["file"]]
        assert row["ok"] == "True"
        if record["hair"]:
            assert float(row["hair_L"]) == pytest.approx(record["hair"]["lab"][0])
            assert row["hair_hex"] == record["hair"]["hex"]
        if record["matches"]:
            assert row["match_id"] == record["matches"][0]["id"]
            assert float(row["match_delta_e"]) == pytest.approx(record["matches"][0]["delta_e"])


def test_overlays_are_written_per_file(tmp_path, scalp_photos):
    pytest.importorskip("shade_match.overlay")
    files = write_photos(tmp_path / "in", scalp_photos, 2)
    out = tmp_path / "out.jsonl"
    run_batch([tmp_path / "in"], out=out, workers=1, overlay_dir=tmp_path / "ov")
    records = lines_of(out)
    overlays = [Path(r["overlay"]) for r in records]
    assert len(set(overlays)) == len(files)
    assert all(p.is_file() and p.parent == tmp_path / "ov" and p.stat().st_size > 0 for p in overlays)


def test_invalid_options_are_settings_errors(tmp_path, scalp_photos):
    write_photos(tmp_path / "in", scalp_photos, 1)
    with pytest.raises(SettingsError, match="workers"):
        run_batch([tmp_path / "in"], out=tmp_path / "o.jsonl", workers=0)
    with pytest.raises(SettingsError, match="engine"):
        run_batch([tmp_path / "in"], out=tmp_path / "o.jsonl", engine="spark")
    assert not (tmp_path / "o.jsonl").exists()


# ----------------------------------------------------------------------------- crashes


def _start_batch(args: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # A run launched as a background job of a non-interactive shell (`cmd &`) ignores
    # SIGINT, and an ignored signal passes to every child: the batch would then rightly
    # ignore the Ctrl-C the tests send. A handler, unlike "ignore", is reset on exec, so
    # the batch starts with the SIGINT a terminal gives it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "shade_match.batch", *args],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)


def _complete_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_records_each_image_once(tmp_path, scalp_photos):
    folder = tmp_path / "in"
    files = write_photos(folder, scalp_photos, 40)
    out = tmp_path / "out.jsonl"
    process = _start_batch([str(folder), "--out", str(out), "--workers", "1"])
    try:
        while _complete_lines(out) < 3 and process.poll() is None:
            time.sleep(0.01)
        assert process.poll() is None, process.stderr.read().decode()
        workers = _children(process.pid)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        process.stdout.close()
        process.stderr.close()
    done_before = _complete_lines(out)
    assert 3 <= done_before < 40
    # The orphaned pool worker notices its parent is gone and exits by itself.
    for pid in workers:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            try:
                if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
                    break
            except OSError:
                break
            time.sleep(0.05)
    # A torn last line, as if the kill had landed in the middle of a write.
    with open(out, "ab") as handle:
        handle.write(b'{"file": "' + str(files[-1]).encode() + b'", "ok": true, "hai')

    assert main([str(folder), "--out", str(out), "--workers", "2"]) == 2  # no --resume: refused
    assert main([str(folder), "--out", str(out), "--workers", "2", "--resume"]) == 0
    records = lines_of(out)
    assert_each_once(records, files)
    assert all(r["ok"] for r in records)


@pytest.mark.slow
def test_a_killed_worker_is_retried_and_the_run_completes(tmp_path, scalp_photos):
    folder = tmp_path / "in"
    files = write_photos(folder, scalp_photos, 16)
    out = tmp_path / "out.jsonl"
    process = _start_batch([str(folder), "--out", str(out), "--workers", "2"])
    killed = None
    lines_at_kill = None
    try:
        while _complete_lines(out) < 2 and process.poll() is None:
            time.sleep(0.01)
        assert process.poll() is None
        lines_at_kill = _complete_lines(out)
        for pid in _children(process.pid):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                os.kill(pid, signal.SIGKILL)
                killed = pid
                break
        _, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    assert killed is not None
    assert lines_at_kill < 16
    assert process.returncode == 0, stderr.decode()
    records = lines_of(out)
    assert_each_once(records, files)
    assert all(r["ok"] for r in records)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_exit_130_and_resume_finishes(tmp_path, scalp_photos):
    folder = tmp_path / "in"
    files = write_photos(folder, scalp_photos, 16)
    out = tmp_path / "out.jsonl"
    process = _start_batch([str(folder), "--out", str(out), "--workers", "2"])
    try:
        while _complete_lines(out) < 2 and process.poll() is None:
            time.sleep(0.01)
        assert process.poll() is None
        os.killpg(process.pid, signal.SIGINT)  # what a terminal sends to the whole group on Ctrl-C
        _, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, stderr.decode()
    assert b"--resume" in stderr
    interrupted = lines_of(out)  # every line complete and valid
    assert 2 <= len(interrupted) < 16
    assert main([str(folder), "--out", str(out), "--workers", "2", "--resume"]) == 0
    assert_each_once(lines_of(out), files)
