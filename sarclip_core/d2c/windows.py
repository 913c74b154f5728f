"""Window crops: cut annotated images into model-size windows at seeded offsets and scales, each with its own truth.

A window of scale s covers size*s source pixels and is stored at size x size: scale 1 is a pixel-exact
crop, larger scales are averaged down by sarclip_core.io.read_window, as the scene engine reads windows
at a coarser ground resolution. Its truth is what lies inside it: boxes fully inside are whole objects;
boxes with at least CUT_MIN of their area inside are cut objects (flagged, not counted); less is
ignored. A sea/land or water mask gives the window's own land or water share and background, and a mask
crop is written beside the image crop. 8-bit sources are written as PNG; everything else (dB, float,
16-bit) as float32 GeoTIFF keeping the georeference, so values keep their meaning.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import rasterio
import rasterio.io
from PIL import Image
from rasterio.transform import Affine

from ..errors import SarclipError
from ..files import atomic_file
from ..io import GridWindow, PixelBox, describe, open_raster, read_window
from .boxes import Box, ImageRecord
from .floods import MASK_KIND as WATER_MASK
from .floods import describe_water
from .readers import read_mask
from .sealand import MASK_KIND as SEALAND_MASK
from .sealand import describe_land
from .validate import Problems

CUT_MIN = 0.3  # share of a box's area inside a window from which it is "part of an object at the edge"
MIN_VALID = 0.5  # windows with less valid image data, or fewer labelled mask pixels, are not kept
ATTEMPTS = 3  # placements tried per wanted window before an image gives fewer windows

DESCRIBERS: dict[str, Callable[[np.ndarray, list[Box]], dict[str, Any]]] = {
    SEALAND_MASK: describe_land,
    WATER_MASK: lambda labels, boxes: describe_water(labels),
}


@dataclass(frozen=True)
class WindowSettings:
    """How many windows per image, their stored size, the scales they are read at, and how many aim at objects."""

    per_image: int = 8
    size: int = 128
    scales: tuple[int, ...] = (1, 2)
    object_share: float = 0.5  # share of windows placed over a random object; the rest fall anywhere

    def __post_init__(self) -> None:
        if self.per_image < 1 or self.size < 8:
            raise SarclipError("--windows must be at least 1 and --window-size at least 8 px")
        if not self.scales or any(s < 1 for s in self.scales):
            raise SarclipError(f"--window-scales must be whole numbers of at least 1, got {self.scales}")
        if not 0.0 <= self.object_share <= 1.0:
            raise SarclipError(f"--window-object-share must be in [0, 1], got {self.object_share}")


def window_box(box: Box, col: int, row: int, footprint: int, scale: int) -> Box | None:
    """The box in window pixels, clipped and flagged cut when partly inside; None when too little is inside."""
    x0, y0 = max(box.xmin, col), max(box.ymin, row)
    x1, y1 = min(box.xmax, col + footprint), min(box.ymax, row + footprint)
    if x1 <= x0 or y1 <= y0 or box.area <= 0:
        return None
    whole = (x0, y0, x1, y1) == (box.xmin, box.ymin, box.xmax, box.ymax)
    if not whole and (x1 - x0) * (y1 - y0) / box.area < CUT_MIN:
        return None
    polygon = tuple(((x - col) / scale, (y - row) / scale) for x, y in box.polygon) if box.polygon else None
    return Box(box.label, (x0 - col) / scale, (y0 - row) / scale, (x1 - col) / scale, (y1 - row) / scale,
               polygon, box.exact, box.attributes, cut=not whole)


def _place(record: ImageRecord, footprint: int, rng: random.Random, object_share: float) -> tuple[int, int]:
    """Top-left corner of a window: over a random object (anywhere inside the window) or anywhere at all."""
    if record.boxes and rng.random() < object_share:
        cx, cy = rng.choice(record.boxes).centre
        col, row = cx - rng.uniform(0, footprint), cy - rng.uniform(0, footprint)
    else:
        col, row = rng.uniform(0, record.width - footprint), rng.uniform(0, record.height - footprint)
    return (min(max(0, round(col)), record.width - footprint), min(max(0, round(row)), record.height - footprint))


def write_crop(base: Path, array: np.ndarray, crs: Any, transform: Affine | None) -> Path:
    """Write a (bands, h, w) crop atomically: 1- or 3-band 8-bit as PNG, anything else as GeoTIFF."""
    png = array.dtype == np.uint8 and array.shape[0] in (1, 3)
    path = base.with_suffix(".png" if png else ".tif")
    with atomic_file(path) as temporary:
        if png:
            Image.fromarray(array[0] if array.shape[0] == 1 else np.moveaxis(array, 0, -1)).save(temporary, format="PNG")
        else:
            profile = dict(driver="GTiff", width=array.shape[2], height=array.shape[1], count=array.shape[0],
                           dtype=array.dtype, nodata=np.nan if array.dtype == np.float32 else None)
            if crs is not None:
                profile.update(crs=crs, transform=transform)
            with rasterio.open(temporary, "w", **profile) as out:
                out.write(array)
    return path


def _stored_pixels(data: np.ndarray, valid: np.ndarray, dtype: str) -> np.ndarray:
    """read_window's float32 values as stored: 8-bit (one band when all bands agree) or float32 with NaN gaps."""
    if dtype == "uint8":
        pixels = np.clip(np.rint(data), 0, 255).astype(np.uint8)
        return pixels[:1] if all(np.array_equal(pixels[0], band) for band in pixels[1:]) else pixels
    return np.where(valid, data, np.nan).astype(np.float32)


