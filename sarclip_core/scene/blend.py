"""Draw per-cell values onto output map chunks: a smooth blend between neighbouring cells, NaN where no data.

Each cell's value is spread with a Hann weight over a footprint of 2 x 2 cells centred on the cell;
the weights of neighbouring cells sum to one, so between cell centres the map passes smoothly from one
cell's value to the next (a cosine interpolation), and its local maxima sit on cell centres. Cells no
window filled (NaN) give no weight; a pixel is NaN where its sub-cell holds no data. Only the cells
and validity rows under a chunk are read, so memory is one chunk, whatever the scene size; the chunk
goes to the output's TiledWriter as one non-overlapping block, which writes the atomic, georeferenced file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io import OutputGrid
from .cells import SUB
from .index import SceneIndex

CHUNK = 512  # output pixels per side of a chunk


@dataclass(frozen=True)
class Chunk:
    """A block of the output grid: rows [row0, row1) and columns [col0, col1)."""

    row0: int
    row1: int
    col0: int
    col1: int

    def padded(self, grid: OutputGrid, halo: int) -> tuple[int, int, int, int]:
        """The block grown by `halo` pixels on each side, clipped to the grid."""
        return (max(0, self.row0 - halo), min(grid.height, self.row1 + halo),
                max(0, self.col0 - halo), min(grid.width, self.col1 + halo))


def chunks(grid: OutputGrid, size: int = CHUNK) -> list[Chunk]:
    """The output grid cut into blocks of at most `size` x `size` pixels, row-major."""
    return [Chunk(r, min(r + size, grid.height), c, min(c + size, grid.width))
            for r in range(0, grid.height, size) for c in range(0, grid.width, size)]


def _neighbours(position: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The two nearest cells (2, n) of positions in cell units (centres at i + 0.5), and their Hann weights (2, n)."""
    u = position - 0.5
    first = np.floor(u)
    t = u - first
    first = first.astype(np.int64)
    cells = np.clip(np.stack([first, first + 1]), 0, count - 1)
    weights = np.stack([np.cos(np.pi * t / 2) ** 2, np.sin(np.pi * t / 2) ** 2])
    return cells, weights


class CellBlender:
    """Draws (cells, K) values of an index onto an output grid, block by block."""

    def __init__(self, index: SceneIndex, grid: OutputGrid, values: np.ndarray):
        self.index, self.grid, self.cells = index, grid, index.cells
        self.values = np.asarray(values, dtype=np.float64).reshape(self.cells.rows, self.cells.cols, -1)

    def blend(self, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
        """(K, rows, cols) blended values of an output block; NaN where the scene has no data."""
        cells, f = self.cells, self.grid.factor
        ys = self.grid.origin.row + (np.arange(row0, row1) + 0.5) * f
        xs = self.grid.origin.col + (np.arange(col0, col1) + 0.5) * f
        rows, row_weights = _neighbours((ys - cells.row0) / cells.height, cells.rows)
        cols, col_weights = _neighbours((xs - cells.col0) / cells.width, cells.cols)
        # The Hann weights are separable, so the blend is two 1-D passes: across columns for the few cell rows
        # under the block, then down the rows; each sum is carried with its weight so no-data cells drop out.
        top, left = int(rows.min()), int(cols.min())
        rows, cols = rows - top, cols - left
        band = self.values[top:top + int(rows.max()) + 1, left:left + int(cols.max()) + 1]  # the cells under the block
        known = np.isfinite(band[..., 0])
        filled = np.where(known[..., None], np.nan_to_num(band), 0.0)
        across = filled[:, cols[0]] * col_weights[0][:, None] + filled[:, cols[1]] * col_weights[1][:, None]
        across_weight = known[:, cols[0]] * col_weights[0] + known[:, cols[1]] * col_weights[1]
        sums = across[rows[0]] * row_weights[0][:, None, None] + across[rows[1]] * row_weights[1][:, None, None]
        weights = across_weight[rows[0]] * row_weights[0][:, None] + across_weight[rows[1]] * row_weights[1][:, None]
        sub_rows = np.clip(cells.row_of(ys, SUB), 0, cells.rows * SUB - 1)
        sub_cols = np.clip(cells.col_of(xs, SUB), 0, cells.cols * SUB - 1)
        first_row, first_col = int(sub_rows.min()), int(sub_cols.min())
        valid = self.index.valid(first_row, int(sub_rows.max()) + 1, first_col, int(sub_cols.max()) + 1)[
            sub_rows[:, None] - first_row, sub_cols[None, :] - first_col]
        area = self.grid.origin  # output pixels whose centre lies past the scene's (or AOI's) edge stay NaN
        valid &= (ys < area.row + area.height)[:, None] & (xs < area.col + area.width)[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            blended = np.where((valid & (weights > 0))[..., None], sums / weights[..., None], np.nan)
        return blended.transpose(2, 0, 1)
