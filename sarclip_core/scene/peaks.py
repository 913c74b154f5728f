"""Local maxima of a blended map: one point per object-sized neighbourhood, found chunk by chunk.

A peak is a pixel that is the largest value within `radius` pixels and at least `threshold`.
Chunks are read with a halo of `radius`, and a chunk keeps only peaks inside its own block, so a
peak on a chunk border is found exactly once whichever chunk sees it.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def find_peaks(values: np.ndarray, radius: int, threshold: float,
               core: tuple[int, int, int, int] | None = None) -> list[tuple[int, int, float]]:
    """(row, col, value) of the peaks of a 2-D map (NaN = no data) that lie in core rows/cols [r0, r1) x [c0, c1)."""
    known = np.isfinite(values)
    filled = np.where(known, values, -np.inf)
    size = 2 * max(1, radius) + 1
    highest = ndimage.maximum_filter(filled, size=size, mode="constant", cval=-np.inf)
    is_peak = known & (filled == highest) & (filled >= threshold)  # no data is never a peak, whatever the threshold
    # A flat top makes several equal maxima: keep one pixel per connected flat top, at its centre: the mean of
    # its pixels' coordinates, rounded, summed over the peak pixels only (a centre of mass over the whole chunk
    # per label costs more than the rest of the search). A ring- or L-shaped top's centre can fall off it (on no
    # data, or lower ground): that top's pixel nearest the centre is taken instead.
    labels, count = ndimage.label(is_peak, structure=np.ones((3, 3)))
    if count == 0:
        return []
    top_rows, top_cols = np.nonzero(labels)
    top = labels[top_rows, top_cols]
    pixels = np.bincount(top, minlength=count + 1)[1:]
    mean_rows, mean_cols = (np.bincount(top, coords, count + 1)[1:] / pixels for coords in (top_rows, top_cols))
    rows, cols = np.rint(mean_rows).astype(int), np.rint(mean_cols).astype(int)
    off = np.flatnonzero(labels[rows, cols] != np.arange(1, count + 1))
    for k in off:
        mine = top == k + 1
        nearest = np.argmin((top_rows[mine] - mean_rows[k]) ** 2 + (top_cols[mine] - mean_cols[k]) ** 2)
        rows[k], cols[k] = top_rows[mine][nearest], top_cols[mine][nearest]
    r0, r1, c0, c1 = core or (0, values.shape[0], 0, values.shape[1])
    inside = (rows >= r0) & (rows < r1) & (cols >= c0) & (cols < c1)
    rows, cols = rows[inside], cols[inside]
    return list(zip(rows.tolist(), cols.tolist(), values[rows, cols].astype(float).tolist()))