class _Cutter:
    """The windows of one record: reads the image once, the mask once, and draws placements from its own seed."""

    def __init__(self, record: ImageRecord, settings: WindowSettings, out_dir: Path, seed: int):
        self.record, self.settings, self.out_dir = record, settings, out_dir
        self.rng = random.Random(f"{seed}:windows:{Path(record.filepath).name}")  # not the folder: same on any machine
        self.info = describe(record.filepath)
        self.kind = record.context.get("mask_kind")
        mask = record.context.get("mask")
        self.mask = read_mask(Path(mask), record.width, record.height) if mask and self.kind in DESCRIBERS else None
        self.scales = [s for s in settings.scales if settings.size * s <= min(record.width, record.height)]

    def windows(self) -> Iterator[ImageRecord]:
        made = 0
        with open_raster(self.record.filepath) as ds:
            for _ in range(ATTEMPTS * self.settings.per_image):
                if made == self.settings.per_image:
                    return
                window = self._window(ds, made)
                if window is not None:
                    made += 1
                    yield window

    def _window(self, ds: rasterio.io.DatasetReader, index: int) -> ImageRecord | None:
        size, scale = self.settings.size, self.rng.choice(self.scales)
        footprint = size * scale
        col, row = _place(self.record, footprint, self.rng, self.settings.object_share)
        box = PixelBox(col, row, footprint, footprint)
        data, valid = read_window(ds, self.info, GridWindow(index, box, size, size), size)
        if valid.mean() < MIN_VALID:
            return None
        boxes = [b for b in (window_box(box, col, row, footprint, scale) for box in self.record.boxes) if b]
        context = {**self.record.context, "source": self.record.filepath, "window": [col, row, footprint, footprint],
                   "scale": scale}
        transform = ds.window_transform(box.to_rasterio()) * Affine.scale(scale)
        base = self.out_dir / f"{Path(self.record.filepath).stem}_w{index:03d}"
        if self.mask is not None:
            crop = self.mask[row:row + footprint, col:col + footprint]
            context.update(DESCRIBERS[self.kind](crop, boxes))
            if context.get("labelled_share", 1.0) < MIN_VALID:
                return None
            # Nearest sampling at the centre of each scale x scale block keeps the mask's class values.
            sampled = crop[scale // 2::scale, scale // 2::scale][None]
            context["mask"] = str(write_crop(base.with_name(base.name + "_mask"), sampled, ds.crs, transform))
        image = write_crop(base, _stored_pixels(data, valid, self.info.dtype), ds.crs, transform)
        return ImageRecord(str(image), size, size, boxes, context)


def cut_windows(records: Iterable[ImageRecord], settings: WindowSettings, out_dir: Path, seed: int,
                problems: Problems) -> Iterator[ImageRecord]:
    """The window records of every record, crops written to out_dir; the same seed gives the same files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for record in records:
        try:
            cutter = _Cutter(record, settings, out_dir, seed)
            if not cutter.scales:
                problems.add(f"{record.filepath}: {record.width}x{record.height} px is smaller than a "
                             f"{settings.size} px window, skipped")
                continue
            yield from cutter.windows()
        except SarclipError as exc:
            problems.add(str(exc))
