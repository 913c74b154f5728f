"""Count layers as GeoPackage (GDAL/OGR): a grid of cells with object counts per label, and a peaks point layer."""

from __future__ import annotations

import math
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from osgeo import gdal, ogr, osr

from ..errors import SarclipError
from ..files import staging_path, visible_path
from ..io import OutputGrid

MAX_CELLS = 1_000_000


@dataclass(frozen=True)
class Point:
    """A detected object: where (map coordinates), which label, and the label's probability there."""

    x: float
    y: float
    label: str
    score: float
    row: int  # output-grid pixel, used to find the cell
    col: int


class StagedFile:
    """A file built under a temporary name; close() renames it into place, abort() removes it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = staging_path(self.path, self.path.suffix)

    def close(self) -> Path:
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)


def field_names(labels: Sequence[str]) -> list[str]:
    """A count field per label: 'n_' + the label reduced to letters, digits and '_', unique."""
    names: list[str] = []
    for label in labels:
        base = "n_" + (re.sub(r"[^0-9A-Za-z]+", "_", label).strip("_") or "label")
        name, k = base, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names


class CellGrid:
    """Square cells of `cell_size` map units over an output grid, in its pixel axes (rotation included)."""

    def __init__(self, grid: OutputGrid, cell_size: float, pixel_size: tuple[float, float]):
        if not cell_size > 0:
            raise SarclipError(f"cell size must be positive (map units), got {cell_size}")
        self.grid = grid
        self.cell_x = cell_size / (pixel_size[0] * grid.factor)  # output pixels per cell
        self.cell_y = cell_size / (pixel_size[1] * grid.factor)
        self.cols, self.rows = math.ceil(grid.width / self.cell_x), math.ceil(grid.height / self.cell_y)
        if self.cols * self.rows > MAX_CELLS:
            raise SarclipError(f"cell size {cell_size} gives {self.cols * self.rows:,} cells (at most {MAX_CELLS:,}); "
                               "choose a larger cell size")

    def cell_of(self, row: int, col: int) -> tuple[int, int]:
        return min(self.rows - 1, int((row + 0.5) // self.cell_y)), min(self.cols - 1, int((col + 0.5) // self.cell_x))

    def polygon(self, row: int, col: int) -> ogr.Geometry:
        a, b, c, d, e, f = self.grid.transform
        right, bottom = self.grid.origin.width / self.grid.factor, self.grid.origin.height / self.grid.factor
        c0, c1 = col * self.cell_x, min(right, (col + 1) * self.cell_x)  # cells end at the scene's edge
        r0, r1 = row * self.cell_y, min(bottom, (row + 1) * self.cell_y)
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for px, py in ((c0, r0), (c1, r0), (c1, r1), (c0, r1), (c0, r0)):
            ring.AddPoint_2D(a * px + b * py + c, d * px + e * py + f)
        polygon = ogr.Geometry(ogr.wkbPolygon)
        polygon.AddGeometry(ring)
        return polygon


def _srs(crs: str | None) -> osr.SpatialReference | None:
    if crs is None:
        return None
    srs = osr.SpatialReference()
    srs.ImportFromWkt(crs)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


@contextmanager
def geopackage(path: Path) -> Iterator[ogr.DataSource]:
    """The GeoPackage at `path` (created if missing) open for writing; closed when the block ends.

    OGR's failures (a full disk, a read-only folder) are read from GDAL's per-thread error state under a
    scoped quiet handler and become one line naming the output. OGR's exception mode is process-wide
    (QGIS and other plugins share it), so it is left as the host set it.
    """
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        gdal.ErrorReset()
        driver = ogr.GetDriverByName("GPKG")
        source = driver.Open(str(path), 1) if path.exists() else driver.CreateDataSource(str(path))
        if source is None:
            raise ogr_failure(path)
        try:
            yield source
            source.FlushCache()
        finally:  # closed here, while GDAL's messages about it are quiet, whatever still refers to it
            source.Destroy()
        if gdal.GetLastErrorType() >= gdal.CE_Failure:
            raise ogr_failure(path)
    except RuntimeError:  # a host that switched OGR's exceptions on gets the same one line
        raise ogr_failure(path) from None
    finally:
        gdal.PopErrorHandler()


def ogr_checked(code: int, path: Path) -> None:
    """An OGR call's error code (0 = success) as the one-line failure of the output."""
    if code != 0:
        raise ogr_failure(path)


def ogr_failure(path: Path) -> SarclipError:
    """The one-line failure of a GeoPackage output, with GDAL's last error message as its reason."""
    reason = (gdal.GetLastErrorMsg() or "unknown OGR error").splitlines()[0].rsplit("failed: ", 1)[-1]
    return SarclipError(f"{visible_path(path)}: cannot write the GeoPackage ({reason})")


def write_cells(path: Path, cells: CellGrid, labels: Sequence[str], points: Sequence[Point]) -> None:
    """Layer 'counts': one polygon per cell with a count field per label and their total."""
    fields = field_names(labels)
    counts: dict[tuple[int, int], list[int]] = {}
    for point in points:
        cell = counts.setdefault(cells.cell_of(point.row, point.col), [0] * len(labels))
        cell[labels.index(point.label)] += 1
    with geopackage(path) as source:
        layer = _layer(source, "counts", cells.grid.crs, ogr.wkbPolygon, path)
        for name in ["cell_row", "cell_col", *fields, "total"]:
            ogr_checked(layer.CreateField(ogr.FieldDefn(name, ogr.OFTInteger)), path)
        definition = layer.GetLayerDefn()
        ogr_checked(layer.StartTransaction(), path)
        for row in range(cells.rows):
            for col in range(cells.cols):
                values = counts.get((row, col), [0] * len(labels))
                feature = ogr.Feature(definition)
                feature.SetGeometry(cells.polygon(row, col))
                for name, value in zip(["cell_row", "cell_col", *fields, "total"], [row, col, *values, sum(values)]):
                    feature.SetField(name, int(value))
                ogr_checked(layer.CreateFeature(feature), path)
        ogr_checked(layer.CommitTransaction(), path)


def write_points(path: Path, crs: str | None, points: Sequence[Point]) -> None:
    """Layer 'peaks': one point per detected object with its label and score."""
    with geopackage(path) as source:
        layer = _layer(source, "peaks", crs, ogr.wkbPoint, path)
        ogr_checked(layer.CreateField(ogr.FieldDefn("label", ogr.OFTString)), path)
        ogr_checked(layer.CreateField(ogr.FieldDefn("score", ogr.OFTReal)), path)
        definition = layer.GetLayerDefn()
        ogr_checked(layer.StartTransaction(), path)
        for point in points:
            feature = ogr.Feature(definition)
            geometry = ogr.Geometry(ogr.wkbPoint)
            geometry.AddPoint_2D(point.x, point.y)
            feature.SetGeometry(geometry)
            feature.SetField("label", point.label)
            feature.SetField("score", round(point.score, 4))
            ogr_checked(layer.CreateFeature(feature), path)
        ogr_checked(layer.CommitTransaction(), path)


def _layer(source: ogr.DataSource, name: str, crs: str | None, kind: int, path: Path) -> ogr.Layer:
    layer = source.CreateLayer(name, _srs(crs), kind)
    if layer is None:
        raise ogr_failure(path)
    return layer
