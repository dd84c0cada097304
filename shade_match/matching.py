"""Nearest palette entries to a target colour.

One vectorised colour difference from the target to every entry of every palette
(no Python loop per entry), then the k smallest. The order is total and does not
depend on the order of entries or palettes: by ``delta_e``, then palette name,
then entry id. For ``metric="cie94"`` the target is the reference colour (CIE94 is
not symmetric; the target is the colour we want to reproduce).

References
----------
.. [1] G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula:
   implementation notes, supplementary test data, and mathematical observations",
   Color Res. Appl. 30(1):21–30, 2005.
.. [2] CIE 116-1995, "Industrial colour-difference evaluation" (CIE94).
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .colour import DELTA_E_METHODS, delta_e
from .errors import InputError, SettingsError
from .palette import Palette
from .results import Match

__all__ = ["nearest_matches", "rank_of"]


def _target(target_lab: ArrayLike) -> NDArray[np.float64]:
    try:
        target = np.asarray(target_lab, dtype=np.float64)
    except (TypeError, ValueError):
        target = None
    if target is None or target.shape != (3,) or not np.all(np.isfinite(target)):
        shown = target.tolist() if target is not None else repr(target_lab)
        raise InputError(
            f"target_lab: expected one finite (L*, a*, b*) triple of shape (3,); received {shown!r}"
        )
    return target


def _metric(metric: str) -> str:
    if metric not in DELTA_E_METHODS:
        raise SettingsError(
            f"metric: expected one of {', '.join(DELTA_E_METHODS)}; received {metric!r}"
        )
    return metric


def _palettes(palettes: Palette | Sequence[Palette]) -> list[Palette]:
    items = [palettes] if isinstance(palettes, Palette) else list(palettes)
    for item in items:
        if not isinstance(item, Palette):
            raise InputError(
                f"palettes: expected a Palette or a sequence of Palette; received {type(item).__name__}"
            )
    names = [item.name for item in items]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InputError(
            f"palettes: expected distinct palette names; received {', '.join(duplicated)} more than once"
        )
    return items


def nearest_matches(
    target_lab: ArrayLike,
    palettes: Palette | Sequence[Palette],
    *,
    k: int = 3,
    metric: str = "ciede2000",
) -> tuple[Match, ...]:
    """The ``k`` palette entries closest to ``target_lab``, best first.

    Parameters
    ----------
    target_lab : array_like, shape (3,)
        CIELAB D65.
    palettes : Palette or sequence of Palette
        Searched together; names must be distinct.
    k : int
        How many matches (≥ 1). Fewer are returned if the palettes hold fewer.
    metric : {"ciede2000", "cie94", "cie76"}
        Colour difference (see :func:`shade_match.colour.delta_e`).

    Returns
    -------
    tuple of Match
        Sorted by (delta_e, palette name, entry id).
    """
    target = _target(target_lab)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise SettingsError(f"k: expected a whole number ≥ 1; received {k!r}")
    metric = _metric(metric)
    items = _palettes(palettes)
    sizes = [len(item) for item in items]
    if sum(sizes) == 0:
        return ()
    labs = np.concatenate([item.labs for item in items])
    distances = delta_e(target[None, :], labs, method=metric)
    count = len(distances)
    if count > k:
        kth_smallest = np.partition(distances, k - 1)[k - 1]
        candidates = np.flatnonzero(distances <= kth_smallest)  # keeps every tie at the cut
    else:
        candidates = np.arange(count)
    palette_index = np.repeat(np.arange(len(items)), sizes)
    entry_index = np.concatenate([np.arange(size) for size in sizes])
    palette_names = np.array([items[p].name for p in palette_index[candidates]], dtype=str)
    entry_ids = np.array(
        [items[p].entries[e].id for p, e in zip(palette_index[candidates], entry_index[candidates])],
        dtype=str,
    )
    order = np.lexsort((entry_ids, palette_names, distances[candidates]))[:k]
    matches = []
    for position in candidates[order]:
        palette = items[palette_index[position]]
        entry = palette.entries[entry_index[position]]
        matches.append(
            Match(
                palette=palette.name,
                id=entry.id,
                name=entry.name,
                lab=entry.lab,
                delta_e=float(distances[position]),
                hex=entry.hex,
                metric=metric,
            )
        )
    return tuple(matches)


def rank_of(
    entry_id: str, target_lab: ArrayLike, palette: Palette, metric: str = "ciede2000"
) -> int:
    """1-based rank of one entry among ``palette`` by distance to ``target_lab``.

    Uses the same order as :func:`nearest_matches` (ties broken by id), so
    ``rank_of(m.id, target, palette) == i + 1`` for the i-th match of that palette.

    Parameters
    ----------
    entry_id : str
    target_lab : array_like, shape (3,)
    palette : Palette
    metric : {"ciede2000", "cie94", "cie76"}

    Returns
    -------
    int
        1 = the nearest entry.
    """
    target = _target(target_lab)
    metric = _metric(metric)
    if not isinstance(palette, Palette):
        raise InputError(f"palette: expected a Palette; received {type(palette).__name__}")
    try:
        position = palette.ids.index(entry_id)
    except ValueError:
        palette.entry(entry_id)  # raises PaletteError naming the palette and id
        raise  # pragma: no cover - entry() always raises here
    distances = delta_e(target[None, :], palette.labs, method=metric)
    own = distances[position]
    ids = np.array(palette.ids, dtype=str)
    ahead = np.count_nonzero(distances < own) + np.count_nonzero((distances == own) & (ids < entry_id))
    return int(ahead) + 1
