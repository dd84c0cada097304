"""Batch analysis at clinic scale: resumable, parallel, optionally on a Dask cluster.

One JSON line per image is appended to an output file (JSON Lines) as soon as the image
is done. The run survives what happens to long runs::

    one bad file            an ``"ok": false`` line with its reason; the run goes on
    Ctrl-C / kill -9        at most the images in flight are lost; ``--resume`` redoes them
    power loss              at most the lines written since the last fsync (see below)
    torn last line          detected on resume and cut off before anything is appended
    a worker process dies   (e.g. OOM-killed) the pool is restarted and the images that
                            were in flight are retried one at a time; the one that kills
                            a worker on its own is recorded as ``WorkerCrashedError``
    a changed file          redone on resume (records are keyed by path *and* SHA-256)

Only the parent process writes the output file (single writer), under an exclusive
``flock`` so two runs cannot interleave lines in the same file.

Durability trade-off
--------------------
Every line is written with one ``write`` and flushed at once, so it is in the operating
system's page cache and survives the process being killed. ``os.fsync`` (which waits
for the disk) is called at most every :data:`FSYNC_INTERVAL_S` seconds and at the end:
an fsync per line costs milliseconds on a local SSD and far more on network storage,
which would dominate a run of fast images. A power cut therefore loses at most the
last few seconds of lines, which ``--resume`` redoes.

Resume
------
A record is reused when its ``file`` (absolute path) and ``sha256`` (of the file's
bytes) match the file on disk now. The hash is computed by the worker that would
analyse the image (it reads the file anyway), so checking 50,000 files is spread over
all workers. Records without a hash (the file could not be read, or a worker died) are
retried. When a file is redone, the output is compacted at the end (atomic rewrite) so
that each file keeps exactly one line, the newest.

Engines
-------
``"local"``: a :class:`concurrent.futures.ProcessPoolExecutor` (``spawn`` start method,
one OpenCV thread per worker). ``"dask"``: a ``dask.distributed`` cluster (an existing
scheduler address, or a ``LocalCluster``); install with ``pip install shade-match[dask]``.
Workers open the image files by path, so on a cluster every worker must see the same
paths (a shared filesystem).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import csv
import errno
import math
import threading
import hashlib
import io
import json
import multiprocessing
import os
import signal
import stat
import sys
import tempfile
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from .errors import InputError, SettingsError, ShadeMatchError
from .runtime import reuse_freed_memory

__all__ = [
    "BatchSummary",
    "IMAGE_EXTENSIONS",
    "WorkerCrashedError",
    "add_batch_parser",
    "collect_image_paths",
    "default_worker_count",
    "format_summary",
    "main",
    "read_records",
    "records_to_csv",
    "run_batch",
    "run_batch_cli",
    "CSV_COLUMNS",
    "OPENCV_RNG_SEED",
    "latest_records",
    "record_to_row",
]

#: File name extensions picked up when a folder is scanned (lower case). Files named
#: explicitly on the command line are analysed whatever their extension.
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".bmp", ".webp",
     ".heic", ".heif", ".gif"}
)

#: Seconds between ``os.fsync`` calls on the output. A design choice: see "Durability
#: trade-off" in the module docstring.
FSYNC_INTERVAL_S = 2.0

#: Tasks in flight per worker. A design choice: two keeps every worker busy while the
#: parent writes results, and bounds memory (futures, pickled results) however many
#: files the run has.
IN_FLIGHT_PER_WORKER = 2

#: Refuse to read files larger than this (bytes) into memory. A design choice: the
#: largest camera JPEG/HEIC/TIFF a clinic produces is a few tens of MB; a 1 GB
#: "image" is a mistake (a video, a disk image) and reading it would cost the worker
#: its memory budget.
MAX_FILE_BYTES = 512 * 1024 * 1024


class WorkerCrashedError(ShadeMatchError):
    """A worker process died (killed by a signal, e.g. out of memory) on this file."""


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did.

    Attributes
    ----------
    out : Path
        The JSON Lines output.
    total : int
        Input files found.
    analysed : int
        Files processed by this run (succeeded or failed).
    skipped : int
        Files already recorded with the same content (``resume=True``).
    succeeded, failed : int
        Records with ``"ok": true`` / ``false`` over *all* input files (this run's and
        the reused ones).
    failures_by_type : Mapping[str, int]
        ``error_type`` → count, over all failed input files.
    elapsed_s : float
        Wall-clock seconds of this run.
    interrupted : bool
        The run was stopped (Ctrl-C) before every file was done.
    csv : Path or None
        The CSV written at the end, if any.
    """

    out: Path
    total: int
    analysed: int
    skipped: int
    succeeded: int
    failed: int
    failures_by_type: Mapping[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    interrupted: bool = False
    csv: Path | None = None

    @property
    def images_per_s(self) -> float:
        """Throughput of this run: files processed per wall-clock second."""
        return self.analysed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 every input recorded ok; 1 some input failed; 130 interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.failed else 0


def format_summary(summary: BatchSummary) -> str:
    """The end-of-run summary as text (the CLI prints it to stderr)."""
    lines = [
        f"{summary.total} file(s): {summary.succeeded} ok, {summary.failed} failed"
        + (f", {summary.skipped} already recorded (resume)" if summary.skipped else ""),
        f"analysed {summary.analysed} in {summary.elapsed_s:.1f} s "
        f"({summary.images_per_s:.2f} images/s)",
    ]
    for error_type, count in sorted(summary.failures_by_type.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {count:6d} × {error_type}")
    lines.append(f"results: {summary.out}" + (f"  csv: {summary.csv}" if summary.csv else ""))
    if summary.interrupted:
        lines.append("interrupted: run the same command with --resume to finish")
    return "\n".join(lines)


# ------------------------------------------------------------------------ discovery


def default_worker_count() -> int:
    """CPUs this process may use (``os.process_cpu_count`` on 3.13+, else the affinity mask)."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return max(1, counter() or 1)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _is_hidden(name: str) -> bool:
    # Dotfiles include macOS "._IMG_0001.jpg" resource forks that copy along with
    # photos from a Mac and are not images. A design choice: skip them in folder scans.
    return name.startswith(".")


def collect_image_paths(paths: Iterable[str | os.PathLike], *, recursive: bool = False) -> list[str]:
    """The image files a batch run will analyse, in a deterministic order.

    Parameters
    ----------
    paths : iterable of path-like
        Files and folders. A file is taken whatever its name; a folder contributes
        the entries whose extension is in :data:`IMAGE_EXTENSIONS` (case-insensitive,
        dotfiles skipped), sorted by name, descending into sub-folders only when
        ``recursive``. Symbolic links to folders are not followed (no loops); an entry
        with an image extension that is not a regular file (a folder named
        ``x.jpg``, a dangling or looping link) is still listed, so the run records why
        it could not be read.
    recursive : bool

    Returns
    -------
    list of str
        Absolute paths, duplicates removed (first occurrence kept).

    Raises
    ------
    InputError
        A path does not exist.
    """
    found: dict[str, None] = {}
    for raw in paths:
        path = os.path.abspath(os.fspath(raw))
        if os.path.isdir(path):  # a folder (or a link to one) named on the command line
            for entry in _scan_folder(path, recursive=recursive):
                found.setdefault(entry, None)
        elif os.path.lexists(path):
            found.setdefault(path, None)
        else:
            raise InputError(
                f"expected an existing image file or folder; got {os.fspath(raw)!r}, which does not exist"
            )
    return list(found)


def _scan_folder(folder: str, *, recursive: bool) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        candidates = [n for n in filenames if not _is_hidden(n) and _is_image_name(n)]
        # os.walk lists folders (and links to folders) in dirnames: one named like an
        # image is reported too, so the run records it as a failure instead of
        # silently skipping a "photo".
        candidates += [n for n in dirnames if not _is_hidden(n) and _is_image_name(n)]
        for name in sorted(candidates):
            yield os.path.join(dirpath, name)
        if recursive:
            dirnames[:] = [d for d in dirnames if not _is_hidden(d)]
        else:
            dirnames[:] = []


# ------------------------------------------------------------------- worker (spawn-safe)


@dataclass(frozen=True)
class _Job:
    """What every task needs besides its file: pickled once per task (small)."""

    settings: Any
    palettes: Any
    overlay_dir: str | None


_worker_configured = False


def _configure_worker() -> None:
    """Once per worker process: one OpenCV thread (the pool gives the parallelism),
    and freed memory kept for the next photo (:mod:`shade_match.runtime`)."""
    global _worker_configured
    if _worker_configured:
        return
    _worker_configured = True
    reuse_freed_memory()
    try:
        import cv2

        cv2.setNumThreads(1)
    except Exception:  # pragma: no cover - OpenCV is a dependency
        pass


#: Seed given to OpenCV's random generator before each image. OpenCV keeps one global
#: (per-thread) generator, used e.g. by GrabCut's k-means initialisation; without a
#: reset, an image's result would depend on which images the same worker analysed
#: before it. The value is arbitrary; what matters is that it is the same every time.
OPENCV_RNG_SEED = 0


def _reset_opencv_rng() -> None:
    import cv2

    cv2.setRNGSeed(OPENCV_RNG_SEED)


def _init_local_worker(parent_pid: int) -> None:
    # Ctrl-C goes to the whole process group; only the parent should act on it (it
    # stops the pool), so a worker never dies half-way through returning a result.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _configure_worker()
    # A pool worker holds both ends of its task queue, so it would wait forever if the
    # parent were killed (kill -9, OOM): exit when the parent is gone.
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval_s)
    os._exit(1)


def _read_file(path: str) -> bytes:
    """The file's bytes; only regular files of at most :data:`MAX_FILE_BYTES` are read.

    The file is opened non-blocking and checked with ``fstat`` before reading, so a
    named pipe or a device with an image name cannot hang the worker.
    """
    from .errors import ImageTooLargeError, NotAnImageError

    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "expected an image file; got a directory", path)
        if not stat.S_ISREG(info.st_mode):
            raise NotAnImageError(path, f"expected a regular file; got a {_file_kind(info.st_mode)}")
        if info.st_size > MAX_FILE_BYTES:
            raise ImageTooLargeError(
                path, f"expected a file of at most {MAX_FILE_BYTES // 2**20} MB; got {info.st_size / 2**20:,.0f} MB"
            )
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with handle:
        return handle.read()


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "named pipe (FIFO)"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return kind
    return "special file"


def _failure_record(path: str, error: BaseException, sha256: str | None) -> dict:
    from .report import failure_to_dict

    record = dict(failure_to_dict(path, error))
    record["ok"] = False
    if isinstance(error, OSError) and not isinstance(error, ShadeMatchError):
        reason = error.strerror or str(error)
        record["error"] = f"could not read the file: {reason}"
    record["error_type"] = type(error).__name__
    record["sha256"] = sha256
    record.setdefault("overlay", None)
    return record


def _overlay_name(path: str) -> str:
    stem = Path(path).stem[:80] or "image"
    tag = hashlib.sha256(os.fsencode(path)).hexdigest()[:10]
    return f"{stem}.{tag}.overlay.png"


def _analyse_task(path: str, known_sha256: str | None, job: _Job) -> dict | None:
    """Analyse one file and return its record (a JSON-able dict).

    Returns ``None`` when the file's SHA-256 equals ``known_sha256`` (already recorded).
    Never raises for a bad file: every failure becomes an ``"ok": false`` record.
    """
    _configure_worker()
    sha256 = None
    try:
        data = _read_file(path)
        sha256 = hashlib.sha256(data).hexdigest()
        if known_sha256 is not None and sha256 == known_sha256:
            return None
        from .analysis import inspect_image
        from .report import analysis_to_dict

        _reset_opencv_rng()
        inspection = inspect_image(data, settings=job.settings, palettes=job.palettes, name=path)
        del data
        overlay_path = None
        if job.overlay_dir is not None:
            from .overlay import save_overlay

            overlay_path = os.path.join(job.overlay_dir, _overlay_name(path))
            save_overlay(overlay_path, inspection.rgb, inspection.segmentation)
        record = dict(analysis_to_dict(inspection.analysis))
        record["file"] = path
        record["ok"] = True
        record["error"] = None
        record["error_type"] = None
        record["sha256"] = sha256
        record["overlay"] = overlay_path
        return record
    except (ShadeMatchError, OSError, ValueError, MemoryError) as error:
        return _failure_record(path, error, sha256)
    except Exception as error:  # a bug in the analysis must not end a clinic's run
        record = _failure_record(path, error, sha256)
        record["error"] = f"internal error (please report): {type(error).__name__}: {error}"
        return record


# ----------------------------------------------------------------------- output file


def read_records(path: str | os.PathLike) -> list[dict]:
    """All complete records of a JSON Lines output, in file order.

    Lines that do not parse (a torn last line from a killed run) are skipped.
    """
    records = []
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break  # torn tail
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "file" in record:
                records.append(record)
    return records


def latest_records(records: Iterable[dict]) -> dict[str, dict]:
    """``file`` → its newest record (later lines win), in first-seen order."""
    latest: dict[str, dict] = {}
    for record in records:
        latest[record["file"]] = record
    return latest


def _repair_tail(handle) -> int:
    """Cut a torn last line (no trailing newline) off an output opened ``r+b``.

    Returns the number of bytes removed.
    """
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return 0
    handle.seek(size - 1)
    if handle.read(1) == b"\n":
        return 0
    # Walk back to the last newline in blocks.
    position = size
    block = 65536
    keep = 0
    while position > 0:
        start = max(0, position - block)
        handle.seek(start)
        chunk = handle.read(position - start)
        index = chunk.rfind(b"\n")
        if index >= 0:
            keep = start + index + 1
            break
        position = start
    handle.truncate(keep)
    handle.flush()
    os.fsync(handle.fileno())
    return size - keep


class _Output:
    """The single writer of the JSON Lines file."""

    def __init__(self, path: str, *, resume: bool) -> None:
        self.path = path
        exists_nonempty = os.path.exists(path) and os.path.getsize(path) > 0
        if exists_nonempty and not resume:
            raise SettingsError(
                f"expected a new or empty output file; got {path!r}, which already holds results. "
                "Pass --resume to continue that run, or choose a new --out"
            )
        parent = os.path.dirname(path) or "."
        os.makedirs(parent, exist_ok=True)
        self.handle = open(path, "a+b")
        try:
            import fcntl

            fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - Windows: no advisory lock
            pass
        except OSError:
            self.handle.close()
            raise SettingsError(
                f"expected to be the only writer of {path!r}; another shade-match batch is writing it"
            ) from None
        self.repaired_bytes = _repair_tail(self.handle) if exists_nonempty else 0
        self.handle.seek(0, os.SEEK_END)
        self.last_sync = time.monotonic()
        self.dirty = False

    def write(self, record: dict) -> None:
        self.handle.write(_dumps(record) + b"\n")
        self.handle.flush()
        self.dirty = True
        if time.monotonic() - self.last_sync >= FSYNC_INTERVAL_S:
            self.sync()

    def sync(self) -> None:
        if self.dirty:
            os.fsync(self.handle.fileno())
            self.dirty = False
        self.last_sync = time.monotonic()

    def close(self) -> None:
        if not self.handle.closed:
            self.sync()
            self.handle.close()


def _dumps(record: Mapping[str, Any]) -> bytes:
    """One record as a compact JSON line, UTF-8, without the newline.

    NaN/inf (not JSON) become ``null``. A file name that is not valid UTF-8 (POSIX
    allows any bytes; Python holds them as lone surrogates) is written with JSON
    ``\\u`` escapes, so every line stays valid UTF-8 JSON and round-trips to the
    same path in Python.
    """
    try:
        text = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = json.dumps(_json_safe(record), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(json.loads(text), ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if hasattr(value, "dtype") and getattr(value, "dtype").kind in "iub":
        return int(value)
    return number if math.isfinite(number) else None


def _atomic_write_bytes(path: str, data: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temp = tempfile.mkstemp(dir=folder, prefix=".shade-match-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _compact(path: str) -> None:
    """Rewrite the output keeping one line per file (the newest), atomically."""
    latest = latest_records(read_records(path))
    buffer = io.BytesIO()
    for record in latest.values():
        buffer.write(_dumps(record))
        buffer.write(b"\n")
    _atomic_write_bytes(path, buffer.getvalue())


# ----------------------------------------------------------------------------- CSV

#: Columns of the flat CSV (one row per image).
CSV_COLUMNS = (
    "file", "ok", "error", "error_type", "sha256",
    "hair_L", "hair_a", "hair_b", "hair_hex", "hair_level", "hair_grey_fraction",
    "hair_coverage", "hair_confidence",
    "skin_L", "skin_a", "skin_b", "skin_hex", "skin_ita_deg", "skin_ita_class", "skin_monk",
    "skin_fitzpatrick", "skin_undertone", "skin_confidence",
    "match_palette", "match_id", "match_name", "match_delta_e",
    "warnings",
)


def record_to_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One JSON record flattened to the :data:`CSV_COLUMNS` (missing values are ``""``)."""
    row: dict[str, Any] = dict.fromkeys(CSV_COLUMNS, "")
    row["file"] = record.get("file", "")
    row["ok"] = bool(record.get("ok"))
    row["error"] = record.get("error") or ""
    row["error_type"] = record.get("error_type") or ""
    row["sha256"] = record.get("sha256") or ""
    hair = record.get("hair") or {}
    if hair:
        lab = hair.get("lab") or ("", "", "")
        row.update(hair_L=lab[0], hair_a=lab[1], hair_b=lab[2])
        for key in ("hex", "level", "grey_fraction", "coverage", "confidence"):
            row[f"hair_{key}"] = hair.get(key, "")
    skin = record.get("skin") or {}
    if skin:
        lab = skin.get("lab") or ("", "", "")
        row.update(skin_L=lab[0], skin_a=lab[1], skin_b=lab[2])
        for key in ("hex", "ita_deg", "ita_class", "monk", "fitzpatrick", "undertone", "confidence"):
            row[f"skin_{key}"] = skin.get(key, "")
    matches = record.get("matches") or []
    if matches:
        top = matches[0]
        row.update(
            match_palette=top.get("palette", ""),
            match_id=top.get("id", ""),
            match_name=top.get("name", ""),
            match_delta_e=top.get("delta_e", ""),
        )
    row["warnings"] = " | ".join(record.get("warnings") or ())
    return row


def records_to_csv(records: Iterable[Mapping[str, Any]], path: str | os.PathLike) -> None:
    """Write records as a flat CSV (UTF-8 with BOM so spreadsheet programs read accents), atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record_to_row(record))
    _atomic_write_bytes(os.fspath(path), ("\ufeff" + buffer.getvalue()).encode("utf-8", "backslashreplace"))


# ------------------------------------------------------------------------- engines


@dataclass
class _Task:
    index: int
    path: str
    known_sha256: str | None


class _Progress:
    def __init__(self, progress, total: int) -> None:
        self.callback = None
        self.bar = None
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="img", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
        elif callable(progress):
            self.callback = progress
        self.done = 0
        self.total = total

    def update(self, record: dict | None) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        if self.callback is not None:
            self.callback(self.done, self.total, record)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _crash_record(path: str, detail: str) -> dict:
    error = WorkerCrashedError(
        f"{path}: expected the worker process to return a result; it died ({detail}) — "
        "often out of memory on a very large image"
    )
    return _failure_record(path, error, None)


def _run_local(tasks: list[_Task], job: _Job, workers: int, emit: Callable[[_Task, dict | None], None]) -> None:
    context = multiprocessing.get_context("spawn")
    limit = max(1, workers * IN_FLIGHT_PER_WORKER)
    pending = collections.deque(tasks)
    suspects: collections.deque[_Task] = collections.deque()

    def new_pool() -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_local_worker,
            initargs=(os.getpid(),),
        )

    pool = new_pool()
    in_flight: dict[cf.Future, _Task] = {}
    try:
        while pending or suspects or in_flight:
            # Suspects (in flight when a worker died) run alone, so the one that kills
            # a worker is identified and the others are not blamed.
            isolating = bool(suspects)
            while (suspects or pending) and len(in_flight) < (1 if isolating else limit):
                if isolating and in_flight:
                    break
                task = suspects.popleft() if suspects else pending.popleft()
                try:
                    future = pool.submit(_analyse_task, task.path, task.known_sha256, job)
                except BrokenProcessPool:
                    suspects.appendleft(task)
                    break
                in_flight[future] = task
            if not in_flight:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                continue
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            broken: list[_Task] = []
            for future in done:
                task = in_flight.pop(future)
                try:
                    record = future.result()
                except BrokenProcessPool:
                    broken.append(task)
                    continue
                except Exception as error:  # pickling problems and the like
                    record = _failure_record(task.path, error, None)
                emit(task, record)
            if broken:
                # Every future still in flight is lost with the pool.
                broken += list(in_flight.values())
                in_flight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                if isolating:
                    task = broken[0]
                    emit(task, _crash_record(task.path, "worker process terminated abruptly"))
                    suspects.extendleft(reversed(broken[1:]))
                else:
                    suspects.extend(sorted(broken, key=lambda t: t.index))
    except BaseException:
        _terminate_pool(pool)
        raise
    else:
        pool.shutdown(wait=True)


def _terminate_pool(pool: cf.ProcessPoolExecutor) -> None:
    pool.shutdown(wait=False, cancel_futures=True)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.terminate()
        except Exception:  # pragma: no cover - already gone
            pass


def _import_distributed():
    try:
        import distributed
    except ImportError as error:
        raise SettingsError(
            "expected the optional Dask support for --engine dask; it is not installed "
            f"({error}). Install it with: pip install 'shade-match[dask]'"
        ) from None
    return distributed


def _run_dask(
    tasks: list[_Task],
    job: _Job,
    workers: int,
    scheduler: str | None,
    emit: Callable[[_Task, dict | None], None],
) -> None:
    distributed = _import_distributed()
    cluster = None
    if scheduler:
        client = distributed.Client(scheduler)
    else:
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = distributed.Client(cluster)
    try:
        total_threads = sum(client.nthreads().values()) or workers
        limit = max(1, total_threads * IN_FLIGHT_PER_WORKER)
        [job_future] = client.scatter([job], broadcast=True, hash=False)
        pending = collections.deque(tasks)
        by_key: dict[str, _Task] = {}
        completed = distributed.as_completed()
        run_tag = os.urandom(4).hex()

        def submit(task: _Task) -> None:
            future = client.submit(
                _analyse_task, task.path, task.known_sha256, job_future,
                key=f"shade-match-{run_tag}-{task.index}", pure=False, retries=0,
            )
            by_key[future.key] = task
            completed.add(future)

        while pending and len(by_key) < limit:
            submit(pending.popleft())
        for future in completed:
            task = by_key.pop(future.key)
            try:
                record = future.result()
            except distributed.KilledWorker as error:
                record = _crash_record(task.path, f"Dask KilledWorker: {error}")
            except Exception as error:
                record = _failure_record(task.path, error, None)
            future.release()
            emit(task, record)
            if pending:
                submit(pending.popleft())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- run


def run_batch(
    paths: Sequence[str | os.PathLike] | str | os.PathLike,
    *,
    out: str | os.PathLike,
    settings=None,
    palettes=None,
    workers: int | None = None,
    resume: bool = False,
    recursive: bool = False,
    overlay_dir: str | os.PathLike | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    progress: bool | Callable[[int, int, dict | None], None] | None = None,
    csv_out: str | os.PathLike | None = None,
) -> BatchSummary:
    """Analyse many photos into a JSON Lines file, resumably and in parallel.

    Parameters
    ----------
    paths : path-like or sequence of them
        Image files and folders (see :func:`collect_image_paths`).
    out : path-like
        The JSON Lines output (one record per image, appended as each finishes).
    settings : AnalysisSettings, optional
    palettes : Palette, name, path or a sequence of them, optional
        As for :func:`shade_match.analysis.analyze_image`.
    workers : int, optional
        Parallel worker processes (default: every CPU this process may use). With
        ``engine="dask"`` and no scheduler, the ``LocalCluster`` size.
    resume : bool
        Continue into an existing output: files already recorded with the same
        SHA-256 are skipped. Without it an existing non-empty ``out`` is an error.
    recursive : bool
        Descend into sub-folders.
    overlay_dir : path-like, optional
        Write each image's check overlay (PNG) here.
    engine : {"local", "dask"}
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler (``engine="dask"``).
    progress : bool or callable, optional
        ``True``: a tqdm bar on stderr; a callable is called as
        ``progress(done, total, record)`` after each file (``record`` is ``None`` for a
        file skipped on resume). ``None``/``False``: silent.
    csv_out : path-like, optional
        Also write a flat CSV regenerated from the whole output at the end.

    Returns
    -------
    BatchSummary

    Raises
    ------
    InputError
        A path does not exist, the output already holds results and ``resume`` is
        false, the output is being written by another run, or an option is invalid.
    """
    from .analysis import AnalysisSettings, _resolve_palettes

    started = time.monotonic()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if engine not in ("local", "dask"):
        raise SettingsError(f"engine must be 'local' or 'dask'; got {engine!r}")
    if scheduler and engine != "dask":
        raise SettingsError("a scheduler address is only used with engine='dask'")
    if workers is None:
        workers = default_worker_count()
    if not isinstance(workers, int) or workers < 1:
        raise SettingsError(f"workers must be a whole number ≥ 1; got {workers!r}")
    if engine == "dask":
        _import_distributed()  # fail before touching the output
    settings = settings if settings is not None else AnalysisSettings()
    # Resolve palettes in the parent: a bad palette is a usage error, found once.
    resolved_palettes = _resolve_palettes(palettes)
    files = collect_image_paths(paths, recursive=recursive)
    out_path = os.path.abspath(os.fspath(out))
    if out_path in files:
        files.remove(out_path)
    overlay = os.path.abspath(os.fspath(overlay_dir)) if overlay_dir is not None else None
    if overlay is not None:
        os.makedirs(overlay, exist_ok=True)

    output = _Output(out_path, resume=resume)
    try:
        previous = latest_records(read_records(out_path)) if resume else {}
        file_set = set(files)
        tasks = [
            _Task(index, path, (previous.get(path) or {}).get("sha256"))
            for index, path in enumerate(files)
        ]
        final: dict[str, dict] = {}
        redone = 0
        analysed = 0
        skipped = 0
        bar = _Progress(progress if progress else None, len(tasks))

        def emit(task: _Task, record: dict | None) -> None:
            nonlocal analysed, skipped, redone
            if record is None:  # same bytes as recorded
                skipped += 1
                final[task.path] = previous[task.path]
            else:
                analysed += 1
                if task.path in previous:
                    redone += 1
                output.write(record)
                final[task.path] = _summary_fields(record)
            bar.update(record)

        interrupted = False
        job = _Job(settings=settings, palettes=resolved_palettes, overlay_dir=overlay)
        try:
            if engine == "local":
                _run_local(tasks, job, workers, emit)
            else:
                _run_dask(tasks, job, workers, scheduler, emit)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            bar.close()
            output.sync()
    finally:
        output.close()

    if redone or output.repaired_bytes:
        _compact(out_path)
    if csv_out is not None:
        records = [r for r in latest_records(read_records(out_path)).values()]
        records_to_csv(records, csv_out)

    outcomes = [final.get(path) or previous.get(path) for path in files]
    outcomes = [o for o in outcomes if o is not None and o.get("file") in file_set]
    failures = collections.Counter(o.get("error_type") or "Error" for o in outcomes if not o.get("ok"))
    succeeded = sum(1 for o in outcomes if o.get("ok"))
    return BatchSummary(
        out=Path(out_path),
        total=len(files),
        analysed=analysed,
        skipped=skipped,
        succeeded=succeeded,
        failed=sum(failures.values()),
        failures_by_type=dict(failures),
        elapsed_s=time.monotonic() - started,
        interrupted=interrupted,
        csv=Path(os.path.abspath(os.fspath(csv_out))) if csv_out is not None else None,
    )


def _summary_fields(record: dict) -> dict:
    # Keep only what the summary needs: a 50,000-file run must not hold every record.
    return {key: record.get(key) for key in ("file", "ok", "error_type", "sha256")}


# --------------------------------------------------------------------------- CLI


def add_batch_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``batch`` sub-command to an ``argparse`` sub-parser collection.

    The parser's default ``func`` is :func:`run_batch_cli`.
    """
    parser = subparsers.add_parser(
        "batch",
        help="analyse many photos into a JSON Lines file (resumable, parallel)",
        description=(
            "Analyse image files and folders; one JSON line per image is appended to --out as "
            "soon as it is done. Interrupted runs continue with --resume."
        ),
    )
    _add_batch_arguments(parser)
    parser.set_defaults(func=run_batch_cli)
    return parser


def _add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files and folders")
    parser.add_argument("--out", required=True, help="JSON Lines output file")
    parser.add_argument("--csv", dest="csv_out", help="also write a flat CSV (regenerated at the end)")
    parser.add_argument("--recursive", "-r", action="store_true", help="descend into sub-folders")
    parser.add_argument(
        "--workers", type=int, default=None,
        help=f"parallel worker processes (default: all usable CPUs, here {default_worker_count()})",
    )
    parser.add_argument("--overlay", dest="overlay_dir", metavar="DIR", help="write check overlays (PNG) here")
    parser.add_argument("--resume", action="store_true", help="continue into an existing --out, skipping recorded files")
    parser.add_argument("--engine", choices=("local", "dask"), default="local", help="where to run (default: local)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler address (with --engine dask)")
    parser.add_argument(
        "--progress", dest="progress", action=argparse.BooleanOptionalAction, default=None,
        help="show a progress bar (default: only when stderr is a terminal)",
    )
    # --palette, --top, --metric, --correction, --grey-card, --hair-region, --skin-region:
    # the same analysis options as `shade-match analyze`.
    from .cli import add_analysis_options

    add_analysis_options(parser)


def run_batch_cli(args: argparse.Namespace) -> int:
    """Run the ``batch`` sub-command from parsed arguments; return the exit code.

    0: every input recorded ok; 1: some input failed; 2: usage error (bad option, missing
    path, existing output without ``--resume``); 130: interrupted.
    """
    from .cli import settings_from_args

    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    try:
        settings = settings_from_args(args)
        summary = run_batch(
            args.paths,
            out=args.out,
            settings=settings,
            palettes=args.palette,
            workers=args.workers,
            resume=args.resume,
            recursive=args.recursive,
            overlay_dir=args.overlay_dir,
            engine=args.engine,
            scheduler=args.scheduler,
            progress=progress,
            csv_out=args.csv_out,
        )
    except InputError as error:
        print(f"shade-match batch: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the output cannot be written (disk full, read-only, gone)
        print(
            f"shade-match batch: error: could not write the results ({error}); the lines written so far "
            "are kept — fix the cause and run the same command with --resume",
            file=sys.stderr,
        )
        return 1
    print(format_summary(summary), file=sys.stderr)
    return summary.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m shade_match.batch PATH... --out results.jsonl`` (same as ``shade-match batch``)."""
    parser = argparse.ArgumentParser(prog="python -m shade_match.batch", description="shade-match batch")
    _add_batch_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return run_batch_cli(args)


if __name__ == "__main__":
    sys.exit(main())
