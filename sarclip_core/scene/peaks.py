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
    filled = np.where(np.isfinite(values), values, -np.inf)
    size = 2 * max(1, radius) + 1
    is_peak = (filled == ndimage.maximum_filter(filled, size=size, mode="constant", cval=-np.inf)) & (filled >= threshold)
    # A flat top makes several equal maxima: keep one pixel per connected flat top, at its centre.
    labels, count = ndimage.label(is_peak, structure=np.ones((3, 3)))
    if count == 0:
        return []
    centres = np.rint(ndimage.center_of_mass(is_peak, labels, range(1, count + 1))).astype(int)
    rows, cols = centres.T.reshape(2, -1)
    r0, r1, c0, c1 = core or (0, values.shape[0], 0, values.shape[1])
    return [(int(r), int(c), float(values[r, c])) for r, c in zip(rows, cols) if r0 <= r < r1 and c0 <= c < c1]
