"""Output files of a query, written atomically as a set: all appear complete, or none is left behind."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, Sequence

import rasterio
from matplotlib import colormaps
from rasterio.enums import Resampling

from ..errors import RasterError
from ..files import sweep_stale
from ..io import OutputGrid, TiledWriter
from ..io.writer import writable


class Writer(Protocol):
    """An output being built under a temporary name: close() puts it in place, abort() removes it."""
    path: Path

    def close(self) -> Path: ...

    def abort(self) -> None: ...


def check_output(path: str | os.PathLike) -> Path:
    """An output path whose folder exists and is writable (checked before any work is done).

    Temporary files of this output and its quick-look that a killed run left behind are removed here.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise RasterError(folder, "output folder does not exist")
    if path.is_dir():
        raise RasterError(path, "is a folder; give a file name for this output")
    if not writable(folder):
        raise RasterError(folder, "output folder is not writable")
    sweep_stale(folder, {path.name, path.with_suffix(".png").name})
    return path


class OutputSet:
    """Writers that commit together: on success each is closed (renamed into place); on any error,
    outputs already committed by this set are removed and the others aborted.

    Writers are closed last-opened first, because each TiledWriter holds a nested GDAL environment.
    """

    def __init__(self) -> None:
        self.writers: list[Writer] = []

    def add(self, writer):
        self.writers.append(writer)
        return writer

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        pending = self.writers[::-1]
        if exc_type is not None:
            for writer in pending:
                writer.abort()
            return
        done: list[Path] = []
        try:
            for writer in pending:
                done.append(writer.close())
        except BaseException:
            for path in done:
                path.unlink(missing_ok=True)
            for writer in pending[len(done) + 1:]:
                writer.abort()
            raise


def float_writer(path: Path, grid: OutputGrid, band_names: Sequence[str]) -> TiledWriter:
    """An entered TiledWriter for float32 maps (NaN where no data)."""
    return TiledWriter(path, grid, bands=len(band_names), band_names=list(band_names)).__enter__()


class CategoryWriter(TiledWriter):
    """A label map: uint8 (or uint16) GeoTIFF, 1..N = labels, 0 = no data, names in band metadata and a palette."""

    def __init__(self, path: Path, grid: OutputGrid, names: Sequence[str]):
        self.names = list(names)
        super().__init__(path, grid, band_names=["label"], dtype="uint8" if len(self.names) < 255 else "uint16",
                         nodata=0, resampling=Resampling.mode)
        self.__enter__()

    def finish(self, dataset: rasterio.io.DatasetWriter) -> None:
        """Label names as tags (LABEL_i, LABELS) and, for uint8, a palette."""
        dataset.update_tags(1, **{f"LABEL_{i}": name for i, name in enumerate(self.names, start=1)},
                            LABELS=", ".join(self.names))
        if self.dtype == "uint8":
            dataset.write_colormap(1, palette(len(self.names)))


def palette(count: int) -> dict[int, tuple[int, int, int, int]]:
    """Distinct colours for labels 1..count (tab10/tab20), transparent 0 for no data."""
    cmap = colormaps["tab10" if count <= 10 else "tab20"]
    colours = {0: (0, 0, 0, 0)}
    for i in range(1, count + 1):
        r, g, b, _ = cmap((i - 1) % cmap.N)
        colours[i] = (int(r * 255), int(g * 255), int(b * 255), 255)
    return colours
