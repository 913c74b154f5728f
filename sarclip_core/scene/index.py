"""The scene index: one embedding per scene cell on disk, keyed by scene, model and settings.

A query is then a matrix product over stored cell embeddings instead of a pass of the encoder over
the scene. Each scene cell is stored once, whatever the window overlap: the windows that see it add
their view of it (cells.py, accumulate.py). The key covers the scene file (path, size, mtime), the
model (a digest of the image tower and fusion weights, normalisation and channels) and the window
settings, so any change to one of them gives a new index and a stale one is never used. An index is
built in a temporary folder and renamed into place, so a cancelled or failed build leaves nothing behind.

An index is checked whenever it is opened: its files must have the sizes its cell grid implies, match
the checksums written at build time (recomputed only when a file's modification time differs from the
one recorded, so a reused index still opens in milliseconds), and hold unit embeddings (a sample of
rows). A damaged index is rebuilt, with a note in the run's summary. Indexes built before checksums
were recorded get theirs on first open. The cache's size limit and clearing are in cache.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import RasterError, SarclipError
from ..files import atomic_folder, atomic_text, sweep_stale
from ..io import RasterInfo, WindowGrid
from .accumulate import CELLS_FILE, VALID_FILE, CellAccumulator, read_valid
from .backend import model_identity, window_encoder
from .batches import prefetch, read_batches
from .cache import check_room, mark_used, prune
from .cells import SUB, SceneCells
from .progress import StageProgress
from .settings import SceneSettings

if TYPE_CHECKING:
    from .backend import InferenceModel

FORMAT = "sarclip-scene-index/2"  # /1 stored one embedding per window: such an index is rebuilt, never misread
META_FILE = "index.json"
SAMPLED_ROWS = 64  # cell embeddings checked for unit length when an index is opened
CHUNK_BYTES = 1 << 20


@dataclass
class SceneIndex:
    """A stored index: unit cell embeddings (rows * cols, D), NaN for cells no window filled, and sub-cell validity."""

    path: Path
    meta: dict
    reused: bool
    notes: list[str] = field(default_factory=list)  # for the run's warnings: e.g. a damaged index was rebuilt

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

    def valid(self, sub_row0: int, sub_row1: int, sub_col0: int = 0, sub_col1: int | None = None) -> np.ndarray:
        """Sub-cell validity (SUB per cell side) of sub-cell rows [sub_row0, sub_row1) and columns
        [sub_col0, sub_col1) (all by default)."""
        return read_valid(self.path, self.cells, sub_row0, sub_row1, sub_col0, sub_col1)

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
    """The window grid's geometry as JSON-ready facts (tile, stride, scale, area) for the index metadata."""
    area = grid.area
    return {"tile": grid.tile, "stride": grid.stride, "scale_x": grid.scale_x, "scale_y": grid.scale_y,
            "area": [area.col, area.row, area.width, area.height], "windows": len(grid)}


def open_or_build(info: RasterInfo, checkpoint: InferenceModel, settings: SceneSettings, steps: StageProgress) -> SceneIndex:
    """The index for this scene, model and settings: reused when it exists and is whole, built otherwise."""
    grid = settings.grid(info, checkpoint.reader.native_size)
    folder = index_folder(info, model_identity(checkpoint), settings, checkpoint.reader.native_size)
    cache = folder.parent
    sweep_stale(cache)  # staging of runs killed outright
    existing, problem = _load(folder)
    if existing is not None:
        mark_used(folder)
        steps.report(1.0)
        return existing
    index = _build(info, checkpoint, settings, grid, folder, steps)
    if problem:
        index.notes.append(f"the cached scene index {folder} was damaged ({problem}) and has been rebuilt")
    prune(cache, settings.cache_limit(), keep=folder)
    return index


def index_folder(info: RasterInfo, identity: str, settings: SceneSettings, native_tile: int) -> Path:
    """Where the index of this scene, model identity (backend.model_identity) and settings lives, built or not."""
    return settings.cache_dir() / index_key(info, identity, settings.grid(info, native_tile))


def existing(folder: Path) -> SceneIndex | None:
    """The whole index in `folder`, or None when there is none or it is damaged (a build replaces it)."""
    return _load(folder)[0]


