"""shade_match.runtime: the allocator set-up the CLI, batch workers and app apply."""

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_reuse_freed_memory_is_accepted_by_glibc_and_idempotent():
    # A fresh process: the setting is process-wide and remembered once applied.
    code = (
        "from shade_match.runtime import reuse_freed_memory as r, MMAP_THRESHOLD_BYTES as t;"
        "import numpy as np;"
        "first = r(); second = r();"
        "a = np.ones(t // 2, np.uint8); assert a.sum() == t // 2;"  # the heap still serves big blocks
        "print(first, second)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]


def test_cli_and_batch_workers_apply_it(monkeypatch):
    from shade_match import batch, cli

    calls = []
    monkeypatch.setattr(cli, "reuse_freed_memory", lambda: calls.append("cli"))
    monkeypatch.setattr(batch, "reuse_freed_memory", lambda: calls.append("batch"))
    monkeypatch.setattr(batch, "_worker_configured", False)
    cli.main(["--version"], stdout=open("/dev/null", "w"), stderr=open("/dev/null", "w"))
    batch._configure_worker()
    assert calls == ["cli", "batch"]
