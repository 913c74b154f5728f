"""Tile a scene into overlapping windows and read them, with bounded memory whatever the scene size."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError, WindowError
from rasterio.warp import transform_bounds
from rasterio.windows import Window, intersection

from ..errors import RasterError, SarclipError
from .convert import complex_to_amplitude
from .raster import RasterInfo


@dataclass(frozen=True)
class PixelBox:
    """A rectangle of source pixels: column/row offset and size."""

    col: int
    row: int
    width: int
    height: int

    def to_rasterio(self) -> Window:
        return Window(self.col, self.row, self.width, self.height)

    def __str__(self) -> str:
        """How a person reads it in an error: "columns 3997-4097, rows 10-60 (100 x 50 px)"."""
        return (f"columns {self.col}-{self.col + self.width}, rows {self.row}-{self.row + self.height} "
                f"({self.width} x {self.height} px)")


@dataclass(frozen=True)
class MapExtent:
    """An area of interest in map coordinates; crs None means the scene's own CRS."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    crs: str | None = None

    def __str__(self) -> str:
        """Describe the extent as "x 620000 to 621000, y 4825000 to 4826000 (the scene's CRS)" for error messages."""
        where = "the scene's CRS" if self.crs is None else self.crs
        return f"x {self.xmin:g} to {self.xmax:g}, y {self.ymin:g} to {self.ymax:g} ({where})"


@dataclass(frozen=True)
class GridWindow:
    """One window of a WindowGrid: its index in the grid, the source pixels it covers (box) and the size of
    its data once read (before padding)."""

    index: int
    box: PixelBox
    data_height: int
    data_width: int


@dataclass(frozen=True)
class WindowGrid:
    """The windows covering an area of a scene at a tile size, stride and ground resolution."""

    tile: int
    stride: int
    scale_x: float  # source pixels per tile pixel along columns (1.0 at native resolution)
    scale_y: float
    area: PixelBox
    col_offsets: tuple[int, ...]
    row_offsets: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.col_offsets) * len(self.row_offsets)

    @property
    def footprint(self) -> tuple[int, int]:
        """Source pixels (width, height) one full tile covers."""
        return max(1, round(self.tile * self.scale_x)), max(1, round(self.tile * self.scale_y))

    def __iter__(self) -> Iterator[GridWindow]:
        foot_w, foot_h = self.footprint
        area_right = self.area.col + self.area.width
        area_bottom = self.area.row + self.area.height
        index = 0
        for row in self.row_offsets:
            height = min(foot_h, area_bottom - row)
            for col in self.col_offsets:
                width = min(foot_w, area_right - col)
                yield GridWindow(
                    index=index,
                    box=PixelBox(col, row, width, height),
                    data_height=min(self.tile, max(1, round(height / self.scale_y))),
                    data_width=min(self.tile, max(1, round(width / self.scale_x))),
                )
                index += 1


def axis_offsets(start: int, length: int, footprint: int, stride: int) -> tuple[int, ...]:
    """Window starts along one axis: regular steps, plus one flush with the end so no seam is left."""
    if length <= footprint:
        return (start,)
    offsets = list(range(0, length - footprint, stride))
    offsets.append(length - footprint)
    return tuple(start + o for o in offsets)


def check_overlap(overlap: float | int) -> None:
    """Refuse an overlap that is neither a fraction of the tile (0 <= f < 1) nor a whole pixel count (overlap_pixels).

    A float 1.0 (what `--overlap 1` parses to) could mean the whole tile or one pixel: it is refused as
    ambiguous rather than silently taken as one pixel; the int 1 is one pixel.
    """
    unit = "a fraction of the tile in [0, 1) or a whole number of pixels (2 or more)"
    if isinstance(overlap, bool) or not math.isfinite(overlap) or overlap < 0:
        raise SarclipError(f"overlap must be {unit}, got {overlap!r}")
    if isinstance(overlap, float) and overlap == 1:
        raise SarclipError(f"overlap 1.0 is ambiguous (the whole tile or one pixel): give {unit}")
    if overlap > 1 and overlap != int(overlap):
        raise SarclipError(f"overlap {overlap!r} is more than 1, so pixels, but not a whole number: give {unit}")


def overlap_pixels(overlap: float | int, tile: int) -> int:
    """The overlap of neighbouring windows in tile pixels: the one place its two units are told apart.

    Below 1 it is a fraction of the tile (0.25 of a 64 px tile is 16 px, rounded); from 1 up it is a whole
    number of pixels (16 or 16.0 is 16 px; the int 1 is one pixel). check_overlap refuses the ambiguous
    float 1.0 and non-whole pixel counts; an overlap that leaves no stride is refused here.
    """
    check_overlap(overlap)
    pixels = round(overlap * tile) if overlap < 1 else int(overlap)
    if pixels >= tile:
        raise SarclipError(f"overlap of {pixels} px leaves no stride for a {tile} px tile")
    return pixels


def make_grid(info: RasterInfo, tile: int, overlap: float | int = 0.0, resolution: float | None = None,
              aoi: PixelBox | MapExtent | None = None) -> WindowGrid:
    """Windows of `tile` pixels (at `resolution` map units per pixel if given) over the scene or AOI."""
    if tile < 1:
        raise SarclipError(f"tile size must be at least 1 pixel, got {tile}")
    stride = tile - overlap_pixels(overlap, tile)
    scale_x = scale_y = 1.0
    if resolution is not None:
        if resolution <= 0:
            raise SarclipError(f"resolution must be positive, got {resolution}")
        if not info.georeferenced:
            raise RasterError(info.path, "has no CRS, so a ground resolution cannot be used; "
                                         "leave the resolution out to work in pixels")
        px, py = info.pixel_size
        scale_x, scale_y = resolution / px, resolution / py
    area = resolve_aoi(info, aoi)
    foot_w, foot_h = max(1, round(tile * scale_x)), max(1, round(tile * scale_y))
    return WindowGrid(
        tile=tile,
        stride=stride,
        scale_x=scale_x,
        scale_y=scale_y,
        area=area,
        col_offsets=axis_offsets(area.col, area.width, foot_w, max(1, round(stride * scale_x))),
        row_offsets=axis_offsets(area.row, area.height, foot_h, max(1, round(stride * scale_y))),
    )


