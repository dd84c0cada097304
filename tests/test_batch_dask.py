"""The Dask engine gives the same records as the local engine, with the same resume rules.

A real ``dask.distributed.LocalCluster`` (threads, one worker) keeps the test quick;
one slow test lets ``run_batch`` start its own process-based cluster.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from imagegen import make_jpeg, make_text_file
from shade_match.batch import run_batch
from shade_match.errors import SettingsError
from shade_match.synthetic import random_spec, render_scalp_photo

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory) -> tuple[Path, list[Path]]:
    folder = tmp_path_factory.mktemp("dask-in")
    files = []
    for seed in range(3):
        rgb = render_scalp_photo(random_spec(seed, condition="neutral", size=(480, 360))).rgb
        for turn in range(2):
            path = folder / f"img_{seed}_{turn}.jpg"
            make_jpeg(path, np.ascontiguousarray(np.rot90(rgb, turn)), quality=90)
            files.append(path)
    files.append(make_text_file(folder / "not_an_image.jpg"))
    return folder, files


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as local_cluster:
        yield local_cluster


@pytest.fixture(scope="module")
def local_records(photo_folder, tmp_path_factory) -> dict[str, dict]:
    folder, _ = photo_folder
    out = tmp_path_factory.mktemp("local") / "local.jsonl"
    run_batch([folder], out=out, workers=2)
    return {r["file"]: r for r in _lines(out)}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_dask_engine_matches_local_engine(photo_folder, cluster, local_records, tmp_path):
    folder, files = photo_folder
    out = tmp_path / "dask.jsonl"
    summary = run_batch([folder], out=out, engine="dask", scheduler=cluster.scheduler_address)
    records = _lines(out)
    assert sorted(r["file"] for r in records) == sorted(str(f) for f in files)
    assert {r["file"]: r for r in records} == local_records
    assert (summary.analysed, summary.succeeded, summary.failed) == (len(files), len(files) - 1, 1)
    assert dict(summary.failures_by_type) == {"NotAnImageError": 1}


def test_dask_resume_skips_recorded_and_repairs_torn_tail(photo_folder, cluster, local_records, tmp_path):
    folder, files = photo_folder
    out = tmp_path / "dask.jsonl"
    done = [local_records[str(f)] for f in files[:3]]
    with open(out, "wb") as handle:
        for record in done:
            handle.write(json.dumps(record).encode() + b"\n")
        handle.write(b'{"file": "' + str(files[3]).encode() + b'", "ok": tr')  # torn
    summary = run_batch([folder], out=out, engine="dask", scheduler=cluster.scheduler_address, resume=True)
    assert (summary.skipped, summary.analysed) == (3, len(files) - 3)
    records = _lines(out)
    assert sorted(r["file"] for r in records) == sorted(str(f) for f in files)
    assert {r["file"]: r for r in records} == local_records


def test_missing_dask_is_a_clear_settings_error(photo_folder, tmp_path, monkeypatch):
    folder, _ = photo_folder
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(SettingsError, match=r"shade-match\[dask\]"):
        run_batch([folder], out=tmp_path / "o.jsonl", engine="dask")
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.slow
def test_dask_engine_starts_its_own_local_cluster(photo_folder, local_records, tmp_path):
    folder, files = photo_folder
    out = tmp_path / "dask.jsonl"
    summary = run_batch([folder], out=out, engine="dask", workers=1)
    assert summary.analysed == len(files)
    assert {r["file"]: r for r in _lines(out)} == local_records
