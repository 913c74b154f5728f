"""The scene index: per-window embeddings and window boxes on disk, keyed by scene, model and settings.

A query is then a matrix product over stored embeddings instead of a pass of the encoder over the
scene. The key covers the scene file (path, size, mtime), the model (a digest of the image tower
and fusion weights, normalisation and channels) and the window settings, so any change to one of
them gives a new index and a stale one is never used. An index is built in a temporary folder and
renamed into place, so a cancelled or failed build leaves nothing behind.
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
from ..io import PixelBox, RasterInfo, WindowGrid
from ..model import Checkpoint
from .batches import MASK_SIDE, prefetch, read_batches
from .encoder import WindowEncoder, model_identity
from .progress import Steps
from .settings import SceneSettings

FORMAT = "sarclip-scene-index/1"
META_FILE = "index.json"
EMBEDDINGS_FILE = "embeddings.f32"
BOXES_FILE = "boxes.i32"
MASKS_FILE = "masks.u8"


@dataclass
class SceneIndex:
    """A stored index: window embeddings (n, D), their source-pixel boxes (n, 4) and coarse valid masks."""

    path: Path
    meta: dict
    reused: bool

    @property
    def count(self) -> int:
        return int(self.meta["count"])

    @property
    def embeddings(self) -> np.ndarray:
        """(n, D) float32 unit embeddings, memory-mapped (not read into RAM until used)."""
        return np.memmap(self.path / EMBEDDINGS_FILE, np.float32, "r", shape=(self.count, self.meta["dim"]))

    @property
    def boxes(self) -> np.ndarray:
        """(n, 4) int32 source-pixel boxes: col, row, width, height of each window's data."""
        return np.fromfile(self.path / BOXES_FILE, np.int32).reshape(self.count, 4)

    def mask(self, i: int, masks: np.ndarray | None = None) -> np.ndarray:
        """Window i's (MASK_SIDE, MASK_SIDE) valid mask over its box."""
        masks = self.packed_masks() if masks is None else masks
        return np.unpackbits(masks[i])[:MASK_SIDE * MASK_SIDE].reshape(MASK_SIDE, MASK_SIDE).astype(bool)

    def packed_masks(self) -> np.ndarray:
        return np.memmap(self.path / MASKS_FILE, np.uint8, "r").reshape(self.count, -1)

    def scores(self, vectors: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """(n, K) cosine similarity of every window with K unit vectors (texts or images)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        emb = self.embeddings
        return np.concatenate([emb[start:start + chunk] @ vectors.T for start in range(0, self.count, chunk)])

    @property
    def seconds(self) -> float:
        return float(self.meta["seconds"])

    def summary(self) -> dict:
        """JSON-friendly facts about the index for run summaries."""
        return {"index": str(self.path), "index_reused": self.reused, "windows": self.count,
                "windows_in_grid": self.meta["grid"]["windows"], "seconds_indexing": round(self.seconds, 3),
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
        expected = meta["count"] * meta["dim"] * 4
        if meta.get("format") != FORMAT or (folder / EMBEDDINGS_FILE).stat().st_size != expected:
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
    started, count, dim = time.perf_counter(), 0, 0
    try:
        with open(staging / EMBEDDINGS_FILE, "wb") as emb, open(staging / BOXES_FILE, "wb") as boxes, \
                open(staging / MASKS_FILE, "wb") as masks:
            batches = prefetch(read_batches(info, grid, checkpoint.normalisation, channels, settings.batch_size))
            try:
                for batch in batches:
                    steps.check()
                    vectors = encoder(batch.inputs)
                    emb.write(vectors.astype(np.float32).tobytes())
                    boxes.write(np.array([_box(w.box) for w in batch.windows], np.int32).tobytes())
                    masks.write(np.packbits(batch.masks.reshape(len(batch.masks), -1), axis=1).tobytes())
                    count, dim = count + len(vectors), vectors.shape[1]
                    steps.report((batch.windows[-1].index + 1) / len(grid))
            finally:
                batches.close()
        if count == 0:
            raise RasterError(info.path, "has no valid pixels in the area to analyse (all nodata); nothing to map")
        seconds = time.perf_counter() - started
        meta = {"format": FORMAT, "scene": info.path, "count": count, "dim": dim, "mask_side": MASK_SIDE,
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


def _box(box: PixelBox) -> tuple[int, int, int, int]:
    return box.col, box.row, box.width, box.height
