"""Small generated rasters for tests: a (bands, h, w) array written as a GeoTIFF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

UTM31 = "EPSG:32631"


def write_raster(path: Path, data: np.ndarray, crs: str | None = UTM31, transform=None,
                 nodata=None, descriptions=None, dtype=None) -> Path:
    """Write a (bands, h, w) array as a GeoTIFF; the default grid is 10 m pixels in UTM 31N."""
    if data.ndim == 2:
        data = data[None]
    transform = transform if transform is not None else from_origin(600000, 4800000, 10, 10)
    profile = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                   dtype=dtype or data.dtype, crs=crs, transform=transform if crs else None, nodata=nodata)
    with rasterio.open(path, "w", **{k: v for k, v in profile.items() if v is not None}) as dst:
        dst.write(data)
        for band, text in enumerate(descriptions or [], start=1):
            dst.set_band_description(band, text)
    return path
