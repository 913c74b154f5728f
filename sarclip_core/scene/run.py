"""A scene opened for a query (SceneRun): the scene, model, calibration, index and output grid, and what
every query does with them (scores, peaks placed on the radar return, map coordinates, the summary, and the
one chunk loop over the output grid).
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
import rasterio

from ..errors import SarclipError
from ..io import OutputGrid, RasterInfo, describe
from ..io.raster import NoCrsWarning
from .backend import is_onnx, load_model, logit_scale
from .blend import CellBlender, Chunk, chunks
from .calibration import Calibration
from .index import SceneIndex, open_or_build
from .progress import StageProgress
from .prompts import embed
from .radiometry import AFLOAT_CELLS, SceneLevels, scene_levels
from .scatterers import Footprint, Scatterer, confirmed, find_scatterers
from .settings import SceneSettings

if TYPE_CHECKING:
    from .backend import InferenceModel

INDEX_SHARE = 0.9  # of the progress bar, when the index has to be built


@dataclass
class SceneRun:
    """A scene opened for a query: its description, the model and its calibration, the index and the output grid."""

    info: RasterInfo
    checkpoint: InferenceModel
    calibration: Calibration
    index: SceneIndex
    grid: OutputGrid
    peak_radius: int  # output pixels: one scene cell, the finest the map resolves
    warnings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    _levels: SceneLevels | None = field(default=None, repr=False)

    def levels(self) -> SceneLevels:
        """The scene's levels and dark mode on the output grid (radiometry.py), kept beside the scene's index."""
        if self._levels is None:
            self._levels = scene_levels(self.info, self.grid, self.index.path)
        return self._levels

    def to_map(self, row: int, col: int) -> tuple[float, float]:
        """Map coordinates of an output pixel's centre (pixel coordinates when there is no CRS)."""
        return rasterio.Affine(*self.grid.transform) * (col + 0.5, row + 0.5)

    def scatterers(self, peaks: list[tuple[int, int, float]]) -> list[Scatterer]:
        """Each output-grid peak on the brightest patch within a scene cell of it, with its contrast (scatterers.py)."""
        return find_scatterers(self.info, self.grid, peaks, self.peak_radius * self.grid.factor)

    def water_shares(self, peaks: list[tuple[int, int, float]]) -> list[float]:
        """Share of the scene's water within a cell of each output-grid peak (SceneLevels.afloat; 1 for all
        when the scene has no dark mode, so no land to tell from water)."""
        shares = self.levels().afloat(AFLOAT_CELLS * self.peak_radius)
        return [1.0 if shares is None else float(shares[r, c]) for r, c, _ in peaks]

    def object_points(self, peaks: list[tuple[int, int, float]]) -> list[tuple[float, float, float]]:
        """(x, y, value) in map coordinates of the peaks a bright scatterer confirms, each on that scatterer."""
        merge = Footprint.for_cell(self.peak_radius * self.grid.factor).merge
        return [(s.x, s.y, v) for (_, _, v), s in confirmed(peaks, self.scatterers(peaks), merge, self.info.pixel_size)]

    def output_pixel(self, x: float, y: float) -> tuple[int, int]:
        """(row, col) of the output pixel holding map point (x, y)."""
        col, row = ~rasterio.Affine(*self.grid.transform) * (x, y)
        return min(self.grid.height - 1, max(0, int(row))), min(self.grid.width - 1, max(0, int(col)))

    def scores(self, vectors: np.ndarray, backgrounds: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(cells, L) cosines with L unit vectors and (cells, K) with the K background classes named (K may be 0)."""
        if backgrounds:
            vectors = np.concatenate([vectors, embed(self.checkpoint, backgrounds)])
        scores = self.index.scores(vectors)
        return scores[:, :len(scores[0]) - len(backgrounds)], scores[:, len(scores[0]) - len(backgrounds):]

    def summary(self, outputs: dict[str, str], message: str, **extra: Any) -> dict[str, Any]:
        seconds = time.perf_counter() - self.started
        return {"scene": self.info.path, "outputs": outputs, "backend": "onnx" if is_onnx(self.checkpoint) else "torch",
                **self.index.summary(),
                "seconds_query": round(seconds, 3),
                "output_grid": {"width": self.grid.width, "height": self.grid.height, "factor": self.grid.factor,
                                "georeferenced": self.info.georeferenced},
                "calibration": asdict(self.calibration), **extra, "warnings": self.warnings, "message": message}

    def cell_embeddings(self, points: Sequence[tuple[float, float]]) -> np.ndarray:
        """(P, D) index embeddings of the scene cells under map points; a point off the indexed area or on no data
        is an error naming it."""
        cells, inverse = self.index.cells, ~self.info.affine
        vectors = []
        for x, y in points:
            col, row = inverse * (x, y)
            r, c = int(cells.row_of(row)), int(cells.col_of(col))
            vector = self.index.embeddings[r * cells.cols + c] if 0 <= r < cells.rows and 0 <= c < cells.cols else None
            if vector is None or not np.isfinite(vector).all():
                where = "outside the scene's indexed area" if vector is None else "on no data"
                raise SarclipError(f"{self.info.path}: example point ({x:g}, {y:g}) lies {where} "
                                   "(points are in the scene's map coordinates)")
            vectors.append(np.asarray(vector, dtype=np.float32))
        return np.stack(vectors)


def inference_model(model: str | os.PathLike | InferenceModel) -> InferenceModel:
    """A loaded model as given; a --model value loaded on the backend `auto` picks (backend.py)."""
    return load_model(model) if isinstance(model, (str, os.PathLike)) else model


def describe_scene(scene: str | os.PathLike) -> tuple[RasterInfo, list[str]]:
    """Describe the scene, keeping the no-CRS warning for the summary (and passing it on)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoCrsWarning)
        info = describe(scene)
    notes = [str(w.message) for w in caught if issubclass(w.category, NoCrsWarning)]
    for note in notes:
        warnings.warn(note, NoCrsWarning, stacklevel=3)
    return info, notes


