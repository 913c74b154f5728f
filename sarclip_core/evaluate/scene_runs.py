"""The scene engine run on evaluation images exactly as the CLI and the plugin run it, results in image pixels.

Each call writes the engine's real outputs (heatmap GeoTIFF, count GeoPackage, label map) into a private
temporary folder, with a private index cache, and reads them back: a task measures what an analyst would
load in QGIS, not an internal shortcut. Outputs are brought back to the image's own pixel frame through
the transforms of the scene and of the output, so the tasks work with and without a CRS and at any
output resolution.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import rasterio
from osgeo import gdal

from ..io import RasterInfo, describe
from ..io.raster import NoCrsWarning
from ..model import Checkpoint
from ..scene.api import classify_labels, count_objects, text_query
from ..scene.settings import SceneSettings


@dataclass
class SourceMap:
    """An output raster's values and where its pixel centres lie in the image's pixels (x right, y down)."""

    values: np.ndarray  # (bands, rows, cols) of the output grid
    to_image: rasterio.Affine  # output (col, row) -> image (x, y)
    image_size: tuple[int, int]  # image (width, height)

    def best(self, band: int = 0) -> tuple[float, float, float]:
        """(x, y, value) of the largest value of a band, at its output pixel's centre in image pixels."""
        layer = self.values[band]
        if not np.isfinite(layer).any():
            return float("nan"), float("nan"), float("nan")
        row, col = np.unravel_index(int(np.nanargmax(layer)), layer.shape)
        x, y = self.to_image * (col + 0.5, row + 0.5)
        return float(x), float(y), float(layer[row, col])

    def on_image(self, band: int = 0, fill: float = np.nan) -> np.ndarray:
        """(H, W) of the image: each image pixel takes the output pixel its centre falls in (nearest)."""
        width, height = self.image_size
        cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
        back = ~self.to_image
        out_cols = np.floor(back.a * cols + back.b * rows + back.c).astype(np.int64)
        out_rows = np.floor(back.d * cols + back.e * rows + back.f).astype(np.int64)
        layer = self.values[band]
        inside = (out_rows >= 0) & (out_rows < layer.shape[0]) & (out_cols >= 0) & (out_cols < layer.shape[1])
        result = np.full((height, width), fill, dtype=np.float64)
        result[inside] = layer[out_rows[inside], out_cols[inside]]
        return result


class SceneRunner:
    """Runs the engine on images for one model; outputs and indexes live in a temporary folder removed on close."""

    def __init__(self, checkpoint: Checkpoint, settings: SceneSettings | None = None):
        self.checkpoint = checkpoint
        self._folder = tempfile.TemporaryDirectory(prefix="sarclip-eval-")
        self.root = Path(self._folder.name)
        self.settings = settings or SceneSettings(index_dir=self.root / "index")
        self._count = 0

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> "SceneRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _out(self, name: str) -> Path:
        self._count += 1
        return self.root / f"{self._count:05d}-{name}"

    def heatmap(self, image: str | os.PathLike, query: str) -> tuple[SourceMap, tuple[float, float] | None]:
        """The text query's heatmap of the image, and the engine's best location in image pixels (its `best`:
        the map's maximum, on the strongest scatterer for an object query), None for an all-NaN map."""
        out = self._out("heatmap.tif")
        with _quiet():
            summary = text_query(image, query, out, self.checkpoint, self.settings, quicklook=False)
        info = _info(image)
        best = summary.get("best")
        return _read_map(out, info), (tuple(~info.affine * (best["x"], best["y"])) if best else None)

    def label_map(self, image: str | os.PathLike, labels: list[str]) -> SourceMap:
        """The label map of a label set (band values 1..N in the order given, 0 = no data)."""
        out, confidence = self._out("labels.tif"), self._out("confidence.tif")
        with _quiet():
            classify_labels(image, labels, out, confidence, self.checkpoint, self.settings, quicklook=False)
        return _read_map(out, _info(image))

    def peaks(self, image: str | os.PathLike, label: str, min_score: float | None) -> list[tuple[float, float, float]]:
        """(x, y, score) in image pixels of the count layer's peaks for one label."""
        info = _info(image)
        out = self._out("counts.gpkg")
        cell = float(max(info.width * info.pixel_size[0], info.height * info.pixel_size[1]))  # one cell: points only
        with _quiet():
            count_objects(image, label, cell, out, model=self.checkpoint, settings=self.settings, min_score=min_score)
        back = ~info.affine
        return [(*(back * (x, y)), score) for x, y, score in _read_points(out)]


def _info(image: str | os.PathLike) -> RasterInfo:
    with _quiet():
        return describe(image)


@contextmanager
def _quiet() -> Iterator[None]:
    """Evaluation images are often plain pictures: the engine's no-CRS warning is expected, not news."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCrsWarning)
        yield


def _read_map(path: Path, info: RasterInfo) -> SourceMap:
    with rasterio.open(path) as ds:
        values = ds.read().astype(np.float64)
        if ds.nodata is not None and not np.isnan(ds.nodata):
            values[values == ds.nodata] = np.nan
        to_map = ds.transform
    return SourceMap(values, ~info.affine * to_map, (info.width, info.height))


def _read_points(path: Path) -> list[tuple[float, float, float]]:
    """(x, y, score) of the 'peaks' layer, read with GDAL's own error state left as it was."""
    source = gdal.OpenEx(str(path), gdal.OF_VECTOR)
    layer = source.GetLayerByName("peaks")
    points = []
    for feature in layer:
        geometry = feature.GetGeometryRef()
        points.append((geometry.GetX(), geometry.GetY(), float(feature.GetField("score"))))
    source = None  # noqa: F841  (closes the file)
    return points