def resolve_aoi(info: RasterInfo, aoi: PixelBox | MapExtent | None) -> PixelBox:
    """The AOI as source pixels clipped to the scene; an AOI that misses the scene is an error."""
    if aoi is None:
        return PixelBox(0, 0, info.width, info.height)
    if isinstance(aoi, MapExtent):
        aoi = _extent_to_pixels(info, aoi)
    try:
        inside = intersection(aoi.to_rasterio(), Window(0, 0, info.width, info.height))
    except WindowError:
        raise RasterError(info.path, f"the area of interest {aoi} lies outside the scene "
                                     f"({info.width}x{info.height} px)") from None
    return PixelBox(*(int(v) for v in inside.flatten()))


def _extent_to_pixels(info: RasterInfo, extent: MapExtent) -> PixelBox:
    if not info.georeferenced:
        raise RasterError(info.path, "has no CRS; give the area of interest in pixels")
    if extent.xmax <= extent.xmin or extent.ymax <= extent.ymin:
        raise SarclipError(f"the area of interest {extent} is empty (xmax <= xmin or ymax <= ymin)")
    bounds = (extent.xmin, extent.ymin, extent.xmax, extent.ymax)
    if extent.crs is not None:
        bounds = transform_bounds(extent.crs, info.crs, *bounds, densify_pts=21)
    inverse = ~info.affine
    corners = [inverse * (x, y) for x in (bounds[0], bounds[2]) for y in (bounds[1], bounds[3])]
    cols, rows = [c for c, _ in corners], [r for _, r in corners]
    col0, row0 = math.floor(min(cols)), math.floor(min(rows))
    return PixelBox(col0, row0, math.ceil(max(cols)) - col0, math.ceil(max(rows)) - row0)


def read_window(ds: rasterio.io.DatasetReader, info: RasterInfo, window: GridWindow, tile: int,
                bands: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read one window as a (channels, tile, tile) float32 array padded with zeros, and its valid mask.

    Complex data (SLC) is folded into amplitude here, before any resampling, so averaging never mixes
    phases. Pixels that are nodata, NaN or infinite, and the padding, are False in the mask.
    """
    indexes = list(bands) if bands else list(range(1, info.count + 1))
    resample = (window.data_height, window.data_width) != (window.box.height, window.box.width)
    try:
        if info.value_kind.is_complex and resample:
            raw = ds.read(indexes, window=window.box.to_rasterio(), masked=True)
            data, valid = _mask_invalid(raw)
            data = complex_to_amplitude(data, info.value_kind)
            data, valid = _box_resize(data, valid, window.data_height, window.data_width)
        else:
            raw = ds.read(indexes, window=window.box.to_rasterio(), masked=True,
                          out_shape=(len(indexes), window.data_height, window.data_width),
                          resampling=Resampling.average if _downsampling(window) else Resampling.bilinear)
            data, valid = _mask_invalid(raw)
            if info.value_kind.is_complex:
                data = complex_to_amplitude(data, info.value_kind)
    except RasterioIOError as exc:
        raise RasterError(info.path, f"cannot read window at row {window.box.row}, column {window.box.col}; "
                                     f"the file may be truncated or corrupt ({str(exc).strip()[:160]})") from None
    out = np.zeros((data.shape[0], tile, tile), dtype=np.float32)
    out_valid = np.zeros((tile, tile), dtype=bool)
    out[:, :window.data_height, :window.data_width] = np.where(valid, data, 0)
    out_valid[:window.data_height, :window.data_width] = valid
    return out, out_valid


def _downsampling(window: GridWindow) -> bool:
    return window.box.height * window.box.width > window.data_height * window.data_width


def _mask_invalid(raw: np.ma.MaskedArray) -> tuple[np.ndarray, np.ndarray]:
    """Split a masked read into data and a 2-D valid mask (all bands valid and finite)."""
    data = np.ma.getdata(raw)
    invalid = np.ma.getmaskarray(raw).any(axis=0) | ~np.isfinite(data).all(axis=0)
    if not np.iscomplexobj(data):
        data = data.astype(np.float32, copy=False)
    return data, ~invalid


def _box_resize(data: np.ndarray, valid: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Area-average a (C, H, W) array to (C, height, width), ignoring invalid pixels (multilooking)."""
    rows = (np.arange(height) * data.shape[1]) // height
    cols = (np.arange(width) * data.shape[2]) // width
    weights = valid.astype(np.float64)
    summed = np.add.reduceat(np.add.reduceat(data * weights, rows, axis=1), cols, axis=2)
    counts = np.add.reduceat(np.add.reduceat(weights, rows, axis=0), cols, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, summed / np.maximum(counts, 1e-12), 0.0)
    return mean.astype(np.float32), counts > 0


def iter_tiles(ds: rasterio.io.DatasetReader, info: RasterInfo, grid: WindowGrid,
               bands: Sequence[int] | None = None) -> Iterator[tuple[GridWindow, np.ndarray, np.ndarray]]:
    """Read each window of the grid in turn, skipping windows with no valid pixel."""
    for window in grid:
        data, valid = read_window(ds, info, window, grid.tile, bands)
        if valid.any():
            yield window, data, valid