def open_index(info: RasterInfo, checkpoint: InferenceModel, settings: SceneSettings,
               steps: StageProgress) -> tuple[SceneIndex, OutputGrid]:
    """The scene's index (reused, or built with `steps`) and its maps' output grid (about four pixels per scene
    cell). A new index also gets the scene's levels on that grid (radiometry.scene_levels, about 0.6 s per
    100 Mpixel, a few percent of indexing), so that no later query has to read the scene again."""
    index = open_or_build(info, checkpoint, settings, steps)
    cell = min(index.cells.width, index.cells.height)
    area = settings.grid(info, checkpoint.reader.native_size).area
    grid = OutputGrid.for_scene(info, settings.factor(cell, area.width * area.height), area=area)
    if not index.reused:
        scene_levels(info, grid, index.path)
    return index, grid


def open_run(scene: str | os.PathLike, model: str | os.PathLike | InferenceModel, settings: SceneSettings,
             steps: StageProgress) -> SceneRun:
    """Open `scene` for a query: describe it, load the model, reuse or build its index (the first
    INDEX_SHARE of `steps`), and lay the output grid."""
    info, notes = describe_scene(scene)
    checkpoint = inference_model(model)
    steps.check()
    index, grid = open_index(info, checkpoint, settings, steps.part(0.0, INDEX_SHARE))
    calibration = Calibration.read(checkpoint.calibration, logit_scale(checkpoint))
    cell = min(index.cells.width, index.cells.height)
    return SceneRun(info, checkpoint, calibration, index, grid, max(1, round(cell / grid.factor)), notes + index.notes)
    # the run's clock starts now: query time excludes indexing


def blended_blocks(run: SceneRun, blender: CellBlender, steps: StageProgress,
                   halo: int = 0) -> Iterator[tuple[Chunk, tuple[int, int, int, int], np.ndarray, tuple[int, int, int, int]]]:
    """The output grid chunk by chunk, for the one loop every map writer runs: (chunk, its block grown by `halo`
    output pixels, the block's blended values (K, rows, cols), the chunk's rows/cols inside the block),
    reporting progress (and checking for cancel) as it goes and 1.0 at the end."""
    all_chunks = chunks(run.grid)
    for k, chunk in enumerate(all_chunks):
        steps.report(k / len(all_chunks))
        padded = chunk.padded(run.grid, halo)
        r0, _, c0, _ = padded
        yield chunk, padded, blender.blend(*padded), (chunk.row0 - r0, chunk.row1 - r0, chunk.col0 - c0, chunk.col1 - c0)
    steps.report(1.0)
