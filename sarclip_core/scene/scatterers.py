"""Peaks placed on the target itself: within the map's resolution, on the strongest scatterer.

Cell maps resolve one scene cell (32 px for the shipped tower), while a ship in a 10 m Sentinel-1 scene
is a few pixels. A peak of an object query (ship, tank...) is therefore moved to the brightest 3x3 mean
of the source image within one cell of it: the model says which cell holds the object, the radar
return says where in the cell it is (targets are bright scatterers). Background queries (water, land,
sea...) keep the map's own peak: they have no scatterer to snap to. Only a small window around each
peak is read, so memory stays bounded whatever the scene size.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import rasterio
from scipy import ndimage

from ..d2c.vocabulary import DEFAULT_VOCABULARY, load_vocabulary
from ..io import OutputGrid, RasterInfo, open_raster, to_domain
from .calibration import BACKGROUNDS

SMOOTH = 3  # pixels: the scatterer is the brightest mean of this many pixels a side, not a single speckle spike


def is_object_query(phrases: Sequence[str]) -> bool:
    """True when no phrase names a background (sea, water, land, clutter... or one of their words)."""
    vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
    backgrounds = {key.lower() for key in vocabulary.backgrounds} | {b.lower() for b in BACKGROUNDS}
    for phrase in phrases:
        key = vocabulary.canonical(phrase)
        if key.lower() in backgrounds or phrase.strip().lower() in backgrounds:
            return False
        if any(phrase.strip().lower() in {t.lower() for t in words.terms} for words in vocabulary.backgrounds.values()):
            return False
    return True


def snap_to_scatterers(info: RasterInfo, grid: OutputGrid, peaks: Sequence[tuple[int, int, float]],
                       radius: int) -> list[tuple[float, float]]:
    """Map coordinates of each output-grid peak (row, col, value) moved to the brightest 3x3 mean within `radius`
    source pixels of its centre (pixel coordinates when the scene has no CRS)."""
    if not peaks:
        return []
    located = []
    with open_raster(info.path) as ds:
        for row, col, _ in peaks:
            x = grid.origin.col + (col + 0.5) * grid.factor
            y = grid.origin.row + (row + 0.5) * grid.factor
            c0, r0 = max(0, int(x) - radius), max(0, int(y) - radius)
            c1, r1 = min(info.width, int(x) + radius + 1), min(info.height, int(y) + radius + 1)
            window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
            data = ds.read(window=window)
            valid = np.ones(data.shape[1:], dtype=bool) if info.nodata is None or np.iscomplexobj(data) \
                else ~(data == info.nodata).all(axis=0)
            amplitude = np.nan_to_num(to_domain(data, info.value_kind, "linear").mean(axis=0), nan=0.0)
            strength = ndimage.uniform_filter(np.where(valid, amplitude, 0.0), size=SMOOTH, mode="constant")
            best_row, best_col = np.unravel_index(int(np.argmax(strength)), strength.shape)
            located.append(tuple(info.affine * (c0 + best_col + 0.5, r0 + best_row + 0.5)))
    return located
