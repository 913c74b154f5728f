"""Image chips (JPEG, PNG, GeoTIFF, any SAR value kind) read as normalised model input."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from rasterio.errors import NotGeoreferencedWarning

from ..errors import SarclipError
from ..io import Normalisation, ValueKind, fit_channels, open_raster, to_model_input
from ..io.raster import NoCrsWarning, detect_value_kind

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")  # the order an image's stem is looked up in


def image_files(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files in a folder (and its sub-folders if `recursive`), sorted so that output order never
    depends on the file system."""
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in candidates if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def read_image(path: str | os.PathLike, value_kind: ValueKind | str | None = None
               ) -> tuple[np.ndarray, np.ndarray, ValueKind]:
    """A whole image's SAR values (bands, H, W) as stored, its (H, W) valid mask (nodata out) and value kind."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCrsWarning)
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # chips are pixels, not maps
        with open_raster(path) as ds:
            kind = ValueKind(value_kind) if value_kind is not None else detect_value_kind(ds)
            try:
                data = ds.read()
            except Exception as error:  # GDAL's read errors (truncated JPEG, bad TIFF strip) name no file
                raise SarclipError(f"{path}: cannot read pixels: {error}") from error
            nodata = ds.nodata
    valid = np.ones(data.shape[1:], dtype=bool)
    if nodata is not None and not np.iscomplexobj(data):
        valid &= ~(data == nodata).all(axis=0)
    return data, valid, kind


def read_chip(path: str | os.PathLike, normalisation: Normalisation, channels: int = 1,
              value_kind: ValueKind | str | None = None) -> np.ndarray:
    """A (channels, H, W) float32 chip normalised the way the model was trained; nodata/NaN become 0."""
    data, valid, kind = read_image(path, value_kind)
    chip = to_model_input(data, valid, kind, normalisation)
    return np.ascontiguousarray(fit_channels(chip, channels), dtype=np.float32)


def image_folder(root: str | os.PathLike) -> list[tuple[Path, str]]:
    """(image, class) pairs of a classification folder (one sub-folder per class), sorted; clear errors if empty."""
    root = Path(root)
    if not root.is_dir():
        raise SarclipError(f"{root}: image folder not found")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise SarclipError(f"{root}: no class sub-folders (expected one folder of images per class)")
    items = []
    for folder in classes:
        images = image_files(folder)
        if not images:
            raise SarclipError(f"{folder}: class folder has no images ({', '.join(IMAGE_SUFFIXES)})")
        items += [(image, folder.name) for image in images]
    return items
