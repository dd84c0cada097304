"""Process set-up for the programs that analyse photos (CLI, batch workers, app).

Analysing one photo allocates and frees some hundred NumPy/OpenCV arrays of 1–12 MB
(the working image is 1000 px on its long side: 3 MB per float32 plane). glibc's
``malloc`` serves each block above its mmap threshold (128 KiB at start, raised
dynamically only after such a block is freed) with a fresh ``mmap`` and hands it
back with ``munmap`` on ``free``, so every array's pages are faulted in again and
zeroed by the kernel. Measured here on a 12 MP photo (``benchmarks/speed.py``,
process CPU time, one core): segmentation 145–180 ms with the defaults, 110–112 ms
when freed blocks are kept for reuse.

:func:`reuse_freed_memory` makes glibc keep them. It is a process-wide setting, so
the library never applies it on import: the entry points that run many analyses in
one process call it (``shade-match`` CLI, batch workers, the Streamlit app, the
benchmarks). A program that embeds shade-match may call it too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: Environment variables that size the thread pools of NumPy's BLAS/OpenMP builds and
#: numexpr. They take effect only when set before NumPy is first imported; the
#: benchmarks set them to 1 so that each process uses one core.
THREAD_POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")

#: mallopt(3) parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

#: Blocks up to this size come from the heap, not from a fresh mmap. 32 MiB is the
#: largest value glibc accepts on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX,
#: mallopt(3)); a full-size 12 MP decode (36 MB) is still mapped and unmapped.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024

#: Free memory at the top of the heap is returned to the system only above this.
#: A choice: a few times one analysis's peak heap (~100 MB at the 1000 px working
#: size), so the memory kept between photos is bounded and small beside the RAM of
#: any machine that runs a batch (2 workers keep at most ~0.5 GB).
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024

#: Extra heap obtained at each growth, so growth happens in a few large steps. A
#: choice, the size of one working-image float32 Lab image with room to spare.
TOP_PAD_BYTES = 16 * 1024 * 1024

_applied: bool | None = None


def reuse_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed large blocks for reuse; True if it did.

    Does nothing (returns False) where the C library is not glibc (macOS, Windows,
    musl). Calling it again does nothing more.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _applied = bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
        and mallopt(_M_TOP_PAD, TOP_PAD_BYTES)
    )
    return _applied
