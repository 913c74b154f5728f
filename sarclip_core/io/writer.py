"""Write output maps block by block into one tiled GeoTIFF on a grid aligned with the scene, atomically, in bounded memory."""

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
from rasterio.windows import Window

from ..errors import RasterError

# What GDAL raises when a write or the read-back fails: rasterio's errors, its I/O error (an OSError), and
# the CPLE_* errors it raises for GDAL failures (public as rasterio._err only in rasterio 1.3).
GDAL_WRITE_ERRORS = (rasterio.errors.RasterioError, OSError, rasterio._err.CPLE_BaseError)
from ..files import staging_path, visible_path
from .raster import GDAL_ENV, RasterInfo
from .windows import PixelBox

FINAL_BLOCK = 256
SCREEN = 2048  # output pixels: a map no wider or taller than a screen draws fast from full resolution
DEFLATE_LEVEL = 1  # zlib's fastest: half the time of its default level 6, for files 2 to 3% larger


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


class TiledWriter:
    """A tiled, deflate-compressed GeoTIFF on an OutputGrid, written block by block, atomically, in bounded memory.

    Callers write non-overlapping blocks at their output row/column (write()); pixels never written are
    nodata (NaN by default). The file is built under a temporary name inside a GDAL environment whose block
    cache is capped (GDAL_ENV), so memory does not grow with the scene. close() names the bands, builds
    overviews (for maps larger than a SCREEN), reads every block back and renames the file into place; on
    error or abort() the temporary file is removed and the output path is left untouched.
    `dtype`, `nodata` and `resampling` (of the overviews) default to a float32 map, NaN where no data.
    """

    def __init__(self, path: str | os.PathLike, grid: OutputGrid, bands: int = 1,
                 band_names: Sequence[str] | None = None, dtype: str = "float32",
                 nodata: float = float("nan"), resampling: Resampling = Resampling.average):
        self.path = Path(path)
        self.grid = grid
        self.bands = bands
        self.band_names = list(band_names) if band_names else None
        self.dtype = dtype
        self.resampling = resampling
        self._profile = dict(
            driver="GTiff", width=grid.width, height=grid.height, count=bands, dtype=dtype, nodata=nodata,
            crs=grid.crs, transform=rasterio.Affine(*grid.transform), tiled=True, blockxsize=FINAL_BLOCK,
            blockysize=FINAL_BLOCK, compress="deflate", zlevel=DEFLATE_LEVEL, BIGTIFF="IF_SAFER",
            **({"predictor": 3} if np.dtype(dtype).kind == "f" else {}))
        self._env: rasterio.Env | None = None
        self._ds = None
        folder = self.path.parent
        if not folder.is_dir():
            raise RasterError(folder, "output folder does not exist")
        if not writable(folder):
            raise RasterError(folder, "output folder is not writable")
        self._tmp_path = staging_path(self.path, ".partial.tif")

    def __enter__(self) -> "TiledWriter":
        self._env = rasterio.Env(**GDAL_ENV)
        self._env.__enter__()
        try:
            self._ds = rasterio.open(self._tmp_path, "w", **self._profile)
        except BaseException as exc:
            self.abort()
            if not isinstance(exc, Exception):  # Ctrl-C or SIGTERM while the file was being made
                raise
            raise RasterError(self._tmp_path.parent, f"cannot create files here ({exc})") from None
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, row0: int, col0: int, values: np.ndarray) -> None:
        """Write one block: values (bands, h, w), or (h, w) for one band, at output row `row0`, column `col0`."""
        values = np.asarray(values)
        if values.ndim == 2:
            values = values[None]
        if values.shape[0] != self.bands:
            raise ValueError(f"expected {self.bands} band(s) of values, got {values.shape[0]}")
        self._ds.write(values.astype(self.dtype, copy=False),
                       window=Window(col0, row0, values.shape[2], values.shape[1]))

    def close(self) -> Path:
        """Finish the GeoTIFF (band names, hook, overviews), read it back and rename it into place."""
        with committed(self._tmp_path, self.path, self.abort):
            if self.band_names:
                for band, name in enumerate(self.band_names, start=1):
                    self._ds.set_band_description(band, name)
            self.finish(self._ds)
            self._ds.close()
            levels = overview_levels(self.grid.width, self.grid.height)
            if levels:
                with rasterio.Env(ZLEVEL_OVERVIEW=DEFLATE_LEVEL), rasterio.open(self._tmp_path, "r+") as out:
                    out.build_overviews(levels, self.resampling)
        self._cleanup()
        return self.path

    def finish(self, dataset: rasterio.io.DatasetWriter) -> None:
        """Add metadata to the open dataset before it is closed (tags, a palette): nothing by default."""

    def abort(self) -> None:
        """Drop everything written so far; the output path is left untouched."""
        self._cleanup()
        self._tmp_path.unlink(missing_ok=True)

    def _cleanup(self) -> None:
        if self._ds is not None:
            self._ds.close()
            self._ds = None
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
    """Power-of-two decimation levels until the overview fits in one block; none for a map that fits a SCREEN
    (building them would read the whole map back and cost more than all its later draws in QGIS)."""
    if max(width, height) <= SCREEN:
        return []
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
    Overviews are read block by block too, each level opened on its own, so memory does not grow with the scene.
    """
    try:
        with rasterio.open(written) as ds:
            levels = len(ds.overviews(1))  # built in a second pass: they can be the part that failed
        for level in [None, *range(levels)]:
            with rasterio.open(written, overview_level=level) as ds:
                for _, window in ds.block_windows(1):
                    ds.read(window=window)
    except GDAL_WRITE_ERRORS as error:
        raise RasterError(visible_path(target), f"could not be written completely ({_first_line(error)}); "
                          "is the disk full?") from None


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