def _load(folder: Path) -> tuple[SceneIndex | None, str | None]:
    """The index in `folder` if it is complete and whole; else None and what is wrong with it (None when
    there is no index or one of another format: that is no damage, just something to build)."""
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{META_FILE} is missing" if folder.is_dir() else None
    except (OSError, ValueError) as error:
        return None, f"{META_FILE} cannot be read: {getattr(error, 'strerror', None) or error}"
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None, None
    try:
        problem = _verify(folder, meta)
    except (OSError, ValueError, KeyError, TypeError) as error:
        problem = f"{META_FILE} is not a valid index description ({error})"
    return (None, problem) if problem else (SceneIndex(folder, meta, reused=True), None)


def _verify(folder: Path, meta: dict) -> str | None:
    """None when the index's files are whole, else what is wrong with them.

    Checksums recorded at build time are recomputed only for files modified since; when they still
    match (a copied cache), or none were recorded (an index from before they were), the files' facts
    are recorded now so the next opening is fast again.
    """
    cells = SceneCells.from_dict(meta["cells"])
    expected = {CELLS_FILE: cells.count * int(meta["dim"]) * 4, VALID_FILE: cells.count * SUB * SUB // 8}
    recorded = meta.get("files") or {}
    current = {}
    for name, size in expected.items():
        try:
            stat = (folder / name).stat()
        except FileNotFoundError:
            return f"{name} is missing"
        if stat.st_size != size:
            return f"{name} holds {stat.st_size} bytes instead of {size}"
        facts = recorded.get(name)
        if facts is not None and facts["mtime_ns"] == stat.st_mtime_ns:
            current[name] = facts
            continue
        current[name] = file_facts(folder / name)
        if facts is not None and current[name]["blake2b"] != facts["blake2b"]:
            return f"{name} does not match its checksum"
    if not _unit_rows(np.memmap(folder / CELLS_FILE, np.float32, "r", shape=(cells.count, int(meta["dim"])))):
        return f"{CELLS_FILE} holds values that are not unit embeddings"
    if current != recorded:
        try:
            with atomic_text(folder / META_FILE) as handle:
                json.dump({**meta, "files": current}, handle, indent=2)
        except SarclipError:  # a read-only cache is used as it is, checked again next time
            pass
    return None


def _unit_rows(embeddings: np.ndarray) -> bool:
    """Whether evenly spread rows are each a unit vector or all NaN (a cell no window filled)."""
    rows = embeddings[np.unique(np.linspace(0, len(embeddings) - 1, SAMPLED_ROWS).astype(np.int64))]
    empty = np.isnan(rows).all(axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.linalg.norm(rows.astype(np.float64), axis=1)
    return bool(np.all(empty | (np.abs(norms - 1.0) < 1e-3)))


def file_facts(path: Path) -> dict:
    """Size, modification time and BLAKE2b checksum of a file, as recorded in an index's metadata."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    stat = path.stat()
    return {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns, "blake2b": digest.hexdigest()}


def estimated_bytes(cells: SceneCells, dim: int) -> int:
    """Disk space building an index of `cells` takes at its peak: the embedding sums and the validity,
    unpacked while building and packed at the end."""
    return cells.count * (dim * 4 + SUB * SUB + SUB * SUB // 8)


def _build(info: RasterInfo, checkpoint: InferenceModel, settings: SceneSettings, grid: WindowGrid, folder: Path,
           steps: StageProgress) -> SceneIndex:
    encoder = window_encoder(checkpoint)
    per_window, dim = encoder.cell_shape(grid.tile)
    cells = SceneCells.for_windows(grid, per_window)
    check_room(info.path, folder.parent, estimated_bytes(cells, dim), settings.cache_limit(), len(grid))
    channels = (checkpoint.channels, checkpoint.reader.channels)
    started, count = time.perf_counter(), 0
    try:
        with atomic_folder(folder) as staging:  # replaces one built meanwhile by another run, or a damaged one
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
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "files": {name: file_facts(staging / name) for name in (CELLS_FILE, VALID_FILE)}}
            (staging / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    except OSError as error:  # a full disk (the estimate is checked first, but others write too)
        if error.errno is None:  # rasterio's read errors are OSErrors without a number: not a write failure
            raise
        raise SarclipError(f"{folder.parent}: cannot write the scene index ({error.strerror or error})") from None
    return SceneIndex(folder, meta, reused=False)
