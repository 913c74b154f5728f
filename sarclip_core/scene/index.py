"""The scene index: one embedding per scene cell on disk, keyed by scene, model and settings.

A query is then a matrix product over stored cell embeddings instead of a pass of the encoder over
the scene. Each scene cell is stored once, whatever the window overlap: the windows that see it add
their view of it (cells.py, accumulate.py). The key covers the scene file (path, size, mtime), the
model (a digest of the image tower and fusion weights, normalisation and channels) and the window
settings, so any change to one of them gives a new index and a stale one is never used. An index is
built in a temporary folder and renamed into place, so a cancelled or failed build leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RasterError
from ..io import RasterInfo, WindowGrid
from ..model import Checkpoint
from .accumulate import CELLS_FILE, VALID_FILE, CellAccumulator, read_valid
from .batches import prefetch, read_batches
from .cells import SUB, SceneCells
from .encoder import WindowEncoder, model_identity
from .progress import Steps
from .settings import SceneSettings

FORMAT = "sarclip-scene-index/2"  # /1 stored one embedding per window: such an index is rebuilt, never misread
META_FILE = "index.json"


@dataclass
class SceneIndex:
    """A stored index: unit cell embeddings (rows * cols, D), NaN for cells no window filled, and sub-cell validity."""

    path: Path
    meta: dict
    reused: bool

    @property
    def cells(self) -> SceneCells:
        return SceneCells.from_dict(self.meta["cells"])

    @property
    def count(self) -> int:
        """Scene cells stored (rows x cols of the cell grid)."""
        return self.cells.count

    @property
    def windows(self) -> int:
        """Windows with data that were encoded to build the index."""
        return int(self.meta["windows"])

    @property
    def embeddings(self) -> np.ndarray:
        """(cells, D) float32 unit embeddings in row-major cell order, memory-mapped (read when used)."""
        return np.memmap(self.path / CELLS_FILE, np.float32, "r", shape=(self.count, self.meta["dim"]))

    def valid(self, sub_row0: int, sub_row1: int) -> np.ndarray:
        """Sub-cell validity (SUB per cell side) of sub-cell rows [sub_row0, sub_row1), all columns."""
        return read_valid(self.path, self.cells, sub_row0, sub_row1)

    def scores(self, vectors: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """(cells, K) cosine similarity of every cell with K unit vectors (texts or images); NaN for empty cells."""
        vectors = np.asarray(vectors, dtype=np.float32)
        emb = self.embeddings
        return np.concatenate([emb[start:start + chunk] @ vectors.T for start in range(0, self.count, chunk)])

    @property
    def seconds(self) -> float:
        return float(self.meta["seconds"])

    def summary(self) -> dict:
        """JSON-friendly facts about the index for run summaries."""
        cells = self.cells
        return {"index": str(self.path), "index_reused": self.reused, "windows": self.windows,
                "windows_in_grid": self.meta["grid"]["windows"], "scene_cells": self.count,
                "cell_grid": [cells.rows, cells.cols], "cell_size_px": [round(cells.width, 3), round(cells.height, 3)],
                "seconds_indexing": round(self.seconds, 3),
                "windows_per_second": round(self.meta["windows_per_second"], 1)}


def index_key(info: RasterInfo, identity: str, grid: WindowGrid) -> str:
    """The digest naming an index: scene file, model identity and the exact window grid."""
    stat = os.stat(info.path)
    facts = {"format": FORMAT, "scene": info.path, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
             "value_kind": info.value_kind.value, "model": identity, "grid": grid_facts(grid)}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:32]


def grid_facts(grid: WindowGrid) -> dict:
    area = grid.area
    return {"tile": grid.tile, "stride": grid.stride, "scale_x": grid.scale_x, "scale_y": grid.scale_y,
            "area": [area.col, area.row, area.width, area.height], "windows": len(grid)}


def open_or_build(info: RasterInfo, checkpoint: Checkpoint, settings: SceneSettings, steps: Steps) -> SceneIndex:
    """The index for this scene, model and settings: reused when it exists, built otherwise."""
    grid = settings.grid(info, checkpoint.reader.native_size)
    key = index_key(info, model_identity(checkpoint), grid)
    folder = settings.cache_dir() / key
    existing = _load(folder)
    if existing is not None:
        steps.report(1.0)
        return existing
    return _build(info, checkpoint, settings, grid, folder, steps)


def _load(folder: Path) -> SceneIndex | None:
    """A complete index in `folder`, or None (missing, another format, or damaged: then it is rebuilt)."""
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            return None
        cells = SceneCells.from_dict(meta["cells"])
        if (folder / CELLS_FILE).stat().st_size != cells.count * meta["dim"] * 4 or \
                (folder / VALID_FILE).stat().st_size != cells.count * SUB * SUB // 8:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return SceneIndex(folder, meta, reused=True)


def _build(info: RasterInfo, checkpoint: Checkpoint, settings: SceneSettings, grid: WindowGrid, folder: Path,
           steps: Steps) -> SceneIndex:
    staging = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    encoder = WindowEncoder(checkpoint)
    channels = (checkpoint.channels, checkpoint.reader.channels)
    started, count = time.perf_counter(), 0
    try:
        per_window, dim = encoder.cell_shape(grid.tile)
        cells = SceneCells.for_windows(grid, per_window)
        accumulator = CellAccumulator(staging, cells, dim)
        batches = prefetch(read_batches(info, grid, checkpoint.normalisation, channels, settings.batch_size))
        try:
            for batch in batches:
                steps.check()
                accumulator.add([w.box for w in batch.windows], encoder(batch.inputs), batch.valid)
                count += len(batch.windows)
                steps.report((batch.windows[-1].index + 1) / len(grid))
        finally:
            batches.close()
        if count == 0:
            raise RasterError(info.path, "has no valid pixels in the area to analyse (all nodata); nothing to map")
        accumulator.finish()
        seconds = time.perf_counter() - started
        meta = {"format": FORMAT, "scene": info.path, "windows": count, "dim": dim, "cells": cells.to_dict(),
                "grid": grid_facts(grid), "seconds": seconds, "windows_per_second": count / max(seconds, 1e-9),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (staging / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if folder.exists():  # built meanwhile by another run, or a damaged one: replace it
            shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SceneIndex(folder, meta, reused=False)
