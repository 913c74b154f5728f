"""Building the scene's cell embeddings on disk: window cells summed into scene cells, normalised at the end.

Sums and sub-cell validity live in np.memmap files in the index's staging folder, mapped only while a
batch is added (unmapping lets the kernel write dirty pages back and drop them from this process), so
memory is bounded by the batch, never by the scene.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..io import PixelBox
from .cells import SUB, SceneCells, sub_cells

CELLS_FILE = "cells.f32"
VALID_FILE = "valid.u8"
ROWS_AT_ONCE = 64  # cell rows normalised / packed per step while finishing


class CellAccumulator:
    """Adds batches of window cell embeddings into the scene cells; finish() leaves the index's two files."""

    def __init__(self, folder: Path, cells: SceneCells, dim: int):
        self.folder, self.cells, self.dim = folder, cells, dim
        self.sums_path, self.valid_path = folder / CELLS_FILE, folder / f".{VALID_FILE}.unpacked"
        for path, size in ((self.sums_path, cells.count * dim * 4), (self.valid_path, cells.count * SUB * SUB)):
            with open(path, "wb") as handle:
                handle.truncate(size)  # zeros
                reserve(handle.fileno(), size)

    def _sums(self, mode: str = "r+") -> np.memmap:
        return np.memmap(self.sums_path, np.float32, mode, shape=(self.cells.rows, self.cells.cols, self.dim))

    def _valid(self) -> np.memmap:
        return np.memmap(self.valid_path, np.bool_, "r+", shape=(self.cells.rows * SUB, self.cells.cols * SUB))

    def add(self, boxes: Sequence[PixelBox], embeddings: np.ndarray, valid: np.ndarray) -> None:
        """Window cells (B, h, h, D) of windows at `boxes`, with their (B, T, T) valid masks, into the scene cells.

        A window cell with any valid pixel adds its embedding to the scene cells it overlaps, weighted by
        the overlap (cells.spread); its sub-cells' validity is set by their own centres, so the validity
        follows the data, not the cells.
        """
        cells, side = self.cells, self.cells.per_window
        subs = sub_cells(valid, side * SUB)
        used = subs.reshape(len(boxes), side, SUB, side, SUB).any(axis=(2, 4))
        (rows, row_shares), (cols, col_shares) = cells.spread(boxes)
        targets, weights = [], []
        for a in range(2):
            for b in range(2):
                weight = row_shares[:, a, :, None] * col_shares[:, b, None, :] * used
                row, col = rows[:, a, :, None], cols[:, b, None, :]
                weights.append(np.where((row >= 0) & (row < cells.rows) & (col >= 0) & (col < cells.cols), weight, 0))
                targets.append(np.broadcast_to(row * cells.cols + col, weight.shape))
        weights, targets = np.stack(weights), np.stack(targets)
        keep = weights > 0
        vectors = np.broadcast_to(embeddings, (4, *embeddings.shape))[keep] * weights[keep][:, None]
        order = np.argsort(targets[keep], kind="stable")
        cell_ids, starts = np.unique(targets[keep][order], return_index=True)
        sums = self._sums().reshape(cells.count, self.dim)
        sums[cell_ids] += np.add.reduceat(vectors[order], starts, axis=0)  # overlapping windows of the batch summed
        sub_rows, sub_cols = cells.place(boxes, SUB)
        inside = subs & ((sub_rows >= 0) & (sub_rows < cells.rows * SUB))[:, :, None] \
            & ((sub_cols >= 0) & (sub_cols < cells.cols * SUB))[:, None, :]
        valid_map = self._valid()
        valid_map[np.broadcast_to(sub_rows[:, :, None], subs.shape)[inside],
                  np.broadcast_to(sub_cols[:, None, :], subs.shape)[inside]] = True
        del sums, valid_map  # unmap: pages go back to the kernel

    def finish(self) -> None:
        """Normalise every cell's summed embedding (its average direction); cells no window filled become NaN.

        Validity is packed to one byte per cell row of sub-cells (SUB bits across each cell), and the
        unpacked working copy removed.
        """
        sums, valid = self._sums(), self._valid()
        with open(self.folder / VALID_FILE, "wb") as packed:
            for start in range(0, self.cells.rows, ROWS_AT_ONCE):
                block = sums[start:start + ROWS_AT_ONCE]
                norms = np.linalg.norm(block, axis=-1, keepdims=True)
                with np.errstate(invalid="ignore", divide="ignore"):
                    block[:] = np.where(norms > 0, block / norms, np.nan)
                packed.write(np.packbits(valid[start * SUB:(start + ROWS_AT_ONCE) * SUB], axis=1).tobytes())
        sums.flush()
        del sums, valid
        self.valid_path.unlink()


def reserve(descriptor: int, size: int) -> None:
    """Allocate a file's blocks now, so that a full disk is an OSError here and not a SIGBUS in a later write
    through the memory map (where a file system cannot allocate ahead, the sparse file is kept)."""
    try:
        os.posix_fallocate(descriptor, 0, size)
    except OSError as error:
        if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise


def read_valid(folder: Path, cells: SceneCells, sub_row0: int, sub_row1: int, sub_col0: int = 0,
               sub_col1: int | None = None) -> np.ndarray:
    """(sub_row1 - sub_row0, sub_col1 - sub_col0) sub-cell validity of a finished index (all columns by default);
    only the bytes holding those columns are unpacked."""
    sub_col1 = cells.cols * SUB if sub_col1 is None else sub_col1
    packed = np.memmap(folder / VALID_FILE, np.uint8, "r", shape=(cells.rows * SUB, cells.cols * SUB // 8))
    first_byte = sub_col0 // 8
    bits = np.unpackbits(packed[sub_row0:sub_row1, first_byte:(sub_col1 + 7) // 8], axis=1).view(bool)
    return bits[:, sub_col0 - 8 * first_byte:sub_col1 - 8 * first_byte]
