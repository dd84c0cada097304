"""Pixel samples and colour helpers shared by the segmentation steps: strided samples
for medians (:data:`MEDIAN_MAX_PIXELS`) and rgb chromaticity.
"""

from __future__ import annotations

import numpy as np


# --------------------------------------------------------------------------------------
# Thresholds. Each is a design choice (there is no published value for scalp photos);
# the comment says why, and the tests pin the behaviour it buys.
# --------------------------------------------------------------------------------------

#: Medians of class colours use at most this many pixels (an even stride): the standard
#: error of a median of n normal values is 1.2533 σ/√n, so 20 000 pixels put it within
#: ~0.01 σ of that of millions, far faster.
MEDIAN_MAX_PIXELS = 20_000


def _sample(values: np.ndarray, mask: np.ndarray, limit: int = MEDIAN_MAX_PIXELS) -> np.ndarray:
    """The rows of *values* (shape (H, W, ...)) under *mask*, about *limit* of them at
    most: every k-th image pixel in raster order, k chosen from the mask's count (a
    median of more pixels is no steadier, and striding the image first avoids listing
    every masked pixel)."""
    flat_mask = mask.reshape(-1)
    count = int(np.count_nonzero(flat_mask))
    step = max(1, int(np.ceil(count / limit)))
    index = np.flatnonzero(flat_mask[::step]) * step
    flat = values.reshape(mask.size, -1) if values.ndim == 3 else values.reshape(-1)
    return np.take(flat, index, axis=0)


def _chromaticity(linear: np.ndarray) -> np.ndarray:
    """rgb chromaticity (r + g + b = 1) of linear RGB rows."""
    return linear / np.maximum(linear.sum(axis=-1, keepdims=True), 1e-9)
