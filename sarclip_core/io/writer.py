"""Write overlapping window results into one float32 GeoTIFF, blended smoothly, atomically, in bounded memory."""

from __future__ import annotations

import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import rasterio
import rasterio._err
import rasterio.errors
from rasterio.enums import Resampling
from rasterio.windows import Window as RioWindow

from ..errors import RasterError

# What GDAL raises when a write or the read-back fails: rasterio's errors, its I/O error (an OSError), and
# the CPLE_* errors it raises for GDAL failures (public as rasterio._err only in rasterio 1.3).
GDAL_WRITE_ERRORS = (rasterio.errors.RasterioError, OSError, rasterio._err.CPLE_BaseError)
from ..files import staging_path, visible_path
from .raster import GDAL_ENV, RasterInfo
from .windows import PixelBox

FINAL_BLOCK = 256
CHUNK = 1024  # output pixels per side handled at once while finishing: bounds memory at any scene size


@dataclass(frozen=True)
class OutputGrid:
    """The raster an output is written on: the scene's footprint (or AOI) at `factor` source px per pixel."""

    width: int
    height: int
    transform: tuple[float, float, float, float, float, float]
    crs: str | None
    origin: PixelBox  # the source-pixel area this grid covers
    factor: int = 1

    @classmethod
    def for_scene(cls, info: RasterInfo, factor: int = 1, area: PixelBox | None = None) -> "OutputGrid":
        """A grid aligned with the scene's pixels; factor > 1 gives a coarser grid with the same origin."""
        if factor < 1:
            raise RasterError(info.path, f"output grid factor must be >= 1, got {factor}")
        area = area or PixelBox(0, 0, info.width, info.height)
        affine = info.affine * rasterio.Affine.translation(area.col, area.row) * rasterio.Affine.scale(factor)
        return cls(
            width=math.ceil(area.width / factor),
            height=math.ceil(area.height / factor),
            transform=tuple(affine)[:6],
            crs=info.crs,
            origin=area,
            factor=factor,
        )

    def project(self, box: PixelBox) -> tuple[int, int, int, int]:
        """Output pixel rows/cols (row0, row1, col0, col1) a source-pixel box covers, clipped to the grid."""
        col0 = (box.col - self.origin.col) / self.factor
        row0 = (box.row - self.origin.row) / self.factor
        col1 = col0 + box.width / self.factor
        row1 = row0 + box.height / self.factor
        return (max(0, math.floor(row0)), min(self.height, max(math.floor(row0) + 1, math.ceil(row1))),
                max(0, math.floor(col0)), min(self.width, max(math.floor(col0) + 1, math.ceil(col1))))


def taper(length: int) -> np.ndarray:
    """A Hann-like weight that is 1 in the middle and small but never zero at the ends."""
    return np.sin(np.pi * (np.arange(length) + 0.5) / length) ** 2


