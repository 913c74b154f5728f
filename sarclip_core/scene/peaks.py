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
    # A flat top makes several equal maxima: keep one pixel per connected flat top, at its centre.
    # The centre is the mean of a top's pixel coordinates, summed over the peak pixels only (a centre of mass over
    # the whole chunk per label costs more than the rest of the search).
    labels, count = ndimage.label(is_peak, structure=np.ones((3, 3)))
    if count == 0:
        return []
    top_rows, top_cols = np.nonzero(labels)
    top = labels[top_rows, top_cols]
    pixels = np.bincount(top, minlength=count + 1)[1:]
    rows = np.rint(np.bincount(top, top_rows, count + 1)[1:] / pixels).astype(int)
    cols = np.rint(np.bincount(top, top_cols, count + 1)[1:] / pixels).astype(int)
    r0, r1, c0, c1 = core or (0, values.shape[0], 0, values.shape[1])
    inside = (rows >= r0) & (rows < r1) & (cols >= c0) & (cols < c1)
    rows, cols = rows[inside], cols[inside]
    return list(zip(rows.tolist(), cols.tolist(), values[rows, cols].astype(float).tolist()))
