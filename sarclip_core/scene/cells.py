"""The scene's cell grid: one embedding per cell of the encoder's feature map, stored once per scene.

A window of the encoder's native size is read out as h x h cells (4 x 4 cells of 32 px for a 128 px
window of the shipped ResNet; 1 x 1 for a tower without dense readout). The scene cell grid lays cells
of that size (window footprint / cells per side, in source pixels) over the window grid's area, from
its origin, so it does not depend on the overlap: overlapping windows add their view of a cell into
the same scene cell, which is what makes maps resolve cells instead of window strides.

Validity is kept per sub-cell (SUB x SUB per cell) so maps are NaN exactly where the scene has no data.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from ..io import PixelBox, WindowGrid

SUB = 8  # validity sub-cells per cell side


@dataclass(frozen=True)
class SceneCells:
    """rows x cols cells of width x height source pixels from (col0, row0); per_window cells per window side."""

    col0: int
    row0: int
    width: float
    height: float
    rows: int
    cols: int
    per_window: int

    @classmethod
    def for_windows(cls, grid: WindowGrid, per_window: int) -> "SceneCells":
        """The cell grid over `grid`'s area for windows read out as per_window x per_window cells."""
        foot_w, foot_h = grid.footprint
        width, height = foot_w / per_window, foot_h / per_window
        area = grid.area
        return cls(area.col, area.row, width, height, math.ceil(area.height / height), math.ceil(area.width / width),
                   per_window)

    @classmethod
    def from_dict(cls, data: dict) -> "SceneCells":
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def count(self) -> int:
        return self.rows * self.cols

    def row_of(self, y: np.ndarray, sub: int = 1) -> np.ndarray:
        """Cell rows (or sub-cell rows, sub = SUB) of source-pixel y coordinates (unclipped)."""
        return np.floor((np.asarray(y, np.float64) - self.row0) * sub / self.height).astype(np.int64)

    def col_of(self, x: np.ndarray, sub: int = 1) -> np.ndarray:
        """Cell columns (or sub-cell columns, sub = SUB) of source-pixel x coordinates (unclipped)."""
        return np.floor((np.asarray(x, np.float64) - self.col0) * sub / self.width).astype(np.int64)

    def place(self, boxes: Sequence[PixelBox], sub: int) -> tuple[np.ndarray, np.ndarray]:
        """(B, h * sub) scene sub-cell rows and cols that each window's own sub-cells fall in, by centre."""
        steps = (np.arange(self.per_window * sub) + 0.5) / sub
        rows, cols = _origins(boxes)
        return (self.row_of(rows[:, None] + steps * self.height, sub),
                self.col_of(cols[:, None] + steps * self.width, sub))

    def spread(self, boxes: Sequence[PixelBox]) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """Per axis (rows, then cols): the two scene cells (B, 2, h) each window cell overlaps, and the shares.

        A window aligned with the grid puts each of its cells into one scene cell (share 1, then 0); one that
        is not (the last window, flush with the area's end) splits each cell by overlap, so the scene cells
        under its edge, which no other window sees, still get its view of them.
        """
        def axis(starts: np.ndarray, origin: int, size: float) -> tuple[np.ndarray, np.ndarray]:
            edges = (starts[:, None] + np.arange(self.per_window) * size - origin) / size
            first = np.floor(edges + 1e-9)
            share = np.clip(edges - first, 0.0, 1.0)
            return np.stack([first, first + 1], axis=1).astype(np.int64), np.stack([1 - share, share], axis=1)

        rows, cols = _origins(boxes)
        return axis(rows, self.row0, self.height), axis(cols, self.col0, self.width)


def _origins(boxes: Sequence[PixelBox]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([b.row for b in boxes], np.float64), np.array([b.col for b in boxes], np.float64)


def sub_cells(valid: np.ndarray, side: int) -> np.ndarray:
    """(B, side, side) any-valid reduction of (B, T, T) window masks (a sub-cell is valid if any pixel is)."""
    starts = (np.arange(side) * valid.shape[-1]) // side
    return np.logical_or.reduceat(np.logical_or.reduceat(valid, starts, axis=1), starts, axis=2)