def resize_bilinear(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of (bands, h, w) on pixel centres; exact for constant input."""
    bands, h, w = values.shape
    if (h, w) == (height, width):
        return values
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[None, :, None], (xs - x0)[None, None, :]
    top = values[:, y0][:, :, x0] * (1 - fx) + values[:, y0][:, :, x1] * fx
    bottom = values[:, y1][:, :, x0] * (1 - fx) + values[:, y1][:, :, x1] * fx
    return top * (1 - fy) + bottom * fy


def resize_nearest(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D mask to (height, width) by nearest neighbour (pixel centres), without interpolating."""
    h, w = mask.shape
    rows = np.minimum((np.arange(height) + 0.5) * h / height, h - 1).astype(int)
    cols = np.minimum((np.arange(width) + 0.5) * w / width, w - 1).astype(int)
    return mask[rows][:, cols]


class BlendedWriter:
    """Accumulates window results with a smooth weight into a float32 GeoTIFF written atomically.

    Sums and weights live in a temporary tiled float64 GeoTIFF next to the output (read-modify-write
    through GDAL's capped block cache), so memory does not grow with the scene. The output appears
    under its name only when close() finishes; on error or abort() every temporary file is removed.
    """

    def __init__(self, path: str | os.PathLike, grid: OutputGrid, bands: int = 1,
                 band_names: Sequence[str] | None = None, overviews: bool = True):
        self.path = Path(path)
        self.grid = grid
        self.bands = bands
        self.band_names = list(band_names) if band_names else None
        self.overviews = overviews
        self._env: rasterio.Env | None = None
        self._acc = None
        folder = self.path.parent
        if not folder.is_dir():
            raise RasterError(folder, "output folder does not exist")
        if not writable(folder):
            raise RasterError(folder, "output folder is not writable")
        self._acc_path = staging_path(self.path, ".acc.tif")
        self._tmp_path = staging_path(self.path, ".partial.tif")

    def __enter__(self) -> "BlendedWriter":
        self._env = rasterio.Env(**GDAL_ENV)
        self._env.__enter__()
        try:
            self._acc = rasterio.open(
                self._acc_path, "w+", driver="GTiff", width=self.grid.width, height=self.grid.height,
                count=2 * self.bands, dtype="float64", crs=self.grid.crs,
                transform=rasterio.Affine(*self.grid.transform), tiled=True, blockxsize=FINAL_BLOCK,
                blockysize=FINAL_BLOCK, interleave="pixel", SPARSE_OK="TRUE", BIGTIFF="IF_SAFER")
        except BaseException as exc:
            self.abort()
            if not isinstance(exc, Exception):  # Ctrl-C or SIGTERM while the file was being made
                raise
            raise RasterError(self._acc_path.parent, f"cannot create files here ({exc})") from None
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def add(self, box: PixelBox, values: np.ndarray | Sequence[float], valid: np.ndarray | None = None) -> None:
        """Blend one window's result: values (bands, h, w) over the source-pixel `box`, or one value per band."""
        row0, row1, col0, col1 = self.grid.project(box)
        height, width = row1 - row0, col1 - col0
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1:
            values = np.broadcast_to(values[:, None, None], (self.bands, height, width))
        elif values.ndim == 2:
            values = values[None]
        if values.shape[0] != self.bands:
            raise ValueError(f"expected {self.bands} band(s) of values, got {values.shape[0]}")
        values = resize_bilinear(values, height, width)
        weight = np.outer(taper(height), taper(width))
        if valid is not None:
            weight = weight * resize_nearest(valid, height, width)
        weight = np.where(np.isfinite(values).all(axis=0), weight, 0.0)
        window = RioWindow(col0, row0, width, height)
        acc = self._acc.read(window=window)
        acc[:self.bands] += np.where(weight > 0, values, 0.0) * weight
        acc[self.bands:] += weight
        self._acc.write(acc, window=window)

    def close(self) -> Path:
        """Divide sums by weights into the final compressed GeoTIFF, build overviews, rename into place."""
        with committed(self._tmp_path, self.path, self.abort):
            self._finish()
        self._cleanup()
        return self.path

    def _finish(self) -> None:
        profile = dict(
            driver="GTiff", width=self.grid.width, height=self.grid.height, count=self.bands,
            dtype="float32", nodata=float("nan"), crs=self.grid.crs,
            transform=rasterio.Affine(*self.grid.transform),
            tiled=True, blockxsize=FINAL_BLOCK, blockysize=FINAL_BLOCK, compress="deflate", predictor=3,
            BIGTIFF="IF_SAFER")
        with rasterio.open(self._tmp_path, "w", **profile) as out:
            for row in range(0, self.grid.height, CHUNK):
                for col in range(0, self.grid.width, CHUNK):
                    window = RioWindow(col, row, min(CHUNK, self.grid.width - col), min(CHUNK, self.grid.height - row))
                    acc = self._acc.read(window=window)
                    sums, weights = acc[:self.bands], acc[self.bands:]
                    with np.errstate(invalid="ignore", divide="ignore"):
                        result = np.where(weights > 0, sums / weights, np.nan)
                    out.write(result.astype(np.float32), window=window)
            if self.band_names:
                for band, name in enumerate(self.band_names, start=1):
                    out.set_band_description(band, name)
        self._acc.close()
        self._acc = None
        if self.overviews:
            levels = overview_levels(self.grid.width, self.grid.height)
            if levels:
                with rasterio.open(self._tmp_path, "r+") as out:
                    out.build_overviews(levels, Resampling.average)

    def abort(self) -> None:
        """Drop everything written so far; the output path is left untouched."""
        self._cleanup()
        self._tmp_path.unlink(missing_ok=True)

    def _cleanup(self) -> None:
        if self._acc is not None:
            self._acc.close()
            self._acc = None
        self._acc_path.unlink(missing_ok=True)
        if self._env is not None:
            self._env.__exit__(None, None, None)
            self._env = None


def writable(folder: Path) -> bool:
    """Try to create a file: permission bits alone do not tell for root or read-only mounts."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def overview_levels(width: int, height: int, smallest: int = FINAL_BLOCK) -> list[int]:
    """Power-of-two decimation levels until the overview fits in one block."""
    levels, factor = [], 2
    while max(width, height) / factor >= smallest / 2 and max(width, height) > smallest:
        levels.append(factor)
        factor *= 2
    return levels


@contextmanager
def committed(written: Path, target: Path, abort: Callable[[], None]) -> Iterator[None]:
    """The block finishes the GeoTIFF at `written` (a temporary name); then it is read back (check_complete)
    and renamed to `target`. A GDAL failure on the way (a full disk can fail the final write itself, not
    only its blocks) is one RasterError naming `target`; on any failure, Ctrl-C and SIGTERM included,
    `abort` drops what was written, so nothing half-written stays."""
    try:
        yield
        check_complete(written, target)
        os.replace(written, target)
    except GDAL_WRITE_ERRORS as error:
        abort()
        raise RasterError(visible_path(target), f"could not be written ({_first_line(error)}); is the disk full?") \
            from None
    except BaseException:
        abort()
        raise


def check_complete(written: Path, target: Path) -> None:
    """Read back every block (and overview) of a GeoTIFF written under a temporary name, before it replaces `target`.

    GDAL reports a failed block write (a full disk, a quota) only as a logged error when the file is
    flushed, so the file would be committed with blocks missing; reading it back is what finds that.
    """
    try:
        with rasterio.open(written) as ds:
            for _, window in ds.block_windows(1):
                ds.read(window=window)
            for factor in ds.overviews(1):  # built in a second pass: they can be the part that failed
                ds.read(out_shape=(ds.count, max(1, ds.height // factor), max(1, ds.width // factor)))
    except GDAL_WRITE_ERRORS as error:
        raise RasterError(visible_path(target), f"could not be written completely ({_first_line(error)}); "
                          "is the disk full?") from None


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
